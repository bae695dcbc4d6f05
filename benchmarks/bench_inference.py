"""End-to-end speed and memory of the inference pipeline (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_inference.py [--scans N] [--data DIR] [--workers 2] [--opencv-threads N]
                                                   [--progressive]

It reads baseline copies of the data set's scans (made once by benchmarks/baseline_copies.py with jpegtran, the
same pixels: the ECG cart writes baseline JPEGs, the data set holds progressive ones), or with ``--progressive`` the
data set's files as they are. The decode floor is OpenCV's reduced (analysis-size) decode of each file on one
thread, measured in the same run; every figure is also given as a multiple of it.

Prints, for single scans with one thread per scan (as the window and each batch worker run them), the
median wall and CPU time of each stage (decode at the analysis size, page reading: upright, grid crop
and layout check; preprocess, layout fingerprint, CNN, LightGBM, and the signal branch when the model has one:
digitizing the analysis copy and reading its features), and each scan's total as a multiple of
its own decode (the median of those per-scan ratios: the machine is shared, so only ratios measured in
the same run compare); then batch throughput with ``--workers`` threads, the batch's CPU time per scan
and peak resident memory, against the targets: a scan in at most 3x its decode, >= 70 scans/s with 2
workers on 2 cores, < 500 MB peak. ``--opencv-threads 1`` runs OpenCV on the calling thread only (its own
pool spends CPU on every call; a batch with several workers does the same,
core.batch.run.one_opencv_thread_per_worker).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baseline_copies import describe, scan_files  # benchmarks/, beside this script

from ecg_desktop.core.batch.run import classify_files
from ecg_desktop.core.classify.fingerprint import layout_fingerprint
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.classify.preprocess import preprocess
from ecg_desktop.core.loading.image_io import load_for_analysis, load_image
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.signals.features import page_signal_features

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"
STAGES = ("decode", "page reading", "preprocess", "fingerprint", "cnn", "lightgbm", "signal branch")
MAX_RATIO, MIN_RATE, MAX_MB = 3.0, 70.0, 500.0


def scans(data: Path, count: int, *, progressive: bool = False) -> tuple[list[Path], str]:
    """Real dataset scans (2213x1572 JPEG) spread over the classes (baseline copies unless ``progressive``), or
    rendered ones when the dataset is absent; and a line saying which."""
    found = scan_files(data, count, progressive=progressive)
    if found:
        return found, describe(found, data, progressive=progressive)
    from ecg_desktop.testing.synthetic import render_printout

    folder = Path(tempfile.mkdtemp())
    paths = []
    for i in range(count):
        path = folder / f"scan{i}.jpg"
        cv2.imwrite(str(path), render_printout(seed=i), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths, f"{count} rendered scans (no data set in {data})"


def _clocks() -> tuple[float, float]:
    """Wall and process CPU time (CPU counts OpenCV's own threads too), seconds."""
    return time.perf_counter(), time.process_time()


def single_scan_stages(model: EcgModel, files: list[Path]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per-scan wall and CPU milliseconds of each stage and of the total, one scan at a time."""
    wall: dict[str, list[float]] = {k: [] for k in (*STAGES, "total")}
    cpu: dict[str, list[float]] = {k: [] for k in (*STAGES, "total")}
    for path in files:
        marks = [_clocks()]
        scan = load_for_analysis(path)  # what EcgModel.classify_file and the batch read
        marks.append(_clocks())
        page = read_page(scan.pixels, image_size=scan.file_size)
        marks.append(_clocks())
        batch = preprocess(page.work, page.box)[None]
        marks.append(_clocks())
        layout_fingerprint(page.work, page.box)
        marks.append(_clocks())
        features, _ = model.features(batch)
        marks.append(_clocks())
        model.probabilities_from_features(features)
        marks.append(_clocks())
        if model.has_signal_branch:  # digitized in the analysis copy, measured, read into features
            page_signal_features(page)
        marks.append(_clocks())
        for key, start, end in zip((*STAGES, "total"), (*marks[:-1], marks[0]), (*marks[1:], marks[-1])):
            wall[key].append((end[0] - start[0]) * 1000)
            cpu[key].append((end[1] - start[1]) * 1000)
    return wall, cpu


def per_decode(times: dict[str, list[float]]) -> float:
    """Median over scans of each scan's total time divided by its own decode time."""
    return statistics.median(total / decode for total, decode in zip(times["total"], times["decode"]))


def decode_floor(files: list[Path]) -> tuple[float, float]:
    """Median wall and CPU milliseconds of OpenCV's reduced (analysis-size) decode of each file on one thread."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        walls, cpus = [], []
        for path in files:
            wall, cpu = _clocks()
            cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_2)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    finally:
        cv2.setNumThreads(threads)
    return statistics.median(walls), statistics.median(cpus)


def full_size_decode_ms(files: list[Path]) -> float:
    """Median milliseconds to decode a scan at full size (what the viewer shows), for comparison."""
    times = []
    for path in files:
        started = time.perf_counter()
        load_image(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def batch_runs(model: EcgModel, files: list[Path], workers: int, runs: int) -> tuple[list[float], list[float]]:
    """Scans per second (wall) and CPU milliseconds per scan of ``runs`` whole batches."""
    list(classify_files(model, files[:4], workers=workers))  # warm-up
    rates, cpu_ms = [], []
    for _ in range(runs):
        wall, cpu = _clocks()
        items = list(classify_files(model, files, workers=workers))
        rates.append(len(items) / (time.perf_counter() - wall))
        cpu_ms.append((time.process_time() - cpu) * 1000 / len(items))
    return rates, cpu_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--opencv-threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)")
    parser.add_argument("--progressive", action="store_true",
                        help="time the data set's progressive files as they are, not baseline copies")
    args = parser.parse_args()
    if args.opencv_threads is not None:
        cv2.setNumThreads(args.opencv_threads)
    files, source = scans(args.data, args.scans, progressive=args.progressive)
    width, height = load_image(files[0]).shape[1::-1]
    print(f"{source}; {width}x{height}; OpenCV threads {cv2.getNumThreads()}")
    decode_floor(files[:5])  # warm-up
    floor_wall, floor_cpu = decode_floor(files)
    print(f"decode floor (OpenCV reduced decode, one thread): median {floor_wall:.2f} ms wall, {floor_cpu:.2f} ms CPU")

    model = EcgModel.load(threads=1)
    single_scan_stages(model, files[:5])  # warm-up
    wall, cpu = single_scan_stages(model, files)
    print("\nsingle scan, one thread per scan: median ms")
    print("| stage | wall | CPU |\n|---|---|---|")
    for key in wall:
        print(f"| {key} | {statistics.median(wall[key]):.1f} | {statistics.median(cpu[key]):.1f} |")
    ratio_wall, ratio_cpu = per_decode(wall), per_decode(cpu)
    print(f"scan / its decode (median of per-scan ratios): {ratio_wall:.2f} wall, {ratio_cpu:.2f} CPU")
    print(f"scan / decode floor: {statistics.median(wall['total']) / floor_wall:.2f} wall, "
          f"{statistics.median(cpu['total']) / floor_cpu:.2f} CPU")
    full = full_size_decode_ms(files)
    decode = statistics.median(wall["decode"])
    print(f"(full-size decode, not on the model's path: {full:.1f} ms, {full / decode:.1f}x the reduced one)")

    rates, cpu_ms = batch_runs(model, files, args.workers, args.runs)
    rate, per_scan_cpu = statistics.median(rates), statistics.median(cpu_ms)
    print(f"\nbatch, {args.workers} workers: median {rate:.1f} scans/s over {args.runs} runs "
          f"(min {min(rates):.1f}, max {max(rates):.1f}); {per_scan_cpu:.1f} ms CPU per scan, so at most "
          f"{args.workers * 1000 / per_scan_cpu:.1f} scans/s on {args.workers} otherwise idle cores")
    core_ms = args.workers * 1000 / rate  # a scan's share of the workers' cores
    print(f"batch / decode floor: {core_ms:.1f} ms of {args.workers} cores a scan = {core_ms / floor_wall:.2f}x the "
          f"floor; {per_scan_cpu / floor_cpu:.2f}x in CPU; at 3x the floor: {args.workers * 1000 / (3 * floor_wall):.1f} "
          "scans/s")
    decode_cpu = statistics.median(cpu["decode"])
    print(f"batch CPU per scan / single-scan decode CPU: {per_scan_cpu / decode_cpu:.2f}; at {MAX_RATIO:.0f}x its decode "
          f"a scan would allow at most {args.workers * 1000 / (MAX_RATIO * decode_cpu):.1f} scans/s here, and "
          f"{MIN_RATE:.0f} scans/s needs {args.workers * 1000 / MIN_RATE:.1f} ms a scan, "
          f"{args.workers * 1000 / MIN_RATE / decode_cpu:.2f}x this decode")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")
    print("\n| target | measured | ratio to target |\n|---|---|---|")
    print(f"| scan <= {MAX_RATIO:.0f}x its decode | {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x CPU | "
          f"{ratio_wall / MAX_RATIO:.2f}, {ratio_cpu / MAX_RATIO:.2f} |")
    print(f"| batch <= {MAX_RATIO:.0f}x the decode floor, {args.workers} workers | {core_ms / floor_wall:.2f}x "
          f"({per_scan_cpu / floor_cpu:.2f}x CPU) | {core_ms / floor_wall / MAX_RATIO:.2f} |")
    print(f"| >= {MIN_RATE:.0f} scans/s, {args.workers} workers | {rate:.1f} scans/s | {rate / MIN_RATE:.2f} |")
    print(f"| < {MAX_MB:.0f} MB peak | {peak_mb:.0f} MB | {peak_mb / MAX_MB:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
