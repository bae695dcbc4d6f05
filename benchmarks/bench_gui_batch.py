"""Event-loop responsiveness and throughput of a batch in the GUI versus headless (a benchmark, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_batch.py [--scans 200] [--pdf]

Runs the same folder through the Batch dialog (a 20 ms QTimer heartbeat measures how late the GUI thread
gets) and through the headless core batch, and prints the worst and 99th-percentile heartbeat delay and
scans per second for both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecg-images"


def make_folder(count: int, folder: Path) -> Path:
    """``count`` scans: real dataset JPEGs (cycled) when present, else rendered printouts."""
    folder.mkdir(parents=True, exist_ok=True)
    real = sorted(DATA.glob("*/*.jpg"))
    for i in range(count):
        target = folder / f"scan_{i:03d}.jpg"
        if real:
            target.write_bytes(real[i % len(real)].read_bytes())
        else:
            from ecg_desktop.testing.synthetic import render_printout

            cv2.imwrite(str(target), render_printout(seed=i), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def gui_run(folder: Path, out_dir: Path, *, pdf: bool, workers: int) -> tuple[float, list[float], int]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ecg_desktop.core.reports.report_pdf import ReportOptions
    from ecg_desktop.gui.app import load_model, settle_heap
    from ecg_desktop.gui.batch_dialog import BatchDialog

    app = QApplication.instance() or QApplication([])
    model, error = load_model()
    if model is None:
        raise SystemExit(error)
    settle_heap()
    dialog = BatchDialog(model, options=ReportOptions(), workers=workers, folder=str(folder))
    dialog.output_edit.setText(str(out_dir))
    dialog.pdf_check.setChecked(pdf)
    dialog.show()
    delays: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        delays.append(now - last[0] - 0.020)
        last[0] = now

    timer = QTimer(interval=20)
    timer.timeout.connect(beat)
    loop = QEventLoop()
    dialog.batchFinished.connect(lambda _cancelled: loop.quit())
    timer.start()
    started = time.perf_counter()
    dialog.start()
    loop.exec()
    elapsed = time.perf_counter() - started
    timer.stop()
    app.processEvents()
    return elapsed, delays, len(dialog.items)


def headless_run(folder: Path, out_dir: Path, *, pdf: bool, workers: int) -> tuple[float, int]:
    from ecg_desktop.core.batch.run import plan_batch, run_batch
    from ecg_desktop.core.classify.model import EcgModel

    model = EcgModel.load(threads=1)
    started = time.perf_counter()
    count = sum(1 for _ in run_batch(model, plan_batch([folder], out_dir), workers=workers, pdf=pdf))
    return time.perf_counter() - started, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pdf", action="store_true", help="also write a PDF per scan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(args.scans, Path(tmp) / "scans")
        gui_seconds, delays, shown = gui_run(folder, Path(tmp) / "gui", pdf=args.pdf, workers=args.workers)
        head_seconds, done = headless_run(folder, Path(tmp) / "headless", pdf=args.pdf, workers=args.workers)
    late = sorted(d * 1000 for d in delays)
    print(f"{args.scans} scans, {args.workers} workers, PDFs {'on' if args.pdf else 'off'}")
    print("| measure | value |\n|---|---|")
    print(f"| heartbeat ticks | {len(late)} |")
    print(f"| worst heartbeat delay | {late[-1]:.0f} ms |")
    print(f"| 99th percentile delay | {late[int(0.99 * (len(late) - 1))]:.0f} ms |")
    print(f"| median delay | {statistics.median(late):.1f} ms |")
    print(f"| GUI batch | {shown / gui_seconds:.1f} scans/s ({shown} in {gui_seconds:.1f} s) |")
    print(f"| headless batch | {done / head_seconds:.1f} scans/s ({done} in {head_seconds:.1f} s) |")
    print(f"| GUI / headless | {head_seconds / gui_seconds:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
