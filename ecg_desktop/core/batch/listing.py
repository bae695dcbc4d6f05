"""The scans of a batch as a stream: folders walked lazily, list files read line by line, each file once.

Nothing here holds the whole archive: the walk lists one folder at a time and a file's identity is kept as a
64-bit hash (PathKeys), so 100,000 inputs cost a few megabytes, not a list of paths.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading import pdf_pages
from ecg_desktop.core.loading.image_io import SCAN_SUFFIXES, UNSUPPORTED_IMAGE_SUFFIXES

_LISTED = SCAN_SUFFIXES | UNSUPPORTED_IMAGE_SUFFIXES  # files a folder search lists (see image_io)


class Listed(NamedTuple):
    """One scan to record: its path, its ``file`` key in results.csv, and whether the input does not exist."""

    path: Path
    key: str
    missing: bool


class PathKeys:
    """A set of results.csv ``file`` keys stored as 64-bit hashes: about 70 bytes a key, whatever its length.

    Two different keys share a hash with odds of about 1 in 18 million for a million files checked against a
    million rows (n * m / 2**64); that file would be taken as already done.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._hashes = {_hash(key) for key in keys}

    def add(self, key: str) -> None:
        self._hashes.add(_hash(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _hash(key) in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(os.fsencode(key), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class ListFile:
    """The paths named in a text file, one per line (UTF-8; blank lines ignored), read anew at each iteration.

    A line is taken like a path on the command line: a scan, a PDF (every page), ``file.pdf#page=N`` or a
    folder (searched). Relative paths are relative to the current folder.
    """

    path: Path

    def __iter__(self) -> Iterator[Path]:
        try:
            with self.path.open(encoding="utf-8", errors="surrogateescape", newline="") as stream:
                for line in stream:
                    line = line.rstrip("\r\n")
                    if line.strip():
                        yield Path(line)
        except OSError as exc:
            raise EcgDeskError(f"Cannot read the list of scans {self.path}: {exc.strerror or exc}.") from exc


def list_scans(paths: Iterable[str | Path]) -> Iterator[Listed]:
    """Each scan named by ``paths`` once, in a stable order (folders searched recursively, symlink loops skipped).

    Images are files; a PDF is one scan per page (``scan.pdf#page=N``), or the bare PDF path when it cannot be
    opened (loading it then says why). In folders, PDF reports written by ECG Desk are left out. A path that
    does not exist is listed as missing. Only the keys seen so far are kept (as PathKeys), never the paths.
    """
    seen = PathKeys()
    for raw in paths:
        path = Path(raw)
        missing = False
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
        elif path.exists() or path.is_symlink():
            candidates = pdf_pages.pages_of(path) if pdf_pages.is_pdf_file(path) and path.exists() else [path]
        else:
            candidates = [path]  # a page named like scan.pdf#page=2 (loading it says if it is not there), or nothing
            missing = pdf_pages.split_page_ref(path)[1] is None
        for candidate in candidates:
            key = result_key(candidate)
            if key not in seen:
                seen.add(key)
                yield Listed(candidate, key, missing)


def result_key(path: Path) -> str:
    """The ``file`` column of results.csv for ``path``: its absolute, resolved path (never raises).

    A link to nothing (or a loop of links) is recorded as the link itself.
    """
    try:
        if path.is_symlink() and not path.exists():
            return str(path.absolute())
        return str(path.resolve())
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return str(path.absolute())


def _walk(folder: Path) -> Iterator[Path]:
    """Scan files below ``folder``, sorted, one folder at a time, following symlinked folders once (no loops)."""
    visited: set[Path] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = Path(root).resolve()
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if pdf_pages.is_pdf_file(path) and path.exists():
                yield from pdf_pages.pages_of(path, skip_reports=True)
            elif path.suffix.lower() in _LISTED:
                yield path
