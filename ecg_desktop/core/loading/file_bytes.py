"""Read a scan's bytes: regular files only, never more than a cap, whatever the file system says its size is."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ecg_desktop.core.errors import ImageLoadError

MAX_FILE_BYTES = 1 << 30  # no scan is a gigabyte; such a file (a video, a disk image) is not read into memory
_CHUNK = 1 << 20
_KINDS = {stat.S_IFIFO: "a pipe (FIFO)", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}


def read_scan_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path`` (links followed), at most ``limit`` of them.

    A pipe, device or socket is refused before it is opened (reading one could wait or run forever); a file
    whose size reads small but that holds more than ``limit`` bytes (``/proc``, a growing file) is refused
    once ``limit`` bytes are read. Raises ImageLoadError with a message fit to show the user.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ImageLoadError(_not_a_file(path, info.st_mode))
        if info.st_size > limit:
            raise ImageLoadError(_too_large(path, limit))
        data = _read_capped(path, limit)
    except FileNotFoundError as exc:
        if path.is_symlink():
            raise ImageLoadError(f"{path.name}: is a link to a file that does not exist (or a loop of links).") from exc
        raise ImageLoadError(f"{path}: no such file.") from exc
    except PermissionError as exc:
        raise ImageLoadError(
            f"{path.name}: cannot be read: permission denied (ask for read access to this file, or copy it)."
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ImageLoadError(f"{path.name}: is a link to a file that does not exist (or a loop of links).") from exc
        raise ImageLoadError(
            f"{path.name}: cannot be read ({exc.strerror or exc}); if it is still being copied, try again later."
        ) from exc
    if not data:
        raise ImageLoadError(f"{path.name}: the file is empty (0 bytes); it may not have finished copying.")
    return data


def _read_capped(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``path``, opened without waiting (a file swapped for a pipe meanwhile is refused)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ImageLoadError(_not_a_file(path, mode))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        raise ImageLoadError(_too_large(path, limit))
    finally:
        os.close(fd)


def _not_a_file(path: Path, mode: int) -> str:
    if stat.S_ISDIR(mode):
        try:
            os.scandir(path).close()
        except OSError as exc:
            return (f"{path}: this folder cannot be read ({exc.strerror or exc}); the scans in it are left out "
                    "(ask for access to it, then run again).")
        return f"{path}: is a folder, not an image file."
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return f"{path.name}: is {kind}, not an image file; only regular files are read."


def _too_large(path: Path, limit: int) -> str:
    return f"{path.name}: the file is larger than {limit >> 20} MB, far too large for a scan."
