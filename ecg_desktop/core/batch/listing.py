"""The scans of a batch as a stream: folders walked lazily, list files read line by line, each file once.

Nothing here holds the whole archive: the walk lists one folder at a time and a file's identity is kept as a
64-bit hash (PathKeys), so 100,000 inputs cost a few megabytes, not a list of paths.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ecg_desktop.core.errors import EcgDeskError
from ecg_desktop.core.loading import pdf_pages, tiff_pages
from ecg_desktop.core.loading.image_io import SCAN_SUFFIXES, UNSUPPORTED_IMAGE_SUFFIXES
from ecg_desktop.core.names import name_text

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
    """The paths named in a text file, one per line, read anew at each iteration.

    UTF-8 (with or without a byte-order mark) or UTF-16 with its byte-order mark, as Notepad saves it. Blank
    lines and lines starting with ``#`` are skipped; spaces and tabs around a path are not part of it. A line is
    taken like a path on the command line: a scan, a PDF (every page), ``file.pdf#page=N`` or a folder
    (searched). Relative paths are relative to the current folder. A list that holds a NUL byte or is not text
    in one of those encodings is refused (EcgDeskError naming the line).
    """

    path: Path

    def __iter__(self) -> Iterator[Path]:
        try:
            with self.path.open("rb") as raw:
                encoding = _list_encoding(raw.read(4))
                raw.seek(0)
                errors = "strict" if encoding == "utf-16" else "surrogateescape"
                with io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="") as stream:
                    for number, line in enumerate(stream, start=1):
                        entry = line.strip()
                        if "\x00" in entry:
                            raise EcgDeskError(f"{self.path}, line {number}: holds a NUL byte, which no path can hold; "
                                               "save the list as plain text (UTF-8), one path a line.")
                        if entry and not entry.startswith("#"):
                            yield Path(entry)
        except UnicodeError as exc:
            raise EcgDeskError(f"{self.path}: is not UTF-8 or UTF-16 text; save the list as plain text (UTF-8), "
                               "one path a line.") from exc
        except OSError as exc:
            raise EcgDeskError(f"Cannot read the list of scans {self.path}: {exc.strerror or exc}.") from exc


def _list_encoding(start: bytes) -> str:
    """The encoding of a list file from its first bytes: UTF-16 by its byte-order mark, else UTF-8 (BOM skipped)."""
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def list_scans(paths: Iterable[str | Path]) -> Iterator[Listed]:
    """Each scan named by ``paths`` once, in a stable order (folders searched recursively, symlink loops skipped).

    Images are files; a PDF or a TIFF of several pages is one scan per page (``scan.pdf#page=N``), or the bare
    path when it cannot be opened (loading it then says why). In folders, PDF reports written by ECG Desk are
    left out; a folder that cannot be read is listed itself (loading it says why). A path that does not exist
    is listed as missing. Only the keys seen so far are kept (as PathKeys), never the paths.
    """
    seen = PathKeys()
    for raw in paths:
        path = Path(raw)
        missing = False
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
        elif path.exists():
            candidates = _pages(path)
        elif path.is_symlink():
            candidates = [path]  # a link to nothing (loading it says so)
        else:
            candidates = [path]  # a page named like scan.pdf#page=2 (loading it says if it is not there), or nothing
            missing = pdf_pages.split_page_ref(path)[1] is None
        for candidate in candidates:
            key = result_key(candidate)
            if key not in seen:
                seen.add(key)
                yield Listed(candidate, key, missing)


def result_key(path: Path) -> str:
    """The ``file`` column of results.csv for ``path``: its absolute, resolved path (never raises), as text any
    file holds (core.names.name_text: a name that is not UTF-8, or holds a newline, is escaped).

    A link to nothing (or a loop of links) is recorded as the link itself.
    """
    try:
        if path.is_symlink() and not path.exists():
            return name_text(str(path.absolute()))
        return name_text(str(path.resolve()))
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return name_text(str(path.absolute()))


def _pages(path: Path, *, skip_reports: bool = False) -> list[Path]:
    """The scans in the file at ``path``: every page of a PDF or TIFF, else (or when it cannot be read) the file
    itself."""
    if pdf_pages.is_pdf_file(path):
        return pdf_pages.pages_of(path, skip_reports=skip_reports)
    if tiff_pages.is_tiff_file(path):
        return tiff_pages.pages_of(path)
    return [path]


def _walk(folder: Path) -> Iterator[Path]:
    """Scan files below ``folder``, sorted, one folder at a time, following symlinked folders once (no loops);
    a folder that cannot be listed is yielded itself, so that it gets a row saying why."""
    visited: set[Path] = set()
    unreadable: list[OSError] = []
    for root, dirs, names in os.walk(folder, followlinks=True, onerror=unreadable.append):
        yield from _unreadable_folders(unreadable)
        real = Path(root).resolve()
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if path.suffix.lower() in _LISTED:
                yield from _pages(path, skip_reports=True)
    yield from _unreadable_folders(unreadable)


def _unreadable_folders(errors: list[OSError]) -> Iterator[Path]:
    """The folders os.walk could not list so far (and forget them)."""
    folders = [Path(error.filename) for error in errors if error.filename is not None]
    errors.clear()
    yield from folders
