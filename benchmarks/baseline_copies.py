"""Baseline copies of the data set's scans, for speed figures that stand for a clinic's files (used by the benchmarks).

The scans in ``../shared/data/ecg-images`` are progressive JPEGs (a lossless ``jpegtran -progressive`` transcode made
when the data set was prepared); the ECG cart writes baseline JPEGs, which decode much faster (see
``../shared/PLATFORM.md``). :func:`baseline_copies` makes each scan's baseline copy once with
``jpegtran -copy all -optimize`` (a lossless transcode: the same pixels, checked by decoding both when a copy is made)
and keeps it in a cache folder outside the repository, under the system's temporary folder; a copy older than its
scan is made again. ``jpegtran`` comes with libjpeg-turbo: ``apt-get install -y libjpeg-turbo-progs``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

CACHE = Path(tempfile.gettempdir()) / "ecg-desk-baseline-copies"
INSTALL_HINT = ("jpegtran is needed to make baseline copies of the scans: apt-get install -y libjpeg-turbo-progs "
                "(or pass --progressive to time the data set's progressive files as they are)")


def is_progressive(path: Path) -> bool:
    """Whether ``path`` is a progressive JPEG (its frame header is SOF2, SOF6, SOF10 or SOF14)."""
    data = path.read_bytes()
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker in (0xC2, 0xC6, 0xCA, 0xCE):
            return True
        if marker in (0xC0, 0xC1, 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD, 0xCF, 0xDA):  # another frame, or the scan data
            return False
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


def baseline_copies(files: list[Path], root: Path, cache: Path = CACHE) -> list[Path]:
    """A baseline copy of each of ``files`` (below ``root``), at the same relative path under ``cache``: made with
    ``jpegtran -copy all -optimize`` when missing or older than its scan, and then checked to decode to the same
    pixels (full size and at the analysis size). Raises SystemExit saying how to install jpegtran when it is missing."""
    jpegtran = shutil.which("jpegtran")
    copies = []
    for path in files:
        copy = cache / path.relative_to(root)
        if not copy.is_file() or copy.stat().st_mtime < path.stat().st_mtime:
            if jpegtran is None:
                raise SystemExit(INSTALL_HINT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            part = copy.with_name(copy.name + ".part")
            subprocess.run([jpegtran, "-copy", "all", "-optimize", "-outfile", str(part), str(path)], check=True)
            if is_progressive(part) or not _same_pixels(path, part):
                part.unlink()
                raise SystemExit(f"jpegtran's baseline copy of {path} does not decode to the same pixels")
            os.replace(part, copy)
        copies.append(copy)
    return copies


def _same_pixels(original: Path, copy: Path) -> bool:
    """Both files decode to identical pixels, at full size and at the analysis size (OpenCV's reduced decode)."""
    return all(np.array_equal(cv2.imread(str(original), flags), cv2.imread(str(copy), flags))
               for flags in (cv2.IMREAD_COLOR, cv2.IMREAD_REDUCED_COLOR_2))


def scan_files(data: Path, count: int, *, progressive: bool = False) -> list[Path]:
    """``count`` of the data set's scans spread over its classes (all when ``count`` is 0 or more than there are):
    baseline copies, or with ``progressive`` the data set's files as they are. Empty when there is no data set."""
    found = sorted(data.glob("*/*.jpg"))
    if count:
        found = found[:: max(1, len(found) // count)][:count]
    return found if progressive or not found else baseline_copies(found, data)


def describe(files: list[Path], data: Path, *, progressive: bool) -> str:
    """A line saying which files a benchmark reads."""
    if progressive:
        return f"{len(files)} scans of {data} as they are (progressive JPEGs)"
    return (f"{len(files)} baseline copies of the scans of {data} in {CACHE} (jpegtran -copy all -optimize, "
            "the same pixels)")
