"""How far the measurements (core.signals.measure) can be trusted (a benchmark, not a test).

    nice -n 19 .venv/bin/python benchmarks/bench_measure.py [--cases 48] [--conditions edan,red,...,jpeg_q50,...]
                                                            [--real-every 16] [--enlarge-every 16] [--data DIR]
                                                            [--no-neurokit]

Rendered printouts with known signals (the cases of bench_digitize: heart rates 40-160, three rhythm kinds,
amplitudes 0.6-2.5x), page i drawn under condition i of ``--conditions`` in turn (the renderer's STYLE_CONDITIONS:
other carts' printouts, creased, rotated, noisy; and bench_digitize's acquisition conditions of the EDAN page). For
each interval (PR, QRS, QT, QTc) and axis it prints, over the pages where both values are shown, the median and
interquartile range of the difference and the share within tolerance (PR 20 ms, QRS 10 ms, QT and QTc 20 ms,
axis 15 degrees), and on how many pages one side withheld the value:

(a) measure() of the digitized page against measure_signals() of the signals as drawn (each lead over the 2.5 s it is
    printed, the rhythm strip's over 10 s, clipped at the grid's edge like the ink): what digitizing costs;
(b) measure_signals() of the true 10 s, 12-lead signals against neurokit2's ``ecg_delineate`` (discrete wavelet
    method, on lead II cleaned by ``ecg_clean``, R peaks by ``ecg_peaks``; the median of its per-beat intervals: P
    onset to QRS onset, QRS onset to offset, QRS onset to T offset): the method against an established delineator
    (PR only on the rhythms with P waves); and the QT's two ends apart: the QRS onset before the R wave (R-on, 10 ms)
    and the T wave's end after it (R-Tend, 20 ms);
(c) the same page enlarged 1.5x (cv2.INTER_CUBIC): on the rendered pages, and on every ``--enlarge-every``-th real
    scan of the data set (sorted by class and name), the share of pages whose QT is within 20 ms and QRS within 10 ms
    of the page at its own size (a value shown at one size and withheld at the other counts as a difference).

On every ``--real-every``-th real scan it prints how often each value was withheld, and the notes' reasons.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_digitize import DATA, DEGRADED, degrade, rendered_cases  # benchmarks/, beside this script

from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.signals.digitize import LEADS, DigitizeError, digitize
from ecg_desktop.core.signals.measure import Measurements, measure, measure_signals, median_beats
from ecg_desktop.testing.synthetic import STYLE_CONDITIONS, PrintoutTruth, render_condition

FS = 500
TOLERANCES = {"pr_ms": 20.0, "qrs_ms": 10.0, "qt_ms": 20.0, "qtc_ms": 20.0, "axis_deg": 15.0, "onset_ms": 10.0,
              "t_end_ms": 20.0}
LABELS = {"pr_ms": "PR", "qrs_ms": "QRS", "qt_ms": "QT", "qtc_ms": "QTc", "axis_deg": "axis", "onset_ms": "R-on",
          "t_end_ms": "R-Tend"}
MEASURED = ("pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_deg")
DELINEATED = ("pr_ms", "qrs_ms", "qt_ms", "onset_ms", "t_end_ms")
SCALE = 1.5


@dataclass
class Comparison:
    """Paired values of each measurement (found, reference) and the pages where either side withheld it."""

    keys: tuple[str, ...] = MEASURED
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {k: [] for k in TOLERANCES})
    withheld: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in TOLERANCES})

    def add(self, found: dict[str, float | None], reference: dict[str, float | None]) -> None:
        for key in self.keys:
            a, b = found[key], reference[key]
            if a is not None and b is not None:
                self.pairs[key].append((a, b))
            else:
                self.withheld[key][0] += a is None and b is not None
                self.withheld[key][1] += b is None and a is not None

    def print(self, title: str, found: str, reference: str) -> None:
        print(f"{title}: {found} minus {reference}")
        print(f"{'':>6} {'pages':>5} {'median':>7} {'IQR':>15} {'within':>12} {'only ' + reference:>14} "
              f"{'only ' + found:>14}")
        for key in self.keys:
            tolerance, pairs = TOLERANCES[key], np.array(self.pairs[key]).reshape(-1, 2)
            gone_found, gone_reference = self.withheld[key]
            if not pairs.size:
                print(f"{LABELS[key]:>6} {0:>5} {'':>35} {gone_found:>14} {gone_reference:>14}")
                continue
            diff = pairs[:, 0] - pairs[:, 1]
            if key == "axis_deg":
                diff = (diff + 180) % 360 - 180
            q1, q3 = np.percentile(diff, [25, 75])
            within = f"{np.mean(np.abs(diff) <= tolerance):.0%} (+-{tolerance:.0f})"
            print(f"{LABELS[key]:>6} {diff.size:>5} {np.median(diff):>7.1f} {f'{q1:.1f} to {q3:.1f}':>15} "
                  f"{within:>12} {gone_found:>14} {gone_reference:>14}")


@dataclass
class Stability:
    """How often a page and its enlarged copy give the same QT (within 20 ms) and QRS (within 10 ms)."""

    pages: int = 0
    qt_moved: int = 0
    qrs_moved: int = 0
    either_moved: int = 0
    pr_moved: int = 0
    moved: list[str] = field(default_factory=list)

    def add(self, name: str, a: Measurements, b: Measurements) -> None:
        self.pages += 1
        qt, qrs = _moved(a.qt_ms, b.qt_ms, 20.0), _moved(a.qrs_ms, b.qrs_ms, 10.0)
        self.qt_moved += qt
        self.qrs_moved += qrs
        self.either_moved += qt or qrs
        self.pr_moved += _moved(a.pr_ms, b.pr_ms, 20.0)
        if qt or qrs:
            self.moved.append(f"{name}: QT {_ms(a.qt_ms)}/{_ms(b.qt_ms)}, QRS {_ms(a.qrs_ms)}/{_ms(b.qrs_ms)}")

    def print(self, title: str) -> None:
        same = 1 - self.either_moved / max(self.pages, 1)
        print(f"{title}: {self.pages} pages at {SCALE}x; QT moved > 20 ms on {self.qt_moved}, QRS > 10 ms on "
              f"{self.qrs_moved}; both within on {same:.0%} (PR moved > 20 ms on {self.pr_moved})")
        for line in self.moved:
            print(f"  {line}")


def _moved(a: float | None, b: float | None, tolerance: float) -> bool:
    """Whether two readings of a value differ: beyond ``tolerance``, or shown in one and withheld in the other."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > tolerance


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def drawn_signals(truth: PrintoutTruth) -> np.ndarray:
    """The (samples, 12) signals as the page drew them (NaN where a lead is not printed)."""
    drawn = truth.drawn_leads()
    return np.stack([drawn[name] for name in LEADS], axis=1)


