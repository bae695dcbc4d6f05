"""What the occlusion saliency adds per scan (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_saliency.py [--repeats 5] [--data DIR]

Prints the median of ``--repeats`` runs of ``occlusion_saliency`` (the app's 16x16 sliding-patch map,
from which the lead scores are taken) and of a plain ``classify`` on the same scan, once with one
onnxruntime intra-op thread and once with onnxruntime's default thread count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.classify.saliency import GRID, occlusion_saliency
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.page.crop import find_diagnostic_region
from ecg_desktop.core.page.reading import read_page

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"


def median_seconds(func, repeats: int) -> float:
    func()  # warm-up: first-run allocations in onnxruntime
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--grid", type=int, default=GRID)
    args = parser.parse_args(argv)
    found = sorted(args.data.glob("mi/*.jpg"))[:1]
    if found:
        source, image = found[0].name, load_image(found[0])
    else:
        from ecg_desktop.testing.synthetic import render_printout

        source, image = "synthetic printout", render_printout(kind="st_elevation", seed=5)
    crop = find_diagnostic_region(image).box
    print(f"scan: {source} ({image.shape[1]} x {image.shape[0]}), crop {crop.width} x {crop.height}, "
          f"grid {args.grid}, median of {args.repeats}")
    for label, threads in (("1 thread", 1), ("default threads", 0)):
        model = EcgModel.load(threads=threads)
        classify = median_seconds(lambda m=model: m.classify(image, crop=crop), args.repeats)
        page = read_page(image, crop=crop)
        saliency = median_seconds(lambda m=model, p=page: occlusion_saliency(m, p, grid=args.grid), args.repeats)
        print(f"{label:>16}: classify {classify * 1000:7.1f} ms   saliency {saliency * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
