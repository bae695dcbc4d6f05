"""End-to-end speed and memory of the inference pipeline (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_inference.py [--scans N] [--data DIR]

Prints median per-stage latency for single scans (decode at the analysis size, page reading: upright,
grid crop and layout check; preprocess, layout fingerprint, CNN, LightGBM; full-size decoding alongside
for comparison),
batch throughput with parallel decoding, and peak resident memory, against the targets:
< 60 ms per scan, >= 40 scans/s in batch, < 500 MB peak on a 2-core CPU.
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

from ecg_desktop.core.batch import classify_files  # noqa: E402
from ecg_desktop.core.fingerprint import layout_fingerprint  # noqa: E402
from ecg_desktop.core.image_io import load_for_analysis, load_image  # noqa: E402
from ecg_desktop.core.model import EcgModel  # noqa: E402
from ecg_desktop.core.preprocess import preprocess  # noqa: E402
from ecg_desktop.core.reading import read_page  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"


def scans(data: Path, count: int) -> list[Path]:
    """Real dataset scans (2213x1572 JPEG), or rendered ones when the dataset is absent."""
    found = sorted(data.glob("*/*.jpg"))[:count]
    if found:
        return found
    from ecg_desktop.testing.synthetic import render_printout

    folder = Path(tempfile.mkdtemp())
    paths = []
    for i in range(count):
        path = folder / f"scan{i}.jpg"
        cv2.imwrite(str(path), render_printout(seed=i), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def single_scan_stages(model: EcgModel, files: list[Path]) -> dict[str, float]:
    """Median milliseconds of each stage, one scan at a time."""
    names = ("decode", "page reading", "preprocess", "fingerprint", "cnn", "lightgbm", "total")
    stages: dict[str, list[float]] = {k: [] for k in names}
    for path in files:
        t0 = time.perf_counter()
        scan = load_for_analysis(path)  # what EcgModel.classify_file and the batch read
        t1 = time.perf_counter()
        page = read_page(scan.pixels, image_size=scan.file_size)
        t2 = time.perf_counter()
        batch = preprocess(page.work, page.box)[None]
        t3 = time.perf_counter()
        layout_fingerprint(page.work, page.box)
        t4 = time.perf_counter()
        features, _ = model.features(batch)
        t5 = time.perf_counter()
        model.probabilities_from_features(features)
        t6 = time.perf_counter()
        for key, value in zip(names, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t6 - t0)):
            stages[key].append(value * 1000)
    return {k: statistics.median(v) for k, v in stages.items()}


def full_size_decode_ms(files: list[Path]) -> float:
    """Median milliseconds to decode a scan at full size (what the viewer shows), for comparison."""
    times = []
    for path in files:
        started = time.perf_counter()
        load_image(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    files = scans(args.data, args.scans)
    width, height = load_image(files[0]).shape[1::-1]
    print(f"{len(files)} scans of {width}x{height} from {files[0].parent.parent}")

    single = EcgModel.load()
    single_scan_stages(single, files[:5])  # warm-up
    stages = single_scan_stages(single, files)
    print("\nsingle scan, median ms")
    print("| stage | ms |\n|---|---|")
    for key, value in stages.items():
        print(f"| {key} | {value:.1f} |")
    full = full_size_decode_ms(files)
    print(f"(full-size decode, not on the model's path: {full:.1f} ms, {full / stages['decode']:.1f}x the reduced one)")

    threaded = EcgModel.load(threads=1)
    list(classify_files(threaded, files[:4], workers=args.workers))
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        items = list(classify_files(threaded, files, workers=args.workers))
        rates.append(len(items) / (time.perf_counter() - started))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbatch, {args.workers} workers: median {statistics.median(rates):.1f} scans/s over 3 runs "
          f"(min {min(rates):.1f}, max {max(rates):.1f})")
    print(f"peak resident memory: {peak_mb:.0f} MB")
    print("\n| target | measured | ratio to target |\n|---|---|---|")
    print(f"| < 60 ms per scan | {stages['total']:.1f} ms | {stages['total'] / 60:.2f} |")
    print(f"| >= 40 scans/s batch | {statistics.median(rates):.1f} scans/s | {statistics.median(rates) / 40:.2f} |")
    print(f"| < 500 MB peak | {peak_mb:.0f} MB | {peak_mb / 500:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
