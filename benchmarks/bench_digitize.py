"""How well and how fast the digitizer reads printouts (a benchmark, not a test).

    nice -n 19 .venv/bin/python benchmarks/bench_digitize.py [--cases 24] [--conditions clean,grey,...]
                                                             [--styles red,creased,...] [--real 60] [--data DIR]
                                                             [--progressive]

Rendered printouts: the project renderer draws known signals (heart rates 40-160, three rhythm kinds,
amplitudes 0.6-2.5x, so that the rows overlap at the top end); each page is read clean and under the
acquisition conditions below. Per condition it prints the median per-lead SNR, the share of leads at
or over 10 dB, the heart-rate error and the median time per scan. A lead's SNR follows the PhysioNet
Challenge 2024 definition: the digitized lead (as exported: 2.5 s for a panel lead, 10 s for the
rhythm strip's lead) may be shifted by up to 0.2 s and its mean offset is removed, SNR = 10 log10
(sum signal^2 / sum error^2); the median best shift is printed too (it should be 0 ms). The signal
is the one drawn: where the renderer clipped a trace at the grid's edge, so is the reference.

Other carts (``--styles``, the renderer's STYLE_CONDITIONS: each cart style clean, and the red one
creased, rotated, noisy): the same cases drawn as other carts' standard printouts. Per style it
prints the share of pages digitized (no exception), the median per-lead SNR and the share of leads
at or over 10 dB (of the digitized pages), the heart-rate error's median and share within 3 bpm, and
then how often each refusal's message (its first 80 characters) was given.

Real scans (``--real N`` of the dataset, spread over its classes): the EDAN cart printed its own heart
rate in the footer ("<heart>58"). It is read by template matching of the footer's digits (no OCR
library is available offline): the templates come from the footer's fixed text of the same scan
("0.67~25Hz  AC50  25mm/s  10mm/mV  4*2.5s+1r ... SE-3"); 8 and 9, which it lacks, are told apart by
their lower halves. The digitized heart rate is compared with it. The real scans are baseline copies of the data
set's (benchmarks/baseline_copies.py: jpegtran, the same pixels, as the ECG cart writes them), or with
``--progressive`` its progressive files as they are; their speed is measured with OpenCV on one thread (as a batch
worker runs it), each step's CPU time per scan, and given as multiples of the decode floor (OpenCV's reduced decode,
measured on the same files in the same run): the full-size decode and the digitizer (digitize given the page
reading, and measure) are what ``batch --digitize`` adds to a scan's classification.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baseline_copies import describe, scan_files  # benchmarks/, beside this script

from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.page.reading import read_page, upright
from ecg_desktop.core.signals.digitize import LEADS, Digitization, DigitizeError, digitize
from ecg_desktop.core.signals.measure import measure
from ecg_desktop.testing.synthetic import (
    KINDS,
    STYLE_CONDITIONS,
    reconstruction_snr,
    render_condition,
    render_printout_with_truth,
)
from training.conditions import apply_condition

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"
FS = 500
RATES = (40, 55, 70, 85, 100, 120, 140, 160)
AMPLITUDES = (1.0, 0.6, 1.4, 2.5)
DEGRADED = ("jpeg_q50", "noise", "grey", "askew_4deg", "upside_down", "dpi_100")
EXTRA = ("photocopy", "phone_photo")
_TEXT_LEVEL = 170  # footer text is darker than this (grey level)
_MATCH = 0.75  # a footer glyph correlating this well with a digit of the fixed text is that digit


def degrade(name: str, image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` under an acquisition condition: training.conditions' ones, JPEG quality 50, sensor noise."""
    if name == "jpeg_q50":
        return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 50])[1], cv2.IMREAD_COLOR)
    if name == "noise":
        noise = np.random.default_rng(seed).normal(0, 12, image.shape[:2])[..., None]
        noisy = np.clip(image + noise, 0, 255).astype(np.uint8)
        return cv2.imdecode(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], cv2.IMREAD_COLOR)
    return apply_condition(name, image, seed)


def lead_snrs(dig: Digitization, drawn: dict[str, np.ndarray]) -> tuple[list[float], list[float]]:
    """Per-lead SNR (dB) over where each lead is drawn (as exported), and the best shift found (ms)."""
    snrs, shifts = [], []
    for name in LEADS:
        printed = np.flatnonzero(~np.isnan(drawn[name]))
        start, stop = printed[0], printed[-1] + 1
        truth, found = drawn[name][start:stop], dig.lead(name)[start:stop]
        snrs.append(reconstruction_snr(truth, found, FS))
        shifts.append(1000 * _best_shift(truth, found))
    return snrs, shifts


