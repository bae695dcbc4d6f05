"""Read the lead layout of a 12-lead printout by the printout standard, not by one cart's pixel positions.

Every trace row of a standard printout holds 10 s (core.page.known_layouts). In the region's ink this
module finds the trace rows (peaks of the trace ink's row profile), each row's calibration pulse (a
1 mV step, 2-5 mm wide, apart from the trace or running into it) and where its 10 s begin and end,
then looks for panel boundaries where each known layout puts them (k/n of the row): full-height
separator lines, short ticks across the baseline, blank gaps, or a lead label starting there. The
known layout whose boundaries are marked, and whose other places are not, is the page's layout.

Scales: time from the rows' 10 s width (the cart's own scale; the grid pitch checks it), voltage
from the pulses' height (1 mV) or, without a pulse, 10 mm/mV on the grid. Positions are in pixels of
the ink map read (sub-pixel where measured on printed lines).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ecg_desktop.core.page.crop import components
from ecg_desktop.core.page.ink import InkMap
from ecg_desktop.core.page.known_layouts import KNOWN_LAYOUTS, ROW_SECONDS, KnownLayout

_PAGE_WIDTH_MM = 281.0  # without a grid, the region is taken to be a page this wide (A4 landscape, less margins)
_MIN_TRACE_MM = 8.0  # a piece of trace is at least this wide (letters, labels and dots are not)
_RULE_SHARE = 0.5  # straight horizontal ink this long (share of the width) is a ruled line or a frame
_LONG_LINE_MM = 20.0  # straight vertical ink this long is a separator or a frame, not a trace
_MIN_ROW_GAP_MM = 9.0  # two trace rows are at least this far apart
_ROW_DIP = 0.6  # and the row profile between them dips below this share of the lower peak
_MIN_COVER = 0.3  # a trace row covers at least this share of the region's width
_BRIDGE_MM = 15.0  # blank stretches shorter than this inside a row are part of it
_STANDARD_ROW_MM = 250.0  # 10 s at 25 mm/s
_WIDTH_TRUST = 0.02  # rows' measured width is taken over the grid's 250 mm when they agree this closely
_SPANNING_ROWS = 2.0  # a separator line measured for the time axis is longer than this many row spacings
_ALIGN_MM = 6.0  # rows beginning this close to the others' start begin with them
_MIN_ROW_SHARE = 0.6  # a trace row is at least this share of the widest row's width
_PULSE_SEARCH_MM = (20.0, 12.0)  # a row's pulse lies this far left / right of where its ink begins
_PULSE_HEIGHT_MM = (4.5, 24.0)  # 1 mV at 5 to 20 mm/mV, with a margin
_PULSE_WIDTH_MM = (1.5, 7.5)  # between a pulse's two sides (a label "II" is about 1 mm wide)
_PULSE_MATCH_MM = 1.5  # the two sides start and end this close
_RUN_ON_MM = 6.0  # a trace running on from a pulse is found this far above and below its foot
_PULSE_FOOT_MM = 4.0  # a pulse's foot lies this close to the row's densest ink
_LINE_MM = 1.0  # half-height of the window in which a printed horizontal line's centre is measured
_MARK_MM = 1.5  # a boundary mark lies this close to where the layout puts the boundary
_MARK_DRIFT = 0.005  # plus this share of its distance from the row's start (scale uncertainty)
_GAP_MM = 0.6  # blank this far on both sides of a boundary is a gap
_TICK_MM = (1.2, 6.0)  # a tick: a vertical stroke this long across the baseline
_LABEL_MM = (1.2, 6.5, 14.0)  # a label: glyphs this tall (min, max), starting within this of a boundary
_LABEL_COLUMNS_MM = (1.5, 8.0)  # a label touching the trace: columns this wide in all crossed by ink 2-4 times
_TICK_REACH_MM = 4.0  # the ticks' time 0 lies this close to where the rows' traces begin
_TICK_ALIGN_MM = 0.5  # the ticks of one boundary stand this close to their median x, row under row
_MIN_TICKED = 0.6  # ticks measure the time axis when found at this share of the panel boundaries at least
_DRAWN_MARKS = ("separators", "gaps")  # marks no trace makes by chance
_MIN_SCORE = 0.75  # share of a layout's checks its page must pass
_SPEED_TOLERANCE = 0.15  # rows' width may differ from 10 s at 25 mm/s on the grid by this share


@dataclass(frozen=True)
class Pulse:
    """A calibration pulse: its two sides' x and its foot (0 mV) and top (1 mV) y."""

    x0: float
    x1: float
    foot: float
    top: float
    joined: bool  # the trace runs straight on from it (no gap)

    @property
    def height(self) -> float:
        return self.foot - self.top


