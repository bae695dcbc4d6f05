"""The digitizer (core.signals.digitize), its measurements (core.signals.measure) and its output contract (digitize command)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ecg_desktop import cli
from ecg_desktop.core.signals.digitize import LEADS, Digitization, DigitizeError, digitize
from ecg_desktop.core.signals.measure import measure, measure_signals
from ecg_desktop.testing.synthetic import PrintoutTruth, reconstruction_snr, render_printout_with_truth

FS = 500


def _lead_snrs(dig: Digitization, truth: PrintoutTruth) -> dict[str, float]:
    """Per-lead SNR (dB) of the exported leads against the drawn ones, where each is printed."""
    out = {}
    for name, drawn in truth.drawn_leads().items():
        start, stop = np.flatnonzero(~np.isnan(drawn))[[0, -1]]
        out[name] = reconstruction_snr(drawn[start : stop + 1], dig.lead(name)[start : stop + 1], FS)
    return out


@pytest.fixture(scope="module")
def rendered() -> tuple[np.ndarray, PrintoutTruth]:
    return render_printout_with_truth(kind="normal", heart_rate=75, seed=11)


@pytest.fixture(scope="module")
def digitized(rendered: tuple[np.ndarray, PrintoutTruth]) -> Digitization:
    return digitize(rendered[0])


def test_clean_printout_is_digitized_close_to_the_signals_drawn(
    rendered: tuple[np.ndarray, PrintoutTruth], digitized: Digitization
) -> None:
    snrs = _lead_snrs(digitized, rendered[1])
    assert np.median(list(snrs.values())) >= 18.0, snrs
    assert min(snrs.values()) >= 12.0, snrs
    assert digitized.rhythm_lead == "II" and digitized.warnings == ()


def test_scales_and_overlay_pixels_match_the_page(
    rendered: tuple[np.ndarray, PrintoutTruth], digitized: Digitization
) -> None:
    truth = rendered[1]
    assert digitized.px_per_s == pytest.approx(truth.px_per_s, rel=0.003)
    assert digitized.px_per_mv == pytest.approx(truth.px_per_mv, rel=0.005)
    assert digitized.x0 == pytest.approx(truth.x0, abs=0.5)
    assert digitized.page_transform.is_identity
    for drawn in truth.panels:
        panel = next(p for p in digitized.panels if (p.row, p.column) == (drawn.row, drawn.column))
        assert panel.lead == drawn.lead
        assert panel.baseline_y == pytest.approx(truth.baselines[drawn.row], abs=1.0)  # read on the half-size copy
        xs, ys = panel.pixels[:, 0], panel.pixels[:, 1]
        assert np.nanmax(np.abs(xs - drawn.xs)) < 1.0  # each sample where the renderer put it along x
        assert np.nanmedian(np.abs(ys - drawn.ys)) < 1.0


def test_time_axis_is_shared_by_panels_and_rhythm_strip(digitized: Digitization) -> None:
    strip, lead_ii = digitized.rhythm, next(p for p in digitized.panels if p.lead == "II" and p.row == 1)
    assert strip.start_s == 0.0 and strip.values_mv.size == 10 * FS
    assert np.allclose(lead_ii.times_s, strip.times_s[: lead_ii.values_mv.size])
    both = ~(np.isnan(lead_ii.values_mv) | np.isnan(strip.values_mv[: lead_ii.values_mv.size]))
    assert np.corrcoef(lead_ii.values_mv[both], strip.values_mv[: lead_ii.values_mv.size][both])[0, 1] > 0.95
    signals = digitized.signals()
    assert signals.shape == (10 * FS, 12)
    avr = signals[:, LEADS.index("aVR")]
    assert np.isnan(avr[: round(2.5 * FS) - 5]).all() and np.isnan(avr[round(5 * FS) + 5 :]).all()
    assert not np.isnan(signals[:, LEADS.index("II")]).any()


@pytest.mark.parametrize("condition", ["upside_down", "askew_grey"])
def test_turned_askew_and_grey_pages_are_read_through_the_page_correction(condition: str) -> None:
    image, truth = render_printout_with_truth(kind="st_elevation", heart_rate=90, seed=5)
    if condition == "upside_down":
        image = np.ascontiguousarray(image[::-1, ::-1])
    else:
        h, w = image.shape[:2]
        image = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 4.0, 1.0), (w, h),
                               borderValue=(255, 255, 255))
        image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    dig = digitize(image)
    assert not dig.page_transform.is_identity
    assert np.median(list(_lead_snrs(dig, truth).values())) >= 15.0


def test_a_copy_that_lost_its_grid_is_read_by_separators_and_pulses() -> None:
    image, truth = render_printout_with_truth(heart_rate=65, seed=8)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    copy = cv2.cvtColor(np.where(grey < 200, grey, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)  # grid gone
    dig = digitize(copy)
    assert any("No ECG grid" in w for w in dig.warnings)
    assert np.median(list(_lead_snrs(dig, truth).values())) >= 18.0


def test_rhythm_strip_of_lead_iii_is_recognised() -> None:
    image, truth = render_printout_with_truth(heart_rate=70, seed=2, rhythm_lead="III")
    dig = digitize(image)
    assert dig.rhythm_lead == "III" and dig.rhythm.lead == "III"
    assert reconstruction_snr(truth.leads["III"], dig.lead("III"), FS) >= 15.0


def test_overlapping_rows_of_high_voltage_traces_are_still_followed() -> None:
    image, truth = render_printout_with_truth(heart_rate=80, seed=4, amplitude=2.5)
    snrs = _lead_snrs(digitize(image), truth)
    assert np.median(list(snrs.values())) >= 15.0, snrs


def test_a_blank_page_is_refused() -> None:
    with pytest.raises(DigitizeError, match="No ECG traces were found"):
        digitize(np.full((786, 1106, 3), 255, np.uint8))


def test_heart_rate_of_a_75_bpm_printout(digitized: Digitization) -> None:
    values = measure(digitized)
    assert values.heart_rate_bpm == pytest.approx(75, abs=3)
    assert values.rr_ms == pytest.approx(800, abs=40)
    assert 60 <= values.qrs_ms <= 130 and 100 <= values.pr_ms <= 260 and 280 <= values.qt_ms <= 460
    assert values.qtc_ms == pytest.approx(values.qt_ms / np.sqrt(values.rr_ms / 1000))
    assert 0 <= values.axis_deg <= 90  # the renderer's leads I and aVF are both upright


@pytest.mark.parametrize("rate", [45, 120, 160])
def test_heart_rate_across_rates(rate: int) -> None:
    image, _ = render_printout_with_truth(heart_rate=rate, seed=rate)
    assert measure(digitize(image)).heart_rate_bpm == pytest.approx(rate, abs=3)


def test_measurements_of_digitized_and_drawn_signals_agree(
    rendered: tuple[np.ndarray, PrintoutTruth], digitized: Digitization
) -> None:
    truth = rendered[1]
    drawn = np.full((10 * FS, 12), np.nan)
    for panel in truth.panels:  # the rhythm strip (drawn last) gives lead II over 10 s
        stop = panel.start + panel.xs.size
        drawn[panel.start : stop, LEADS.index(panel.lead)] = truth.leads[panel.lead][panel.start : stop]
    expected, found = measure_signals(drawn, FS).as_dict(), measure(digitized).as_dict()
    for key, tolerance in (("heart_rate_bpm", 1), ("pr_ms", 12), ("qrs_ms", 12), ("qt_ms", 16), ("axis_deg", 8)):
        assert found[key] == pytest.approx(expected[key], abs=tolerance), key


def test_measurements_are_none_without_beats() -> None:
    values = measure_signals(np.full((10 * FS, 12), np.nan), FS)
    assert set(values.as_dict().values()) == {None}


def _run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = cli.main(["digitize", *args])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_cli_writes_csv_wfdb_and_measurement_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   rendered: tuple[np.ndarray, PrintoutTruth]) -> None:
    import wfdb

    scan = tmp_path / "scan 1.png"
    cv2.imwrite(str(scan), rendered[0])
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out"
    code, lines = _run_cli(capsys, str(scan), str(bad), "--out", str(out))
    assert code == 1  # one scan failed, the run went on
    good, failed = lines
    assert good["file"] == str(scan) and good["error"] is None and good["heart_rate_bpm"] == pytest.approx(75, abs=3)
    assert set(good) >= {"file", "heart_rate_bpm", "rr_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_deg",
                         "warnings", "error"}
    assert failed["file"] == str(bad) and "not a readable image" in failed["error"]
    assert failed["heart_rate_bpm"] is None and failed["axis_deg"] is None
    assert [json.loads(line) for line in (out / "measurements.jsonl").read_text().splitlines()] == lines

    with open(out / "scan_1.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["time_s", *(f"{lead}_mV" for lead in LEADS)] and len(rows) == 1 + 10 * FS  # units named
    assert rows[1][0] == "0.000" and rows[-1][0] == "9.998"
    table = np.array([[float(v) if v else np.nan for v in row[1:]] for row in rows[1:]])
    assert np.isnan(table[:, LEADS.index("V1")][: round(5 * FS) - 5]).all()  # V1 is printed from 5 to 7.5 s
    assert not np.isnan(table[:, LEADS.index("II")]).any()  # the rhythm strip's lead over the full 10 s

    record = wfdb.rdrecord(str(out / "scan_1"))
    assert record.fs == FS and record.sig_name == list(LEADS) and record.units == ["mV"] * 12
    assert record.p_signal.shape == (10 * FS, 12)
    assert np.array_equal(np.isnan(record.p_signal), np.isnan(table))
    assert np.nanmax(np.abs(record.p_signal - table)) < 1e-3


def test_cli_csv_only_and_a_bad_format(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       rendered: tuple[np.ndarray, PrintoutTruth]) -> None:
    scan = tmp_path / "one.png"
    cv2.imwrite(str(scan), rendered[0])
    code, lines = _run_cli(capsys, str(scan), "--out", str(tmp_path / "out"), "--format", "csv")
    assert code == 0 and lines[0]["error"] is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["measurements.jsonl", "one.csv"]
    assert cli.main(["digitize", str(scan), "--out", str(tmp_path / "x"), "--format", "edf"]) == 2


def test_a_real_scan_is_digitized(real_scan: Path) -> None:
    from ecg_desktop.core.loading.image_io import load_image

    dig = digitize(load_image(real_scan))
    assert len(dig.panels) == 13
    assert all(np.mean(~np.isnan(p.values_mv)) > 0.95 for p in dig.panels)
    assert 40 <= measure(dig).heart_rate_bpm <= 150