def true_signals(truth: PrintoutTruth) -> np.ndarray:
    """The (samples, 12) true signals, every lead over 10 s."""
    return np.stack([truth.leads[name] for name in LEADS], axis=1).astype(np.float64)


def neurokit_intervals(lead: np.ndarray, fs: int) -> dict[str, float | None]:
    """PR, QRS and QT (ms) of one lead by neurokit2's wavelet delineator: the median over its beats."""
    import neurokit2 as nk

    clean = nk.ecg_clean(lead, sampling_rate=fs)
    _, found = nk.ecg_peaks(clean, sampling_rate=fs)
    _, waves = nk.ecg_delineate(clean, found["ECG_R_Peaks"], sampling_rate=fs, method="dwt")
    waves["ECG_R_Peaks"] = found["ECG_R_Peaks"]

    def median_ms(start: str, stop: str) -> float | None:
        a, b = np.asarray(waves[start], float), np.asarray(waves[stop], float)
        span = 1000 * (b - a) / fs
        span = span[np.isfinite(span) & (span > 0)]
        return float(np.median(span)) if span.size else None

    return {"pr_ms": median_ms("ECG_P_Onsets", "ECG_R_Onsets"), "qrs_ms": median_ms("ECG_R_Onsets", "ECG_R_Offsets"),
            "qt_ms": median_ms("ECG_R_Onsets", "ECG_T_Offsets"), "onset_ms": median_ms("ECG_R_Onsets", "ECG_R_Peaks"),
            "t_end_ms": median_ms("ECG_R_Peaks", "ECG_T_Offsets")}


