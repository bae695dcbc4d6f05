"""Batch classification: stream the scans of folders or a list, classify them in parallel (or on a Dask cluster),
record each result at once (and, with ``digitize``, each scan's signals and measurements)."""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import functools
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ecg_desktop.core.batch.listing import ListFile, PathKeys, list_scans, result_key
from ecg_desktop.core.batch.progress import BatchProgress
from ecg_desktop.core.batch.scan import BatchItem, Report, classify_one, output_stem, stem_of_key
from ecg_desktop.core.classify.manifest import Manifest
from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading import pdf_pages
from ecg_desktop.core.loading.image_io import SUPPORTED
from ecg_desktop.core.names import json_line, name_text
from ecg_desktop.core.outcome import REASON_CODES, Reason
from ecg_desktop.core.outputs import (
    MEASUREMENTS_FILE,
    OverwriteRefused,
    is_measurements_file,
    one_writer,
    refuse_overwrite,
    remove_stale_parts,
)
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.reports.report_pdf import BatchRow, ReportOptions, write_batch_summary, write_report
from ecg_desktop.core.signals.signal_reading import SignalReading

log = logging.getLogger(__name__)
SYNC_SECONDS = 1.0  # results.csv is synced to the disk with the first row this long after the last sync
DEFAULT_WORKERS = 2  # files decoded and classified at once (about one per CPU core), unless the user says
MAX_WORKERS = 64  # beyond about one per CPU core, more workers only add memory (README, --workers)
SIGNALS_FOLDER = "signals"  # with digitize: OUT/signals/<output stem>.csv per scan (see output_stem)


@dataclass(frozen=True)
class BatchStep:
    """One file recorded by run_batch, and where the batch stands after it."""

    item: BatchItem
    progress: BatchProgress


def find_scans(paths: Iterable[str | Path]) -> tuple[list[Path], list[BatchItem]]:
    """Scans named by ``paths`` as lists (for a few files: ``classify``; a batch streams them, see plan_batch).

    Returns the files in a stable order (see list_scans) and a failed BatchItem for each path that does not exist.
    """
    files: list[Path] = []
    missing: list[BatchItem] = []
    for listed in list_scans(paths):
        if listed.missing:
            missing.append(BatchItem(listed.path, None, f"{listed.path}: no such file or folder."))
        else:
            files.append(listed.path)
    return files, missing


def classify_files(
    model: EcgModel,
    files: Iterable[Path],
    *,
    workers: int = DEFAULT_WORKERS,
    should_stop: Callable[[], bool] = lambda: False,
    report: Report | None = None,
    signals_dir: Path | None = None,
) -> Iterator[BatchItem]:
    """Classify ``files`` (read lazily) with ``workers`` threads, yielding results in input order.

    Decoding (OpenCV) and inference (onnxruntime) release the GIL, so threads overlap.
    ``report`` (e.g. a PDF writer) runs in the same worker with the decoded (analysis-size) image;
    with ``signals_dir`` each scan is digitized there too (see classify_one).
    At most ``2 * workers`` files are in flight; ``should_stop`` is checked before each new one.
    With several workers OpenCV runs one thread each (see one_opencv_thread_per_worker).
    """
    with one_opencv_thread_per_worker(workers):
        yield from _classify_in_pool(model, files, workers, should_stop, report, signals_dir)


@contextlib.contextmanager
def one_opencv_thread_per_worker(workers: int) -> Iterator[None]:
    """While files run in parallel, each OpenCV call stays on its worker's thread: OpenCV's own thread team
    costs more CPU than it saves once every core already has a file (benchmarks/bench_inference.py
    --opencv-threads: ~10 ms of CPU a scan). Results are identical either way."""
    if workers <= 1:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def _classify_in_pool(
    model: EcgModel,
    files: Iterable[Path],
    workers: int,
    should_stop: Callable[[], bool],
    report: Report | None,
    signals_dir: Path | None,
) -> Iterator[BatchItem]:
    """classify_files' thread pool (results in input order, at most 2 * workers in flight)."""
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ecg-batch")
    pending: collections.deque[Future[BatchItem]] = collections.deque()
    queue = iter(files)
    try:
        while True:
            while len(pending) < 2 * max(1, workers) and not should_stop():
                path = next(queue, None)
                if path is None:
                    break
                pending.append(pool.submit(classify_one, model, path, report=report, signals_dir=signals_dir))
            if not pending or should_stop():
                return
            yield pending.popleft().result()
    finally:
        # On a stop, return at once: files already running finish in the background, unrecorded.
        pool.shutdown(wait=not should_stop(), cancel_futures=True)


