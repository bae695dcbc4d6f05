"""What a run may write: one writer per output folder at a time, and never over a file the run did not create.

The batch, ``digitize`` and ``report`` (and the window's batch, through the batch) all ask here.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ecg_desktop.core.errors import EcgDeskError

LOCK_NAME = ".ecg-desk.lock"  # in an output folder: locked by the run writing into it
# A report being written: ".<stem>." + tempfile's 8 random characters + ".part" (core.reports.report_pdf).
_STALE_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
MEASUREMENTS_FILE = "measurements.jsonl"  # digitize's (and batch --digitize's) measurement lines, appended to


# What a lock held by another run fails with: flock (EWOULDBLOCK), Windows' msvcrt.locking (EACCES, EDEADLOCK).
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}
log = logging.getLogger(__name__)


class FolderBusyError(EcgDeskError):
    """Another run is writing into the output folder."""


class OverwriteRefused(EcgDeskError):
    """An output would replace a file this run did not create (an input, or a file of another kind)."""


@contextlib.contextmanager
def one_writer(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock while the block runs: a second run into the same folder, from this process or
    another, is refused at once (FolderBusyError) instead of writing between this one's rows.

    The lock is the operating system's (flock, or a byte-range lock on Windows) on ``folder/.ecg-desk.lock``:
    it goes when the process does, however it ends (a kill, a power cut), so a stale lock never blocks a run.
    On a file system that has no locks (some network shares) the run goes on unguarded, and logs so.
    The file is removed on release, while still locked; a run that locked a file removed meanwhile tries again.
    """
    path = folder / LOCK_NAME
    for _attempt in range(100):
        fd = _open_locked(path, folder)
        if _same_file(path, fd):
            break
        os.close(fd)  # the holder before us removed it as we locked it: lock the new one
    else:
        raise FolderBusyError(f"Cannot lock the output folder {folder}: its lock file keeps changing.")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)  # releases the lock


def _open_locked(path: Path, folder: Path) -> int:
    """``path`` opened (created if needed) and locked by us; FolderBusyError if another run holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as exc:
        raise EcgDeskError(f"Cannot write into the output folder {folder}: {exc.strerror or exc}.") from exc
    try:
        _lock(fd)
    except OSError as exc:
        if exc.errno not in _HELD:  # a file system without locks (some network shares): write, unguarded
            log.warning("output folder not locked: %s", exc.strerror or type(exc).__name__)
            return fd
        os.close(fd)
        raise FolderBusyError(
            f"Another ECG Desk run is writing into {folder}: wait until it has finished, or choose another "
            "output folder."
        ) from exc
    return fd


def _same_file(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(fd))
    except OSError:
        return False


def _lock(fd: int) -> None:
    """Lock ``fd`` for this open file alone, without waiting (OSError when another holds it)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def refuse_overwrite(target: Path, *, ours: Callable[[Path], bool], inputs: Iterable[Path] = ()) -> None:
    """Raise OverwriteRefused when writing ``target`` would replace one of ``inputs`` or an existing file that
    ``ours`` (a test of its content) does not recognise as this app's own output of that kind."""
    if any(_is_same(target, source) for source in inputs):
        raise OverwriteRefused(f"{target}: is the scan being read; choose another name for the output.")
    if not (target.exists() or target.is_symlink()):
        return
    if not target.is_file() or not ours(target):
        raise OverwriteRefused(
            f"{target}: already exists and was not written by ECG Desk; it is not replaced. Move or rename it, or "
            "choose another name or folder for the output."
        )


def _is_same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def starts_with(prefix: bytes) -> Callable[[Path], bool]:
    """A test for refuse_overwrite: whether a file's first bytes are ``prefix``."""

    def test(path: Path) -> bool:
        try:
            with path.open("rb") as stream:
                return stream.read(len(prefix)) == prefix
        except OSError:
            return False

    return test


def is_measurements_file(path: Path) -> bool:
    """A test for refuse_overwrite: an empty file, or lines of measurements (JSON objects starting with "file")."""
    return _is_empty(path) or starts_with(b'{"file": ')(path)


def give_file_mode(path: Path) -> None:
    """Give ``path`` the mode a new file gets (0666 less the umask), like results.csv: a file written through a
    private temporary file (0600) is readable by whoever may read the folder's other outputs."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~_umask())


@functools.cache
def _umask() -> int:
    """The process's umask, read once (from /proc on Linux: setting it to read it would race other threads)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_parts(folder: Path) -> int:
    """Remove the hidden ``.NAME.XXXXXXXX.part`` files that reports being written leave when their process is
    killed: empty, or the start of a PDF (call it only while holding the folder's lock: no run of ours is writing
    one then). A file of that name holding anything else is not ours and stays. Returns how many were removed."""
    removed = 0
    for part in folder.glob(".*.part"):
        if _STALE_PART.match(part.name) and (_is_empty(part) or starts_with(b"%PDF")(part)):
            with contextlib.suppress(OSError):
                part.unlink()
                removed += 1
    return removed


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False