def method_intervals(signals: np.ndarray, rhythm_lead: str) -> dict[str, float | None]:
    """measure_signals' values, and the QRS onset before and the T wave's end after the R wave (ms)."""
    found, beats = measure_signals(signals, FS, rhythm_lead), median_beats(signals, FS, rhythm_lead)
    onset = None if beats is None or beats.qrs is None else 1000 * (beats.r - beats.qrs[0]) / FS
    t_end = None if onset is None or found.qt_ms is None else found.qt_ms - onset
    return {**found.as_dict(), "onset_ms": onset, "t_end_ms": t_end}


def render(condition: str, case: dict, seed: int) -> tuple[np.ndarray, PrintoutTruth]:
    """A rendered page under a STYLE_CONDITIONS entry or an acquisition condition of the EDAN page."""
    if condition in STYLE_CONDITIONS:
        return render_condition(condition, **case)
    page, truth = render_condition("edan", **case)
    return degrade(condition, page, seed), truth


def enlarged(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def bench_rendered(count: int, conditions: list[str], neurokit: bool) -> None:
    """Print (a), (b) and (c) on ``count`` rendered pages."""
    digitized, delineated, stability, failed = Comparison(), Comparison(DELINEATED), Stability(), 0
    for i, case in enumerate(rendered_cases(count)):
        condition = conditions[i % len(conditions)]
        page, truth = render(condition, case, seed=i)
        if neurokit:
            reference = neurokit_intervals(truth.leads[case["rhythm_lead"]].astype(np.float64), FS)
            if case["kind"] == "irregular":
                reference["pr_ms"] = None
            delineated.add(method_intervals(true_signals(truth), case["rhythm_lead"]), reference)
        try:
            found = measure(digitize(page))
            found_enlarged = measure(digitize(enlarged(page)))
        except DigitizeError:
            failed += 1
            continue
        digitized.add(found.as_dict(), measure_signals(drawn_signals(truth), FS, case["rhythm_lead"]).as_dict())
        stability.add(f"page {i} ({condition}, {case['kind']}, {case['heart_rate']} bpm)", found, found_enlarged)
    print(f"rendered pages: {count} over {len(conditions)} conditions, not digitized {failed}")
    digitized.print("(a) digitized page vs the signals drawn, same method", "digitized", "drawn")
    if neurokit:
        delineated.print("(b) method vs neurokit2 ecg_delineate (dwt, lead II) on the true signals", "method",
                         "neurokit")
    stability.print("(c) rendered pages enlarged")


def bench_real(data: Path, every: int, enlarge_every: int) -> None:
    """Print how often each value was withheld (and why) on every ``every``-th real scan, and (c) on every
    ``enlarge_every``-th of the data set's scans."""
    files = sorted(data.glob("*/*.jpg"))
    stability, withheld, reasons, failed = Stability(), dict.fromkeys(MEASURED, 0), Counter(), 0
    for at, path in enumerate(files):
        if at % every and at % enlarge_every:
            continue
        image = load_image(path)
        try:
            found = measure(digitize(image))
            if at % enlarge_every == 0:
                stability.add(f"{path.parent.name}/{path.name}", found, measure(digitize(enlarged(image))))
        except DigitizeError:
            failed += 1
            continue
        if at % every == 0:
            withheld.update({k: n + (found.as_dict()[k] is None) for k, n in withheld.items()})
            reasons.update(re.sub(r"\d+", "N", note.split(":")[0].split("(")[0]) for note in found.notes)
    print(f"real scans: {len(files[::every])} (every {every}), not digitized {failed}; withheld: "
          + ", ".join(f"{LABELS[k]} {n}" for k, n in withheld.items()))
    for reason, count in reasons.most_common():
        print(f"  {count:>4}x {reason}")
    stability.print(f"(c) real scans enlarged (every {enlarge_every})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=48, help="rendered pages (0: none)")
    parser.add_argument("--conditions", default=",".join((*STYLE_CONDITIONS, *DEGRADED)),
                        help="comma-separated STYLE_CONDITIONS and bench_digitize acquisition conditions, in turn")
    parser.add_argument("--real-every", type=int, default=16, help="every n-th real scan measured (0: none)")
    parser.add_argument("--enlarge-every", type=int, default=16, help="every n-th real scan also enlarged (>= 1)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-neurokit", action="store_true", help="skip (b), e.g. without neurokit2 installed")
    args = parser.parse_args(argv)
    if args.cases:
        bench_rendered(args.cases, [c for c in args.conditions.split(",") if c], not args.no_neurokit)
    if args.real_every and args.data.is_dir():
        bench_real(args.data, args.real_every, args.enlarge_every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
