"""The standard 12-lead printout layouts, as data: rows of lead names, and how many rows are rhythm strips.

Every row of a standard printout holds 10 s of signal (at 25 mm/s): a row of n panels shows n consecutive
windows of 10/n s, one lead each, simultaneous across rows. A rhythm strip is one lead over the whole 10 s;
which lead it shows differs between carts and settings, so it is read from the signals (core.signals.rhythm).
"""

from __future__ import annotations

from dataclasses import dataclass

ROW_SECONDS = 10.0  # every trace row of a standard printout spans 10 s


@dataclass(frozen=True)
class KnownLayout:
    """A standard layout: ``rows`` of lead names (one per panel), then a row of one 10 s lead per rhythm strip."""

    name: str
    words: str  # how users are told of it, e.g. "a 3x4 layout with a rhythm strip"
    rows: tuple[tuple[str, ...], ...]
    rhythm_leads: tuple[str, ...] = ()  # the leads its rhythm strips usually show (a strip is read to tell)
    digitized: bool = False  # the digitizer (core.signals.digitize) reads it

    @property
    def rhythm_strips(self) -> int:
        return len(self.rhythm_leads)

    @property
    def panels_per_row(self) -> tuple[int, ...]:
        """Panels in each row, rhythm strips included (e.g. 4, 4, 4, 1)."""
        return tuple(len(row) for row in self.rows) + (1,) * self.rhythm_strips


_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))
_12X1 = tuple((lead,) for lead in ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"))

KNOWN_LAYOUTS: tuple[KnownLayout, ...] = (
    KnownLayout("3x4+1", "a 3x4 layout with a rhythm strip", _3X4, ("II",), digitized=True),
    KnownLayout("3x4+3", "a 3x4 layout with 3 rhythm strips", _3X4, ("II", "V1", "V5"), digitized=True),
    KnownLayout("3x4", "a 3x4 layout without a rhythm strip", _3X4),
    KnownLayout("6x2+1", "a 6x2 layout with a rhythm strip", _6X2, ("II",)),
    KnownLayout("6x2", "a 6x2 layout", _6X2),
    KnownLayout("12x1", "a 12x1 layout (one lead a row)", _12X1),
)
