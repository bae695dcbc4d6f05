"""Where the traces of a 3x4 + rhythm strip printout are on the page, and their time and voltage scales.

The scales come from what the cart printed with the traces, not from the grid (on the supported
scans the trace scale and the grid pitch differ by about 1%): the three panel separators are 2.5 s
apart and mark the panels' boundaries (time 0 is one panel width left of the first), and each row's
calibration pulse is 1 mV high and starts on the row's 0 mV line. Positions are sub-pixel (darkness-
weighted centres of the printed lines), in pixels of the ink map they were read from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.page.ink import InkMap

ROWS = 4  # three rows of four panels and the rhythm strip
COLUMNS = 4
PANEL_S = 2.5  # seconds per panel (25 mm/s)
_PANEL_MM = 62.5
_GRID_WIDTH_MM = 268.0  # the supported printout's grid width: a rough scale until the separators are read
_PAGE_WIDTH_MM = 281.0  # and its page's width (as core.page.layout)
_REGION_MARGIN_MM = 4.0  # around the pulses and panels when the region is found without a grid
_SEPARATOR_MM = 50.0  # a separator is a vertical line at least this long (it spans rows 1-3, ~88 mm)
_SEPARATOR_SPACING = 0.06  # separators' spacing may differ from 62.5 mm (rough scale) by this share
_SPACING_MATCH = 0.01  # and from each other's by this share of it
_EXTENT_MM = 3.0  # separators begin and end within this of each other
_STROKE_MM = 5.0  # a calibration pulse's sides are vertical strokes at least this long (1 mV is 10 mm)
_PULSE_WIDTH_MM = (1.0, 8.0)  # distance between a pulse's two sides
_PULSE_MATCH_MM = 1.5  # the two sides start and end this close
_LINE_MM = 1.0  # half-height of the window in which a printed horizontal line's centre is measured
_ROW_GAP_MM = 20.0  # trace rows are at least this far apart
_PULSE_HEIGHT_MM = (7.0, 13.0)  # a pulse printed at 10 mm/mV, allowing for the scale's uncertainty


@dataclass(frozen=True)
class Pulse:
    """A calibration pulse: its rising side's x, its foot (0 mV) and top (1 mV) y, in ink-map pixels."""

    x: float
    foot: float
    top: float


@dataclass(frozen=True)
class PrintGeometry:
    """The printout's trace geometry in ink-map pixels, and what had to be assumed (``warnings``)."""

    x0: float  # x of time 0: the left end of the first column of panels and of the rhythm strip
    panel_px: float  # width of one 2.5 s panel
    baselines: tuple[float, ...]  # y of each row's 0 mV line (rows 1-3 and the rhythm strip)
    px_per_mv: float
    separators: tuple[float, ...]  # x of the separators found
    separator_width: float  # their median width, pixels (0 without separators)
    pulses: tuple[Pulse, ...]
    warnings: tuple[str, ...]

    @property
    def px_per_s(self) -> float:
        """Pixels per second along x."""
        return self.panel_px / PANEL_S

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre of paper (along x, at 25 mm/s)."""
        return self.panel_px / _PANEL_MM

    def panel_x(self, column: int) -> float:
        """x where panel ``column`` (0-3) begins."""
        return self.x0 + column * self.panel_px


class GeometryError(ValueError):
    """The printout's trace rows or panels could not be found; the message is a sentence for users."""


def read_geometry(ink: InkMap) -> PrintGeometry:
    """Read separators, calibration pulses and row baselines from the ink of a diagnostic region."""
    mm = ink.mask.shape[1] / _GRID_WIDTH_MM
    warnings: list[str] = []
    lines = _separators(_vertical_lines(ink, mm), mm)
    separators = [line.x for line in lines]
    x0, panel = _time_axis(lines, mm)
    if x0 is None:
        x0, panel = _axis_from_traces(ink.mask, mm)
        warnings.append("No panel separators were found: the time scale is taken from the grid's width "
                        "(a few % less accurate) and time 0 from where the traces begin.")
    pulses = _pulses(ink, min(x0, ink.mask.shape[1]), mm)
    rows = _rows(ink.mask, x0, panel, mm)
    baselines, found = _baselines(rows, pulses, mm)
    if found < ROWS:
        warnings.append(f"Calibration pulses were found for {found} of {ROWS} rows: the 0 mV line of the others "
                        "is taken from where their trace ink is densest.")
    heights = [p.foot - p.top for p in pulses if _PULSE_HEIGHT_MM[0] * mm <= p.foot - p.top <= _PULSE_HEIGHT_MM[1] * mm]
    if heights:
        px_per_mv = float(np.median(heights))
    else:
        px_per_mv = 10 * panel / _PANEL_MM
        warnings.append("No calibration pulse was found: the voltage scale assumes 10 mm/mV on the grid.")
    width = float(np.median([line.width for line in lines])) if lines else 0.0
    return PrintGeometry(x0, panel, baselines, px_per_mv, tuple(separators), width, tuple(pulses), tuple(warnings))


