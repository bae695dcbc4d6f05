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


def trace_line(ink: InkMap | InkRuns, x_from: float, x_to: float, baseline: float, spacing: float, *,
               label: tuple[float, float] = (0.0, 0.0), hidden: tuple[bool, bool] = (False, False)
               ) -> TracedLine | None:
    """The trace between ``x_from`` and ``x_to`` of the row whose 0 mV line is at ``baseline``, or None.

    ``spacing`` is the distance between row baselines: the search reaches most of a spacing up and down.
    ``label`` (x end, y top): where the panel's lead label may stand on the trace, left of x end and
    below y top. ``hidden`` (left, right): a separator hides the trace just beyond that end; the ink
    the pen left past it still tells where a steep trace came from (or went to) there. ``ink``: the ink map, or
    its :class:`InkRuns` when several panels are traced in it (found once for all).
    """
    runs_of_map = ink if isinstance(ink, InkRuns) else InkRuns.of(ink)
    height, width = runs_of_map.shape
    x_a, x_b = max(0, int(np.ceil(x_from))), min(width, int(np.floor(x_to)) + 1)
    reach = _REACH * spacing
    y_a, y_b = max(0, round(baseline - reach)), min(height, round(baseline + reach) + 1)
    if x_b - x_a < 2 or y_b - y_a < 2:
        return None
    runs = _Runs.of(runs_of_map, x_a, x_b, y_a, y_b, baseline - y_a, _SPECK_WIDTH * spacing, _DOT * spacing)
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


