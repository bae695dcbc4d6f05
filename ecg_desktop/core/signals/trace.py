"""Follow one panel's trace through its ink and return the centre line of the printed curve.

Each pixel column of the panel holds runs of ink: the trace, and sometimes a neighbouring row's
trace, a lead label, a grid dot or text. The trace is the chain of runs, one per column, found by
dynamic programming: neighbouring runs should touch (cost per pixel of gap), hold much ink (a steep
stroke rather than a letter beside it), not belong to a small blob (letters, dots), and stay in
their own row; a chain may skip a column or two where the trace is broken.

The printed line is the curve drawn with a round pen ``thickness`` pixels wide, so a column's run
spans the curve's highest and lowest points within the pen's reach plus half the pen. Undoing that:
the top and bottom edges, moved in by half the pen, are the curve's running extremes (``lower`` and
``upper``); their grey-level opening and closing by the pen's profile give the curve back, except
that the opening cuts narrow downward peaks (S waves) and the closing narrow upward ones (R waves).
Where they disagree, the one reaching further from the level around the stretch is a peak: its tip
is where the ink ends, and its flanks are the slopes leading into it, continued up to the tip when
they are steep enough. Where a lead label stands on a flat stretch of trace (a panel's start, not
higher than a label), the bottom edge is the trace. At a separator, the ink the pen left just past
the panel's end tells where a steep trace went under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.page.ink import InkMap

_GAP_COST = 1.0  # per pixel of vertical gap between the runs of chained columns
_INK_REWARD = 0.1  # per pixel of a run's length: among touching runs, the one holding the most ink
_SKIP_COST = 3.0  # per column skipped
_LOOKBACK = 3  # a chain may skip up to this many columns less one
_MAX_RUNS = 6  # runs per column considered (those nearest the row's baseline)
_SPECK_COST = 6.0  # per column for a run of a small blob of ink (a label's letter, a dot): more than a skip
_REACH = 0.85  # of the row spacing: how far from its baseline a trace is searched
_SPECK_WIDTH = 0.1  # of the row spacing (38 mm on the supported printout): narrower blobs are specks
_DOT = 0.01  # of the row spacing: blobs this small both ways (grid dots, noise) are not ink
_ROW_COST = 20.0  # for a run a whole row spacing from the baseline (quadratic beyond the free zone)
_FREE_ZONE = 0.4  # of the row spacing around the baseline where runs cost nothing
_STRAY = 2.0  # a chosen run further than this many pen widths from both neighbours is not the trace
_SOLID_PERCENTILE = 90  # the darkness of solid ink: most ink pixels of a clean trace are as dark
_MIN_FLAT = 20  # flat columns needed to measure the pen's width on them
_FLAT_PERCENTILE = 25  # else at least this share of a trace's columns are taken to be flat
_APART = 0.5  # opening and closing further apart than this many pen widths: a narrow peak or merged ink


@dataclass(frozen=True)
class TracedLine:
    """A panel's trace centre line: ``ys`` at columns ``xs`` (x increasing, ink-map pixels)."""

    xs: np.ndarray
    ys: np.ndarray
    thickness: float  # the pen's width, pixels


