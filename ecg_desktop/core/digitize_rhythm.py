"""Which lead the rhythm strip shows: II on most of the supported printouts, III on some.

Two independent readings: the strip's label (the number of upright strokes of "II" or "III" above the
trace's start) and the strip's shape, which over its first 2.5 s is the same signal as the lead
panel printed above it in the first column (II in row 2, III in row 3). They agree on clean scans;
when they disagree the shape decides if it is clear, and a warning says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ecg_desktop.core.digitize_ink import InkMap
from ecg_desktop.core.digitize_layout import PrintGeometry

if TYPE_CHECKING:
    from ecg_desktop.core.digitize import PanelTrace

CANDIDATES = {"II": 1, "III": 2}  # lead -> row of its first-column panel
DEFAULT = "II"
_MAX_MISFIT = 0.3  # the strip differs from the matching panel by at most this share of its size
_MISFIT_MARGIN = 0.5  # and by at most this share of its difference from the other candidate
_LABEL_MM = 6.0  # the label begins at the strip's start and is at most this wide
_LABEL_HEIGHT_MM = (0.3, 4.5)  # glyphs stand this far above the 0 mV line
_TRACE_CLEARANCE_MM = 0.5  # ink this close to the traced line is the trace
_MIN_GLYPH_MM = 1.0  # glyphs are at least this tall
_STEM_SHARE = 0.7  # a stroke is inked over this share of the glyphs' height


def identify_rhythm_lead(ink: InkMap, geometry: PrintGeometry, panels: list[PanelTrace]) -> tuple[str, list[str]]:
    """The rhythm strip's lead and warnings (``panels``: the 12 lead panels then the strip, in ink-map pixels)."""
    label = _label_lead(ink, geometry, panels[-1])
    shape = _shape_lead(panels)
    if label is not None and (shape is None or shape == label):
        return label, []
    if shape is not None:
        said = f'its label reads "{label}"' if label else "its label could not be read"
        return shape, [f"The rhythm strip was taken as lead {shape} from its shape ({said})."]
    return DEFAULT, [f"The rhythm strip's label could not be read and its shape matches neither II nor III "
                     f"clearly: it is taken as lead {DEFAULT}."]


def _shape_lead(panels: list[PanelTrace]) -> str | None:
    """The candidate whose first-column panel matches the strip's first 2.5 s clearly, else None.

    II and III often look alike (III = II - I), so the match is the relative size of their differences.
    """
    strip = panels[-1].values_mv
    misfit = {}
    for lead, row in CANDIDATES.items():
        panel = next(p for p in panels[:-1] if p.row == row and p.column == 0)
        a, b = panel.values_mv, strip[: panel.values_mv.size]
        both = ~(np.isnan(a) | np.isnan(b))
        if both.sum() < 0.5 * a.size:
            return None
        a, b = a[both] - a[both].mean(), b[both] - b[both].mean()
        misfit[lead] = float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-9))
    best = min(misfit, key=misfit.__getitem__)
    others = [v for k, v in misfit.items() if k != best]
    return best if misfit[best] <= _MAX_MISFIT and misfit[best] <= _MISFIT_MARGIN * min(others) else None


def _label_lead(ink: InkMap, geometry: PrintGeometry, strip: PanelTrace) -> str | None:
    """"II" or "III" from the upright strokes standing on the strip's 0 mV line at its start, else None.

    The trace's own ink (within a pen's width of the traced line) is left out.
    """
    mm = geometry.panel_px / 62.5
    x_a, x_b = max(0, round(geometry.x0)), round(geometry.x0 + _LABEL_MM * mm)
    baseline = geometry.baselines[-1]
    top, bottom = round(baseline - _LABEL_HEIGHT_MM[1] * mm), round(baseline - _LABEL_HEIGHT_MM[0] * mm)
    if top < 0 or x_b <= x_a:
        return None
    band = ink.mask[top:bottom, x_a:x_b].copy()
    traced = np.interp(np.arange(x_a, x_b), strip.pixels[:, 0], strip.pixels[:, 1]) if np.isfinite(
        strip.pixels[:, 0]).sum() > 1 else np.full(x_b - x_a, np.nan)
    rows = np.arange(top, bottom)[:, None]
    band &= ~(np.abs(rows - traced[None, :]) <= _TRACE_CLEARANCE_MM * mm)
    inked = np.flatnonzero(band.any(axis=1))
    if inked.size < _MIN_GLYPH_MM * mm:
        return None
    glyphs = band[inked[0] : inked[-1] + 1]
    stems = glyphs.mean(axis=0) >= _STEM_SHARE
    count = int(np.count_nonzero(np.diff(np.r_[0, stems.view(np.int8)]) == 1))
    return {2: "II", 3: "III"}.get(count)
