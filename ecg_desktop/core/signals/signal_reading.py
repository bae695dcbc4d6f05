"""The digitizer's outcome as the app uses it: the signals and their measurements, or why there are none;
saving them as a CSV or a WFDB record; the measurement line a batch records.

The digitizer itself is imported on first use: it (and the measurements) added ~0.4 s to the
start of every command and of the window, which need them only when a scan is digitized.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.signals.measurement_text import not_digitized

if TYPE_CHECKING:
    from ecg_desktop.core.page.reading import PageReading
    from ecg_desktop.core.signals.digitize import Digitization
    from ecg_desktop.core.signals.measure import Measurements

#: Export formats and the file-dialog filter each is chosen by.
EXPORT_FILTERS = {
    "csv": "CSV: time and the 12 leads in mV (*.csv)",
    "wfdb": "WFDB record: header and 16-bit signal file (*.hea)",
}


class SignalsWriteError(EcgDeskError):
    """Digitized signals cannot be written (folder not writable, disk full)."""


@dataclass(frozen=True, eq=False)
class SignalReading:
    """A scan's digitized signals and measurements, or (``error``) the digitizer's sentence saying why there are none."""

    digitization: Digitization | None
    measurements: Measurements
    error: str | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the digitizer assumed or could not read, and the measurements not shown and why."""
        return (self.digitization.warnings if self.digitization is not None else ()) + self.measurements.notes

    @classmethod
    def failed(cls, reason: str) -> SignalReading:
        """No signals: ``reason`` says why in a sentence."""
        from ecg_desktop.core.signals.measure import NONE

        return cls(None, NONE, reason)


def read_signals(image: np.ndarray, box: CropBox | None = None, *, reading: PageReading | None = None) -> SignalReading:
    """Digitize a full-size BGR scan (``box``: a user's crop of the upright page) and measure it; ``reading`` is
    the page reading already made of the scan and box (a classification's), made again when None.

    A scan the digitizer cannot read is a reading with its ``error``, not an exception.
    """
    from ecg_desktop.core.signals.digitize import DigitizeError, digitize
    from ecg_desktop.core.signals.measure import measure

    try:
        digitization = digitize(image, box, reading=reading)
    except DigitizeError as exc:
        return SignalReading.failed(str(exc))
    return SignalReading(digitization, measure(digitization))


def export_signals(path: Path, reading: SignalReading, fmt: str) -> list[Path]:
    """Write ``reading``'s signals as ``path`` (CSV) or as a WFDB record named after ``path`` beside it; the files
    written. A WFDB record name keeps only letters, digits, ``-`` and ``_`` (others become ``_``).

    Raises SignalsWriteError when the files cannot be written or the scan could not be digitized.
    """
    from ecg_desktop.core.signals.export import write_csv, write_wfdb
    from ecg_desktop.core.signals.wfdb_record import record_name

    path = Path(path)
    if reading.digitization is None:
        raise SignalsWriteError(not_digitized(reading.error or "no traces were read."))
    try:
        if fmt == "csv":
            return [write_csv(path, reading.digitization)]
        if fmt == "wfdb":
            return write_wfdb(path.parent, record_name(path.stem, "signals"), reading.digitization)
    except OSError as exc:
        raise SignalsWriteError(
            f"The signals cannot be saved as {path}: {exc.strerror or exc}. Check that the folder is writable "
            "and that the disk is not full."
        ) from exc
    raise ValueError(f"unknown format {fmt!r}; expected one of {tuple(EXPORT_FILTERS)}")


def measurement_line(file: str, reading: SignalReading, outputs: list[Path]) -> dict:
    """One JSON-ready line for ``file``: the fields of ``ecg-desktop digitize``'s measurements.jsonl."""
    from ecg_desktop.core.signals.export import measurement_record

    return measurement_record(file, reading.measurements.as_dict(), list(reading.warnings), reading.error, outputs)

