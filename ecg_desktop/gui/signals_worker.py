"""Digitizing the shown scan off the GUI thread, on the same worker/generation mechanism as classification.

A SignalsController has its own generation counter: a newer request (or ``invalidate()``) makes every older
one stale, and a stale reading is dropped, never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.reading import PageReading
from ecg_desktop.core.signals.signal_reading import SignalReading, read_signals
from ecg_desktop.gui.inference import InferenceController, OpenedScan


@dataclass(frozen=True)
class SignalsOutcome:
    """The digitization of ``scan`` with ``box`` (None: the automatic region)."""

    generation: int
    scan: OpenedScan
    box: CropBox | None
    reading: SignalReading


class SignalsController(InferenceController):
    """Digitizes scans in workers; ``computed`` carries the newest request's SignalsOutcome."""

    computed = Signal(object)  # SignalsOutcome of the newest request

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(None, parent)  # the digitizer needs no model

    def compute(self, scan: OpenedScan, box: CropBox | None, reading: PageReading | None = None) -> int:
        """Start digitizing ``scan`` (``box``: a user's crop; ``reading``: the page reading the classification made
        of them, reused); returns the request's generation."""
        return self._submit(_read_signals, scan, box, reading)

    def _on_returned(self, generation: int, value: tuple[OpenedScan, tuple[CropBox | None, SignalReading]] | None) -> None:
        if value is None or generation != self.generation:
            self.dropped.emit(generation)
            return
        scan, (box, reading) = value
        self.computed.emit(SignalsOutcome(generation, scan, box, reading))


def _read_signals(
    scan: OpenedScan, box: CropBox | None, reading: PageReading | None, is_current: Callable[[], bool]
) -> tuple[OpenedScan, tuple[CropBox | None, SignalReading]] | None:
    """Worker: the core's digitization of the full-size scan (skipped if already superseded)."""
    if not is_current():
        return None
    return scan, (box, read_signals(scan.image, box, reading=reading))