@dataclass(frozen=True)
class TraceRow:
    """One row of traces: its 0 mV line, where its 10 s begin and end, its pulse and its panels."""

    baseline: float  # the pulse's foot, else the row's densest ink
    x_start: float  # time 0 of the row
    x_end: float  # 10 s
    pulse: Pulse | None
    panels: int  # 0 until a layout is matched

    @property
    def width(self) -> float:
        return self.x_end - self.x_start


@dataclass(frozen=True)
class PageLayout:
    """What the layout of a region is: rows, panels and their marks, pulses, scales, and plain words."""

    rows: tuple[TraceRow, ...]
    known: KnownLayout | None  # the standard layout matched, None when none is
    marks: tuple[str, ...]  # how panel boundaries are drawn: "separators", "ticks", "gaps", "labels"
    px_per_s: float
    px_per_mv: float
    gain_measured: bool  # px_per_mv from calibration pulses (else 10 mm/mV on the grid is assumed)
    px_per_mm: tuple[float, float]  # along x and y: the grid's, or assumed from the region's width
    grid_scale: bool  # px_per_mm comes from a grid
    trace: np.ndarray  # uint8 mask of trace ink (rows of traces, without lines, labels and text)
    time_marks: tuple[tuple[float, float, float], ...] = ()  # the boundary marks the time axis was measured on:
    # (x, share of the row's 10 s, the row's 0 mV y); none when it comes from where the rows' traces begin and end

    @property
    def name(self) -> str | None:
        return None if self.known is None else self.known.name

    @property
    def panel_px(self) -> float:
        """Width of a 2.5 s panel."""
        return 2.5 * self.px_per_s

    @property
    def speed_mm_s(self) -> float:
        """Paper speed the rows' width gives on the grid (25 for a standard page)."""
        return self.px_per_s / self.px_per_mm[0]

    @property
    def gain_mm_mv(self) -> float:
        """Gain the pulses give on the grid (10 for a standard page)."""
        return self.px_per_mv / self.px_per_mm[1]

    @property
    def description(self) -> str:
        """The layout in plain words, stating only what was found."""
        if not self.rows:
            return "no ECG traces"
        if self.known is None:
            count = len(self.rows)
            return f"{count} row{'s' if count > 1 else ''} of ECG traces in a layout this app does not know"
        return self.known.words

    @property
    def calibrated(self) -> bool:
        """A known layout with calibration pulses or measured boundary marks: traces, with or without a grid."""
        return self.known is not None and (bool(self.time_marks) or any(row.pulse for row in self.rows))

    @property
    def standard_speed(self) -> bool:
        """Rows as long as 10 s at 25 mm/s on the grid (or no grid to tell by)."""
        return not self.grid_scale or abs(self.speed_mm_s / 25 - 1) <= _SPEED_TOLERANCE

    def scale_problems(self) -> list[str]:
        """Words for a paper speed or gain other than 25 mm/s and 10 mm/mV on the grid (empty when standard)."""
        if not self.grid_scale or not self.rows:
            return []
        problems = []
        if not self.standard_speed:
            problems.append(f"rows {self.px_per_s * ROW_SECONDS / self.px_per_mm[0]:.0f} mm long instead of 250 mm "
                            "(10 s at 25 mm/s)")
        if self.gain_measured and abs(self.gain_mm_mv / 10 - 1) > _SPEED_TOLERANCE:
            problems.append(f"printed at about {self.gain_mm_mv:.0f} mm/mV")
        return problems