def trace_line(ink: InkMap, x_from: float, x_to: float, baseline: float, spacing: float, *,
               label: tuple[float, float] = (0.0, 0.0), hidden: tuple[bool, bool] = (False, False)
               ) -> TracedLine | None:
    """The trace between ``x_from`` and ``x_to`` of the row whose 0 mV line is at ``baseline``, or None.

    ``spacing`` is the distance between row baselines: the search reaches most of a spacing up and down.
    ``label`` (x end, y top): where the panel's lead label may stand on the trace, left of x end and
    below y top. ``hidden`` (left, right): a separator hides the trace just beyond that end; the ink
    the pen left past it still tells where a steep trace came from (or went to) there.
    """
    height, width = ink.mask.shape
    x_a, x_b = max(0, int(np.ceil(x_from))), min(width, int(np.floor(x_to)) + 1)
    reach = _REACH * spacing
    y_a, y_b = max(0, round(baseline - reach)), min(height, round(baseline + reach) + 1)
    if x_b - x_a < 2 or y_b - y_a < 2:
        return None
    runs = _Runs.of(ink, x_a, x_b, y_a, y_b, baseline - y_a, _SPECK_WIDTH * spacing, _DOT * spacing)
    columns, picks = _chain(runs, baseline - y_a, spacing)
    if columns.size < 2:
        return None
    centres, lengths = runs.centre[columns, picks], runs.length[columns, picks]
    thickness = _pen_width(columns, centres, lengths)
    keep = ~_strays(runs.start[columns, picks], runs.end[columns, picks], thickness)
    columns, centres, lengths = columns[keep], centres[keep], lengths[keep]
    if columns.size < 2:
        return None
    lower, upper = _edges(columns, centres, lengths, thickness)
    curve = _centre_curve(lower, upper, thickness, round(label[0]) - x_a, label[1] - y_a)
    xs, ys = columns.astype(float), curve[columns]
    reach = thickness / 2
    if hidden[0] and columns[0] == 0 and (end := _hidden_end(curve[:2], lower[0], upper[0], thickness)) is not None:
        xs, ys = np.r_[-reach, xs], np.r_[end, ys]
    if hidden[1] and columns[-1] == x_b - x_a - 1 and (
            end := _hidden_end(curve[-1:-3:-1], lower[-1], upper[-1], thickness)) is not None:
        xs, ys = np.r_[xs, xs[-1] + reach], np.r_[ys, end]
    return TracedLine(xs + x_a, ys + y_a, thickness)


@dataclass(frozen=True)
class _Runs:
    """Up to :data:`_MAX_RUNS` runs of ink per column, as (columns, runs) arrays; missing runs have start inf."""

    start: np.ndarray  # first row
    end: np.ndarray  # row after the last
    centre: np.ndarray  # darkness-weighted centre row
    length: np.ndarray  # darkness mass in solid-ink pixels: the run's length with its antialiased edges
    speck: np.ndarray  # bool: the run belongs to a blob of ink narrower than ``speck_width``

    @classmethod
    def of(cls, ink: InkMap, x_a: int, x_b: int, y_a: int, y_b: int, baseline: float, speck_width: float,
           dot: float) -> _Runs:
        band = ink.mask[y_a:y_b, x_a:x_b]
        dark = ink.darkness[y_a:y_b, x_a:x_b]
        h, w = band.shape
        padded = np.zeros((h + 2, w), np.int8)
        padded[1:-1] = band
        step = np.diff(padded, axis=0).T  # (w, h + 1)
        cols, starts = np.nonzero(step == 1)
        ends = np.nonzero(step == -1)[1]
        mass = cv2.integral(dark, sdepth=cv2.CV_64F)  # (h + 1, w + 1): sums above and left of each corner
        moment = cv2.integral(dark * np.arange(h, dtype=np.float32)[:, None], sdepth=cv2.CV_64F)
        lo, hi = np.maximum(starts - 1, 0), np.minimum(ends + 1, h)  # antialiased edges below the threshold
        weight = _column_sums(mass, lo, hi, cols)
        centres = _column_sums(moment, lo, hi, cols) / np.maximum(weight, 1e-6)
        solid = float(np.percentile(dark[band], _SOLID_PERCENTILE)) if band.any() else 1.0
        blob = ink.blobs[y_a + starts, x_a + cols]
        specks = (ink.blob_size[:, 0] < speck_width)[blob]
        dots = (ink.blob_size <= dot).all(axis=1)[blob]
        centres[dots] = np.inf  # sorted last, beyond the kept runs
        order = np.lexsort((np.abs(centres - baseline), cols))
        rank = np.arange(cols.size) - np.searchsorted(cols[order], cols[order])
        kept = (rank < _MAX_RUNS) & ~dots[order]
        keep, slot = order[kept], rank[kept]
        shape = (w, _MAX_RUNS)
        out = [np.full(shape, np.inf), np.full(shape, np.inf), np.full(shape, np.nan), np.full(shape, np.nan),
               np.zeros(shape, bool)]
        for array, values in zip(out, (starts, ends, centres, weight / max(solid, 1e-3), specks)):
            array[cols[keep], slot] = values[keep]
        return cls(*out)


