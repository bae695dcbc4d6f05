"""Which lead a rhythm strip shows: II on most printouts, III, V1 or V5 on some.

Two independent readings: the strip's label (the number of upright strokes of "II" or "III" standing
at the strip's start) and the strip's shape, which over each 2.5 s is the same signal as the lead
panel printed above it in that column (a strip of V1 matches the V1 panel over 5-7.5 s). They agree
on clean scans; when they disagree the shape decides if it is clear, and a warning says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ecg_desktop.core.signals.trace import InkRuns, PanelTrace

_MAX_MISFIT = 0.4  # the strip differs from the matching panel by at most this share of its size
_MISFIT_MARGIN = 0.6  # and by at most this share of its difference from the other candidate
_LABEL_MM = 6.0  # the label begins at the strip's start and is at most this wide
_LABEL_HEIGHT_MM = (0.3, 4.5)  # glyphs stand this far above the 0 mV line
_MIN_GLYPH_MM = 1.0  # glyphs are at least this tall
_STEM_SHARE = 0.7  # a stroke is inked over this share of the glyphs' height
_DOT_MM = 0.4  # blobs this small both ways are grid dots or noise, not letters
_FIRST_STEM_MM = 1.0  # the label's first letter stands this close to the strip's start
_MAX_PITCH = 0.8  # letters of the label stand closer than this share of their height


def identify_rhythm_lead(ink: InkRuns, x0: float, baseline: float, px_per_mm: float, panels: list[PanelTrace],
                         strip: PanelTrace, usual: str) -> tuple[str, list[str]]:
    """A rhythm strip's lead and warnings: its label where it reads "II" or "III" and its shape agrees, else the
    lead panel its shape matches (``panels``: the 12 lead panels; ``x0``, ``baseline``: the strip's time 0 and
    0 mV line, ink-map pixels; ``usual``: the lead the layout usually prints there, core.page.known_layouts)."""
    label = _label_lead(ink, x0, baseline, px_per_mm)
    shape = _shape_lead(panels, strip, usual)
    if label is not None and (shape is None or shape == label):
        return label, []
    if shape is not None and label is None and shape == usual:
        return shape, []  # the usual lead, and the strip's shape says so
    if shape is not None:
        said = f'its label reads "{label}"' if label else "its label could not be read"
        return shape, [f"A rhythm strip was taken as lead {shape} from its shape ({said})."]
    return usual, [(f"A rhythm strip's label could not be read and its shape matches no lead panel "
                    f"clearly: it is taken as lead {usual}, the usual one there.")]


def _shape_lead(panels: list[PanelTrace], strip: PanelTrace, usual: str) -> str | None:
    """The lead whose panel matches the strip over the same 2.5 s clearly, else None; the ``usual`` lead when it
    matches and no other matches clearly better (II, V5 and V6 can look alike).

    II and III often look alike (III = II - I), so the match is the relative size of their differences.
    """
    misfit = {}
    for panel in panels:
        first = round((panel.start_s - strip.start_s) * strip.fs)
        a, b = panel.values_mv, strip.values_mv[first : first + panel.values_mv.size]
        if b.size < a.size:
            continue
        both = ~(np.isnan(a) | np.isnan(b))
        if both.sum() < 0.5 * a.size:
            continue
        a, b = a[both] - a[both].mean(), b[both] - b[both].mean()
        misfit[panel.lead] = float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-9))
    if len(misfit) < 2:
        return None
    best = min(misfit, key=misfit.__getitem__)
    if misfit.get(usual, np.inf) <= _MAX_MISFIT and misfit[best] > _MISFIT_MARGIN * misfit[usual]:
        return usual
    others = [v for k, v in misfit.items() if k != best]
    return best if misfit[best] <= _MAX_MISFIT and misfit[best] <= _MISFIT_MARGIN * min(others) else None


def _label_lead(ink: InkRuns, x0: float, baseline: float, mm: float) -> str | None:
    """"II" or "III" from the upright strokes of the small blobs of ink standing on the strip's start, else None.

    Traces are wide blobs and are left out; a label touching a trace is part of it and is not read.
    """
    x_a, x_b = max(0, round(x0)), round(x0 + _LABEL_MM * mm)
    top, bottom = round(baseline - _LABEL_HEIGHT_MM[1] * mm), round(baseline - _LABEL_HEIGHT_MM[0] * mm)
    if top < 0 or x_b <= x_a:
        return None
    dots = (ink.blob_size <= _DOT_MM * mm).all(axis=1)  # grid dots, noise
    small = (ink.blob_size[:, 0] <= _LABEL_MM * mm) & (ink.blob_size[:, 1] <= _LABEL_HEIGHT_MM[1] * mm) & ~dots
    band = ink.ink.mask[top:bottom, x_a:x_b] & small[ink.blobs[top:bottom, x_a:x_b]]
    inked = np.flatnonzero(band.any(axis=1))
    if inked.size == 0 or inked[-1] - inked[0] + 1 < _MIN_GLYPH_MM * mm:
        return None
    rows = slice(top + inked[0], top + inked[-1] + 1)
    stems = band[inked[0] : inked[-1] + 1].mean(axis=0) >= _STEM_SHARE
    edges = np.flatnonzero(np.diff(np.r_[0, stems.view(np.int8), 0]))
    centres = (edges[::2] + edges[1::2] - 1) / 2 + x_a
    if centres.size < 2 or centres[0] - x0 > _FIRST_STEM_MM * mm:
        return None  # the first letter is missing: merged with a trace
    pitch = float(np.median(np.diff(centres)))
    if np.diff(centres).max() > _MAX_PITCH * (inked[-1] - inked[0] + 1):
        return None  # a letter between two is missing: merged with a trace
    after = round(centres[-1] + 0.75 * pitch), round(centres[-1] + 1.25 * pitch) + 1
    if (ink.ink.mask[rows, after[0] : after[1]] & ~dots[ink.blobs[rows, after[0] : after[1]]]).any():
        return None  # ink where a further letter would stand: maybe one merged with a trace
    return {2: "II", 3: "III"}.get(centres.size)