def find_print_region(ink: InkMap) -> tuple[int, int, int, int] | None:
    """Where the traces are on a whole page without a grid (a faint copy): (x0, y0, x1, y1) around its
    separators and calibration pulses, or None without three separators and a pulse for every row."""
    mm = ink.mask.shape[1] / _PAGE_WIDTH_MM
    lines = _separators(_vertical_lines(ink, mm), mm)
    x0, panel = _time_axis(lines, mm)
    if x0 is None or len(lines) < COLUMNS - 1:
        return None
    pulses = _pulses(ink, x0, mm)
    if len(pulses) < ROWS or max(p.x for p in pulses) - min(p.x for p in pulses) > _PULSE_MATCH_MM * mm:
        return None
    height, width = ink.mask.shape
    left, right = min(p.x for p in pulses) - _REGION_MARGIN_MM * mm, x0 + COLUMNS * panel + _REGION_MARGIN_MM * mm
    top = min(p.top for p in pulses) - 2 * _REGION_MARGIN_MM * mm
    bottom = max(p.foot for p in pulses) + 3 * _REGION_MARGIN_MM * mm
    return max(0, round(left)), max(0, round(top)), min(width, round(right)), min(height, round(bottom))


def _column_runs(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of True in a boolean vector."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], column.view(np.int8), [0]])))
    return edges[::2], edges[1::2]


@dataclass(frozen=True)
class _Line:
    """A long vertical line of ink: its darkness-weighted centre x, width and extent (top, bottom)."""

    x: float
    width: float
    top: int
    bottom: int


def _vertical_lines(ink: InkMap, mm: float) -> list[_Line]:
    """Every vertical line of ink longer than a separator, left to right."""
    length = _SEPARATOR_MM * mm
    candidates = np.flatnonzero(ink.mask.sum(axis=0) >= length)
    long = [x for x in candidates if np.max(np.diff(np.vstack(_column_runs(ink.mask[:, x])), axis=0)) >= length]
    found = []
    for group in np.split(np.array(long, int), np.flatnonzero(np.diff(long) > 1) + 1) if long else []:
        starts, ends = _column_runs(ink.mask[:, group].any(axis=1))
        longest = int(np.argmax(ends - starts))
        lo, hi = max(group[0] - 2, 0), min(group[-1] + 3, ink.mask.shape[1])
        weights = ink.darkness[starts[longest] : ends[longest], lo:hi].sum(axis=0)
        centre = float(np.dot(weights, np.arange(lo, hi)) / max(weights.sum(), 1e-6))
        width = float(weights.sum() / max(weights.max(), 1e-6))
        found.append(_Line(centre, width, int(starts[longest]), int(ends[longest])))
    return found


def _separators(lines: list[_Line], mm: float) -> list[_Line]:
    """The panel separators among ``lines``: the most lines of one extent spaced by one panel width.

    Simultaneous QRS complexes of the rows can chain into long vertical lines too, but not of the
    separators' extent nor at their spacing.
    """
    rough, tol = _PANEL_MM * mm, _EXTENT_MM * mm
    best: list[_Line] = []
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            steps = (b.x - a.x) / rough
            k = round(steps)
            if not 1 <= k <= COLUMNS - 2 or abs(steps / k - 1) > _SEPARATOR_SPACING or not _same_extent(a, b, tol):
                continue
            width = (b.x - a.x) / k
            family = []
            for step in range(COLUMNS - 1):
                near = [c for c in lines if abs(c.x - a.x - step * width) < _SPACING_MATCH * width
                        and _same_extent(a, c, tol)]
                if near:
                    family.append(min(near, key=lambda c: abs(c.x - a.x - step * width)))
            if len(family) > len(best):
                best = family
    return best


def _same_extent(a: _Line, b: _Line, tolerance: float) -> bool:
    return abs(a.top - b.top) <= tolerance and abs(a.bottom - b.bottom) <= tolerance


def _time_axis(separators: list[_Line], mm: float) -> tuple[float | None, float]:
    """Time 0's x and the panel width from the separators, or (None, rough width) without two of them.

    Panels 2-4 begin at the separators; time 0 is a whole number of panel widths left of the first one
    found, the most that stays inside the region (a panel is wider than the margin left of the traces).
    """
    if len(separators) < 2:
        return None, _PANEL_MM * mm
    xs = np.array([line.x for line in separators])
    steps = np.round((xs - xs[0]) / (_PANEL_MM * mm))
    width, first = np.polyfit(steps, xs, 1)
    before = max(1, int((first + _EXTENT_MM * mm) // width))  # panels left of the first separator found
    return float(first - before * width), float(width)


def _axis_from_traces(mask: np.ndarray, mm: float) -> tuple[float, float]:
    """Without separators: the panel width from the rough scale, time 0 where the trace rows' ink begins."""
    panel = _PANEL_MM * mm
    columns = np.flatnonzero(mask.sum(axis=0) > 0)
    inked = columns[columns > 0.4 * panel]  # pulses and labels at the far left are not traces
    return (float(inked[0]) if inked.size else 0.0), panel


def _strokes(ink: InkMap, right: int, mm: float) -> list[tuple[float, int, int]]:
    """Vertical strokes (x centre, top, bottom) at least a pulse side long, left of ``right``."""
    length = round(_STROKE_MM * mm)
    found: list[tuple[int, int, int]] = []
    for x in np.flatnonzero(ink.mask[:, :right].sum(axis=0) >= length):
        starts, ends = _column_runs(ink.mask[:, x])
        found += [(int(x), int(s), int(e)) for s, e in zip(starts, ends) if e - s >= length]
    strokes: list[list[tuple[int, int, int]]] = []
    tol = _PULSE_MATCH_MM * mm
    for x, s, e in sorted(found):
        match = next((g for g in strokes if g[-1][0] == x - 1 and abs(g[-1][1] - s) <= tol and abs(g[-1][2] - e) <= tol),
                     None)
        if match is None:
            strokes.append([(x, s, e)])
        else:
            match.append((x, s, e))
    return [(float(np.mean([p[0] for p in g])), min(p[1] for p in g), max(p[2] for p in g)) for g in strokes]


def _line_centre(ink: InkMap, y: float, columns: np.ndarray, mm: float) -> float | None:
    """y of the centre of a horizontal printed line near ``y`` over ``columns`` (median of per-column centres)."""
    reach = max(2, round(_LINE_MM * mm))
    lo, hi = max(0, round(y) - reach), min(ink.mask.shape[0], round(y) + reach + 1)
    columns = columns[(columns >= 0) & (columns < ink.mask.shape[1])]
    if hi <= lo or columns.size == 0:
        return None
    window = ink.darkness[lo:hi, columns]
    mass = window.sum(axis=0)
    keep = mass > 0.5 * mass.max() if mass.size else mass
    if not np.any(keep):
        return None
    centres = (window[:, keep] * np.arange(lo, hi)[:, None]).sum(axis=0) / mass[keep]
    return float(np.median(centres))


def _pulses(ink: InkMap, right: float, mm: float) -> list[Pulse]:
    """Calibration pulses left of the panels: two vertical sides of one extent joined by a top line."""
    strokes = _strokes(ink, max(1, int(right - 0.5 * mm)), mm)
    tol = _PULSE_MATCH_MM * mm
    pulses = []
    for i, (xa, ta, ba) in enumerate(strokes):
        for xb, tb, bb in strokes[i + 1 :]:
            if not (_PULSE_WIDTH_MM[0] * mm <= xb - xa <= _PULSE_WIDTH_MM[1] * mm and abs(ta - tb) <= tol
                    and abs(ba - bb) <= tol):
                continue
            inner = np.arange(int(np.ceil(xa + 0.3 * mm)), int(xb - 0.3 * mm) + 1)
            feet = np.concatenate([np.arange(int(xa - mm), int(xa - 0.3 * mm)), np.arange(int(xb + 0.3 * mm) + 1,
                                                                                         int(xb + mm) + 1)])
            top = _line_centre(ink, (ta + tb) / 2 + 0.2 * mm, inner, mm)
            foot = _line_centre(ink, (ba + bb) / 2 - 0.2 * mm, feet, mm)
            if top is not None and foot is not None:
                pulses.append(Pulse(xa, foot, top))
                break
    return pulses


def _rows(mask: np.ndarray, x0: float, panel: float, mm: float) -> list[float]:
    """y of the densest trace ink of each of the :data:`ROWS` trace rows (top to bottom)."""
    lo, hi = max(0, round(x0)), min(mask.shape[1], round(x0 + COLUMNS * panel))
    profile = mask[:, lo:hi].sum(axis=1).astype(np.float64)
    window = max(1, round(0.5 * mm)) | 1
    smooth = np.convolve(profile, np.ones(window) / window, mode="same")
    reach = round(_ROW_GAP_MM * mm)
    peaks: list[int] = []
    for y in np.argsort(-smooth, kind="stable"):
        if smooth[y] <= 0 or len(peaks) == ROWS:
            break
        if all(abs(y - p) > reach for p in peaks):
            peaks.append(int(y))
    if len(peaks) < ROWS:
        raise GeometryError(f"Only {len(peaks)} rows of ECG trace were found; the digitizer reads "
                            "3 rows of 4 leads and a rhythm strip.")
    return sorted(float(p) for p in peaks)


def _baselines(rows: list[float], pulses: list[Pulse], mm: float) -> tuple[tuple[float, ...], int]:
    """Each row's 0 mV line: its pulse's foot where a pulse sits on the row, else the row's densest ink."""
    baselines, found = [], 0
    for y in rows:
        near = [p.foot for p in pulses if abs(p.foot - y) < 0.3 * _ROW_GAP_MM * mm * 2]
        baselines.append(min(near, key=lambda f: abs(f - y)) if near else y)
        found += bool(near)
    return tuple(baselines), found