class ResultsCsv:
    """``results.csv`` in an output folder: every row written at once; synced to the disk at the first row, then
    with the first row a second or more after the last sync, and at the end.

    A crash, kill or cancel loses no row written; a power cut, only the rows since the last sync (a resume does
    those files again). One fsync per row would cap a batch at the disk's fsync rate (about 300 rows/s here,
    under 100 when the disk is busy): a bottleneck for a cluster.
    """

    def __init__(self, path: Path, class_ids: list[str], model_version: str) -> None:
        self.path = path
        self.class_ids = class_ids
        self.model_version = model_version
        self._synced_at = float("-inf")
        self.columns = [
            "file", "assessable", "label", *(f"p_{c}" for c in class_ids), "findings", "reasons", "low_confidence",
            "out_of_distribution", "crop", "warnings", "error", "model_version", "reason_messages",
        ]

    @property
    def header(self) -> bytes:
        """The header line this batch writes."""
        return _header_line(self.columns)

    @property
    def _headers(self) -> dict[bytes, list[str]]:
        """The header lines this batch appends under, and the columns it then writes: its own, and the columns
        before ``reason_messages`` was added (an unfinished batch of that version goes on without it)."""
        earlier = self.columns[:-1]
        return {_header_line(self.columns): self.columns, _header_line(earlier): earlier}

    def check_columns(self) -> None:
        """Refuse to write into a results.csv that is not one of this version's and model's (other columns, other
        line endings, or not a results file at all): it is never written over or appended to.

        A byte-order mark before our header (a spreadsheet program saved it) is ours; so is a header cut short
        by a crash during the first write (then rewritten whole).
        """
        try:
            with self.path.open("rb") as stream:
                head = stream.read(len(self.header) + 8)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise EcgDeskError(f"Cannot read {self.path} to resume the batch: {exc.strerror or exc}.") from exc
        head = head.removeprefix(codecs.BOM_UTF8)
        line = head.partition(b"\n")[0] + b"\n" if b"\n" in head else None
        if line is None and self.header.startswith(head):
            return  # empty, or our header cut short
        columns = self._headers.get(line.replace(b"\r\n", b"\n")) if line is not None else None
        if columns is not None:
            self.columns = columns
            return
        raise OverwriteRefused(
            f"{self.path} is not one this version of ECG Desk and this model write (an earlier version of ECG Desk "
            "or another model wrote it, or it is not a results file); it is never written over or appended to. "
            "Move or rename it, or choose another output folder, and run the batch again."
        )

    def done_files(self) -> PathKeys:
        """Files already recorded (with a label or an error), for resuming a batch; read as a stream.

        A last row cut short (power loss while writing it) does not count: that file is done again.
        """
        return PathKeys(row["file"] for row in self.rows())

    def rows(self) -> Iterator[dict[str, str]]:
        """Every complete row recorded so far, in file order, read one line at a time.

        Every row of ours is one line: each line is parsed by itself (csv module), so a stray line (a note with
        an open quote, a line cut short, NUL bytes) is left out alone and never swallows the rows after it.
        A byte-order mark before the header is skipped.
        """
        try:
            stream = self.path.open("rb")
        except FileNotFoundError:
            return
        with stream:
            columns: list[str] | None = None
            for raw in stream:
                if not raw.endswith(b"\n"):
                    continue  # a last row cut short
                fields = _fields(raw.decode("utf-8", errors="replace"))
                if columns is None:
                    columns = [name.removeprefix("\ufeff") for name in fields or []]
                elif fields is not None and len(fields) == len(columns):
                    row = dict(zip(columns, fields))
                    if row.get("file"):
                        yield row

    def append(self, item: BatchItem) -> None:
        """Write one row in one write (synced to the disk if the last sync is SYNC_SECONDS old).

        Every row is one line. If the write fails (disk full...), the file is cut back to its previous size:
        it never keeps half a row. A half row left by an earlier crash is dropped before appending.
        """
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        try:
            size = _complete_size(fd)
            if size == 0:
                writer.writeheader()
            writer.writerow(self.row(item))
            data = buffer.getvalue().encode("utf-8")
            try:
                os.lseek(fd, size, os.SEEK_SET)
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
            except BaseException:
                with contextlib.suppress(OSError):  # (if even this fails, the next append drops the half row)
                    if not _holds(fd, size, data):  # a Ctrl+C just after the last write keeps the whole row
                        os.ftruncate(fd, size)  # leave the file exactly as it was before this row
                        os.fsync(fd)
                raise
            # The row is whole from here: a Ctrl+C during the trim or the sync keeps it (it may have been read).
            os.ftruncate(fd, size + len(data))  # drop the rest of a longer half row left by a crash
            if time.monotonic() - self._synced_at >= SYNC_SECONDS:
                os.fsync(fd)
                self._synced_at = time.monotonic()
        finally:
            os.close(fd)

    def sync(self) -> None:
        """Sync the rows written so far to the disk (at the end of a batch, however it ends)."""
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._synced_at = time.monotonic()

    def row(self, item: BatchItem) -> dict[str, str]:
        """The cells of ``item``'s row: one line of UTF-8 text (messages on one line, names escaped, see
        core.names)."""
        return {key: name_text(" ".join(value.splitlines())) for key, value in self._cells(item).items()}

    def _cells(self, item: BatchItem) -> dict[str, str]:
        result = item.result
        row = {"file": result_key(item.path), "error": item.error or "", "model_version": self.model_version}
        if result is not None:
            probabilities = result.diagnostic_probabilities or {}  # none for a scan that is not assessable
            row.update(
                assessable=_flag(result.assessable),
                label=result.label or "",
                findings=";".join(result.findings),
                reasons=";".join(reason.code for reason in result.reasons),
                reason_messages=REASONS_APART.join(reason.message for reason in result.reasons),
                low_confidence=_flag(result.low_confidence),
                out_of_distribution=_flag(result.out_of_distribution),
                crop=" ".join(map(str, result.crop.as_list())),
                warnings=" | ".join(result.warnings),
                **{f"p_{c}": f"{p:.4f}" for c, p in probabilities.items() if c in self.class_ids},
            )
        return row