def read_layout(ink: InkMap, px_per_mm: tuple[float, float] | None) -> PageLayout:
    """The layout in ``ink`` (a region's ink map); ``px_per_mm`` (x, y) from its grid, None without one."""
    width = ink.mask.shape[1]
    grid_scale = px_per_mm is not None
    mm_x, mm_y = px_per_mm or (width / _PAGE_WIDTH_MM,) * 2
    mask = ink.mask.view(np.uint8)
    vertical = _long_lines(mask, round(_LONG_LINE_MM * mm_y), axis=0)
    horizontal = _long_lines(mask, round(_RULE_SHARE * width), axis=1)
    lines = cv2.dilate(cv2.max(vertical, horizontal), np.ones((3, 3), np.uint8))
    inked = cv2.subtract(mask, lines)
    trace, small = _trace_and_small(inked, _MIN_TRACE_MM * mm_x)
    baselines = _row_peaks(trace, mm_y)
    spacing = float(np.median(np.diff(baselines))) if len(baselines) > 1 else 20 * mm_y
    half = max(2, round(min(spacing / 3, 12 * mm_y)))
    rows = [_row(ink, trace, y, half, mm_x, mm_y) for y in baselines]
    widest = max((row.width for row in rows), default=0.0)
    rows = [row for row in rows if row.width >= _MIN_ROW_SHARE * widest]  # not a line of text or a short scrap
    if rows:  # the rows of a standard page begin together; a faint first stretch of trace makes one begin late
        middle = float(np.median([row.x_start for row in rows]))  # (between two starts when rows are even)
        start = min((row.x_start for row in rows if abs(row.x_start - middle) < _ALIGN_MM * mm_x), default=middle)
        rows = [replace(row, x_start=start) if abs(row.x_start - middle) < _ALIGN_MM * mm_x else row for row in rows]
    row_width = float(np.median([row.width for row in rows])) if rows else float(width)
    standard = _STANDARD_ROW_MM * mm_x
    if grid_scale and abs(row_width / standard - 1) > _WIDTH_TRUST:
        row_width = standard  # traces end early or late (clipped, cut): the grid's 10 s at 25 mm/s
    evidence = _Evidence(vertical, trace, small, mask, half, mm_x, mm_y)
    known, marks = _match(rows, row_width, evidence)
    panels = known.panels_per_row if known else (0,) * len(rows)
    rows = [TraceRow(r.baseline, r.x_start, r.x_start + row_width, r.pulse, n) for r, n in zip(rows, panels)]
    heights = [r.pulse.height for r in rows if r.pulse is not None]
    px_per_mv = float(np.median(heights)) if heights else 10 * mm_y
    spanning = _long_lines(vertical, round(_SPANNING_ROWS * spacing), axis=0)  # lines across rows: no QRS is as long
    marked = _separator_xs(spanning, rows, row_width, half, mm_x)
    if len({share for _, share, _ in marked}) < 2:
        ticks = evidence.tick_xs(rows, standard if grid_scale else row_width)  # already in line with each other
        enough = len(ticks) >= _MIN_TICKED * sum(r.panels - 1 for r in rows)  # a cart ticks every boundary
        marked = ticks if enough and len({share for _, share, _ in ticks}) >= 2 else []
    px_per_s = row_width / ROW_SECONDS
    if marked:  # printed marks measure the cart's time axis more finely than where traces begin and end
        start, px_per_s = time_axis(marked)
        rows = aligned(rows, start, px_per_s, _ALIGN_MM * mm_x)
    return PageLayout(tuple(rows), known, marks, px_per_s, px_per_mv, bool(heights), (mm_x, mm_y), grid_scale, trace,
                      tuple(marked))


def time_axis(marks: list[tuple[float, float, float]] | tuple[tuple[float, float, float], ...]) -> tuple[float, float]:
    """Time 0's x and pixels a second from boundary marks (x, share of the row's 10 s, y) at two shares or more."""
    shares, xs = np.array([share for _, share, _ in marks]), np.array([x for x, _, _ in marks])
    slope = float(np.dot(shares - shares.mean(), xs - xs.mean()) / np.sum((shares - shares.mean()) ** 2))
    return float(xs.mean() - slope * shares.mean()), slope / ROW_SECONDS  # the least-squares line


