"""One scan of a batch: its outcome (BatchItem), read, classified and, when asked, digitized and reported.

The local pool (core.batch.run) and the workers of a Dask cluster (core.batch.cluster) both run classify_one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core.batch.listing import result_key
from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading import pdf_pages
from ecg_desktop.core.loading.image_io import load_for_analysis, load_for_viewing
from ecg_desktop.core.logs import file_id
from ecg_desktop.core.outputs import refuse_overwrite, starts_with
from ecg_desktop.core.page.reading import PageReading, read_page
from ecg_desktop.core.signals.signal_reading import SignalReading, export_signals, measurement_line, read_signals

log = logging.getLogger(__name__)
SIGNALS_HEADER = b"time_s,I,II,III,"  # how a signals CSV of ours starts (core.signals.export.write_csv)


@dataclass(frozen=True)
class BatchItem:
    """The outcome for one file: a classification (assessable or not) and/or an error (both when only its
    PDF failed); no classification at all is the third state, an unreadable file.

    A page of a PDF is a file named ``scan.pdf#page=N`` (see pdf_pages).
    """

    path: Path
    result: Classification | None
    error: str | None
    signals: dict | None = None  # with digitize: its measurement line (core.signals.signal_reading.measurement_line)

    @property
    def failed(self) -> bool:
        """No result: the file could not be read (or was not found)."""
        return self.result is None

    @property
    def report_failed(self) -> bool:
        """A result, but its PDF report was not written (the error says why)."""
        return self.result is not None and self.error is not None


Report = Callable[[Path, np.ndarray, Classification, SignalReading | None], None]


def output_stem(path: Path) -> str:
    """The file-name stem of a batch's outputs for ``path`` (its PDF report, its signals CSV): the scan's own stem
    and 8 hex digits of its results.csv key, e.g. ``scan-1f0c3a9e``.

    Two scans with one name (``a/scan.jpg`` and ``b/scan.jpg``, or ``scan.jpg`` and ``scan.png``) never share an
    output, so no report is ever written over another patient's; a resumed or repeated batch names a scan's outputs
    the same way again.
    """
    return stem_of_key(result_key(path))


def stem_of_key(key: str) -> str:
    """output_stem for a results.csv ``file`` key: its stem (escaped as the key is) and 8 hex digits of the key."""
    digest = hashlib.blake2b(os.fsencode(key), digest_size=4).hexdigest()
    return f"{pdf_pages.report_stem(key)}-{digest}"


def classify_one(
    model: EcgModel, path: Path, *, report: Report | None = None, signals_dir: Path | None = None
) -> BatchItem:
    """Read and classify one file (with ``signals_dir``, digitize it there; then ``report`` it); a problem with the
    file is its error, never an exception.

    The local pool and the workers of a Dask cluster (core.batch.cluster) both run this.
    """
    try:
        if signals_dir is None:
            full, scan = None, load_for_analysis(path)
        else:  # the digitizer reads the full-size scan: decoded once for both (twice only for a JPEG)
            full, scan = load_for_viewing(path)
        page = read_page(scan.pixels, image_size=scan.file_size)
        result = model.classify_page(page)
        signals, line = digitize_into(path, signals_dir, page, full) if full is not None else (None, None)
        if report is not None:
            try:
                report(path, scan.pixels, result, signals)
            except EcgDeskError as exc:
                return BatchItem(path, result, f"PDF report not written: {exc}", line)
        return BatchItem(path, result, None, line)
    except EcgDeskError as exc:
        log.warning("scan %s not classified: %s", file_id(path), type(exc).__name__)
        return BatchItem(path, None, str(exc))
    except Exception as exc:  # noqa: BLE001 -- a batch never stops for one file
        # The log gets the type and where it happened, never the message (it may hold the file's path).
        log.error("scan %s: unexpected %s\n%s", file_id(path), type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        return BatchItem(path, None, f"{path.name}: unexpected error ({type(exc).__name__}: {exc}).")


def digitize_into(
    path: Path, signals_dir: Path, page: PageReading, full: np.ndarray
) -> tuple[SignalReading, dict]:
    """Digitize the full-size scan (``full``, as load_image reads it), whose page the classification read
    (``page``), into ``signals_dir/<output stem>.csv``; the signals and their measurement line.

    A scan that cannot be digitized (or whose CSV cannot be written) has its error in the line: its
    classification stands.
    """
    key = result_key(path)
    target = signals_dir / f"{stem_of_key(key)}.csv"
    try:
        refuse_overwrite(target, ours=starts_with(SIGNALS_HEADER))
        reading = read_signals(full, reading=page)
        outputs = [] if reading.digitization is None else export_signals(target, reading, "csv")
    except EcgDeskError as exc:
        reading, outputs = SignalReading.failed(str(exc)), []
    except Exception as exc:  # noqa: BLE001 -- a batch never stops for one file (the log gets the type, not the message)
        log.error("scan %s not digitized: unexpected %s\n%s", file_id(path), type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        reading, outputs = SignalReading.failed(f"unexpected error ({type(exc).__name__}: {exc})."), []
    return reading, measurement_line(key, reading, outputs)
