"""The app's log: a small rotating file in the user's data folder, for support, never holding patient data.

Log lines record events (model loaded, batch started and finished with counts, errors by type). They never
hold file paths or names (a file name is often a patient's name: ``file_id`` gives a short hash instead),
nor anything typed into a report. Nothing is logged anywhere but this local file.
"""

from __future__ import annotations

import hashlib
import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

LOGGER_NAME = "ecg_desktop"
LOG_FILE = "ecg-desk.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
ENV_LOG_DIR = "ECG_DESK_LOG_DIR"
APP_FOLDER = "ECG Desk"

logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())  # silent until setup_logging


def file_id(path: str | Path) -> str:
    """A short, stable stand-in for ``path`` in log lines (the first 12 hex digits of its sha256)."""
    return hashlib.sha256(str(path).encode("utf-8", errors="surrogateescape")).hexdigest()[:12]


def default_log_dir() -> Path:
    """``$ECG_DESK_LOG_DIR`` if set, else the platform's per-user data folder + ``ECG Desk/logs``.

    The one place the log folder is decided: the command line and the window both log here.
    """
    override = os.environ.get(ENV_LOG_DIR)
    if override:
        return Path(override)
    return platformdirs.user_data_path(APP_FOLDER, appauthor=False) / "logs"


class _AppHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler setup_logging installed, so a second call replaces it rather than adding one."""


def setup_logging(folder: str | Path | None = None, *, level: int = logging.INFO) -> Path | None:
    """Log the app's events to ``folder/ecg-desk.log`` (rotated at 1 MB, 3 old files kept).

    ``folder`` defaults to ``default_log_dir()``. Returns the log file, or None if the folder cannot be
    written (the app then runs without a log file; that is never a reason to stop).
    """
    folder = Path(folder) if folder is not None else default_log_dir()
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if isinstance(h, _AppHandler)]:
        logger.removeHandler(handler)
        handler.close()
    path = folder / LOG_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = _AppHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    return path