def _header_line(columns: list[str]) -> bytes:
    """The header line of ``columns``, ending in a bare newline (results.csv rows end in CR LF, or LF)."""
    return (",".join(columns) + "\n").encode("utf-8")


def _fields(line: str) -> list[str] | None:
    """The cells of one line of results.csv; None for a line the csv module cannot read."""
    try:
        return next(csv.reader([line]), None)
    except csv.Error:
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


REASONS_APART = " | "  # between the sentences of a row's reason_messages, as between its warnings
#: What the summary says for a reason recorded by an earlier version (results.csv kept the code, not the sentence).
RECORDED_REASONS = {
    "not_an_ecg": "The classified region's dark trace ink is outside the range of the training printouts "
                  "(blank, noisy or not an ECG trace).",
    "no_grid": "No ECG grid was found in the classified region.",
    "unsupported_layout": "A grid was found, but not the lead layout this model reads.",
    "crop_cuts_leads": "The chosen crop cuts off leads the detected ECG region contains.",
    "image_quality": "The image quality is too poor for this model.",
    "out_of_distribution": "The scan is unlike the printouts this model was trained on.",
}


def summary_rows(
    results: ResultsCsv, manifest: Manifest, fresh: Iterable[BatchItem], shown_name: Callable[[Path], str]
) -> list[BatchRow]:
    """The batch summary's rows: every file in results.csv (earlier runs of a resumed batch included), once,
    named by ``shown_name`` (BatchPlan.shown_name).

    A file recorded twice (``--rerun``) shows its last row. Files of this run (``fresh``) show their full
    reason sentences; rows read back from results.csv show the sentence for each recorded reason code.
    """
    latest = {result_key(item.path): item for item in fresh}
    rows: dict[str, BatchRow] = {}
    for row in results.rows():
        key = row["file"]
        item = latest.get(key)
        rows.pop(key, None)  # keep the order of the last row per file
        if item is not None:
            rows[key] = (shown_name(item.path), item.result, item.error)
        else:
            rows[key] = (shown_name(Path(key)), _recorded_result(row, manifest), row.get("error") or None)
    return list(rows.values())


