"""Where a batch stands: the one set of counts, and the time left, that the command line and the window show.

The rule of what counts as what lives here: a file is **failed** when it has no result (it could not be read or
was not found); a file classified whose PDF report could not be written is counted as classified (or not
assessable) and, besides, as a **report failed**.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ecg_desktop.core.outcome import NOT_ASSESSABLE

if TYPE_CHECKING:
    from ecg_desktop.core.batch.scan import BatchItem

ETA_AFTER_SECONDS = 0.5  # no time-left estimate before this much of the batch has run
ETA_MINUTES_FROM = 90  # estimates of this many seconds or more are given in minutes
#: The window's batch table keeps the latest this many files (a row per file of an archive would grow without
#: bound); results.csv and the summary PDF have every file.
TABLE_ROWS = 2000


def table_note(rows: int, recorded: int) -> str:
    """Under the window's batch table: which files its ``rows`` are when ``recorded`` files are in this run's
    results; empty while the table holds them all."""
    if recorded <= rows:
        return ""
    return f"The table shows the last {rows:,} of the {recorded:,} files of this run; results.csv has every one."


@dataclass(frozen=True)
class BatchProgress:
    """The counts after the files recorded so far in this run, and the seconds since it started."""

    total: int  # files this run records: those to classify and those not found
    skipped: int = 0  # files already in results.csv, not classified again
    classified: int = 0  # with a diagnosis
    not_assessable: int = 0  # read, but the model gives no diagnosis
    failed: int = 0  # no result: the file could not be read or was not found
    report_failed: int = 0  # classified (or not assessable), but its PDF report was not written
    seconds: float = 0.0

    @property
    def done(self) -> int:
        """Files recorded so far in this run."""
        return self.classified + self.not_assessable + self.failed

    @property
    def has_problems(self) -> bool:
        """Whether some file failed or some report was not written (the command line then exits with 1)."""
        return bool(self.failed or self.report_failed)

    @property
    def seconds_left(self) -> float | None:
        """The time the rest should take at the pace so far; None before there is a pace or once done."""
        if not 0 < self.done < self.total or self.seconds <= ETA_AFTER_SECONDS:
            return None
        return self.seconds / self.done * (self.total - self.done)

    @property
    def scans_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def after(self, item: BatchItem, *, seconds: float) -> BatchProgress:
        """These counts with ``item`` recorded, ``seconds`` after the start."""
        result = item.result
        return replace(
            self,
            classified=self.classified + (result is not None and result.assessable),
            not_assessable=self.not_assessable + (result is not None and not result.assessable),
            failed=self.failed + item.failed,
            report_failed=self.report_failed + item.report_failed,
            seconds=seconds,
        )

    def tally(self) -> str:
        """'5 classified, 2 not assessable by this model, 1 failed' (and '; 1 PDF report not written')."""
        text = f"{self.classified} classified, {self.not_assessable} {NOT_ASSESSABLE.lower()}, {self.failed} failed"
        if self.report_failed:
            text += f"; {self.report_failed} PDF report{'s' if self.report_failed != 1 else ''} not written"
        return text

    def status(self) -> str:
        """The line shown while the batch runs: '5 / 10  ·  about 10 s left  ·  2 already done (skipped)'."""
        text = f"{self.done} / {self.total}"
        left = self.seconds_left
        if left is not None:
            minutes = left >= ETA_MINUTES_FROM
            text += f"  ·  about {left / 60:.0f} min left" if minutes else f"  ·  about {left:.0f} s left"
        if self.skipped:
            text += f"  ·  {self.skipped} already done (skipped)"
        return text

    def summary(self, *, cancelled: bool = False) -> str:
        """The line shown at the end: 'Finished: <tally> in 3.2 s (1.6 scans/s).' and the files skipped."""
        verb = "Cancelled after" if cancelled else "Finished:"
        text = f"{verb} {self.tally()} in {self.seconds:.1f} s ({self.scans_per_second:.1f} scans/s)."
        if self.skipped:
            text += f" {self.skipped} already in results.csv were skipped."
        return text
