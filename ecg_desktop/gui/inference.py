"""Classification off the GUI thread (superqt workers); a generation number drops superseded results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from superqt.utils import create_worker

from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.loading.image_io import AnalysisImage, load_for_viewing
from ecg_desktop.core.loading.page_choice import PageChoice, default_page
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.reading import PageReading, read_page, upright
from ecg_desktop.gui.qimage import bgr_to_qimage


@dataclass(frozen=True)
class OpenedScan:
    """A scan open in the window: the file's full-size pixels, the upright page on screen, the copy the model
    reads, its automatic crop."""

    path: Path
    image: np.ndarray  # the file as it is (reports turn it upright themselves)
    qimage: QImage  # the upright page the crop refers to (a page fed turned, askew or photographed is corrected)
    analysis: AnalysisImage
    auto_crop: CropBox
    pages: int = 0  # pages of the PDF when ``path`` is one of them (``scan.pdf#page=N``), else 0

    @property
    def page(self) -> PageChoice:
        """The page shown, as the core chose it (its note says 'Page 1 of 3 of scan.pdf')."""
        return PageChoice(self.path, self.pages)

    def read(self, crop: CropBox | None = None) -> PageReading:
        """The page reading of this scan (``crop``: a user's), made exactly as the CLI and batch make it."""
        return read_page(self.analysis.pixels, crop=crop, image_size=self.analysis.file_size)


@dataclass(frozen=True)
class Outcome:
    """The answer to one request: the scan, its page reading and its classification (None when no model is loaded)."""

    generation: int
    scan: OpenedScan
    result: Classification | None
    reading: PageReading  # what the classification read: the digitizer reuses it


class InferenceController(QObject):
    """Runs open/classify requests in worker threads and reports only the newest one's outcome."""

    succeeded = Signal(object)  # Outcome of the newest request
    failed = Signal(int, object)  # generation, exception of the newest request
    dropped = Signal(int)  # generation of a superseded request whose outcome was discarded
    busyChanged = Signal(bool)

    def __init__(self, model: EcgModel | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._generation = 0
        self._running = 0
        self._workers: set[object] = set()

    @property
    def generation(self) -> int:
        """The number of the newest request; outcomes of older ones are dropped."""
        return self._generation

    @property
    def busy(self) -> bool:
        return self._running > 0

    def open(self, path: str | Path) -> int:
        """Load ``path`` and classify it with the automatic crop; returns the request's generation."""
        return self._submit(_open_scan, self.model, Path(path))

    def classify(self, scan: OpenedScan, crop: CropBox | None) -> int:
        """Classify ``scan`` again with ``crop`` (None: the automatic crop); returns the generation."""
        return self._submit(_classify_scan, self.model, scan, crop)

    def invalidate(self) -> None:
        """Drop every outcome still on its way (e.g. when the window closes)."""
        self._generation += 1

    def _submit(self, func: Callable[..., tuple | None], *args: object) -> int:
        self._generation += 1
        generation = self._generation
        is_current = partial(self._is_current, generation)
        worker = create_worker(func, *args, is_current, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(partial(self._on_returned, generation))
        worker.errored.connect(partial(self._on_errored, generation))
        worker.finished.connect(partial(self._on_finished, worker))
        self._workers.add(worker)
        self._running += 1
        if self._running == 1:
            self.busyChanged.emit(True)
        worker.start()
        return generation

    def _is_current(self, generation: int) -> bool:
        return generation == self._generation

    def _on_returned(self, generation: int, value: tuple[OpenedScan, Classification | None, PageReading] | None
                     ) -> None:
        if value is None or generation != self._generation:
            self.dropped.emit(generation)
            return
        self.succeeded.emit(Outcome(generation, *value))

    def _on_errored(self, generation: int, error: Exception) -> None:
        if generation != self._generation:
            self.dropped.emit(generation)
            return
        self.failed.emit(generation, error)

    def _on_finished(self, worker: object) -> None:
        self._workers.discard(worker)
        self._running -= 1
        if self._running == 0:
            self.busyChanged.emit(False)


def _open_scan(
    model: EcgModel | None, path: Path, is_current: Callable[[], bool]
) -> tuple[OpenedScan, Classification | None, PageReading] | None:
    """Worker: decode the file, read its page (upright, automatic crop), classify it (skipped if already superseded).

    Which page of a PDF opens is the core's rule (default_page).
    """
    if not is_current():
        return None
    page = default_page(path)
    path, pages = page.path, page.pages
    image, analysis = load_for_viewing(path)  # analysis: what the model reads everywhere
    scan = OpenedScan(path, image, bgr_to_qimage(image), analysis, CropBox.full(image), pages)
    reading = scan.read()
    result = model.classify_page(reading) if model is not None else None
    upright_page = upright(image, reading.page_transform, reading.source_size)
    qimage = scan.qimage if upright_page is image else bgr_to_qimage(upright_page)
    return replace(scan, qimage=qimage, auto_crop=reading.crop), result, reading


def _classify_scan(
    model: EcgModel | None, scan: OpenedScan, crop: CropBox | None, is_current: Callable[[], bool]
) -> tuple[OpenedScan, Classification | None, PageReading] | None:
    """Worker: classify an open scan with a user crop (skipped if already superseded)."""
    if not is_current() or model is None:
        return None
    reading = scan.read(crop)
    return scan, model.classify_page(reading), reading