def _recorded_result(row: dict[str, str], manifest: Manifest) -> Classification | None:
    """The Classification a results.csv row describes (as much as the summary shows); None for a failed file."""
    if row.get("assessable") not in ("true", "false"):
        return None
    probabilities = {}
    for class_id in manifest.class_ids:
        with contextlib.suppress(ValueError):
            probabilities[class_id] = float(row.get(f"p_{class_id}") or "nan")
    try:
        crop = CropBox(*(int(v) for v in row.get("crop", "").split()))
    except (TypeError, ValueError):
        crop = CropBox(0, 0, 1, 1)
    label = row.get("label") or None
    assessable = row["assessable"] == "true" and label is not None and label in probabilities
    return Classification(
        label=label if assessable else None,
        probabilities=probabilities,
        findings=tuple(f for f in (row.get("findings") or "").split(";") if f) if assessable else (),
        crop=crop,
        warnings=tuple(w for w in (row.get("warnings") or "").split(" | ") if w),
        low_confidence=assessable and row.get("low_confidence") == "true",
        out_of_distribution=row.get("out_of_distribution") == "true",
        reasons=() if assessable else _recorded_reasons(row),
    )


def _recorded_reasons(row: dict[str, str]) -> tuple[Reason, ...]:
    """The reasons a results.csv row records: its own sentences (``reason_messages``) when it has one per code,
    else (a row of an earlier version) the sentence RECORDED_REASONS has for each code."""
    codes = (row.get("reasons") or "").split(";")
    messages = (row.get("reason_messages") or "").split(REASONS_APART)
    if len(messages) != len(codes) or not all(messages):
        messages = [RECORDED_REASONS.get(code, code) for code in codes]
    reasons = tuple(Reason(code, message) for code, message in zip(codes, messages) if code in REASON_CODES)
    return reasons or (Reason("image_quality", RECORDED_REASONS["image_quality"]),)


