"""Write digitized printouts: a CSV and a WFDB record per scan, and one measurement line (JSON) per scan.

For each scan, ``OUT/<name>.csv`` has the header ``time_s,I_mV,II_mV,...,V6_mV`` (units in the names) and
5000 rows (0 to 10 s at 500 Hz), values in mV with an empty cell where a lead is not printed; ``OUT/<name>.hea`` + ``.dat``
is the same content as a WFDB record (16-bit, 1 uV steps; not printed is WFDB's invalid sample, read
back as NaN). ``<name>`` is the scan's file stem (a PDF page adds ``-page<N>``), made unique within a
run, and kept to letters, digits, ``-`` and ``_`` as WFDB record names must be. The measurement line
holds ``file``, the :class:`core.signals.measure.Measurements` fields, ``warnings``, ``error`` and ``outputs``.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.loading.pdf_pages import report_stem
from ecg_desktop.core.logs import file_id
from ecg_desktop.core.names import json_line
from ecg_desktop.core.outputs import MEASUREMENTS_FILE, is_measurements_file, one_writer, refuse_overwrite
from ecg_desktop.core.signals.digitize import LEADS, Digitization, digitize
from ecg_desktop.core.signals.measure import NONE, measure
from ecg_desktop.core.signals.wfdb_record import record_name, write_record

FORMATS = ("csv", "wfdb")
_ADC_GAIN = 1000.0  # WFDB digital units per mV
_RECORD_SUFFIXES = (".csv", ".hea", ".dat")  # the files a record name may take in the output folder
log = logging.getLogger(__name__)


def digitize_files(paths: Iterable[Path], out_dir: Path, formats: tuple[str, ...] = FORMATS) -> Iterator[dict]:
    """Digitize each scan into ``out_dir`` and yield its measurement line (a dict), also appended (and flushed)
    to ``out_dir/measurements.jsonl``, which keeps the lines of earlier runs; a scan that cannot be read or
    digitized gets its ``error`` and the run goes on.

    Holds the folder's lock (core.outputs.one_writer) while it runs, and never writes over a file it did not
    create: a record name already taken in ``out_dir`` gets a number, a measurements.jsonl of another kind is
    refused (OverwriteRefused).
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s) {sorted(unknown)}; expected some of {FORMATS}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EcgDeskError(f"Cannot create the output folder {out_dir}: {exc.strerror or exc}.") from exc
    with one_writer(out_dir):
        refuse_overwrite(out_dir / MEASUREMENTS_FILE, ours=is_measurements_file)
        used = {name.lower() for name in os.listdir(out_dir)}
        with open(out_dir / MEASUREMENTS_FILE, "a", encoding="utf-8") as log:
            for path in paths:
                line = _digitize_one(path, out_dir, _unique_name(path, used), formats)
                log.write(json_line(line) + "\n")
                log.flush()
                yield line


def _digitize_one(path: Path, out_dir: Path, name: str, formats: tuple[str, ...]) -> dict:
    """The measurement line of one scan, writing its files; a problem with the scan is its error, never an exception."""
    try:
        dig = digitize(load_image(path))
        outputs = []
        if "csv" in formats:
            outputs.append(write_csv(out_dir / f"{name}.csv", dig))
        if "wfdb" in formats:
            outputs += write_wfdb(out_dir, name, dig)
        measured = measure(dig)
        return measurement_record(str(path), measured.as_dict(), [*dig.warnings, *measured.notes], None, outputs)
    except EcgDeskError as exc:
        log.warning("scan %s not digitized: %s", file_id(path), type(exc).__name__)
        return measurement_record(str(path), NONE.as_dict(), [], str(exc), [])
    except OSError as exc:
        return measurement_record(str(path), NONE.as_dict(), [], f"{path.name}: output not written ({exc.strerror or exc}).", [])
    except Exception as exc:  # noqa: BLE001 -- a run never stops for one file (the log gets the type, not the message)
        log.error("scan %s: unexpected %s\n%s", file_id(path), type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        return measurement_record(str(path), NONE.as_dict(), [], f"{path.name}: unexpected error ({type(exc).__name__}: {exc}).", [])


def _unique_name(path: Path, used: set[str]) -> str:
    """A record name for ``path``: its stem (plus ``-page<N>`` for a PDF page), WFDB-safe, whose files are not in
    ``used`` (the lower-case names of the folder's files and of the names given so far)."""
    base = record_name(report_stem(path), "scan")
    name, n = base, 1
    while any(f"{name}{suffix}".lower() in used for suffix in _RECORD_SUFFIXES):
        n += 1
        name = f"{base}-{n}"
    used.update(f"{name}{suffix}".lower() for suffix in _RECORD_SUFFIXES)
    return name


CSV_COLUMNS = ("time_s", *(f"{lead}_mV" for lead in LEADS))  # each column's unit in its name


def write_csv(path: Path, dig: Digitization) -> Path:
    """``path``: time in s and the 12 leads in mV (CSV_COLUMNS), one row per sample, empty where a lead is not printed."""
    signals = dig.signals()
    try:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_COLUMNS)
            for t, row in zip(dig.time_s, signals):
                writer.writerow((f"{t:.3f}", *("" if np.isnan(v) else f"{v:.4f}" for v in row)))
    except BaseException:  # a full disk, Ctrl-C: no CSV cut short is left to be taken for the signals
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def write_wfdb(out_dir: Path, name: str, dig: Digitization) -> list[Path]:
    """``out_dir/name.hea`` and ``.dat``: the 12 leads as a WFDB record (format 16, mV)."""
    return write_record(out_dir, name, dig.fs, LEADS, dig.signals(), units="mV", gain=_ADC_GAIN)


def measurement_record(file: str, values: dict, warnings: list[str], error: str | None, outputs: list[Path]) -> dict:
    """A measurements.jsonl line: ``file``, the measurement fields, ``warnings``, ``error``, ``outputs``."""
    return {"file": file, **values, "warnings": warnings, "error": error, "outputs": [str(p) for p in outputs]}