def _best_shift(truth: np.ndarray, estimate: np.ndarray, reach: int = 100) -> float:
    """The shift (s) within +-0.2 s that best aligns ``estimate`` with ``truth``."""
    scores = [reconstruction_snr(truth, np.roll(np.nan_to_num(estimate), -k), FS, max_shift_s=0) for k in
              range(-reach, reach + 1, 2)]
    return (2 * int(np.argmax(scores)) - reach) / FS


def rendered_cases(count: int) -> list[dict]:
    """``count`` render settings spread over rates, kinds, amplitudes and seeds."""
    return [{"heart_rate": RATES[i % len(RATES)], "kind": KINDS[i % len(KINDS)],
             "amplitude": AMPLITUDES[(i // len(RATES)) % len(AMPLITUDES)], "seed": 100 + i,
             "rhythm_lead": "III" if i % 8 == 7 else "II"} for i in range(count)]


def bench_rendered(cases: list[dict], conditions: list[str]) -> None:
    """Print the table of rendered printouts read under each condition."""
    print(f"{'condition':>12} {'scans':>5} {'median SNR':>10} {'>=10 dB':>8} {'min':>6} {'shift':>6} "
          f"{'HR err med/max':>14} {'ms/scan':>8} {'cpu ms':>7}  failures")
    pooled: dict[str, list[float]] = {}
    for condition in conditions:
        snrs, shifts, hr_errors, walls, cpus, failures = [], [], [], [], [], 0
        for i, case in enumerate(cases):
            image, truth = render_printout_with_truth(**case)
            page = degrade(condition, image, seed=i) if condition != "clean" else image
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                dig = digitize(page)
            except DigitizeError:
                failures += 1
                snrs += [-np.inf] * len(LEADS)
                continue
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            lead, shift = lead_snrs(dig, truth.drawn_leads())
            snrs += lead
            shifts += shift
            rate = measure(dig).heart_rate_bpm
            if case["kind"] != "irregular":  # an irregular rhythm's mean rate is not the nominal one
                hr_errors.append(abs(rate - case["heart_rate"]) if rate is not None else np.inf)
        pooled.setdefault("degraded" if condition in DEGRADED else condition, []).extend(snrs)
        values = np.array(snrs)
        print(f"{condition:>12} {len(cases):>5} {np.median(values):>8.1f}dB {np.mean(values >= 10):>7.1%} "
              f"{values.min():>6.1f} {np.median(np.abs(shifts)) if shifts else np.nan:>4.0f}ms "
              f"{np.median(hr_errors):>6.1f}/{max(hr_errors):<5.1f}bpm {1000 * statistics.median(walls):>8.0f} "
              f"{1000 * statistics.median(cpus):>7.0f}  {failures}")
    for name, values in pooled.items():
        values = np.array(values)
        print(f"{'all ' + name:>12} leads {values.size:>5}: median {np.median(values):.1f} dB, "
              f"{np.mean(values >= 10):.1%} >= 10 dB")


def bench_styles(cases: list[dict], conditions: list[str]) -> None:
    """Print the table of other carts' printouts (STYLE_CONDITIONS) read, and the refusals' messages."""
    print(f"{'style':>12} {'scans':>5} {'digitized':>9} {'median SNR':>10} {'>=10 dB':>8} "
          f"{'HR err med':>10} {'<=3 bpm':>8} {'ms/scan':>8}")
    refusals: dict[str, Counter[str]] = {}
    for condition in conditions:
        snrs, hr_errors, walls, digitized = [], [], [], 0
        refused = refusals.setdefault(condition, Counter())
        for case in cases:
            page, truth = render_condition(condition, **case)
            started = time.perf_counter()
            try:
                dig = digitize(page)
            except Exception as exc:  # noqa: BLE001 -- a page that breaks the digitizer is counted, not fatal
                message = str(exc) if isinstance(exc, DigitizeError) else f"{type(exc).__name__}: {exc}"
                refused[message[:80]] += 1
                continue
            walls.append(time.perf_counter() - started)
            digitized += 1
            snrs += lead_snrs(dig, truth.drawn_leads())[0]
            rate = measure(dig).heart_rate_bpm
            if case["kind"] != "irregular":  # an irregular rhythm's mean rate is not the nominal one
                hr_errors.append(abs(rate - case["heart_rate"]) if rate is not None else np.inf)
        values, errors = np.array(snrs), np.array(hr_errors)
        median_snr, good_leads = (np.median(values), np.mean(values >= 10)) if snrs else (None, None)
        median_error, close_rates = (np.median(errors), np.mean(errors <= 3)) if hr_errors else (None, None)
        ms_per_scan = 1000 * statistics.median(walls) if walls else None
        print(f"{condition:>12} {len(cases):>5} {digitized / len(cases):>9.0%} {_cell(median_snr, '{:.1f}dB', 10)} "
              f"{_cell(good_leads, '{:.1%}', 8)} {_cell(median_error, '{:.1f}bpm', 10)} "
              f"{_cell(close_rates, '{:.1%}', 8)} {_cell(ms_per_scan, '{:.0f}', 8)}")
    for condition, refused in refusals.items():
        for message, count in refused.most_common():
            print(f"{condition:>12} refused {count:>3}x: {message}")


def _cell(value: float | None, fmt: str, width: int) -> str:
    """A table cell: ``value`` formatted with ``fmt``, right-aligned in ``width``; "-" for None (no page to measure)."""
    return f"{'-' if value is None else fmt.format(value):>{width}}"


def bench_real(data: Path, count: int, *, progressive: bool = False) -> None:
    """Print the digitized against the printed heart rate on ``count`` real scans, and the digitizer's speed."""
    files = scan_files(data, count, progressive=progressive)
    print(describe(files, data, progressive=progressive) + "; OpenCV on one thread")
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        _read_real(files)
    finally:
        cv2.setNumThreads(threads)


def _read_real(files: list[Path]) -> None:
    """bench_real's work, OpenCV on one thread."""
    errors, unread, failed, walls = [], 0, 0, []
    steps: dict[str, list[float]] = {name: [] for name in ("decode floor", "full decode", "page reading", "digitizer")}
    for path in files:
        cpu = time.process_time()
        cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_2)
        steps["decode floor"].append(time.process_time() - cpu)
        cpu = time.process_time()
        image = load_image(path)
        steps["full decode"].append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        page = read_page(image)  # as digitize(image) reads it (a batch reads the reduced decode's)
        read = time.process_time()
        try:
            dig = digitize(image, reading=page)
        except DigitizeError as exc:
            failed += 1
            print(f"  {path.name}: not digitized: {exc}")
            continue
        walls.append(time.perf_counter() - started)  # as before: the page reading and digitize
        found = measure(dig).heart_rate_bpm
        steps["page reading"].append(read - cpu)
        steps["digitizer"].append(time.process_time() - read)
        printed = footer_heart_rate(upright(image, dig.page_transform, dig.source_size), dig.crop.y1)
        if printed is None:
            unread += 1
            continue
        errors.append(abs(found - printed) if found is not None else np.inf)
        if errors[-1] > 3:
            print(f"  {path.parent.name}/{path.name}: printed {printed}, digitized {found and round(found)}")
    errors = np.array(errors)
    print(f"real scans: {len(files)}, not digitized {failed}, footer not read {unread}; heart rate vs printed: "
          f"median error {np.median(errors):.1f} bpm, within 3 bpm {np.mean(errors <= 3):.1%}, "
          f"max {errors.max():.0f}; {1000 * statistics.median(walls):.0f} ms/scan")
    median = {name: 1000 * statistics.median(values) for name, values in steps.items()}
    floor = median["decode floor"]
    print("real scans, median CPU ms a scan: " + ", ".join(f"{name} {ms:.1f}" for name, ms in median.items())
          + " (digitizer: digitize given the page reading, and measure)")
    print("as multiples of the decode floor: " + ", ".join(f"{name} {ms / floor:.2f}x" for name, ms in median.items())
          + f"; what batch --digitize adds to a scan (full decode + digitizer): "
          f"{(median['full decode'] + median['digitizer']) / floor:.2f}x")


def footer_heart_rate(page: np.ndarray, grid_bottom: int) -> int | None:
    """The heart rate printed in the EDAN footer after the heart symbol, or None if it cannot be read."""
    footer = cv2.cvtColor(page[grid_bottom + 5 :], cv2.COLOR_BGR2GRAY) < _TEXT_LEVEL
    boxes = _glyph_boxes(footer)
    if not boxes:
        return None
    height = int(np.percentile([h for *_, h in boxes], 90))  # digit and capital height
    words = _words(boxes, height)
    heart = next((i for i, w in enumerate(words) if w and _is_heart(footer, w[0], height)), None)
    if heart is None or heart < 5 or heart + 1 >= len(words):
        return None
    tall = [[b for b in word if b[3] >= 0.8 * height] for word in words]
    try:
        known = {"5": tall[1][2], "0": tall[1][3], "2": tall[2][0], "1": tall[3][0], "4": tall[4][0],
                 "6": tall[0][1], "7": tall[0][2], "3": tall[heart + 1][-1]}
    except IndexError:
        return None
    templates = {digit: _glyph(footer, box) for digit, box in known.items()}
    width = float(np.median([box[2] for box in known.values()]))
    digits = ""
    for box in [piece for whole in tall[heart][1:] for piece in _split_touching(footer, whole, width)]:
        glyph = _glyph(footer, box)
        scores = {d: float(np.corrcoef(glyph.ravel(), t.ravel())[0, 1]) for d, t in templates.items()}
        best = max(scores, key=scores.get)
        if scores[best] < _MATCH:  # 8 and 9 are not in the fixed text: told apart by their lower halves
            best = "8" if _is_eight(footer, box) else "9"
        digits += best
    return int(digits) if 1 <= len(digits) <= 3 else None


def _glyph_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the glyphs of the footer's text line; pieces of one glyph (one above the other) merged."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    pieces = sorted((tuple(int(v) for v in s[:4]) for s in stats[1:] if s[4] >= 4), key=lambda b: b[0])
    if not pieces:
        return []
    line = int(np.median([y + h for x, y, w, h in pieces]))  # the text line's baseline
    pieces = [b for b in pieces if abs(b[1] + b[3] - line) <= 4 or b[1] + b[3] < line]
    boxes: list[tuple[int, int, int, int]] = []
    for x, y, w, h in pieces:
        if boxes and min(x + w, boxes[-1][0] + boxes[-1][2]) - max(x, boxes[-1][0]) > 0.5 * min(w, boxes[-1][2]):
            bx, by, bw, bh = boxes.pop()
            x, y, w, h = min(x, bx), min(y, by), max(x + w, bx + bw) - min(x, bx), max(y + h, by + bh) - min(y, by)
        boxes.append((x, y, w, h))
    return boxes


def _split_touching(mask: np.ndarray, box: tuple[int, int, int, int], width: float) -> list[tuple[int, int, int, int]]:
    """A glyph box holding two touching digits split where the least ink stands between them (else as is)."""
    x, y, w, h = box
    if w < 1.6 * width:
        return [box]
    ink = mask[y : y + h, x : x + w].sum(axis=0)
    lo, hi = round(0.35 * w), round(0.65 * w) + 1
    cut = lo + int(np.argmin(ink[lo:hi]))
    return [(x, y, cut, h), (x + cut, y, w - cut, h)]


def _words(boxes: list[tuple[int, int, int, int]], height: int) -> list[list[tuple[int, int, int, int]]]:
    """Glyph boxes grouped into words (gaps wider than half the text height split them)."""
    words: list[list[tuple[int, int, int, int]]] = [[boxes[0]]]
    for box in boxes[1:]:
        last = max(b[0] + b[2] for b in words[-1])
        if box[0] - last > 0.5 * height:
            words.append([])
        words[-1].append(box)
    return words


def _is_heart(mask: np.ndarray, box: tuple[int, int, int, int], height: int) -> bool:
    """A filled glyph about as wide as tall: the heart symbol."""
    x, y, w, h = box
    return 0.6 * height <= h <= 1.2 * height and 0.8 <= w / h <= 1.5 and mask[y : y + h, x : x + w].mean() > 0.6


def _glyph(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A glyph resized to 12 x 18 (float)."""
    x, y, w, h = box
    return cv2.resize(mask[y : y + h, x : x + w].astype(np.float32), (12, 18), interpolation=cv2.INTER_AREA)


def _is_eight(mask: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """8 rather than 9: its lower half is a loop (two strokes across a row), a 9's is a single tail."""
    x, y, w, h = box
    lower = mask[y + round(0.6 * h) : y + round(0.9 * h), x : x + w].view(np.int8)
    strokes = (np.diff(np.pad(lower, ((0, 0), (1, 0))), axis=1) == 1).sum(axis=1)
    return float(np.mean(strokes)) >= 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=24, help="rendered printouts per condition and per style")
    parser.add_argument("--conditions", default=",".join(("clean", *DEGRADED)),
                        help=f"comma-separated (empty: none); also available: {', '.join(EXTRA)}")
    parser.add_argument("--styles", default=",".join(STYLE_CONDITIONS),
                        help="other carts' printouts, comma-separated STYLE_CONDITIONS (empty: none)")
    parser.add_argument("--real", type=int, default=60, help="real scans to compare heart rates on (0: none)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--progressive", action="store_true",
                        help="read the data set's progressive files as they are, not baseline copies")
    args = parser.parse_args(argv)
    conditions, styles = ([name for name in names.split(",") if name] for names in (args.conditions, args.styles))
    if args.cases and conditions:
        bench_rendered(rendered_cases(args.cases), conditions)
    if args.cases and styles:
        bench_styles(rendered_cases(args.cases), styles)
    if args.real and args.data.is_dir():
        bench_real(args.data, args.real, progressive=args.progressive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