def _holds(fd: int, offset: int, data: bytes) -> bool:
    """Whether the file holds ``data`` at ``offset`` in full."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, len(data)) == data


def _complete_size(fd: int) -> int:
    """Size of the file up to its last complete line (a row cut short by a crash is not complete)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) == b"\n":
        return size
    block = 1 << 16
    end = size
    while end > 0:  # look back for the last newline
        start = max(0, end - block)
        os.lseek(fd, start, os.SEEK_SET)
        chunk = os.read(fd, end - start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will do: the inputs it lists again as it runs, the files already recorded, and the counts.

    Only counts and hashed keys are kept, never the list of files: a batch of any size plans in little memory.
    """

    out_dir: Path
    inputs: tuple[str | Path, ...] | ListFile  # folders and files, or a list file (read again as the batch runs)
    done: PathKeys  # the files already done: in results.csv, with their outputs (none with rerun)
    total: int  # files this run records: those to classify and those not found
    skipped: int  # files already done, not classified again
    rerun: bool = False
    outputs: tuple[bool, bool] = (False, False)  # whether PDF reports and signals counted for a file to be done
    stamp: tuple[int, int] | None = None  # results.csv's size and time when planned (None: not there)

    @property
    def nothing_found(self) -> str | None:
        """What to say when the inputs hold no scan at all (None when they hold some)."""
        if self.total or self.skipped:
            return None
        return nothing_found([self.inputs.path] if isinstance(self.inputs, ListFile) else self.inputs)

    def files(self) -> Iterator[Path]:
        """The files to record, in listing order, listed again from the inputs one at a time."""
        return (listed.path for listed in list_scans(self.inputs) if listed.key not in self.done)

    def shown_name(self, path: Path) -> str:
        """How the batch's PDF report and summary name a scan: its path below the input folder it was found in
        (``ward 3/scan.jpg``), so two scans with one name in different folders are told apart; a file given
        by itself, by its name; from a list file, as the list names it. ``path`` may be a results.csv key. Names
        that are not UTF-8 text are escaped (core.names)."""
        if isinstance(self.inputs, ListFile):
            return name_text(str(path))
        base = next((base for base in self._folder_bases if path.is_relative_to(base)), None)
        return name_text(path.name if base is None else path.relative_to(base).as_posix())

    @functools.cached_property
    def _folder_bases(self) -> tuple[Path, ...]:
        """The input folders as given and as results.csv keys them (resolved), looked up once per batch."""
        folders = [Path(root) for root in self.inputs if Path(root).is_dir()]
        return tuple(base for folder in folders for base in (folder, Path(result_key(folder))))

    def progress_at_start(self) -> BatchProgress:
        """Where the batch stands before its first file: nothing done, the skipped files counted."""
        return BatchProgress(total=self.total, skipped=self.skipped)


def nothing_found(inputs: Iterable[str | Path]) -> str:
    """What a command says when ``inputs`` (folders, files or a list file) name no scan at all."""
    return name_text(f"No scans found in {', '.join(map(str, inputs))} (looked for {SUPPORTED}); nothing to do.")


def plan_batch(
    paths: Iterable[str | Path] | ListFile, out_dir: Path, *, rerun: bool = False, pdf: bool = False,
    digitize: bool = False,
) -> BatchPlan:
    """Count the scans ``paths`` name, leaving out those already done in ``out_dir`` (unless ``rerun``): a file
    is done when it has its row in results.csv and, for a scan that was read, its PDF report (with ``pdf``) and
    its measurement line (with ``digitize``). run_batch plans again if it is asked for other outputs.

    The listing is walked once here to count and again as the batch runs (run_batch).
    """
    results = out_dir / "results.csv"
    try:
        done = PathKeys() if rerun else _done_files(out_dir, pdf=pdf, digitize=digitize)
    except (OSError, csv.Error) as exc:
        raise EcgDeskError(f"Cannot read {results} to resume the batch: {exc}.") from exc
    inputs = paths if isinstance(paths, ListFile) else tuple(paths)
    total = skipped = 0
    for listed in list_scans(inputs):
        if listed.key in done:
            skipped += 1
        else:
            total += 1
    return BatchPlan(out_dir, inputs, done, total, skipped, rerun, (pdf, digitize), _stamp(results))


def _done_files(out_dir: Path, *, pdf: bool, digitize: bool) -> PathKeys:
    """The files results.csv records whose outputs are there too (see plan_batch)."""
    rows = ResultsCsv(out_dir / "results.csv", [], "").rows()
    reports = set(os.listdir(out_dir)) if pdf and out_dir.is_dir() else None
    measured = _measured_files(out_dir / MEASUREMENTS_FILE) if digitize else None
    return PathKeys(row["file"] for row in rows if _outputs_there(row, reports, measured))


def _outputs_there(row: dict[str, str], reports: set[str] | None, measured: PathKeys | None) -> bool:
    """Whether a results.csv row's file has its PDF report (among ``reports``, the output folder's names) and its
    measurement line (in ``measured``); None is not asked for. A file that was not read has no outputs."""
    if row.get("assessable") not in ("true", "false"):
        return True
    key = row["file"]
    return (reports is None or f"{stem_of_key(key)}.pdf" in reports) and (measured is None or key in measured)


def _measured_files(path: Path) -> PathKeys:
    """The ``file`` of every whole line of a measurements.jsonl (none when it is not there)."""
    keys = PathKeys()
    with contextlib.suppress(FileNotFoundError), path.open("rb") as stream:
        for raw in stream:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                keys.add(json.loads(raw)["file"])
    return keys


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def check_workers(workers: int) -> int:
    """``workers`` if it is a number of files to process at once that a batch accepts, else EcgDeskError."""
    if not 1 <= workers <= MAX_WORKERS:
        raise EcgDeskError(
            f"The number of files processed at once must be from 1 to {MAX_WORKERS} (about one per CPU core), "
            f"not {workers}."
        )
    return workers


#: Why a batch on a Dask cluster writes no PDF reports (see run_batch).
CLUSTER_WRITES_NO_PDF = (
    "PDF reports are not written on a Dask cluster: run the cluster batch for results.csv, then "
    "'ecg-desktop report' (or a local batch with --pdf) for the scans that need a report."
)
#: Why a batch on a Dask cluster digitizes nothing (see run_batch).
CLUSTER_DIGITIZES_NOTHING = (
    "Signals are not digitized on a Dask cluster: run the cluster batch for results.csv, then a local batch "
    "with --digitize (or 'ecg-desktop digitize') for the scans whose signals you need."
)


def run_batch(
    model: EcgModel,
    plan: BatchPlan,
    *,
    workers: int = DEFAULT_WORKERS,
    pdf: bool = False,
    options: ReportOptions | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    scheduler: str | None = None,
    digitize: bool = False,
) -> Iterator[BatchStep]:
    """Classify the plan's files, appending each outcome to results.csv (and a PDF) as it arrives.

    Yields each recorded file with the batch's progress after it (the counts every front end shows).
    With ``scheduler``, the address of a Dask scheduler, the files are classified on that cluster
    (core.batch.cluster): the same rows, in the order they finish, and no PDF reports (CLUSTER_WRITES_NO_PDF).
    Memory stays flat with the number of files, except with ``pdf``: the summary PDF lists every file.
    PDF reports are ``OUT/<output stem>.pdf`` (see output_stem); ``OUT/summary.pdf`` lists every file of results.csv
    and is written at the end of a run that recorded files and of any run that ends with every file recorded.
    One run writes into a folder at a time (core.outputs.one_writer: another is refused with FolderBusyError), and
    nothing it did not create is written over (a results.csv, summary.pdf, report or measurements.jsonl of another
    kind is refused with OverwriteRefused).
    With ``digitize``, each scan's signals go to ``OUT/signals/<output stem>.csv`` and its measurement line is appended to
    ``OUT/measurements.jsonl`` with its row (PDF reports then hold the measurements and leads too); not on a cluster
    (CLUSTER_DIGITIZES_NOTHING). A scan being digitized when the batch stops may leave its CSV, without its lines.
    """
    if scheduler is not None and pdf:
        raise EcgDeskError(CLUSTER_WRITES_NO_PDF)
    if scheduler is not None and digitize:
        raise EcgDeskError(CLUSTER_DIGITIZES_NOTHING)
    check_workers(workers)
    try:
        plan.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EcgDeskError(f"Cannot create the output folder {plan.out_dir}: {exc.strerror or exc}.") from exc
    with one_writer(plan.out_dir):
        yield from _run_locked(model, plan, workers=workers, pdf=pdf, options=options or ReportOptions(),
                               should_stop=should_stop, scheduler=scheduler, digitize=digitize)


def _run_locked(
    model: EcgModel, plan: BatchPlan, *, workers: int, pdf: bool, options: ReportOptions,
    should_stop: Callable[[], bool], scheduler: str | None, digitize: bool,
) -> Iterator[BatchStep]:
    """run_batch while it holds the output folder's lock: nothing else writes there meanwhile."""
    started = time.monotonic()
    results = ResultsCsv(plan.out_dir / "results.csv", model.manifest.class_ids, model.version)
    results.check_columns()
    summary = plan.out_dir / "summary.pdf"
    if pdf:
        refuse_overwrite(summary, ours=pdf_pages.is_report_file)
    remove_stale_parts(plan.out_dir)
    if plan.stamp != _stamp(results.path) or plan.outputs != (pdf, digitize):  # written meanwhile, or other outputs
        plan = plan_batch(plan.inputs, plan.out_dir, rerun=plan.rerun, pdf=pdf, digitize=digitize)
    signals_dir = plan.out_dir / SIGNALS_FOLDER if digitize else None
    measurements = _open_measurements(plan.out_dir, signals_dir) if digitize else None

    # A PDF is kept only with its row in results.csv: a scan still being written when the batch stops
    # (Cancel) is not recorded, so its PDF is removed, even when it is finished after the batch returned.
    lock = threading.Lock()
    unrecorded: dict[str, Path] = {}  # result_key -> PDF written, its row not yet in results.csv
    stopped = False

    def write_pdf(path: Path, image: np.ndarray, result: Classification, signals: SignalReading | None) -> None:
        target = plan.out_dir / f"{output_stem(path)}.pdf"
        refuse_overwrite(target, ours=pdf_pages.is_report_file, inputs=[path])
        write_report(target, image=image, result=result, manifest=model.manifest, source_name=plan.shown_name(path),
                     options=options, signals=signals)
        with lock:
            if stopped:
                with contextlib.suppress(OSError):
                    target.unlink()
            else:
                unrecorded[result_key(path)] = target

    recorded: list[BatchItem] = []  # this run's files, for the summary PDF only
    progress = plan.progress_at_start()
    log.info("batch started: %d to record, %d already done, %s, PDF reports %s", plan.total, plan.skipped,
             "on a Dask cluster" if scheduler is not None else f"workers {workers}", "on" if pdf else "off")

    def _remove_unrecorded() -> None:
        nonlocal stopped
        with lock:
            stopped = True
            for target in unrecorded.values():
                with contextlib.suppress(OSError):
                    target.unlink()
            unrecorded.clear()

    if scheduler is not None:
        items = _on_cluster(scheduler, model, plan.files(), should_stop)
    else:
        items = classify_files(model, plan.files(), workers=workers, should_stop=should_stop,
                               report=write_pdf if pdf else None, signals_dir=signals_dir)
    finished = False
    try:
        for item in items:
            _append(results, item)
            if measurements is not None and item.signals is not None:
                _append_line(measurements, item.signals)
            if pdf:
                with lock:
                    unrecorded.pop(result_key(item.path), None)
                recorded.append(item)
            progress = progress.after(item, seconds=time.monotonic() - started)
            yield BatchStep(item, progress)
        complete = not should_stop()
        # Every row there (also when a kill came after the last row), or this run's cancelled with some rows.
        rows = summary_rows(results, model.manifest, recorded, plan.shown_name) if pdf and (complete or recorded) else []
        if rows:
            _remove_unrecorded()
            write_batch_summary(summary, rows=rows, manifest=model.manifest, options=options)
        finished = True
    except EcgDeskError as exc:
        log.error("batch stopped by %s", type(exc).__name__)
        raise
    finally:
        items.close()  # stops the pool, or cancels what the cluster still has in flight
        _remove_unrecorded()
        if measurements is not None:
            with contextlib.suppress(OSError):
                measurements.close()
        with contextlib.suppress(OSError):
            results.sync()
        log.info("batch %s: %s", "finished" if finished else "stopped", progress.tally())