@dataclass(frozen=True, eq=False)
class InkRuns:
    """Every vertical run of ink of an ink map, with what tracing needs of it, worked out once for all its panels:
    the runs' darkness sums (over their pixels, and their antialiased edge pixels just above and below, which
    are not ink) and the width and height of the blob of ink each belongs to. Runs are in column order, then
    top to bottom; pixels (``pixel_*``) in the same order."""

    ink: InkMap
    column: np.ndarray  # each run's column
    start: np.ndarray  # first row
    end: np.ndarray  # row after the last
    first: np.ndarray  # (width + 1,): index of each column's first run
    pixel_start: np.ndarray  # index of each run's first pixel
    pixel_first: np.ndarray  # (width + 1,): index of each column's first pixel
    pixel_row: np.ndarray
    pixel_dark: np.ndarray  # float32 darkness of each ink pixel (InkMap.darkness)
    mass: np.ndarray  # (pixels + 1,): cumulative darkness over the pixels (float64)
    moment: np.ndarray  # (pixels + 1,): cumulative darkness times row
    above: np.ndarray  # darkness of the pixel above each run (0 at the map's top)
    below: np.ndarray  # darkness of the pixel below each run (0 at the map's bottom)
    blob_width: np.ndarray  # width of each run's blob
    blob_height: np.ndarray
    blobs: np.ndarray  # label of each pixel's blob, 0 on paper (as InkMap.blobs)
    blob_size: np.ndarray  # (labels, 2): width, height of each blob (as InkMap.blob_size)

    @property
    def shape(self) -> tuple[int, int]:
        return self.ink.mask.shape

    @classmethod
    def of(cls, ink: InkMap) -> InkRuns:
        height, width = ink.mask.shape
        found = cv2.findNonZero(cv2.transpose(ink.mask.view(np.uint8)))  # (x, y) of the transposed map
        found = np.zeros((0, 2), np.int32) if found is None else found.reshape(-1, 2)
        row, column = found[:, 0].astype(np.int64), found[:, 1].astype(np.int64)
        flat = column * height + row  # column-major order
        new = np.ones(flat.size, bool)
        new[1:] = (np.diff(flat) != 1) | (row[1:] == 0)
        pixel_start = np.flatnonzero(new)
        run_column, start = column[pixel_start], row[pixel_start]
        end = row[np.r_[pixel_start[1:], flat.size] - 1] + 1
        dark = ink.darkness_of(row, column)
        mass = np.zeros(flat.size + 1)
        np.cumsum(dark, dtype=np.float64, out=mass[1:])
        moment = np.zeros(flat.size + 1)
        np.cumsum(dark * row.astype(np.float64), out=moment[1:])
        above = np.where(start > 0, ink.darkness_of(np.maximum(start - 1, 0), run_column), 0.0)
        below = np.where(end < height, ink.darkness_of(np.minimum(end, height - 1), run_column), 0.0)
        blobs, blob_size = _components(ink.mask)
        labels = blobs[start, run_column]
        every = np.arange(width + 1)
        return cls(ink, run_column, start, end, np.searchsorted(run_column, every), pixel_start,
                   np.searchsorted(column, every), row, dark, mass, moment, above, below,
                   blob_size[labels, 0], blob_size[labels, 1], blobs, blob_size)


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 8-connected blobs of ``mask``: labels per pixel and (width, height) per label, as InkMap's (16-bit labels
    while they fit: the same labels, in half the time)."""
    try:
        _, blobs, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:  # more than 65,534 blobs
        _, blobs, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    return blobs, stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]]


@dataclass(frozen=True)
class _Runs:
    """Up to :data:`_MAX_RUNS` runs of ink per column, as (columns, runs) arrays; missing runs have start inf."""

    start: np.ndarray  # first row
    end: np.ndarray  # row after the last
    centre: np.ndarray  # darkness-weighted centre row
    length: np.ndarray  # darkness mass in solid-ink pixels: the run's length with its antialiased edges
    speck: np.ndarray  # bool: the run belongs to a blob of ink narrower than ``speck_width``

    @classmethod
    def of(cls, ink: InkRuns, x_a: int, x_b: int, y_a: int, y_b: int, baseline: float, speck_width: float,
           dot: float) -> _Runs:
        """The runs of ``ink`` in columns ``x_a``-``x_b`` cut to rows ``y_a``-``y_b`` (a run's antialiased edge
        pixels count where they are inside those rows), in that band's pixels."""
        w = x_b - x_a
        near = slice(ink.first[x_a], ink.first[x_b])
        inside = (ink.end[near] > y_a) & (ink.start[near] < y_b)
        index = ink.first[x_a] + np.flatnonzero(inside)
        first, last = ink.start[index], ink.end[index]
        top, bottom = np.maximum(first, y_a), np.minimum(last, y_b)
        cols = ink.column[index] - x_a
        pixels = ink.pixel_start[index] + (top - first)
        ends_at = pixels + (bottom - top)
        edge_above, edge_below = first > y_a, last < y_b  # antialiased edges inside the band
        weight = (ink.mass[ends_at] - ink.mass[pixels] + np.where(edge_above, ink.above[index], 0.0)
                  + np.where(edge_below, ink.below[index], 0.0))
        moment = (ink.moment[ends_at] - ink.moment[pixels] + np.where(edge_above, ink.above[index] * (first - 1), 0.0)
                  + np.where(edge_below, ink.below[index] * last, 0.0))
        centres = moment / np.maximum(weight, 1e-6) - y_a
        starts, ends = top - y_a, bottom - y_a
        columns = slice(ink.pixel_first[x_a], ink.pixel_first[x_b])
        rows = ink.pixel_row[columns]
        solid_ink = ink.pixel_dark[columns][(rows >= y_a) & (rows < y_b)]
        solid = float(np.percentile(solid_ink, _SOLID_PERCENTILE)) if solid_ink.size else 1.0
        specks = ink.blob_width[index] < speck_width
        dots = (ink.blob_width[index] <= dot) & (ink.blob_height[index] <= dot)
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


