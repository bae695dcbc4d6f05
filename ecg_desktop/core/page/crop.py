"""Find the diagnostic region of a scan: the ECG grid, without the printed header and footer.

The grid is found by its periodic structure, not by its colour: thin lines or dots repeating every
1 mm (and heavier every 5 mm) in both directions. Pink, blue, green or grey grids, dot grids and
faint photocopied grids all give the same high-pass periodic signal on the darkest channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ecg_desktop.core.page.ink import colour_planes, darkest_of

_WORK_WIDTH = 1120  # larger images are area-reduced to about this width (analysis copies are used as they are)
_MIN_REGION_FRACTION = 0.2
_TINT_WIDTH = 512
_MIN_PAPER_BRIGHTNESS = 150  # median of the darkest channel inside the grid: paper is light (scans here: ~245)
_MIN_PERIOD, _MAX_PERIOD = 2.5, 45.0  # grid period searched, work pixels
_MIN_PERIODICITY = 0.03  # comb contrast of the summed autocorrelation at the grid period (dataset scans: ~0.06-0.09)
_MIN_TILE_PERIODICITY = 0.3  # normalized autocorrelation one period away, across and down, in a grid tile (~0.6)
_CANDIDATES = np.exp(np.arange(np.log(_MIN_PERIOD), np.log(_MAX_PERIOD), 0.0025))
_COMB_TEETH = 30
_TEETH = _CANDIDATES[:, None] * np.arange(1, _COMB_TEETH + 1)[None, :]  # each candidate's comb: its multiples
_GAPS = _TEETH - _CANDIDATES[:, None] / 2  # and the points half-way between them
_TEETH_AT, _GAPS_AT = _TEETH.astype(np.intp), _GAPS.astype(np.intp)  # the samples below them
_TEETH_FRACTION, _GAPS_FRACTION = _TEETH - _TEETH_AT, _GAPS - _GAPS_AT  # and how far past them
_COMB_REACH = int(_TEETH_AT.max()) + 2  # samples up to the last tooth's and the one after it
_FINE_SPAN, _FINE_STEPS = 0.04, 80  # the period is refined within 4% of the first lobe's top, in 0.05% steps
_LINE_STEP = 6  # rows (columns) sampled for the period across (down)
_INK_LEVEL = 160  # darker than this is ink (traces, text), left out of the grid signal
_MINOR_CELLS = 100  # a grid with more periods than this across its width repeats every 1 mm, not 5 mm
_WHOLE_PAGE = 0.97  # a tinted block spanning more than this of both sides is the paper's colour cast
_CAST_PERCENTILE, _RELATIVE_TINT = 20, 1.025  # a photo's paper cast, and the grid's tint ratio above it
_SQUARE = 1.08  # the periods across and down may differ by this factor at most
_OTHER_LINES = 1.5  # fundamentals across and down further apart than this are of different lines (1 mm vs 5 mm)


@dataclass(frozen=True)
class CropBox:
    """A pixel rectangle ``[x0, x1) x [y0, y1)`` in image coordinates."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def full(cls, image: np.ndarray) -> CropBox:
        """The whole image."""
        height, width = image.shape[:2]
        return cls(0, 0, width, height)

    def clamped(self, width: int, height: int) -> CropBox:
        """This box limited to an image of the given size (at least 1 pixel each way)."""
        x0 = min(max(self.x0, 0), width - 1)
        y0 = min(max(self.y0, 0), height - 1)
        x1 = min(max(self.x1, x0 + 1), width)
        y1 = min(max(self.y1, y0 + 1), height)
        return CropBox(x0, y0, x1, y1)

    def scaled(self, sx: float, sy: float) -> CropBox:
        """This box in an image ``sx`` times wider and ``sy`` times taller (rounded to pixels)."""
        return CropBox(round(self.x0 * sx), round(self.y0 * sy), round(self.x1 * sx), round(self.y1 * sy))

    def as_list(self) -> list[int]:
        """``[x0, y0, x1, y1]`` as used in JSON and CSV output."""
        return [self.x0, self.y0, self.x1, self.y1]

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class CropResult:
    """The box to use, whether it came from a detected ECG grid, and the grid's 5 mm square in pixels."""

    box: CropBox
    grid_found: bool
    grid_pitch_px: float | None = None
    grid_pitches: tuple[float, float] | None = None  # the 5 mm square across and down (a photo's may differ)