def _open_measurements(out_dir: Path, signals_dir: Path) -> io.TextIOWrapper:
    """``out_dir/measurements.jsonl`` opened to append (refused if it is not ours), and the signals folder created."""
    refuse_overwrite(out_dir / MEASUREMENTS_FILE, ours=is_measurements_file)
    try:
        signals_dir.mkdir(exist_ok=True)
        return open(out_dir / MEASUREMENTS_FILE, "a", encoding="utf-8")
    except OSError as exc:
        raise EcgDeskError(f"Cannot write the signals into {out_dir}: {exc.strerror or exc}.") from exc


def _append_line(measurements: io.TextIOWrapper, line: dict) -> None:
    try:
        measurements.write(json_line(line) + "\n")
        measurements.flush()
    except OSError as exc:
        raise EcgDeskError(f"Cannot write {measurements.name} ({exc.strerror or exc}); the measurements up to the "
                           "previous file are saved.") from exc


def _on_cluster(
    scheduler: str, model: EcgModel, files: Iterator[Path], should_stop: Callable[[], bool]
) -> Iterator[BatchItem]:
    """core.batch.cluster's stream, imported only now: Dask is an extra that the window and the bundle never load."""
    try:
        from ecg_desktop.core.batch.cluster import classify_on_cluster
    except ImportError as exc:
        raise EcgDeskError(
            f"--scheduler needs Dask ({exc.name or exc} is not installed): pip install \"ecg-desktop[cluster]\"."
        ) from exc
    return classify_on_cluster(scheduler, model, files, should_stop=should_stop)


def _append(results: ResultsCsv, item: BatchItem) -> None:
    try:
        results.append(item)
    except OSError as exc:
        raise EcgDeskError(
            f"Cannot write {results.path} ({exc.strerror or exc}); results up to the previous file are saved."
        ) from exc