def _chain(runs: _Runs, baseline: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest chain of runs: its columns and the run picked in each, left to right.

    The costs and picks are those of taking every column in turn with array operations over all its and its
    predecessors' run slots; done faster with the same sums in the same order: most columns of a trace hold one
    run that plainly goes on from the previous column's one run (``_plain``): those are chained in whole
    stretches; a column among few runs is worked out on plain floats, over its runs only.
    """
    width, slots = runs.start.shape
    distance = np.maximum(np.abs(runs.centre - baseline) / spacing - _FREE_ZONE, 0.0)
    node = (_ROW_COST * np.nan_to_num(distance) ** 2 + _SPECK_COST * runs.speck
            - _INK_REWARD * np.nan_to_num(runs.length))
    node[~np.isfinite(runs.start)] = np.inf
    cost = np.full((width + _LOOKBACK, slots), np.inf)  # _LOOKBACK rows of padding before column 0
    back = np.zeros((width, slots), np.int16)  # index into the previous LOOKBACK columns' runs, -1: chain start
    counts = np.isfinite(runs.start).sum(axis=1)
    if not counts.any():
        return np.zeros(0, int), np.zeros(0, int)
    lone = (counts == 1) & (np.convolve(counts > 1, np.ones(_LOOKBACK + 1), mode="full")[: width] == 0)
    first_links = _first_links(runs)  # (width, LOOKBACK): from the first run of column j - k to column j's
    plain = _plain(lone, counts, node[:, 0], first_links)
    occupied = np.flatnonzero((counts > 0) & ~plain)
    before = np.convolve(counts, np.ones(_LOOKBACK), mode="full")[: width]  # runs in columns j - LOOKBACK .. j - 1
    before = np.r_[0, before[:-1]]
    heavy = np.flatnonzero((counts > 0) & ~lone & ~plain & (counts * before > _FEW_PAIRS))
    links = dict(zip(heavy.tolist(), _link_costs(runs, heavy)))  # (LOOKBACK * slots, slots) per such column
    edges = np.flatnonzero(np.diff(np.r_[0, plain.view(np.int8), 0]))
    stretches = dict(zip(edges[::2] - 1, edges[1::2]))  # column before a stretch of plain columns -> its end
    first_cost = [np.inf] * (width + _LOOKBACK)  # a plain copy of cost[:, 0] for the lone-run fast path
    rows: dict[int, list[float]] = {}  # costs of the runs of columns with several
    # plain floats of the columns worked out one at a time, and of those they look back to
    single, node_list = (dict(zip(occupied.tolist(), values[occupied].tolist())) for values in (first_links, node))
    near = np.unique(np.maximum(occupied[:, None] - np.arange(_LOOKBACK + 1), 0))
    run_starts, run_ends = (dict(zip(near.tolist(), values[near].tolist())) for values in (runs.start, runs.end))
    counts_list, lone_list = counts.tolist(), lone.tolist()
    every = np.arange(slots)
    for j in occupied.tolist():
        start = _SKIP_COST * j
        if lone_list[j]:  # this and the previous columns hold one run each: plain floats, no arrays
            best, pick = start, -1
            for k in range(1, _LOOKBACK + 1):
                total = first_cost[j + _LOOKBACK - k] + single[j][k - 1]
                if total < best:
                    best, pick = total, (k - 1) * slots
            back[j, 0] = pick
            first_cost[j + _LOOKBACK] = cost[j + _LOOKBACK, 0] = best + node_list[j][0]
        elif j in links:  # many runs around: arrays
            earlier = cost[j : j + _LOOKBACK][::-1].ravel()  # columns j - 1, j - 2, ... (padded)
            total = earlier[:, None] + links[j]
            pick = np.argmin(total, axis=0)
            best = total[pick, every]
            back[j] = np.where(best < start, pick, -1)
            cost[j + _LOOKBACK] = np.minimum(best, start) + node[j]
            rows[j] = cost[j + _LOOKBACK].tolist()
            first_cost[j + _LOOKBACK] = rows[j][0]
        else:  # a few runs: as the arrays would, over the runs present only (missing ones cost inf)
            here = []
            for i in range(counts_list[j]):
                top, bottom = run_starts[j][i], run_ends[j][i]
                best, pick = np.inf, 0
                for k in range(1, min(_LOOKBACK, j) + 1):
                    previous = j - k
                    costs = rows[previous] if counts_list[previous] > 1 else [first_cost[previous + _LOOKBACK]]
                    skip = _SKIP_COST * (k - 1)
                    for slot in range(counts_list[previous]):
                        gap = max(0.0, max(top - run_ends[previous][slot], run_starts[previous][slot] - bottom))
                        total = costs[slot] + (_GAP_COST * gap + skip)
                        if total < best:
                            best, pick = total, (k - 1) * slots + slot
                back[j, i] = pick if best < start else -1
                here.append(min(best, start) + node_list[j][i])
            cost[j + _LOOKBACK, : len(here)] = here
            rows[j] = here
            first_cost[j + _LOOKBACK] = here[0]
        if (stop := stretches.get(j)) is not None:  # columns j + 1 .. stop - 1 go on from their left neighbour
            steps = np.empty(2 * (stop - j) - 1)
            steps[0] = first_cost[j + _LOOKBACK]
            steps[1::2], steps[2::2] = first_links[j + 1 : stop, 0], node[j + 1 : stop, 0]
            chained = np.add.accumulate(steps)[2::2]  # cost + link, + node: one column at a time's sums
            cost[j + 1 + _LOOKBACK : stop + _LOOKBACK, 0] = chained
            first_cost[j + 1 + _LOOKBACK : stop + _LOOKBACK] = chained.tolist()
    finish = cost[_LOOKBACK:] + _SKIP_COST * (width - 1 - np.arange(width))[:, None]
    j, i = (int(v) for v in np.unravel_index(int(np.argmin(finish)), finish.shape))
    stretch_first = np.maximum.accumulate(np.where(plain, -1, np.arange(width)))  # a plain column's stretch - 1
    columns, picks = [j], [i]
    while back[j, i] >= 0:
        if i == 0 and plain[j]:  # back to the column before the stretch, through all of it
            first = int(stretch_first[j])
            columns += range(j - 1, first - 1, -1)
            picks += [0] * (j - first)
            j = first
            continue
        step, i = divmod(int(back[j, i]), slots)
        j -= step + 1
        columns.append(j)
        picks.append(i)
    return np.array(columns[::-1]), np.array(picks[::-1])


_FEW_PAIRS = 24  # a column whose runs times its predecessors' runs are at most this is worked out on plain floats


def _first_links(runs: _Runs) -> np.ndarray:
    """:func:`_link_costs` from the first run of column j - k to the first run of column j: (width, LOOKBACK)."""
    width = runs.start.shape[0]
    starts = np.where(np.isfinite(runs.start[:, 0]), runs.start[:, 0], 1e9)
    ends = np.where(np.isfinite(runs.end[:, 0]), runs.end[:, 0], -1e9)
    links = np.full((width, _LOOKBACK), np.inf)
    for k in range(1, _LOOKBACK + 1):
        gap = np.maximum(0.0, np.maximum(starts[k:] - ends[:-k], starts[:-k] - ends[k:]))
        links[k:, k - 1] = _GAP_COST * gap + _SKIP_COST * (k - 1)
    return links


_TIE_MARGIN = 1e-6  # the plain-column bounds hold by this much (far beyond rounding), so no tie is decided otherwise


def _plain(lone: np.ndarray, counts: np.ndarray, node: np.ndarray, single: np.ndarray) -> np.ndarray:
    """Columns whose one run certainly chains to the previous column's one run: going on from there costs less than
    starting a chain, or than coming from two or three columns back (``single``: (width, LOOKBACK) link costs from
    the first run of columns j - 1, j - 2, j - 3; ``node``: each column's first run's cost).

    The bounds use only that a column's cost is at most its left neighbour's plus their link and its node, or a
    chain starting there (costs are never needed). Column j's cost then is that sum, and its back link column j - 1.
    """
    width = lone.size
    plain = np.zeros(width, bool)
    if width <= _LOOKBACK or _LOOKBACK != 3:
        return plain
    j = np.arange(_LOOKBACK, width)
    one, two, three = single[j, 0], single[j, 1], single[j, 2]
    via_left = node[j - 1] + one  # the left neighbour's node and the link to it
    prior = single[j - 1, 0] + via_left  # from two columns back through the left neighbour
    with np.errstate(invalid="ignore"):
        beats_start = via_left < _SKIP_COST - _TIE_MARGIN
        beats_two = prior < two - _TIE_MARGIN
        beats_three = ((single[j - 2, 0] + node[j - 2] + prior < three - _TIE_MARGIN)
                       | (single[j - 1, 1] + via_left < three - _TIE_MARGIN))
    plain[j] = lone[j] & (counts[j - 1] == 1) & beats_start & beats_two & beats_three
    return plain


def _link_costs(runs: _Runs, columns: np.ndarray) -> np.ndarray:
    """Cost of chaining each run of column j - k (k = 1.._LOOKBACK) to each run of column j, for each of ``columns``:
    (columns, k*slot, slot)."""
    slots = runs.start.shape[1]
    starts = np.where(np.isfinite(runs.start), runs.start, 1e9)
    ends = np.where(np.isfinite(runs.end), runs.end, -1e9)
    links = np.full((columns.size, _LOOKBACK, slots, slots), np.inf)
    for k in range(1, _LOOKBACK + 1):
        has = columns >= k
        here, there = columns[has], columns[has] - k
        gap = np.maximum(0.0, np.maximum(starts[here, None, :] - ends[there, :, None],
                                         starts[there, :, None] - ends[here, None, :]))
        links[has, k - 1] = _GAP_COST * gap + _SKIP_COST * (k - 1)
    return links.reshape(columns.size, _LOOKBACK * slots, slots)


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
