"""The measurements can be trusted as far as benchmarks/bench_measure.py says (issue 25): the method's documented
behaviour on known waves, the digitized page against the signals drawn, the same page enlarged, leads that disagree,
and an established delineator (neurokit2) on the true signals."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ecg_desktop.core.signals.digitize import LEADS, digitize
from ecg_desktop.core.signals.measure import Measurements, measure, measure_signals, median_beats
from ecg_desktop.testing.synthetic import PrintoutTruth, render_condition, synthesize_leads

FS = 500
TOLERANCES = {"pr_ms": 20, "qrs_ms": 10, "qt_ms": 20}  # the QT and QRS tolerances, PR as QT


def _gauss(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - centre) / width) ** 2)


def _waves(t_peaks: dict[str, float], late_s: dict[str, float] | None = None) -> np.ndarray:
    """12 leads (mV) beating at 60 bpm: P, R, S and a T wave peaking ``t_peaks[lead]`` after the R wave (falling with
    a 40 ms width), and a late S wave ``late_s[lead]`` after it where given."""
    t = np.arange(10 * FS) / FS
    signals = np.zeros((t.size, len(LEADS)))
    for r in np.arange(0.5, 10.0, 1.0):
        x = t - r
        for i, name in enumerate(LEADS):
            t_wave = np.where(x < t_peaks[name], _gauss(x, t_peaks[name], 0.06), _gauss(x, t_peaks[name], 0.04))
            signals[:, i] += (0.15 * _gauss(x, -0.17, 0.02) + _gauss(x, 0, 0.01) - 0.3 * _gauss(x, 0.03, 0.01)
                              + 0.3 * t_wave)
            if late_s and name in late_s:
                signals[:, i] -= 0.6 * _gauss(x, late_s[name], 0.012)
    return signals


def test_the_t_wave_ends_where_the_tangent_at_its_steepest_descent_meets_the_baseline() -> None:
    signals = _waves(dict.fromkeys(LEADS, 0.30))
    found, beats = measure_signals(signals, FS), median_beats(signals, FS)
    assert found.notes == () and found.heart_rate_bpm == pytest.approx(60, abs=1)
    onset_before_r_ms = 1000 * (beats.r - beats.qrs[0]) / FS
    # a Gaussian falls steepest one width after its peak, where its tangent meets the baseline one width later
    assert found.qt_ms - onset_before_r_ms == pytest.approx(1000 * (0.30 + 2 * 0.04), abs=10)
    # the P wave begins where it is 15% of its height: 1.95 widths before its peak
    assert found.pr_ms + onset_before_r_ms == pytest.approx(1000 * (0.17 + 1.95 * 0.02), abs=10)
    assert 60 <= found.qrs_ms <= 100


def test_leads_that_disagree_on_the_t_waves_end_withhold_qt_with_a_note() -> None:
    late = {name: (0.26, 0.36, 0.46)[i % 3] for i, name in enumerate(LEADS)}  # a third of the leads each
    found = measure_signals(_waves(late), FS)
    assert found.qt_ms is None and found.qtc_ms is None
    assert found.qrs_ms is not None and found.heart_rate_bpm == pytest.approx(60, abs=1)
    assert any("the leads disagree on where the T wave ends" in note for note in found.notes), found.notes


def test_leads_that_disagree_on_the_qrs_end_withhold_it_with_a_note() -> None:
    late_s = {name: 0.10 for name in LEADS[::2]}
    found = measure_signals(_waves(dict.fromkeys(LEADS, 0.30), late_s), FS)
    assert found.qrs_ms is None
    assert any("the leads disagree on where the QRS complex begins or ends" in n for n in found.notes), found.notes


def _drawn(truth: PrintoutTruth) -> np.ndarray:
    """The (samples, 12) signals as the page drew them (NaN where a lead is not printed)."""
    drawn = truth.drawn_leads()
    return np.stack([drawn[name] for name in LEADS], axis=1)


def _close(found: Measurements, expected: Measurements) -> dict[str, tuple[float | None, float | None]]:
    """The intervals of ``found`` not within tolerance of ``expected`` (a value withheld by one side only counts)."""
    a, b = found.as_dict(), expected.as_dict()
    return {key: (a[key], b[key]) for key, tolerance in TOLERANCES.items()
            if (a[key] is None) != (b[key] is None) or (a[key] is not None and abs(a[key] - b[key]) > tolerance)}


@pytest.mark.parametrize(("condition", "case"), [
    ("edan", {"kind": "normal", "heart_rate": 75, "seed": 3}),
    ("red", {"kind": "st_elevation", "heart_rate": 100, "seed": 4}),
    ("blue", {"kind": "normal", "heart_rate": 55, "seed": 5, "amplitude": 1.4}),
])
def test_digitized_intervals_match_the_same_method_on_the_signals_drawn(condition: str, case: dict) -> None:
    page, truth = render_condition(condition, **case)
    expected = measure_signals(_drawn(truth), FS)
    assert expected.qt_ms is not None and expected.qrs_ms is not None
    assert _close(measure(digitize(page)), expected) == {}


def test_the_same_page_enlarged_gives_the_same_intervals() -> None:
    page, _ = render_condition("pink", kind="st_elevation", heart_rate=70, seed=6)
    found = measure(digitize(page))
    enlarged = measure(digitize(cv2.resize(page, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)))
    assert found.qt_ms is not None and found.qrs_ms is not None
    assert _close(enlarged, found) == {}


def test_the_method_follows_neurokit2_as_the_rate_changes() -> None:
    """On the true signals the method's QT and QRS differ from neurokit2's wavelet delineator by a steady offset (its
    T offset is where the wave has fully returned, not the tangent's end): the QT's shortening with the rate agrees."""
    nk = pytest.importorskip("neurokit2")
    qt: dict[str, list[float]] = {"method": [], "neurokit": []}
    for rate in (50, 110):
        leads = synthesize_leads(heart_rate=rate, seed=rate)
        qt["method"].append(measure_signals(np.stack([leads[n] for n in LEADS], axis=1).astype(float), FS).qt_ms)
        clean = nk.ecg_clean(leads["II"].astype(float), sampling_rate=FS)
        _, peaks = nk.ecg_peaks(clean, sampling_rate=FS)
        _, waves = nk.ecg_delineate(clean, peaks["ECG_R_Peaks"], sampling_rate=FS, method="dwt")
        span = np.array(waves["ECG_T_Offsets"], float) - np.array(waves["ECG_R_Onsets"], float)
        qt["neurokit"].append(1000 * float(np.nanmedian(span)) / FS)
    shortening = {name: values[0] - values[1] for name, values in qt.items()}
    assert shortening["method"] > 40 and shortening["method"] == pytest.approx(shortening["neurokit"], abs=25), qt
    assert abs(qt["method"][0] - qt["neurokit"][0]) <= 60, qt
