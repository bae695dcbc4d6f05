"""Archive scale: the local pool against a Dask LocalCluster, and memory over a large archive (a benchmark).

    .venv/bin/python benchmarks/bench_archive.py [--scans 40] [--workers 2] [--repeats 3]
                                                 [--archive 100000] [--resume 100]

1. Throughput: the same --scans files (hard links of a few scans: real dataset JPEGs when present, else
   rendered printouts) classified by the local pool and by a LocalCluster of as many single-threaded worker
   processes, in alternating runs; the median scans/s of each, their ratio, the CPU a scan spent in the batch
   process (locally the workers' threads; with the cluster its client and scheduler, which share the cores with
   the workers here), and the peak resident memory of the batch process and of the workers. Starting the cluster and loading the models on it are timed apart.
2. Scale: an archive of --archive paths (hard links, 1000 per folder). The batch pipeline itself (listing,
   bounded window, results.csv appended and fsynced per row, progress) runs over every path with decoding and
   the model replaced by a stub, and reports its peak memory after each tenth (flat = the same after 10% as
   after 100%); then a real batch resumes that archive with all but its last --resume rows done, so it lists
   every path and holds the done keys while it classifies; and the done keys' own size is traced.
Each measurement runs in a fresh process, so each peak is its own. Absolute speeds move a lot on a loaded
machine: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "ecg-images"
DISTINCT = 8  # distinct scans behind the hard links


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sources(folder: Path) -> list[Path]:
    """A few distinct scans: real dataset JPEGs (one per class folder in turn) or rendered printouts."""
    real = sorted(DATA.glob("*/*.jpg"))
    folder.mkdir(parents=True)
    paths = []
    for i in range(DISTINCT):
        target = folder / f"source_{i}.jpg"
        if real:
            shutil.copy(real[i * len(real) // DISTINCT], target)
        else:
            from ecg_desktop.testing.synthetic import render_printout

            cv2.imwrite(str(target), render_printout(seed=i), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(target)
    return paths


def link_archive(scans: list[Path], folder: Path, count: int) -> Path:
    """``count`` hard links of ``scans``, 1000 per subfolder: a large archive that costs no disk."""
    for i in range(count):
        sub = folder / f"d{i // 1000:04d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        os.link(scans[i % len(scans)], sub / f"scan_{i:07d}.jpg")
    return folder


# -- measurements, each in its own process -----------------------------------------------------------------------


def run_local(folder: str, out: str, workers: int) -> dict:
    from ecg_desktop.core.batch.run import plan_batch, run_batch
    from ecg_desktop.core.classify.model import EcgModel

    model = EcgModel.load(threads=1 if workers > 1 else 0)  # as the command line loads it
    started, cpu = time.perf_counter(), time.process_time()
    rows = sum(1 for _ in run_batch(model, plan_batch([folder], Path(out)), workers=workers))
    return {"seconds": time.perf_counter() - started, "rows": rows, "peak_mb": peak_mb(),
            "cpu_ms": (time.process_time() - cpu) * 1000 / rows}


def run_cluster(folder: str, out: str, workers: int, warm: str) -> dict:
    from distributed import Client, LocalCluster

    from ecg_desktop.core.batch.run import plan_batch, run_batch
    from ecg_desktop.core.classify.model import EcgModel

    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        model = EcgModel.load(threads=1)
        list(run_batch(model, plan_batch([warm], Path(out) / "warm-up"), scheduler=address))  # models loaded
        ready = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        rows = sum(1 for _ in run_batch(model, plan_batch([folder], Path(out)), scheduler=address))
        seconds, cpu_ms = time.perf_counter() - started, (time.process_time() - cpu) * 1000 / rows
        with Client(address, set_as_default=False) as client:
            worker_peaks = client.run(peak_mb)
    return {"seconds": seconds, "rows": rows, "peak_mb": peak_mb(), "ready_seconds": ready, "cpu_ms": cpu_ms,
            "workers_peak_mb": sum(worker_peaks.values())}


def run_stream(archive: str, out: str, workers: int, total: int) -> dict:
    """The pipeline over every path, decoding and the model stubbed; the peak after each tenth."""
    from types import SimpleNamespace

    import numpy as np

    from ecg_desktop.core.batch import run as batch
    from ecg_desktop.core.batch import scan
    from ecg_desktop.core.classify.manifest import load_manifest
    from ecg_desktop.core.classify.model import Classification
    from ecg_desktop.core.page.crop import CropBox
    from ecg_desktop.core.resources import models_dir

    manifest = load_manifest(models_dir())
    result = Classification(label=manifest.class_ids[0], probabilities=dict.fromkeys(manifest.class_ids, 0.25),
                            findings=(manifest.class_ids[0],), crop=CropBox(0, 0, 100, 100), warnings=(),
                            low_confidence=False)
    model = SimpleNamespace(manifest=manifest, version=manifest.model_version,
                            classify=lambda image, **kw: result)
    scan.load_for_analysis = lambda path: SimpleNamespace(pixels=np.zeros((1, 1, 3), np.uint8),
                                                          file_size=(path.stat().st_size, 1))
    started = time.perf_counter()
    plan = batch.plan_batch([archive], Path(out))
    plan_seconds = time.perf_counter() - started
    peaks, rows = [], 0
    for rows, _step in enumerate(batch.run_batch(model, plan, workers=workers), start=1):
        if rows % max(1, total // 10) == 0:
            peaks.append(round(peak_mb(), 1))
    return {"plan_seconds": plan_seconds, "seconds": time.perf_counter() - started - plan_seconds, "rows": rows,
            "peaks_mb": peaks, "peak_mb": peak_mb()}


def run_resume(archive: str, out: str, workers: int) -> dict:
    """A real batch over the whole archive with all but its last rows already in results.csv."""
    import tracemalloc

    from ecg_desktop.core.batch.run import ResultsCsv, plan_batch, run_batch
    from ecg_desktop.core.classify.model import EcgModel

    tracemalloc.start()
    done = ResultsCsv(Path(out) / "results.csv", [], "").done_files()
    done_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del done
    model = EcgModel.load(threads=1 if workers > 1 else 0)
    started = time.perf_counter()
    plan = plan_batch([archive], Path(out))
    plan_seconds = time.perf_counter() - started
    rows = sum(1 for _ in run_batch(model, plan, workers=workers))
    return {"plan_seconds": plan_seconds, "seconds": time.perf_counter() - started - plan_seconds, "rows": rows,
            "skipped": plan.skipped, "done_bytes_per_row": done_bytes / max(1, plan.skipped), "peak_mb": peak_mb()}


def in_child(mode: str, **spec: object) -> dict:
    """Run one measurement in a fresh Python process and return what it printed (JSON)."""
    done = subprocess.run([sys.executable, __file__, "--child", mode, json.dumps(spec)], capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speeds(runs: list[dict]) -> str:
    return ", ".join(f"{run['rows'] / run['seconds']:.2f}" for run in runs)


def keep_rows(results: Path, target: Path, count: int) -> None:
    """``target``: the header and the first ``count`` rows of ``results`` (a batch stopped there)."""
    target.parent.mkdir(parents=True)
    with results.open("rb") as source, target.open("wb") as sink:
        for index, line in enumerate(source):
            if index > count:
                break
            sink.write(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=40, help="files per throughput run")
    parser.add_argument("--workers", type=int, default=2, help="local threads = cluster worker processes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--archive", type=int, default=100_000, help="paths in the large archive (0: skip it)")
    parser.add_argument("--resume", type=int, default=100, help="files the real resume of the archive classifies")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, spec = args.child
        runs = {"local": run_local, "cluster": run_cluster, "stream": run_stream, "resume": run_resume}
        print(json.dumps(runs[mode](**json.loads(spec))))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scans = sources(root / "sources")
        folder = link_archive(scans, root / "scans", args.scans)
        warm = link_archive(scans[:2], root / "warm", 2)
        local, cluster = [], []
        for repeat in range(args.repeats):
            local.append(in_child("local", folder=str(folder), out=str(root / f"local{repeat}"),
                                  workers=args.workers))
            cluster.append(in_child("cluster", folder=str(folder), out=str(root / f"cluster{repeat}"),
                                    workers=args.workers, warm=str(warm)))
        speed_local = statistics.median(r["rows"] / r["seconds"] for r in local)
        speed_cluster = statistics.median(r["rows"] / r["seconds"] for r in cluster)
        print(f"{args.scans} scans ({'dataset' if sorted(DATA.glob('*/*.jpg')) else 'rendered'} JPEGs), "
              f"{args.workers} workers, {args.repeats} alternating runs each")
        print("| measure | local pool | LocalCluster |\n|---|---|---|")
        print(f"| scans/s, median | {speed_local:.2f} | {speed_cluster:.2f} |")
        print(f"| runs | {speeds(local)} | {speeds(cluster)} |")
        print(f"| cluster / local | | {speed_cluster / speed_local:.2f} |")
        print(f"| CPU a scan in the batch process, median (local: the workers; cluster: client and scheduler) | "
              f"{statistics.median(r['cpu_ms'] for r in local):.1f} ms | "
              f"{statistics.median(r['cpu_ms'] for r in cluster):.1f} ms |")
        print(f"| peak memory, batch process | {max(r['peak_mb'] for r in local):.0f} MB | "
              f"{max(r['peak_mb'] for r in cluster):.0f} MB |")
        print(f"| peak memory, workers (sum) | | {max(r['workers_peak_mb'] for r in cluster):.0f} MB |")
        print(f"| cluster start + models loaded, median | | "
              f"{statistics.median(r['ready_seconds'] for r in cluster):.1f} s |")

        if args.archive:
            started = time.perf_counter()
            archive = link_archive(scans, root / "archive", args.archive)
            made = time.perf_counter() - started
            stream = in_child("stream", archive=str(archive), out=str(root / "stream"), workers=args.workers,
                              total=args.archive)
            keep_rows(root / "stream" / "results.csv", root / "resume" / "results.csv", args.archive - args.resume)
            resume = in_child("resume", archive=str(archive), out=str(root / "resume"), workers=args.workers)
            print(f"\n{args.archive} paths ({made:.0f} s to link), {args.workers} workers")
            print("| measure | value |\n|---|---|")
            print(f"| pipeline, stubbed model: rows | {stream['rows']} |")
            print(f"| pipeline: listing (count pass) | {stream['plan_seconds']:.1f} s |")
            print(f"| pipeline: rows/s (list again, window, append + fsync) | "
                  f"{stream['rows'] / stream['seconds']:.0f} |")
            print(f"| pipeline: peak memory after each tenth | {', '.join(map(str, stream['peaks_mb']))} MB |")
            print(f"| real resume: skipped / classified | {resume['skipped']} / {resume['rows']} |")
            print(f"| real resume: plan (listing + done keys) | {resume['plan_seconds']:.1f} s |")
            print(f"| real resume: classify {resume['rows']} | {resume['rows'] / resume['seconds']:.2f} scans/s |")
            print(f"| real resume: peak memory | {resume['peak_mb']:.0f} MB "
                  f"(local run of {args.scans}: {max(r['peak_mb'] for r in local):.0f} MB) |")
            print(f"| done keys in memory | {resume['done_bytes_per_row']:.0f} bytes a row |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