def _column_sums(integral: np.ndarray, lo: np.ndarray, hi: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sums of rows ``lo`` to ``hi`` (exclusive) of columns ``cols``, from an integral image."""
    return (integral[hi, cols + 1] - integral[hi, cols] - integral[lo, cols + 1] + integral[lo, cols]).astype(np.float64)


def _chain(runs: _Runs, baseline: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest chain of runs: its columns and the run picked in each, left to right."""
    width, slots = runs.start.shape
    distance = np.maximum(np.abs(runs.centre - baseline) / spacing - _FREE_ZONE, 0.0)
    node = (_ROW_COST * np.nan_to_num(distance) ** 2 + _SPECK_COST * runs.speck
            - _INK_REWARD * np.nan_to_num(runs.length))
    node[~np.isfinite(runs.start)] = np.inf
    links = _link_costs(runs)  # (width, LOOKBACK * slots, slots)
    cost = np.full((width + _LOOKBACK, slots), np.inf)  # _LOOKBACK rows of padding before column 0
    back = np.zeros((width, slots), np.int16)  # index into the previous LOOKBACK columns' runs, -1: chain start
    counts = np.isfinite(runs.start).sum(axis=1)
    occupied = np.flatnonzero(counts)
    lone = (counts == 1) & (np.convolve(counts > 1, np.ones(_LOOKBACK + 1), mode="full")[: width] == 0)
    single = links[:, ::slots, 0].tolist()  # lone runs: the link from column j - k's first run, per k
    first_cost = [np.inf] * (width + _LOOKBACK)  # a plain copy of cost[:, 0] for the lone-run fast path
    node_first = node[:, 0].tolist()
    every = np.arange(slots)
    for j in occupied:
        start = _SKIP_COST * j
        if lone[j]:  # this and the previous columns hold one run each: plain floats, no arrays
            best, pick = start, -1
            for k in range(1, _LOOKBACK + 1):
                total = first_cost[j + _LOOKBACK - k] + single[j][k - 1]
                if total < best:
                    best, pick = total, (k - 1) * slots
            back[j, 0] = pick
            first_cost[j + _LOOKBACK] = cost[j + _LOOKBACK, 0] = best + node_first[j]
            continue
        earlier = cost[j : j + _LOOKBACK][::-1].ravel()  # columns j - 1, j - 2, ... (padded)
        total = earlier[:, None] + links[j]
        pick = np.argmin(total, axis=0)
        best = total[pick, every]
        back[j] = np.where(best < start, pick, -1)
        cost[j + _LOOKBACK] = np.minimum(best, start) + node[j]
        first_cost[j + _LOOKBACK] = float(cost[j + _LOOKBACK, 0])
    if occupied.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    finish = cost[_LOOKBACK:] + _SKIP_COST * (width - 1 - np.arange(width))[:, None]
    j, i = (int(v) for v in np.unravel_index(int(np.argmin(finish)), finish.shape))
    columns, picks = [j], [i]
    while back[j, i] >= 0:
        step, i = divmod(int(back[j, i]), slots)
        j -= step + 1
        columns.append(j)
        picks.append(i)
    return np.array(columns[::-1]), np.array(picks[::-1])


def _link_costs(runs: _Runs) -> np.ndarray:
    """Cost of chaining each run of column j - k (k = 1.._LOOKBACK) to each run of column j: (width, k*slot, slot)."""
    width, slots = runs.start.shape
    starts = np.where(np.isfinite(runs.start), runs.start, 1e9)
    ends = np.where(np.isfinite(runs.end), runs.end, -1e9)
    links = np.full((width, _LOOKBACK, slots, slots), np.inf)
    for k in range(1, _LOOKBACK + 1):
        gap = np.maximum(0.0, np.maximum(starts[k:, None, :] - ends[:-k, :, None], starts[:-k, :, None] - ends[k:, None, :]))
        links[k:, k - 1] = _GAP_COST * gap + _SKIP_COST * (k - 1)
    return links.reshape(width, _LOOKBACK * slots, slots)


def _pen_width(columns: np.ndarray, centres: np.ndarray, lengths: np.ndarray) -> float:
    """The pen's width: the typical run of the trace's flat stretches (neighbouring centres within a pixel)."""
    flat = np.zeros(columns.size, bool)
    flat[1:-1] = (np.abs(centres[2:] - centres[:-2]) < 1.0) & (columns[2:] - columns[:-2] == 2)
    if flat.sum() >= _MIN_FLAT:
        return float(np.median(lengths[flat]))
    return float(np.percentile(lengths, _FLAT_PERCENTILE))


def _strays(starts: np.ndarray, ends: np.ndarray, thickness: float) -> np.ndarray:
    """Chosen runs far from the runs chosen on both sides: the chain went through foreign ink there."""
    gap = np.maximum(0.0, np.maximum(starts[1:] - ends[:-1], starts[:-1] - ends[1:]))
    far = gap > _STRAY * thickness
    return np.r_[True, far] & np.r_[far, True] & (starts.size > 2)


def _edges(columns: np.ndarray, centres: np.ndarray, lengths: np.ndarray,
           thickness: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve's lowest and highest y within the pen's reach, at every column up to the last chained one."""
    every = np.arange(columns[-1] + 1)
    half = thickness / 2
    lower = np.minimum(centres - lengths / 2 + half, centres)
    upper = np.maximum(centres + lengths / 2 - half, centres)
    return np.interp(every, columns, lower), np.interp(every, columns, upper)


def _hidden_end(curve: np.ndarray, lower: float, upper: float, thickness: float) -> float | None:
    """Where the trace was just beyond its end column, under a separator, or None when it tells nothing.

    The pen's ink in the end column reaches past the end: when it stands well above (below) where the
    trace goes on inwards and not below (above) it, the trace came from there. ``curve``: the trace
    from its end column inwards.
    """
    inward = curve[1] if curve.size > 1 else curve[0]
    above, below = inward - lower, upper - inward
    if above > thickness and below < thickness / 2:
        return float(lower)
    if below > thickness and above < thickness / 2:
        return float(upper)
    return None


def _centre_curve(lower: np.ndarray, upper: np.ndarray, thickness: float, label_end: int,
                  label_top: float) -> np.ndarray:
    """The curve's y at every column of ``lower`` and ``upper`` (see the module docstring)."""
    half = thickness / 2
    opened = _pen_dilation(lower, -half)  # the curve, but narrow downward peaks cut
    closed = _pen_dilation(upper, half)  # the curve, but narrow upward peaks cut
    curve = (opened + closed) / 2
    apart = closed - opened > _APART * thickness
    edges = np.flatnonzero(np.diff(np.r_[0, apart.view(np.int8), 0]))
    span = int(half) + 1  # columns from a peak's tip to where its flanks are clear of the pen
    for first, stop in zip(edges[::2], edges[1::2]):
        if first < label_end and opened[first:stop].min() > label_top and not _steep_both_sides(curve, first, stop,
                                                                                                thickness):
            curve[first:stop] = closed[first:stop]  # a lead label standing on a flat stretch of trace
            continue
        left, right = curve[max(first - 1, 0)], curve[min(stop, curve.size - 1)]
        level = np.interp(np.arange(first, stop), [first - 1, stop], [left, right])
        up = np.max(level - opened[first:stop]) >= np.max(closed[first:stop] - level)
        edge = lower[first:stop] if up else -upper[first:stop]
        tips = first + np.flatnonzero(edge <= edge.min() + 1.0)
        tip = float(lower[tips].min() if up else upper[tips].max())
        _peak(curve, tips[0], tips[-1], tip, span, up)
    return curve


def _steep_both_sides(curve: np.ndarray, first: int, stop: int, thickness: float) -> bool:
    """The curve rises into ``first``..``stop`` from one side and falls away on the other, or the reverse
    (a wave's flanks), rather than running flat beside it (a label standing on the trace)."""
    if first < 3 or stop + 2 >= curve.size:
        return False
    into, out = curve[first - 1] - curve[first - 3], curve[stop + 2] - curve[stop]
    return min(abs(into), abs(out)) >= thickness / 2 and np.sign(into) != np.sign(out)


def _peak(curve: np.ndarray, first_tip: int, last_tip: int, tip: float, span: int, up: bool) -> None:
    """Draw a peak narrower than the pen into ``curve``: its tip (columns ``first_tip``-``last_tip``) at ``tip``.

    Such a peak leaves only its tip's height in the ink. When the slopes leading into it on both sides
    are steep enough to reach the tip, they are continued as straight lines up to it (a sharp R or S
    wave); otherwise the curve keeps its shape and only the tip columns are set.
    """
    sign = 1.0 if up else -1.0
    at = np.arange(max(first_tip - span + 1, 0), min(last_tip + span, curve.size))
    lines = []
    for near, far, reach in ((first_tip - span, first_tip - span - 1, first_tip), (last_tip + span,
                                                                                  last_tip + span + 1, last_tip)):
        if min(near, far) < 0 or max(near, far) >= curve.size:
            break
        slope = (curve[near] - curve[far]) / (near - far)
        if sign * (curve[near] - tip - slope * (near - reach)) > 1.0:  # the slope does not reach the tip
            break
        lines.append(curve[near] + slope * (at - near))
    if len(lines) == 2:
        flanks = np.max(lines, axis=0) if up else np.min(lines, axis=0)
        curve[at] = np.maximum(flanks, tip) if up else np.minimum(flanks, tip)
    curve[first_tip : last_tip + 1] = tip


def _pen_dilation(edge: np.ndarray, radius: float) -> np.ndarray:
    """Undo a round pen of ``radius`` (negative: the top edge) on a running extreme of the curve.

    A pen's edge at column x is the extreme over x + u of the curve shifted by the pen's profile
    ``r - sqrt(r^2 - u^2)``; taking the opposite extreme over the same profile gives the curve back
    wherever the pen fits into its bends (grey-level opening or closing with a round structuring element).
    """
    reach = int(abs(radius))  # columns the pen reaches either way
    padded = np.pad(edge, reach, mode="edge")
    out = edge.copy()
    pick = np.minimum if radius > 0 else np.maximum
    for u in range(-reach, reach + 1):
        sag = abs(radius) - np.sqrt(radius * radius - u * u)
        shifted = padded[reach + u : reach + u + edge.size] + (sag if radius > 0 else -sag)
        out = pick(out, shifted)
    return out


@dataclass(frozen=True)
class PanelTrace:
    """One printed panel: a lead's samples from ``start_s`` at ``fs`` and where each lies on the upright page."""

    lead: str
    row: int  # 0-2 for the lead panels, 3 for the rhythm strip
    column: int  # 0-3 (0 for the rhythm strip)
    start_s: float
    fs: int
    values_mv: np.ndarray  # float32, NaN where no trace was found
    pixels: np.ndarray  # (n, 2) float32 x, y on the full-size upright page; NaN where no trace was found
    baseline_y: float  # y of the panel's 0 mV line on that page

    @property
    def times_s(self) -> np.ndarray:
        """Sample times in seconds from the start of the recording."""
        return self.start_s + np.arange(self.values_mv.size) / self.fs
