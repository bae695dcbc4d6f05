"""Batch classification: find scans in folders, classify them in parallel, record each result at once."""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.image_io import IMAGE_SUFFIXES, load_image
from ecg_desktop.core.model import Classification, EcgModel
from ecg_desktop.core.report_pdf import ReportOptions, write_batch_summary, write_report


@dataclass(frozen=True)
class BatchItem:
    """The outcome for one file: a classification and/or an error (both when only its PDF failed)."""

    path: Path
    result: Classification | None
    error: str | None


def find_scans(paths: Iterable[str | Path]) -> tuple[list[Path], list[BatchItem]]:
    """Image files named by ``paths`` (folders searched recursively, symlink loops skipped).

    Returns the files in a stable order and a failed BatchItem for each path that does not exist.
    """
    files: list[Path] = []
    missing: list[BatchItem] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = _walk(path)
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            missing.append(BatchItem(path, None, f"{path}: no such file or folder."))
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    return files, missing


def _walk(folder: Path) -> list[Path]:
    """Image files below ``folder``, sorted, following symlinked folders once (no loops)."""
    found: list[Path] = []
    visited: set[Path] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = Path(root).resolve()
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs.sort()
        found += [Path(root) / n for n in sorted(names) if Path(n).suffix.lower() in IMAGE_SUFFIXES]
    return found


Report = Callable[[Path, np.ndarray, Classification], None]


def classify_files(
    model: EcgModel,
    files: list[Path],
    *,
    workers: int = 2,
    should_stop: Callable[[], bool] = lambda: False,
    report: Report | None = None,
) -> Iterator[BatchItem]:
    """Classify ``files`` with ``workers`` threads, yielding results in input order.

    Decoding (OpenCV) and inference (onnxruntime) release the GIL, so threads overlap.
    ``report`` (e.g. a PDF writer) runs in the same worker with the decoded image.
    At most ``2 * workers`` files are in flight; ``should_stop`` is checked before each new one.
    """
    def work(path: Path) -> tuple[Classification, str | None]:
        image = load_image(path)
        result = model.classify(image)
        if report is not None:
            try:
                report(path, image, result)
            except EcgDeskError as exc:
                return result, f"PDF report not written: {exc}"
        return result, None

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ecg-batch")
    pending: list[tuple[Path, Future[tuple[Classification, str | None]]]] = []
    queue = iter(files)
    try:
        while True:
            while len(pending) < 2 * max(1, workers) and not should_stop():
                path = next(queue, None)
                if path is None:
                    break
                pending.append((path, pool.submit(work, path)))
            if not pending or should_stop():
                return
            path, future = pending.pop(0)
            yield _outcome(path, future)
    finally:
        # On a stop, return at once: files already running finish in the background, unrecorded.
        pool.shutdown(wait=not should_stop(), cancel_futures=True)


def _outcome(path: Path, future: Future[tuple[Classification, str | None]]) -> BatchItem:
    try:
        return BatchItem(path, *future.result())
    except EcgDeskError as exc:
        return BatchItem(path, None, str(exc))
    except Exception as exc:  # a batch never stops for one file
        return BatchItem(path, None, f"{path.name}: unexpected error ({type(exc).__name__}: {exc}).")


class ResultsCsv:
    """``results.csv`` in an output folder, appended and flushed to disk after every row."""

    def __init__(self, path: Path, class_ids: list[str], model_version: str) -> None:
        self.path = path
        self.class_ids = class_ids
        self.model_version = model_version
        self.columns = ["file", "label", *(f"p_{c}" for c in class_ids), "findings", "crop", "warnings", "error", "model_version"]

    def done_files(self) -> set[str]:
        """Files already recorded (with a label or an error), for resuming a batch."""
        if not self.path.exists():
            return set()
        with self.path.open(newline="", encoding="utf-8") as stream:
            return {row["file"] for row in csv.DictReader(stream) if row.get("file")}

    def append(self, item: BatchItem) -> None:
        """Write one row and fsync it, so a crash or cancel never loses a finished result."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns)
        if new:
            writer.writeheader()
        writer.writerow(self.row(item))
        with self.path.open("a", newline="", encoding="utf-8") as stream:
            stream.write(buffer.getvalue())
            stream.flush()
            os.fsync(stream.fileno())

    def row(self, item: BatchItem) -> dict[str, str]:
        result = item.result
        row = {"file": str(item.path.resolve()), "error": item.error or "", "model_version": self.model_version}
        if result is not None:
            row.update(
                label=result.label,
                findings=";".join(result.findings),
                crop=" ".join(map(str, result.crop.as_list())),
                warnings=" | ".join(result.warnings),
                **{f"p_{c}": f"{result.probabilities[c]:.4f}" for c in self.class_ids},
            )
        return row


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will do: files to classify, files already in results.csv, paths that do not exist."""

    out_dir: Path
    todo: list[Path]
    skipped: list[Path]
    missing: list[BatchItem]

    @property
    def total(self) -> int:
        return len(self.todo) + len(self.missing)


def plan_batch(paths: Iterable[str | Path], out_dir: Path, *, rerun: bool = False) -> BatchPlan:
    """Find the scans and leave out those already recorded in ``out_dir/results.csv`` (unless ``rerun``)."""
    files, missing = find_scans(paths)
    done = set() if rerun else ResultsCsv(out_dir / "results.csv", [], "").done_files()
    todo = [f for f in files if str(f.resolve()) not in done]
    skipped = [f for f in files if str(f.resolve()) in done]
    return BatchPlan(out_dir, todo, skipped, missing)


def run_batch(
    model: EcgModel,
    plan: BatchPlan,
    *,
    workers: int = 2,
    pdf: bool = False,
    options: ReportOptions | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[BatchItem]:
    """Classify the plan's files, appending each outcome to results.csv (and a PDF) as it arrives."""
    options = options or ReportOptions()
    try:
        plan.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EcgDeskError(f"Cannot create the output folder {plan.out_dir}: {exc.strerror or exc}.") from exc
    results = ResultsCsv(plan.out_dir / "results.csv", model.manifest.class_ids, model.version)

    def write_pdf(path: Path, image: np.ndarray, result: Classification) -> None:
        write_report(plan.out_dir / f"{path.stem}.pdf", image=image, result=result,
                     manifest=model.manifest, source_name=path.name, options=options)

    rows: list[tuple[str, Classification | None, str | None]] = []
    items = classify_files(model, plan.todo, workers=workers, should_stop=should_stop,
                           report=write_pdf if pdf else None)
    for item in itertools.chain(plan.missing, items):
        _append(results, item)
        rows.append((item.path.name, item.result, item.error))
        yield item
    if pdf and rows:
        write_batch_summary(plan.out_dir / "summary.pdf", rows=rows, manifest=model.manifest, options=options)


def _append(results: ResultsCsv, item: BatchItem) -> None:
    try:
        results.append(item)
    except OSError as exc:
        raise EcgDeskError(
            f"Cannot write {results.path} ({exc.strerror or exc}); results up to the previous file are saved."
        ) from exc
