"""The batch job a GUI worker runs: find the scans, then yield each file recorded, with the progress after it."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from ecg_desktop.core.batch.run import BatchPlan, BatchStep, plan_batch, run_batch
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.reports.report_pdf import ReportOptions


def batch_job(
    model: EcgModel, folder: Path, out_dir: Path, *, rerun: bool, pdf: bool, options: ReportOptions,
    workers: int, stop: threading.Event,
) -> Iterator[BatchPlan | BatchStep]:
    """Worker generator: yield the plan, then one BatchStep per scan, each already in results.csv."""
    lower_thread_priority()
    plan = plan_batch([folder], out_dir, rerun=rerun, pdf=pdf)
    yield plan
    yield from run_batch(model, plan, workers=workers, pdf=pdf, options=options, should_stop=stop.is_set)


BATCH_NICE = 10


def lower_thread_priority() -> None:
    """Let the calling (batch) thread yield the CPU to the GUI thread when cores are busy.

    Linux: the per-thread nice value, inherited by the classification threads this thread starts.
    """
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BATCH_NICE)
