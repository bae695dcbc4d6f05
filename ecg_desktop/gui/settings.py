"""The app's user settings as one typed object; QSettings (organisation "ECG Desk") only stores it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ecg_desktop.core.batch.run import DEFAULT_WORKERS, MAX_WORKERS

ORGANISATION = "ECG Desk"
APPLICATION = "ECG Desk"
SETTINGS_VERSION = 1
MAX_RECENT = 10
PAGE_SIZES = ("A4", "Letter")


@dataclass(frozen=True)
class AppSettings:
    """Everything the user can set or that the app remembers between runs (except window geometry)."""

    facility: str = ""
    page_size: str = "A4"
    batch_workers: int = DEFAULT_WORKERS
    last_folder: str = ""
    recent_files: tuple[str, ...] = field(default_factory=tuple)
    show_traces: bool = False  # View ▸ Show Digitized Traces
    save_folder: str = ""  # where the last report or signals were saved: the next save dialog starts there
    batch_output: str = ""  # the output folder the user last chose in Process Folder ("": beside the scans)
    batch_pdf: bool = False  # Process Folder's "Write a PDF report per scan" option, as last used

    def with_recent(self, path: Path) -> AppSettings:
        """These settings with ``path`` first in the recent files (no duplicates, at most MAX_RECENT)."""
        text = str(Path(path).resolve())
        recent = (text, *(p for p in self.recent_files if p != text))[:MAX_RECENT]
        return replace(self, recent_files=recent, last_folder=str(Path(text).parent))


def default_qsettings() -> QSettings:
    """The user's settings store (native format, organisation and application "ECG Desk")."""
    return QSettings(ORGANISATION, APPLICATION)


class SettingsStore:
    """Reads and writes AppSettings and the window state in one QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings if qsettings is not None else default_qsettings()

    def load(self) -> AppSettings:
        """The stored settings; missing or malformed values fall back to the defaults."""
        q, default = self.qsettings, AppSettings()
        page_size = str(q.value("report/page_size", default.page_size))
        try:
            workers = min(max(int(q.value("batch/workers", default.batch_workers)), 1), MAX_WORKERS)
        except (TypeError, ValueError):
            workers = default.batch_workers
        return AppSettings(
            facility=str(q.value("report/facility", default.facility) or ""),
            page_size=page_size if page_size in PAGE_SIZES else default.page_size,
            batch_workers=workers,
            last_folder=str(q.value("files/last_folder", "") or ""),
            recent_files=tuple(_as_list(q.value("files/recent", []))[:MAX_RECENT]),
            show_traces=_as_bool(q.value("view/show_traces", default.show_traces)),
            save_folder=str(q.value("files/save_folder", "") or ""),
            batch_output=str(q.value("batch/output", "") or ""),
            batch_pdf=_as_bool(q.value("batch/pdf", default.batch_pdf)),
        )

    def save(self, settings: AppSettings) -> None:
        """Store ``settings`` and flush them to disk."""
        q = self.qsettings
        q.setValue("version", SETTINGS_VERSION)
        q.setValue("report/facility", settings.facility)
        q.setValue("report/page_size", settings.page_size)
        q.setValue("batch/workers", settings.batch_workers)
        q.setValue("files/last_folder", settings.last_folder)
        q.setValue("files/recent", list(settings.recent_files))
        q.setValue("view/show_traces", settings.show_traces)
        q.setValue("files/save_folder", settings.save_folder)
        q.setValue("batch/output", settings.batch_output)
        q.setValue("batch/pdf", settings.batch_pdf)
        q.sync()

    def window_state(self, key: str) -> QByteArray | None:
        """A saved geometry/splitter state, or None."""
        value = self.qsettings.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_state(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"window/{key}", value)
        self.qsettings.sync()


def _as_list(value: object) -> list[str]:
    """QSettings returns a one-item list as a plain string and an empty one as None (INI backend)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v]


def _as_bool(value: object) -> bool:
    """QSettings returns a stored bool as "true"/"false" (INI and native backends on Linux)."""
    return value is True or str(value).lower() == "true"