def find_diagnostic_region(image: np.ndarray, planes: tuple[np.ndarray, ...] | None = None) -> CropResult:
    """Locate the ECG grid (any colour, lines or dots); fall back to the whole image when none is found.

    ``planes``: the image's colour planes (core.page.ink.colour_planes), when already split.
    """
    height, width = image.shape[:2]
    none = CropResult(CropBox.full(image), grid_found=False)
    scale = min(1.0, _WORK_WIDTH / width)
    small = image if scale == 1.0 else cv2.resize(
        image, (round(width * scale), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    planes = planes if planes is not None and scale == 1.0 else colour_planes(small)
    paper = darkest_of(planes)  # grid lines of any hue are darker than paper in it
    signal = grid_signal(paper)
    periods = _periods(signal)
    if periods is None:
        return none
    (px, rx), (py, ry) = periods
    if abs(np.log(px / py / 5)) < np.log(_SQUARE):
        px /= 5  # 5 mm lines across, 1 mm lines down (faint minor lines, e.g. at 100 dpi): the grid is the 1 mm one
    elif abs(np.log(py / px / 5)) < np.log(_SQUARE):
        py /= 5
    if max(px, py) > _SQUARE * min(px, py):
        periods = _shared_periods(signal)  # each direction found another fraction of the 5 mm lines
        if periods is None:
            return none
        (px, rx), (py, ry) = periods
    if min(rx, ry) < _MIN_PERIODICITY or max(px, py) > _SQUARE * min(px, py):
        return none
    period = (px + py) / 2
    pitch = period * 5 if signal.shape[1] / period > _MINOR_CELLS else period
    region = _tinted_region(planes)
    if region is not None and min(region.width / signal.shape[1], region.height / signal.shape[0]) > _WHOLE_PAGE:
        region = _tinted_region(planes, relative=True)  # the whole photo is tinted (warm light): tint above the cast
        if region is not None and min(region.width / signal.shape[1], region.height / signal.shape[0]) > _WHOLE_PAGE:
            region = None
    if region is None or region.width * region.height < _MIN_REGION_FRACTION * signal.size:
        region = _periodic_region(signal, round(period))
        if region is None or region.width * region.height < _MIN_REGION_FRACTION * signal.size:
            return none
        region = _refine(highpass(paper), region, round(1.5 * pitch))
    if _median(paper[region.y0 : region.y1 : 2, region.x0 : region.x1 : 2]) < _MIN_PAPER_BRIGHTNESS:
        return none  # periodic but dark: not grid paper
    box = region.scaled(1 / scale, 1 / scale).clamped(width, height)
    cells = pitch / period  # 5 when the period found is the 1 mm one
    return CropResult(box, grid_found=True, grid_pitch_px=pitch / scale, grid_pitches=(px * cells / scale, py * cells / scale))


def grid_periods(image: np.ndarray) -> tuple[float, float] | None:
    """The grid's periods across and down (pixels of ``image``, any size), or None without a periodic grid.

    A photo rectified with a slightly wrong aspect shows the square grid as a rectangle: the ratio tells.
    """
    scale = min(1.0, _WORK_WIDTH / image.shape[1])
    small = image if scale == 1.0 else cv2.resize(
        image, (round(image.shape[1] * scale), max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    signal = grid_signal(darkest_of(colour_planes(small)))
    periods = _periods(signal)
    if periods is None or min(periods[0][1], periods[1][1]) < _MIN_PERIODICITY:
        return None
    across, down = periods[0][0], periods[1][0]
    if max(across, down) > _OTHER_LINES * min(across, down):
        across, down = _strongest_periods(signal)  # the heavy 5 mm lines, both ways
    return across / scale, down / scale


def _median(values: np.ndarray) -> float:
    """``np.median`` of uint8 values, read from their histogram (no partial sort; OpenCV's histogram counts them
    sooner than ``np.bincount``, which widens each to an index first)."""
    counts = np.cumsum(cv2.calcHist([np.ascontiguousarray(values)], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    middle = (int(counts[-1]) - 1) / 2
    low, high = np.searchsorted(counts, [np.floor(middle), np.ceil(middle)], side="right")
    return (low + high) / 2


def _periods(signal: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(period, periodicity) across and down of a grid signal, or None where either has none."""
    across, down = (_period(lines) for lines in _sampled_lines(signal))
    return None if across is None or down is None else (across, down)


def _sampled_lines(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every _LINE_STEP-th row (for the period across) and column, as rows (for the period down), in float32.

    The columns are gathered into a compact copy first: their means and the rows made of them are read from
    it, not from the whole signal.
    """
    return signal[::_LINE_STEP].astype(np.float32), signal[:, ::_LINE_STEP].astype(np.float32).T


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of a uint8 mask: count, labels, stats, centroids.

    The same labels, stats and centroids as ``cv2.connectedComponentsWithStats`` (block-based in both), by
    OpenCV's BBDT labelling, which takes about half the time of its default on these masks; the labels are
    16-bit (sooner still) when the mask cannot hold more components than that: separate 8-connected components
    are a pixel apart, so there are at most one per 2 x 2 block.
    """
    height, width = mask.shape
    label_type = cv2.CV_16U if (height + 1) // 2 * ((width + 1) // 2) < 2**16 else cv2.CV_32S
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, label_type, cv2.CCL_BBDT)


def highpass(paper: np.ndarray) -> np.ndarray:
    """Darkness above the 5 x 5 local mean (int16): thin lines, dots and ink edges."""
    dark = cv2.bitwise_not(paper)
    return cv2.subtract(dark, cv2.blur(dark, (5, 5)), dtype=cv2.CV_16S)


def grid_signal(paper: np.ndarray) -> np.ndarray:
    """High-pass darkness (int16) of a single-channel image without the ink, clipped so that no line outweighs the
    rest."""
    signal = highpass(paper)
    away_from_ink = cv2.erode(cv2.threshold(paper, _INK_LEVEL - 1, 255, cv2.THRESH_BINARY)[1], np.ones((3, 3), np.uint8))
    signal = cv2.bitwise_and(signal, signal, mask=away_from_ink)  # 0 on ink and next to it
    cap = max(4, int(_sorted_percentile(np.abs(signal[::4, ::4]), 96)))
    return np.clip(signal, -cap, cap, out=signal)


def _sorted_percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` of small non-negative integers, taken of them sorted by their histogram (the
    same values: NumPy's partial sort is quick on sorted ones)."""
    counts = np.bincount(values.ravel())
    return float(np.percentile(np.repeat(np.arange(counts.size, dtype=values.dtype), counts), q))


def _period(lines: np.ndarray) -> tuple[float, float] | None:
    """The fundamental period along the rows of ``lines`` and its periodicity (autocorrelation at its multiples minus half-way between).

    Each candidate period is scored by a comb over the rows' summed autocorrelation; the shortest
    period scoring close to the best one is the fundamental (multiples of it score as well, halves do not).
    """
    auto = _autocorrelation(lines)
    if auto is None:
        return None
    first = _fundamental(_comb(auto))
    return None if first is None else (_refined_period(auto, first[0]), first[1])


def _autocorrelation(lines: np.ndarray) -> np.ndarray | None:
    """The rows' autocorrelations summed (so a long trace in one row does not swamp the grid), normalized,
    up to a third of the row length; None when too short or flat."""
    size = lines.shape[1]
    padded = cv2.getOptimalDFTSize(size + size // 3)
    centred = np.subtract(lines, lines.mean(axis=1, keepdims=True), order="C")  # rows contiguous (also down)
    spectrum = np.fft.rfft(centred, padded, axis=1)
    auto = np.fft.irfft((np.abs(spectrum) ** 2).sum(axis=0), padded)[: size // 3]
    if auto[0] <= 0 or auto.size < 3 * _MAX_PERIOD:
        return None
    return auto / auto[0]


def _comb(auto: np.ndarray) -> np.ndarray:
    """Each candidate period's comb contrast: the autocorrelation at its multiples minus half-way between.

    Interpolated as :func:`_interpolate` does, bit for bit, at the fixed teeth and gaps: the autocorrelation is
    padded with zeros up to the last tooth, so no sample below one needs clamping (the teeth past its end, and
    their gaps, are left out).
    """
    valid, teeth = _valid_teeth(auto.size)
    values = np.zeros(max(auto.size, _COMB_REACH))
    values[: auto.size] = auto
    slopes = np.diff(values)
    contrast = ((slopes[_TEETH_AT] * _TEETH_FRACTION + values[_TEETH_AT])
                - (slopes[_GAPS_AT] * _GAPS_FRACTION + values[_GAPS_AT]))
    return np.where(valid, contrast, 0).sum(axis=1) / teeth


@lru_cache(maxsize=8)
def _valid_teeth(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which comb teeth lie inside an autocorrelation of ``size`` samples (before its last), and how many for each
    candidate period."""
    valid = _TEETH < size - 1
    return valid, valid.sum(axis=1)


def _fundamental(comb: np.ndarray) -> tuple[float, float] | None:
    """The top of the first lobe of the comb scoring at least half its best, and the best; None when not periodic."""
    best = float(comb.max())
    if best < _MIN_PERIODICITY:
        return None
    index = int(np.argmax(comb >= 0.5 * best))
    while index + 1 < comb.size and comb[index + 1] >= comb[index]:
        index += 1  # the top of the first lobe, not where it crosses half the best
    return float(_CANDIDATES[index]), best


def _refined_period(auto: np.ndarray, first: float) -> float:
    """The sub-pixel period within 4% of ``first``: the comb over every multiple the autocorrelation holds."""
    fine = first * np.exp(np.linspace(-_FINE_SPAN, _FINE_SPAN, 2 * _FINE_STEPS + 1))
    teeth = np.arange(1, int((auto.size - 2) // fine[-1]) + 1)
    lags = fine[:, None] * teeth[None, :]
    score = _interpolate(auto, lags, lags.astype(np.intp)).sum(axis=1)
    return float(fine[np.argmax(score)])


def _strongest_periods(signal: np.ndarray) -> tuple[float, float]:
    """The best-scoring period across and down (a periodic grid's autocorrelations are not None)."""
    autos = [_autocorrelation(lines) for lines in _sampled_lines(signal)]
    across, down = (_refined_period(auto, float(_CANDIDATES[np.argmax(_comb(auto))])) for auto in autos)
    return across, down


def _shared_periods(signal: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(period, periodicity) across and down of the one fundamental periodic in both directions, or None.

    For a grid whose heavy 5 mm lines make a fraction of 5 mm (e.g. a third) look like the fundamental
    one way, while the faint 1 mm lines are found the other way: the comb is each candidate's worse score.
    """
    autos = [_autocorrelation(lines) for lines in _sampled_lines(signal)]
    if autos[0] is None or autos[1] is None:
        return None
    first = _fundamental(np.minimum(_comb(autos[0]), _comb(autos[1])))
    if first is None:
        return None
    across, down = (_refined_period(auto, first[0]) for auto in autos)
    return (across, first[1]), (down, first[1])


def _interpolate(values: np.ndarray, at: np.ndarray, below: np.ndarray) -> np.ndarray:
    """``np.interp(at, np.arange(values.size), values)`` for ``at >= 0``, bit for bit, with ``below = floor(at)`` given.

    NumPy's own formula (slope times the distance from the sample below, plus that sample) without its
    binary search; points at or past the last sample, which NumPy clamps, are left to the caller to mask.
    """
    values = values.astype(np.float64)
    below = np.minimum(below, values.size - 2)
    return np.diff(values)[below] * (at - below) + values[below]


def _tinted_region(planes: tuple[np.ndarray, ...], relative: bool = False) -> CropBox | None:
    """The largest pink/red tinted block (the dataset's grid and border), as the shipped model was trained on.

    ``relative``: for a photo under coloured light, red over green beyond the paper's own cast (its
    ratio on the least red fifth of the page, the header and margins) and lit paper dimmed by the light.
    """
    if len(planes) != 3:
        return None
    height, width = planes[0].shape
    scale = _TINT_WIDTH / width
    # Each channel is averaged on its own: without blue, green and red come out as they do with it, sooner.
    tiny = cv2.resize(cv2.merge(planes[1:]), (_TINT_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    green, red = tiny[:, :, 0], tiny[:, :, 1].astype(np.int16)
    if relative:
        redness = red / (green + 1.0)
        cast = float(np.percentile(redness, _CAST_PERCENTILE))
        mask = ((redness > cast * _RELATIVE_TINT) & (red > 0.5 * np.percentile(red, 90))).astype(np.uint8)
    else:
        mask = ((red - green > 4) & (red > 120)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, _, stats, _ = components(mask)
    if count < 2:
        return None
    x, y, w, h, _ = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    return CropBox(x, y, x + w, y + h).scaled(1 / scale, 1 / scale)


def _periodic_region(signal: np.ndarray, lag: int) -> CropBox | None:
    """Bounding box of the largest block of tiles that repeat at ``lag`` both across and down."""
    tile = max(8, min(4 * lag, 32))
    signal = signal.astype(np.float32)  # its products in float32: int16 ones overflow
    h, w = ((n - lag) // tile * tile for n in signal.shape)
    core = signal[:h, :w]
    energy = _tile_sums(core * core, tile) + 1e-3
    across = _tile_sums(core * signal[:h, lag : w + lag], tile) / energy
    down = _tile_sums(core * signal[lag : h + lag, :w], tile) / energy
    mask = ((across > _MIN_TILE_PERIODICITY) & (down > _MIN_TILE_PERIODICITY)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count < 2:
        return None
    best = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    rows, cols = (np.flatnonzero(best.mean(axis=axis) >= 0.5 * best.mean(axis=axis).max()) for axis in (1, 0))
    return CropBox(cols[0] * tile, rows[0] * tile, (cols[-1] + 1) * tile, (rows[-1] + 1) * tile)


def _tile_sums(values: np.ndarray, tile: int) -> np.ndarray:
    """Sums over non-overlapping ``tile`` x ``tile`` blocks (the shape is a multiple of ``tile``)."""
    h, w = values.shape
    return values.reshape(h // tile, tile, w // tile, tile).sum(axis=(1, 3))


def _refine(lines: np.ndarray, region: CropBox, reach: int) -> CropBox:
    """Move each side of a coarse grid box to the outermost line (the grid's border) within ``reach`` pixels."""
    h, w = lines.shape
    dark = np.maximum(lines, 0).astype(np.float32)
    ys = slice(max(region.y0 + reach, 0), max(region.y1 - reach, region.y0 + reach + 1))
    xs = slice(max(region.x0 + reach, 0), max(region.x1 - reach, region.x0 + reach + 1))
    cols, rows = dark[ys].mean(axis=0), dark[:, xs].mean(axis=1)
    x0, x1 = _outer_line(cols, region.x0, reach, -1), _outer_line(cols, region.x1 - 1, reach, 1)
    y0, y1 = _outer_line(rows, region.y0, reach, -1), _outer_line(rows, region.y1 - 1, reach, 1)
    return CropBox(x0, y0, x1 + 1, y1 + 1).clamped(w, h)


def _outer_line(profile: np.ndarray, edge: int, reach: int, direction: int) -> int:
    """The outermost strong line of ``profile`` within ``reach`` of ``edge`` (going outward by ``direction``)."""
    lo, hi = max(edge - reach, 0), min(edge + reach + 1, profile.size)
    window = profile[lo:hi]
    if window.size == 0 or window.max() <= 0:
        return edge
    strong = np.flatnonzero(window > 0.5 * window.max())
    return lo + int(strong[0] if direction < 0 else strong[-1])