def aligned(rows: list[TraceRow], start: float, px_per_s: float, reach: float) -> list[TraceRow]:
    """The rows beginning within ``reach`` of ``start`` made to begin there and span 10 s at ``px_per_s``."""
    return [replace(row, x_start=start, x_end=start + ROW_SECONDS * px_per_s) if abs(row.x_start - start) < reach
            else row for row in rows]


def _counts(mask: np.ndarray, axis: int) -> np.ndarray:
    """``np.count_nonzero(mask, axis=axis)`` of a 0/1 uint8 mask, summed by OpenCV (several times faster)."""
    return cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()


def _long_lines(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Straight runs of ink at least ``length`` long, down (axis 0) or across (axis 1), in a 0/1 uint8 mask.

    Only the columns (rows) holding that much ink at all are looked at: few do, and the rest cannot.
    """
    lines = np.zeros_like(mask)
    candidates = np.flatnonzero(_counts(mask, axis) >= length)
    if candidates.size == 0:
        return lines
    if axis == 0:
        lines[:, candidates] = _long_runs(mask[:, candidates].T, length).T
    else:
        lines[candidates] = _long_runs(mask[candidates], length)
    return lines


def _runs(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs of ink along each row of a 0/1 array: their row, start and (exclusive) end, row by row, in order."""
    padded = np.zeros((lines.shape[0], lines.shape[1] + 2), np.int8)
    padded[:, 1:-1] = lines
    which, edges = np.nonzero(np.diff(padded, axis=1))  # each run's start, then its end
    return which[::2], edges[::2], edges[1::2]


def _long_runs(lines: np.ndarray, length: int) -> np.ndarray:
    """The runs at least ``length`` long along each row of a 0/1 uint8 array (its opening by a ``length`` line)."""
    which, starts, ends = _runs(lines)
    long = ends - starts >= length
    steps = np.zeros((lines.shape[0], lines.shape[1] + 1), np.int8)
    steps[which[long], starts[long]] = 1
    steps[which[long], ends[long]] = -1
    return np.cumsum(steps[:, :-1], axis=1, dtype=np.int8).view(np.uint8)


def _trace_and_small(inked: np.ndarray, min_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Ink of wide connected pieces (traces) and of the small ones (letters, digits, dots), as uint8 masks.

    The pieces are told apart on a copy half as fine, where a 2 x 2 block holding ink is ink (which also
    bridges a faint trace's one-pixel breaks): a quarter of the work. ``inked`` is 0/1, so a block's two rows are
    OR-ed and each pair of bytes, read as one 16-bit number, is ink when not 0; a wide piece's half-size pixel
    (0/1) times 257 is the same byte twice, back across, and is written to both rows, back down.
    """
    height, width = inked.shape
    even = inked[: height - height % 2, : width - width % 2]
    pooled = (cv2.bitwise_or(even[0::2], even[1::2]).view(np.uint16) != 0).view(np.uint8)
    _, labels, stats, _ = components(pooled)
    wide = stats[:, cv2.CC_STAT_WIDTH] >= min_width / 2
    wide[0] = False
    doubled = np.take(wide.astype(np.uint16) * 257, labels).view(np.uint8)
    keep = np.zeros_like(inked)
    keep[0 : even.shape[0] : 2, : even.shape[1]] = doubled
    keep[1 : even.shape[0] : 2, : even.shape[1]] = doubled
    trace = cv2.bitwise_and(keep, inked)
    small = cv2.subtract(inked, trace)
    return trace, small


def _row_peaks(trace: np.ndarray, mm: float) -> list[int]:
    """Rows where trace ink concentrates: separate peaks of the row profile, each row wide enough.

    Neighbouring peaks closer than a minimum gap, or without a clear dip between them (a trace
    swinging between two levels, as in ventricular tachycardia), count as one.
    """
    profile = _counts(trace, 1).astype(np.float32)
    window = max(1, round(3 * mm)) | 1
    smooth = np.convolve(profile, np.ones(window, np.float32) / window, mode="same")
    if smooth.max() <= 0:
        return []
    reach = max(1, round(_MIN_ROW_GAP_MM * mm))
    local_max = cv2.dilate(smooth.reshape(-1, 1), np.ones((2 * reach + 1, 1), np.uint8)).ravel()
    peaks: list[int] = []
    for y in np.flatnonzero((smooth == local_max) & (smooth >= 0.2 * smooth.max())):
        last = peaks[-1] if peaks else None
        if last is not None and (y - last <= reach or smooth[last:y].min() > _ROW_DIP * min(smooth[y], smooth[last])):
            if smooth[y] > smooth[last]:
                peaks[-1] = int(y)
            continue
        peaks.append(int(y))
    width = trace.shape[1]
    return [y for y in peaks if trace[max(0, y - reach) : y + reach + 1].any(axis=0).sum() >= _MIN_COVER * width]


def _row(ink: InkMap, trace: np.ndarray, peak: int, half: int, mm_x: float, mm_y: float) -> TraceRow:
    """The row around ``peak``: its densest ink, the extent of its trace, its pulse and its time 0."""
    top, bottom = max(0, peak - half), min(trace.shape[0], peak + half + 1)
    band = trace[top:bottom]
    profile = _counts(band, 1)
    densest = float(top + np.argmax(profile))
    first, last = _extent(band.any(axis=0), round(_BRIDGE_MM * mm_x))
    pulse = _pulse(ink, trace, densest, first, mm_x, mm_y)
    baseline = pulse.foot if pulse is not None else densest
    if pulse is None:
        start = float(first)
    elif pulse.joined:
        start = pulse.x1
    else:
        start = _after_gap(trace, pulse.foot, pulse.x1, mm_y)
    return TraceRow(baseline, start, float(last + 1), pulse, 0)


def _extent(cover: np.ndarray, bridge: int) -> tuple[int, int]:
    """First and last column of the widest stretch of ``cover`` (blank stretches shorter than ``bridge`` bridged)."""
    columns = np.flatnonzero(cover)
    if columns.size == 0:
        return 0, 0
    breaks = np.flatnonzero(np.diff(columns) > bridge)
    starts, ends = np.r_[columns[0], columns[breaks + 1]], np.r_[columns[breaks], columns[-1]]
    widest = int(np.argmax(ends - starts))
    return int(starts[widest]), int(ends[widest])


def _strokes(mask: np.ndarray, x_from: int, min_length: int, tolerance: float) -> list[tuple[float, int, int]]:
    """Vertical strokes (x centre, top, bottom) at least ``min_length`` long in a 0/1 uint8 ``mask`` (offset by
    ``x_from``): runs of ink down neighbouring columns that start and end within ``tolerance`` of each other."""
    columns = np.flatnonzero(_counts(mask, 0) >= min_length)
    which, starts, ends = _runs(mask[:, columns].T)  # column by column, top down
    long = ends - starts >= min_length
    groups: list[list[tuple[int, int, int]]] = []
    for x, s, e in zip(columns[which[long]].tolist(), starts[long].tolist(), ends[long].tolist()):
        match = next((g for g in groups if g[-1][0] == x - 1 and abs(g[-1][1] - s) <= tolerance
                      and abs(g[-1][2] - e) <= tolerance), None)
        if match is None:
            groups.append([(x, s, e)])
        else:
            match.append((x, s, e))
    return [(x_from + sum(p[0] for p in g) / len(g), min(p[1] for p in g), max(p[2] for p in g)) for g in groups]


def _pulse(ink: InkMap, trace: np.ndarray, densest: float, first: int, mm_x: float, mm_y: float) -> Pulse | None:
    """The calibration pulse near where a row's ink begins: two vertical sides of one extent joined by a top line,
    rising from about the row's densest ink."""
    height, width = ink.mask.shape
    x_from = max(0, round(first - _PULSE_SEARCH_MM[0] * mm_x))
    x_to = min(width, round(first + _PULSE_SEARCH_MM[1] * mm_x))
    y_from = max(0, round(densest - _PULSE_HEIGHT_MM[1] * mm_y))
    y_to = min(height, round(densest + _PULSE_FOOT_MM * mm_y))
    window = ink.mask[y_from:y_to, x_from:x_to].view(np.uint8)
    tolerance = _PULSE_MATCH_MM * mm_y
    strokes = _strokes(window, x_from, round(_PULSE_HEIGHT_MM[0] * mm_y), tolerance)
    for i, (xa, ta, ba) in enumerate(strokes):
        for xb, tb, bb in strokes[i + 1 :]:
            if not (_PULSE_WIDTH_MM[0] * mm_x <= xb - xa <= _PULSE_WIDTH_MM[1] * mm_x and abs(ta - tb) <= tolerance
                    and abs(ba - bb) <= tolerance):
                continue
            if abs(y_from + (ba + bb) / 2 - densest) > _PULSE_FOOT_MM * mm_y:
                continue
            inner = int(np.ceil(xa + 0.3 * mm_x)), int(xb - 0.3 * mm_x) + 1
            top = line_centre(ink, y_from + (ta + tb) / 2 + 0.2 * mm_y, *inner, mm_y)
            if top is None:
                continue
            foot = line_centre(ink, y_from + (ba + bb) / 2 - 0.2 * mm_y, int(xa - mm_x), int(xa - 0.3 * mm_x), mm_y)
            if foot is None:
                foot = y_from + (ba + bb) / 2 - 0.5
            joined = _runs_on(trace, foot, xb, mm_x, mm_y)
            return Pulse(xa, xb, foot, top, joined)
    return None


def _after_gap(trace: np.ndarray, foot: float, x: float, mm_y: float) -> float:
    """The first column of trace ink after the blank that follows a pulse's falling side at ``x``."""
    near = trace[max(0, round(foot - 1.5 * mm_y)) : round(foot + 1.5 * mm_y) + 1, round(x) + 1 :].any(axis=0)
    blank = np.flatnonzero(~near)
    if blank.size == 0:
        return x
    after = np.flatnonzero(near[blank[0] :])
    return float(round(x) + 1 + blank[0] + (after[0] if after.size else 0))


def _runs_on(trace: np.ndarray, foot: float, x: float, mm_x: float, mm_y: float) -> bool:
    """Whether the trace runs on from a pulse's falling side at ``x`` without a gap (a label there is not trace):
    every column just after it holds trace within 6 mm of the 0 mV line (a wave there, a P or a QRS, leaves it
    but is drawn through every column)."""
    window = trace[max(0, round(foot - _RUN_ON_MM * mm_y)) : round(foot + _RUN_ON_MM * mm_y) + 1,
                   round(x + 0.3 * mm_x) : round(x + 2.5 * mm_x) + 1]
    return bool(window.size) and bool(window.any(axis=0).all())


def line_centre(ink: InkMap, y: float, x0: int, x1: int, mm: float) -> float | None:
    """y of the centre of a horizontal printed line near ``y`` over columns ``x0`` to ``x1`` (exclusive; median of
    per-column centres)."""
    reach = max(2, round(_LINE_MM * mm))
    lo, hi = max(0, round(y) - reach), min(ink.mask.shape[0], round(y) + reach + 1)
    x0, x1 = max(0, x0), min(ink.mask.shape[1], x1)
    if hi <= lo or x1 <= x0:
        return None
    window = ink.darkness_of(slice(lo, hi), slice(x0, x1))
    mass = window.sum(axis=0)
    keep = mass > 0.5 * mass.max()
    if not np.any(keep) or mass.max() <= 0:
        return None
    centres = (window[:, keep] * np.arange(lo, hi)[:, None]).sum(axis=0) / mass[keep]
    return float(np.median(centres))


@dataclass(frozen=True)
class _Evidence:
    """The marks a boundary may be drawn with, looked up at a place of a row."""

    vertical: np.ndarray  # long vertical lines (uint8)
    trace: np.ndarray
    small: np.ndarray  # letters and other small ink
    mask: np.ndarray  # all ink
    half: int  # half-height of a row's band
    mm_x: float
    mm_y: float

    def at(self, row: TraceRow, x: float) -> str | None:
        """The mark at ``x`` of ``row`` ("separators", "ticks", "gaps", "labels"), or None."""
        tolerance = (_MARK_MM + _MARK_DRIFT * abs(x - row.x_start) / self.mm_x) * self.mm_x
        x0, x1 = max(0, round(x - tolerance)), min(self.mask.shape[1], round(x + tolerance) + 1)
        y = round(row.baseline)
        y0, y1 = max(0, y - self.half), min(self.mask.shape[0], y + self.half + 1)
        if x1 <= x0 or y1 <= y0:
            return None
        if self.vertical[y0:y1, x0:x1].any():
            return "separators"
        if self._tick(x0, x1, y):
            return "ticks"
        gap = round(_GAP_MM * self.mm_x)
        blank = ~self.trace[y0:y1, x0:x1].any(axis=0)
        if gap and cv2.erode(blank.view(np.uint8).reshape(1, -1), np.ones((1, 2 * gap + 1), np.uint8)).any():
            return "gaps"
        if self._label(x, y0, y1):
            return "labels"
        return None

    def _tick(self, x0: int, x1: int, y: int) -> bool:
        """A short vertical stroke across the baseline, about as far above it as below (QRS strokes are not)."""
        return bool(self.tick_columns(x0, x1, y).size)

    def tick_columns(self, x0: int, x1: int, y: int) -> np.ndarray:
        """The columns from ``x0`` to ``x1`` holding a tick across the baseline at ``y``."""
        low, high = (round(v * self.mm_y) for v in _TICK_MM)
        block = self.mask[max(0, y - high) : y + high + 1, x0:x1] > 0
        centre = min(y, high)
        if centre >= block.shape[0] or block.shape[1] == 0:
            return np.zeros(0)
        up, down = (np.where(part.all(axis=0), part.shape[0], np.argmin(part, axis=0))
                    for part in (block[centre::-1], block[centre:]))  # ink rows from the baseline up and down
        length = up + down - 1  # of the stroke through the baseline
        across = block[centre] & (low <= length) & (length < high) & (np.minimum(up - 1, down) >= 0.3 * length)
        return x0 + np.flatnonzero(across).astype(float)

    def tick_xs(self, rows: list[TraceRow], row_width: float) -> list[tuple[float, float, float]]:
        """Ticks at the panel boundaries of the rows with panels: (x, share of the row's width, its 0 mV y).

        Every tick across each row's baseline is a candidate (a steep QRS complex can make one); the boundaries
        are where the most candidates, over all rows, stand a panel's width apart from one time 0 within
        :data:`_TICK_REACH_MM` of where the rows' traces begin; of those, the ones in line with the other rows'
        at the same boundary (a cart ticks every row at the same x), at boundaries a panel's width apart (a QRS
        complex beside a tick in every row, the leads being simultaneous, moves one boundary's ticks together).
        """
        ticked = [row for row in rows if row.panels > 1]
        candidates = [self._tick_centres(row) for row in ticked]
        tolerance = _TICK_ALIGN_MM * self.mm_x  # printed ticks stand where the grid's scale puts them, to a pixel
        best: tuple[int, float, float] = (0, 0.0, 0.0)  # support, nearness to where the traces begin, time 0
        for row, centres in zip(ticked, candidates):
            panel = row_width / row.panels
            for start in (c - k * panel for c in centres for k in range(1, row.panels)):
                if abs(start - row.x_start) > _TICK_REACH_MM * self.mm_x:
                    continue
                support = sum(any(abs(c - start - k * row_width / other.panels) <= tolerance for c in cs)
                              for other, cs in zip(ticked, candidates) for k in range(1, other.panels))
                best = max(best, (support, -abs(start - row.x_start), start))
        if best[0] == 0:
            return []
        found = []
        for row, centres in zip(ticked, candidates):
            for k in range(1, row.panels):
                x = best[2] + k * row_width / row.panels
                near = [c for c in centres if abs(c - x) <= tolerance]
                if near:
                    found.append((min(near, key=lambda c: abs(c - x)), k / row.panels, row.baseline))
        shares = {share: float(np.median([x for x, s, _ in found if s == share])) for _, share, _ in found}
        starts = {share: x - share * row_width for share, x in shares.items()}  # each boundary's time 0
        start = float(np.median(list(starts.values())))
        return [(x, share, y) for x, share, y in found
                if abs(x - shares[share]) <= tolerance and abs(starts[share] - start) <= tolerance]

    def _tick_centres(self, row: TraceRow) -> list[float]:
        """The centre x of each tick across ``row``'s baseline."""
        columns = self.tick_columns(0, self.mask.shape[1], round(row.baseline))
        if not columns.size:
            return []
        return [float(stroke.mean()) for stroke in np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)]

    def _label(self, x: float, y0: int, y1: int) -> bool:
        """Glyphs starting just right of ``x`` in the row's band: small ink of a letter's height, or, for a label
        touching the trace, columns crossed by ink more than once (a trace crosses each column once)."""
        low, high, reach = _LABEL_MM
        x0, x1 = max(0, round(x - 0.5 * self.mm_x)), min(self.small.shape[1], round(x + reach * self.mm_x))
        if x1 <= x0 or y1 - y0 < 2:
            return False
        glyphs = self.small[y0:y1, x0:x1]
        if glyphs.any():
            rows = np.flatnonzero(glyphs.any(axis=1))
            tall = rows[-1] - rows[0] + 1
            if low * self.mm_y <= tall <= high * self.mm_y and np.count_nonzero(glyphs) >= 3 * self.mm_x:
                return True
        inked = cv2.bitwise_or(self.trace[y0:y1, x0:x1], glyphs)
        crossings = _counts(cv2.subtract(inked[1:], inked[:-1]), 0) + inked[0]  # runs of ink down each column
        lettered = np.count_nonzero((crossings >= 2) & (crossings <= 4))  # a letter's strokes and the trace
        return _LABEL_COLUMNS_MM[0] * self.mm_x <= lettered <= _LABEL_COLUMNS_MM[1] * self.mm_x


def _separator_xs(lines: np.ndarray, rows: list[TraceRow], row_width: float, half: int, mm: float
                  ) -> list[tuple[float, float, float]]:
    """Vertical ``lines`` at the panel boundaries of the rows with panels: (x, share of the row's width, its 0 mV y)."""
    found = []
    for row in rows:
        y = round(row.baseline)
        for k in range(1, row.panels):
            x = row.x_start + k * row_width / row.panels
            lo, hi = max(0, round(x - 2 * mm)), round(x + 2 * mm) + 1
            columns = np.flatnonzero(lines[max(0, y - half) : y + half + 1, lo:hi].any(axis=0))
            if columns.size:
                found.append((float(lo + columns.mean()), k / row.panels, row.baseline))
    return found


def _match(rows: list[TraceRow], row_width: float, evidence: _Evidence) -> tuple[KnownLayout | None, tuple[str, ...]]:
    """The known layout of as many rows whose boundaries are marked (and other places not), and the marks seen.

    Each row is looked at a quarter, a half and three quarters of its width: a row of 4 panels has a boundary
    at all three, a row of 2 at the half only, a single trace at none. Any mark passes where a boundary is
    wanted; where none is, only a drawn separator or a gap fails (a steep QRS complex can look like a tick,
    a letter of the header like a label).
    """
    seen = [[evidence.at(row, row.x_start + k * row_width / 4) for k in (1, 2, 3)] for row in rows]
    best, best_score, best_marks = None, _MIN_SCORE - 1e-9, ()  # the first of equal scores
    for layout in KNOWN_LAYOUTS:
        if len(layout.panels_per_row) != len(rows):
            continue
        wanted = [[panels > 1 and k * panels % 4 == 0 for k in (1, 2, 3)] for panels in layout.panels_per_row]
        checks = [(bool(mark) if want else mark not in _DRAWN_MARKS, mark if want else None)
                  for row, wants in zip(seen, wanted) for mark, want in zip(row, wants)]
        score = sum(passed for passed, _ in checks) / len(checks)
        if score > best_score:
            best, best_score, best_marks = layout, score, tuple(sorted({mark for _, mark in checks if mark}))
    return best, best_marks
