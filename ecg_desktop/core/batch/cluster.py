"""A batch classified on a Dask distributed cluster: ``ecg-desktop batch DIR --out OUT --scheduler ADDRESS``.

Imported only when a scheduler is given (core.batch.run.run_batch): the window and the desktop bundle never load
Dask. Each worker loads and verifies the models once (ModelOnWorker) and reads each file by its path, so this
machine and every worker must see the scans at the same paths (a shared file system); only a path goes out
and only the file's small result comes back, with at most about two files per worker thread in flight.
"""

from __future__ import annotations

import ctypes
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
from distributed import Client, Future, KilledWorker, Worker, WorkerPlugin, as_completed, get_worker

from ecg_desktop.core.batch.scan import BatchItem, classify_one
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.errors import EcgDeskError, ModelError

CONNECT_SECONDS = 30
IN_FLIGHT_PER_THREAD = 2  # files submitted per worker thread, so that no thread waits for its next file
MIN_IN_FLIGHT = 2  # while the cluster has no worker yet
WINDOW_REFRESH_SECONDS = 10.0  # how often the window follows workers joining or leaving
# glibc's mallopt parameters, and the values a worker uses: arrays up to 32 MiB (the most glibc allows) come
# from the heap, and up to 128 MiB of freed heap is kept for the next file rather than handed back at once.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES, _TRIM_THRESHOLD_BYTES = 32 << 20, 128 << 20


class ModelOnWorker(WorkerPlugin):
    """Loads the models once on each worker, verified against their manifest hashes, for every task there."""

    idempotent = True  # a worker keeps them for later batches of the same model version

    def __init__(self, model_version: str) -> None:
        self.name = f"ecg-desk-model-{model_version}"
        self.model_version = model_version
        self.model: EcgModel | None = None
        self.error: str | None = None

    def setup(self, worker: Worker) -> None:
        """Load the installed models, one CNN thread (the worker runs a file per thread, like the local pool);
        a missing or altered file, or another model version, refuses them."""
        cv2.setNumThreads(1)  # likewise OpenCV (core.batch.run.one_opencv_thread_per_worker)
        reuse_freed_memory()
        try:
            model = EcgModel.load(threads=1)  # a worker's parallelism is its threads, one file each
            if model.version != self.model_version:
                raise ModelError(f"its models are version {model.version}, this batch uses {self.model_version}; "
                                 "install the same ECG Desk on every worker")
        except ModelError as exc:
            self.error = f"Dask worker {worker.address}: {exc}"
            raise ModelError(self.error) from exc
        self.model = model

    def loaded(self) -> EcgModel:
        """The worker's models (ModelError when they were refused)."""
        if self.model is None:
            raise ModelError(self.error or "the models were not loaded on this Dask worker")
        return self.model


def reuse_freed_memory() -> None:
    """Let this process's allocator keep freed memory for the next file, as a process normally does.

    A Dask nanny starts its worker with MALLOC_TRIM_THRESHOLD_=65536 (``distributed.nanny.pre-spawn-environ``),
    which also turns off glibc's adaptive mmap threshold: every array over 128 KiB is then mapped and unmapped
    afresh, and a scan cost twice its CPU time in page faults (benchmarks/bench_archive.py). Only glibc has
    these settings; with another C library nothing changes.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    mallopt = ctypes.CDLL(None).mallopt
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


def classify_on_cluster(
    address: str, model: EcgModel, files: Iterable[Path], *, should_stop: Callable[[], bool] = lambda: False
) -> Iterator[BatchItem]:
    """Classify ``files`` on the cluster at ``address``, yielding each as it comes back (the order they finish).

    A file that cannot be read is a failed item, and so is one whose worker died on it (KilledWorker); workers
    without the same verified models, or a cluster that stops answering, stop the batch (EcgDeskError).
    """
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EcgDeskError(f"Cannot reach the Dask scheduler at {address}: {exc}.") from exc
    with client:
        plugin = ModelOnWorker(model.version)
        try:
            client.register_plugin(plugin)
        except ModelError:  # a worker refused the models
            raise
        except Exception as exc:
            raise EcgDeskError(f"The Dask workers could not set up ECG Desk ({type(exc).__name__}: {exc}); "
                               "install the same ecg-desktop on every worker.") from exc
        yield from _stream(client, plugin.name, files, should_stop)


def _stream(
    client: Client, plugin_name: str, files: Iterable[Path], should_stop: Callable[[], bool]
) -> Iterator[BatchItem]:
    """Submit files while fewer than the window are in flight; yield each result as it completes."""
    queue = iter(files)
    running: dict[Future, Path] = {}
    completed = as_completed(loop=client.loop)
    window = _window(client)

    def submit_more() -> None:
        while len(running) < window() and not should_stop():
            path = next(queue, None)
            if path is None:
                return
            future = client.submit(_classify_on_worker, str(path.absolute()), plugin_name, pure=False)
            running[future] = path
            completed.add(future)

    try:
        submit_more()
        for future in completed:
            yield _outcome(running.pop(future), future)
            if should_stop():
                return
            submit_more()
    finally:
        if running:
            client.cancel(list(running))


def _window(client: Client) -> Callable[[], int]:
    """The number of files to keep in flight: two per worker thread, read again every few seconds."""
    size, read_at = MIN_IN_FLIGHT, float("-inf")

    def current() -> int:
        nonlocal size, read_at
        if time.monotonic() - read_at >= WINDOW_REFRESH_SECONDS:
            size = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))
            read_at = time.monotonic()
        return size

    return current


def _classify_on_worker(path: str, plugin_name: str) -> BatchItem:
    """Runs on a worker: one file with the worker's models (their ModelError stops the batch)."""
    plugin = get_worker().plugins.get(plugin_name)
    if not isinstance(plugin, ModelOnWorker):
        raise ModelError("the models were not loaded on this Dask worker")
    return classify_one(plugin.loaded(), Path(path))


def _outcome(path: Path, future: Future) -> BatchItem:
    """The item for ``path`` from its finished future, named as this machine listed it."""
    try:
        item = future.result()
    except ModelError:
        raise
    except KilledWorker as exc:  # the file crashed every worker that tried it
        return BatchItem(path, None, f"{path.name}: the Dask worker classifying it died ({exc}).")
    except Exception as exc:
        raise EcgDeskError(
            f"The Dask cluster stopped answering ({type(exc).__name__}: {exc}). The rows so far are in "
            "results.csv: run the same command again to go on."
        ) from exc
    return BatchItem(path, item.result, item.error)
