"""Occlusion saliency off the GUI thread, on the same worker/generation mechanism as classification.

A SaliencyController is an InferenceController with its own generation counter: a new saliency request
(or ``invalidate()``) makes every older one stale, and a stale map is dropped, never shown. It never
touches the classification requests' generations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.classify.saliency import Saliency, saliency_of
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.reading import PageReading
from ecg_desktop.gui.inference import InferenceController, OpenedScan


@dataclass(frozen=True)
class SaliencyOutcome:
    """The saliency of ``scan`` cropped to ``crop``, and how long it took to compute."""

    generation: int
    scan: OpenedScan
    crop: CropBox
    saliency: Saliency
    seconds: float


class SaliencyController(InferenceController):
    """Computes occlusion saliency in workers; ``computed`` carries the newest request's SaliencyOutcome."""

    computed = Signal(object)  # SaliencyOutcome of the newest request

    def __init__(self, model: EcgModel | None, parent: QObject | None = None) -> None:
        super().__init__(model, parent)

    def compute(self, scan: OpenedScan, result: Classification, reading: PageReading) -> int:
        """Start computing the saliency of ``result`` (its crop of ``scan``, read as ``reading``); returns the
        request's generation."""
        return self._submit(_saliency_of, self.model, scan, result, reading)

    def _on_returned(self, generation: int, value: tuple[OpenedScan, tuple[CropBox, Saliency, float]] | None) -> None:
        if value is None or generation != self.generation:
            self.dropped.emit(generation)
            return
        scan, (crop, saliency, seconds) = value
        self.computed.emit(SaliencyOutcome(generation, scan, crop, saliency, seconds))


def _saliency_of(
    model: EcgModel | None, scan: OpenedScan, result: Classification, reading: PageReading,
    is_current: Callable[[], bool],
) -> tuple[OpenedScan, tuple[CropBox, Saliency, float]] | None:
    """Worker: the core's saliency of one result (skipped if already superseded or if there is none)."""
    if not is_current() or model is None:
        return None
    started = time.perf_counter()
    saliency = saliency_of(model, reading, result)
    if saliency is None:
        return None
    return scan, (result.crop, saliency, time.perf_counter() - started)
