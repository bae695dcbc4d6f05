"""Page geometry: turn a scan or photo of a printout upright, deskew it and, for photos, rectify it.

Printouts are landscape pages with long horizontal traces. On a reduced copy the ink (pixels dark in
every channel, so any grid colour is left out) is projected onto rotated axes: the direction in which
the projection profile is sharpest is the traces' direction (quarter turn and skew, coarse to fine).
Upside down is told by the header: its rules (thin unbroken lines across most of the page; traces
are broken by every beat) lie above the middle of the page; without a rule, the header block makes
the page's top band inkier than its bottom band (a weaker cue).
A phone photo of the page on a darker table is first rectified from the page's four corners.
Clean upright scans give the identity transform and go through exactly unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.page.crop import grid_periods
from ecg_desktop.core.page.ink import brightest_channel

_WORK_SIDE = 400  # long side of the reduced copy analysed
_INK_FRACTION = 0.6  # ink is darker than this fraction of the paper brightness (in its brightest channel)
_PAPER_WINDOW = 0.05  # local paper brightness: the brightest pixel within this fraction of the long side
_EDGE = 0.01  # band along the image edges left out of the ink, fraction of the long side
_MAX_SKEW = 15.0  # degrees searched either way
_MIN_SKEW = 0.3  # smaller skews are left alone
_COARSE_STEP, _FINE_STEPS = 2.0, (0.5, 0.1, 0.025)  # degrees
_COARSE_STRIDE = 2  # every other ink pixel is enough for the coarse search
_BORDER = 0.02  # image border strip (fraction of the side) sampled for a photo's background
_DARK_BACKGROUND = 0.75  # a photo's background is darker than this fraction of the page
_PAGE_LEVELS = (0.3, 0.5, 0.7)  # page thresholds tried, as fractions from background to page (evened light)
_MIN_FIT = 0.95  # intersection over union of the page region and its quadrilateral (the best level is kept)
_MIN_PAGE_AREA = 0.3  # the page quadrilateral covers at least this fraction of the photo
_MAX_ASPECT_FIX = 1.25  # a rectified photo's height is corrected by at most this factor (the grid's squares)
_MIN_INK_POINTS = 50  # fewer ink pixels: nothing to orient by
_RULE_LENGTH = 0.5  # an unbroken line of ink longer than this fraction of the ink's width is a header rule
_RULE_THICKNESS = 0.012  # a rule (or a double rule) is at most this fraction of the long side thick
_HEADER_BAND = 0.15  # fraction of the ink's height compared at the top and bottom without a rule
_WHITE = (255, 255, 255)


@dataclass(frozen=True, eq=False)
class PageTransform:
    """How to turn an input image into the upright, deskewed (and, for photos, rectified) page."""

    homography: np.ndarray  # 3x3 float64: input pixel coords -> upright pixel coords
    size: tuple[int, int]  # (width, height) of the upright image, same pixel scale as the input
    quarter_turns: int  # 0..3 counter-clockwise quarter turns found
    skew_deg: float  # skew corrected, degrees (the page was found turned this much counter-clockwise)
    rectified: bool  # a perspective correction was applied

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PageTransform) and (self.size, self.quarter_turns, self.skew_deg, self.rectified) == (
            other.size, other.quarter_turns, other.skew_deg, other.rectified
        ) and np.array_equal(self.homography, other.homography)

    __hash__ = None  # type: ignore[assignment]  # holds an array

    @classmethod
    def identity(cls, width: int, height: int) -> PageTransform:
        """The transform that leaves a ``width x height`` image as it is."""
        return cls(np.eye(3), (width, height), 0, 0.0, False)

    @property
    def is_identity(self) -> bool:
        """Nothing to do: no turn, no skew, no rectification."""
        return self.quarter_turns == 0 and self.skew_deg == 0.0 and not self.rectified

    @property
    def is_quarter_turn(self) -> bool:
        """Only a quarter turn (or none): applied exactly with ``np.rot90``."""
        return self.skew_deg == 0.0 and not self.rectified

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The upright page: ``image`` itself when identity, exact ``np.rot90`` for quarter turns, else a warp."""
        if self.is_identity:
            return image
        if self.is_quarter_turn:
            return np.ascontiguousarray(np.rot90(image, self.quarter_turns))
        return cv2.warpPerspective(image, self.homography, self.size, flags=cv2.INTER_LINEAR, borderValue=_WHITE)

    def turned_half(self) -> PageTransform:
        """The same transform followed by half a turn (the page found upside down after all)."""
        width, height = self.size
        half = np.array([[-1.0, 0, width - 1], [0, -1, height - 1], [0, 0, 1]])
        return PageTransform(half @ self.homography, self.size, (self.quarter_turns + 2) % 4, self.skew_deg,
                             self.rectified)

    def scaled(self, factor_x: float, factor_y: float) -> PageTransform:
        """The same transform for the same picture ``factor_x`` times wider and ``factor_y`` times taller."""
        out_x, out_y = (factor_y, factor_x) if self.quarter_turns % 2 else (factor_x, factor_y)
        homography = _pixel_scale(out_x, out_y) @ self.homography @ np.linalg.inv(_pixel_scale(factor_x, factor_y))
        size = (round(self.size[0] * out_x), round(self.size[1] * out_y))
        return PageTransform(homography / homography[2, 2], size, self.quarter_turns, self.skew_deg, self.rectified)


def find_page_transform(image: np.ndarray, bright: np.ndarray | None = None) -> PageTransform:
    """The transform making a BGR (or grey) uint8 printout image upright, deskewed and, for photos, rectified.

    ``bright``: the image's brightest channel (core.page.ink.brightest_channel), when already worked out.
    """
    height, width = image.shape[:2]
    homography, size, rectified = np.eye(3), (width, height), False
    small, factor = _reduced(image, bright)
    corners = _page_corners(small)
    if corners is not None:
        homography, size = _rectification((corners + 0.5) * factor - 0.5)
        image = cv2.warpPerspective(image, homography, size, flags=cv2.INTER_LINEAR, borderValue=_WHITE)
        homography, size, image = _squared_grid(image, homography, size)
        rectified = True
        small, factor = _reduced(image)
    xs, ys, weights = _ink_points(small)
    turns, skew = _orientation_and_skew(xs, ys, weights, small.shape[1])
    if abs(skew) < _MIN_SKEW:
        skew = 0.0
    if turns == 0 and skew == 0.0 and not rectified:
        return PageTransform.identity(width, height)
    turned = _quarter_turn_matrix(turns, *size)
    size = size if turns % 2 == 0 else (size[1], size[0])
    rotation = np.vstack([cv2.getRotationMatrix2D(((size[0] - 1) / 2, (size[1] - 1) / 2), -skew, 1.0), [0, 0, 1]])
    return PageTransform(rotation @ turned @ homography, size, turns, skew, rectified)


def _reduced(image: np.ndarray, bright: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The brightest channel reduced to a long side of about :data:`_WORK_SIDE` (integer factor), and the factor.

    Ink is dark in every channel, a coloured grid is not. Each reduced pixel is the darkest of its
    block, so that thin ink lines survive the reduction.
    """
    height, width = image.shape[:2]
    bright = brightest_channel(image) if bright is None else bright
    factor = max(1, round(max(width, height) / _WORK_SIDE))
    if factor == 1:
        return bright, 1
    last_row = height - height % factor
    darkest = functools.reduce(cv2.min, (bright[i:last_row:factor] for i in range(factor)))  # of each block's rows
    darkest = cv2.erode(darkest, np.ones((1, factor), np.uint8), anchor=(0, 0))  # and of its columns
    return np.ascontiguousarray(darkest[:, : width - width % factor : factor]), factor


def _pixel_scale(factor_x: float, factor_y: float) -> np.ndarray:
    """Pixel coordinates (pixel centres) in an image ``factor`` times larger."""
    return np.array([[factor_x, 0, (factor_x - 1) / 2], [0, factor_y, (factor_y - 1) / 2], [0, 0, 1]])


def _quarter_turn_matrix(turns: int, width: int, height: int) -> np.ndarray:
    """Pixel coordinates of ``np.rot90(image, turns)`` from those of a ``width x height`` image."""
    matrix = np.eye(3)
    step = np.array([[0.0, 1, 0], [-1, 0, 0], [0, 0, 1]])
    for _ in range(turns % 4):
        step[1, 2] = width - 1
        matrix = step @ matrix
        width, height = height, width
    return matrix


def _ink_points(bright: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates and darkness of the ink pixels of a reduced brightest-channel image.

    Ink is darker than a fraction of the local paper brightness (the brightest pixel nearby), so that
    uneven light in a photo is not ink; a thin band along the image edges (a photo's table) is left out.
    """
    height, width = bright.shape
    side = max(3, round(_PAPER_WINDOW * max(height, width)))
    paper = cv2.dilate(bright, np.ones((side, side), np.uint8)).astype(np.float32)
    darkness = _INK_FRACTION * paper - bright.astype(np.float32)
    edge = max(1, round(_EDGE * max(height, width)))
    darkness[:edge], darkness[-edge:], darkness[:, :edge], darkness[:, -edge:] = 0, 0, 0, 0
    ys, xs = np.nonzero(darkness > 0)
    return xs.astype(np.float64), ys.astype(np.float64), darkness[ys, xs].astype(np.float64)


def _profile_sharpness(low: np.ndarray, low_part: np.ndarray, high_part: np.ndarray, bins: int) -> float:
    """Sum of squares of a 1-pixel projection profile: weights split between bins ``low`` and ``low + 1``."""
    profile = np.bincount(low, low_part, bins + 1)
    profile[1:] += np.bincount(low, high_part, bins)  # the upper bin's share
    return float(np.dot(profile, profile))


def _row_coords(xs: np.ndarray, ys: np.ndarray, degrees: float) -> np.ndarray:
    """Distance of each point across lines turned ``degrees`` counter-clockwise from horizontal."""
    angle = np.radians(degrees)
    return ys * np.cos(angle) + xs * np.sin(angle)


def _angle_scores(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Row-profile sharpness of the points for each angle (degrees), linear binning; one row of arrays per angle.

    The same arithmetic as ``_row_coords`` point by point, each angle's cosine and sine taken as a scalar.
    """
    reach = float(np.hypot(xs.max(), ys.max())) + 2
    bins = int(2 * reach) + 2
    radians = [np.radians(a) for a in angles]
    cos, sin = (np.array([turn(r) for r in radians])[:, None] for turn in (np.cos, np.sin))
    coords = ys * cos + xs * sin
    coords += reach  # in [0, bins - 1)
    low = coords.astype(np.int64)
    high_part = np.subtract(coords, low, out=coords)  # the fraction above the lower bin
    high_part *= weights
    low_part = weights - high_part
    return np.array([_profile_sharpness(*rows, bins) for rows in zip(low, low_part, high_part)])


def _refined_angle(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, start: float) -> float:
    """The angle of the sharpest row profile near ``start`` (a coarse estimate), searched finer and finer."""
    best, span = start, _COARSE_STEP
    for step in _FINE_STEPS:
        angles = best + np.arange(-span, span + step / 2, step)
        best, span = float(angles[np.argmax(_angle_scores(xs, ys, weights, angles))]), step
    return best


def _orientation_and_skew(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, width: int) -> tuple[int, float]:
    """Counter-clockwise quarter turns and remaining skew (degrees) that make the traces horizontal and upright."""
    if len(xs) < _MIN_INK_POINTS:
        return 0, 0.0
    coarse = np.arange(-_MAX_SKEW, _MAX_SKEW + _COARSE_STEP / 2, _COARSE_STEP)
    few = slice(None, None, _COARSE_STRIDE)
    flat = _angle_scores(xs[few], ys[few], weights[few], coarse)
    turned = _angle_scores(ys[few], width - 1 - xs[few], weights[few], coarse)  # the points of np.rot90(image, 1)
    turns = 0
    if turned.max() > flat.max():
        turns, xs, ys, flat = 1, ys, width - 1 - xs, turned
    skew = _refined_angle(xs, ys, weights, float(coarse[np.argmax(flat)]))
    if _upside_down(xs, ys, weights, skew):
        turns += 2
    return turns, skew


def _upside_down(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, skew: float) -> bool:
    """Whether the (horizontal, skew-corrected) page is upside down.

    Header rules decide: unbroken lines across most of the ink's width (traces are broken by every
    beat) lie above the middle of the page's ink. Without one, the page is upside down when there is
    more ink in its bottom band than in its top band (the header block).
    """
    angle = np.radians(skew)
    rows = _row_coords(xs, ys, skew)
    cols = xs * np.cos(angle) - ys * np.sin(angle)
    (top, bottom), (left, right) = np.percentile(rows, (1, 99)), np.percentile(cols, (1, 99))
    rules = _rule_rows(np.round(rows - rows.min()).astype(np.int64), np.round(cols - cols.min()).astype(np.int64),
                       _RULE_LENGTH * (right - left), _RULE_THICKNESS * max(rows.max(), cols.max())) + rows.min()
    if len(rules):
        return bool(np.mean(rules < (top + bottom) / 2) < 0.5)
    band = _HEADER_BAND * (bottom - top)
    return bool(np.sum(weights[rows > bottom - band]) > np.sum(weights[rows < top + band]))


def _rule_rows(rows: np.ndarray, cols: np.ndarray, length: float, thickness: float) -> np.ndarray:
    """Rows (of pixel index pairs ``rows``, ``cols``) of thin unbroken runs of ink longer than ``length``.

    Each row is merged with the next one, so that a line off by a fraction of a pixel over its length
    (a residual skew) still counts. Runs in more than ``thickness`` consecutive rows are a dark band
    (a photo's table), not a printed rule.
    """
    occupied = np.zeros((int(rows.max()) + 2, int(cols.max()) + 1), bool)
    occupied[rows, cols] = True
    occupied[1:] |= occupied[:-1].copy()
    found = [row for row in np.flatnonzero(occupied.sum(axis=1) > length) if _longest_run(occupied[row]) > length]
    groups = np.split(np.array(found, np.int64), np.flatnonzero(np.diff(found) > 1) + 1)
    return np.concatenate([group for group in groups if len(group) <= thickness] or [np.zeros(0, np.int64)])


def _longest_run(line: np.ndarray) -> int:
    """Length of the longest run of True in a boolean vector."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], line.view(np.int8), [0]])))
    return int(np.max(edges[1::2] - edges[::2], initial=0))


def _page_corners(grey: np.ndarray) -> np.ndarray | None:
    """The four corners (top-left, top-right, bottom-right, bottom-left) of a page photographed on a
    darker background (in perspective or square on), or None when the (reduced, single-channel) image is not such a photo."""
    h, w = grey.shape
    band = max(2, round(_BORDER * max(h, w)))
    ring = np.zeros((h, w), bool)
    ring[:band], ring[-band:], ring[:, :band], ring[:, -band:] = True, True, True, True
    background, page = float(np.median(grey[ring])), float(np.median(grey[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]))
    if background > _DARK_BACKGROUND * page:
        return None
    level = _evened(grey, ring & (grey < (background + page) / 2))
    background, page = float(np.median(level[ring])), float(np.median(level[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]))
    found = [_page_quadrilateral((level > background + f * (page - background)).astype(np.uint8)) for f in _PAGE_LEVELS]
    fit, quad = max(((f, q) for f, q in found if q is not None), key=lambda item: item[0], default=(0.0, None))
    return quad if fit >= _MIN_FIT else None


def _evened(grey: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``grey`` divided by the light falling on it: a plane fitted to the background pixels (mask)."""
    ys, xs = np.nonzero(background)
    if len(xs) < 3:
        return grey.astype(np.float32)
    design = np.column_stack([np.ones(len(xs)), xs, ys])
    coef = np.linalg.lstsq(design, grey[ys, xs].astype(np.float64), rcond=None)[0]
    yy, xx = np.mgrid[0 : grey.shape[0], 0 : grey.shape[1]]
    light = (coef[0] + coef[1] * xx + coef[2] * yy) / max(coef[0] + coef[1] * xs.mean() + coef[2] * ys.mean(), 1.0)
    return (grey / np.maximum(light, 0.2)).astype(np.float32)


def _page_quadrilateral(mask: np.ndarray) -> tuple[float, np.ndarray | None]:
    """The ordered corners of the largest region of a page mask when it is a large quadrilateral (else None),
    and how well they agree (intersection over union of the region and the quadrilateral)."""
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return 0.0, None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    if len(quad) != 4 or cv2.contourArea(quad.astype(np.float32)) < _MIN_PAGE_AREA * mask.size:
        return 0.0, None
    region, shape = np.zeros_like(mask), np.zeros_like(mask)
    cv2.drawContours(region, [max(contours, key=cv2.contourArea)], -1, 1, -1)
    cv2.fillPoly(shape, [quad.astype(np.int32)], 1)
    union = np.count_nonzero(region | shape)
    return np.count_nonzero(region & shape) / max(union, 1), _ordered_corners(quad.astype(np.float64))


def _ordered_corners(quad: np.ndarray) -> np.ndarray:
    """Four points ordered top-left, top-right, bottom-right, bottom-left."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    ordered = quad[np.argsort(angles)]  # clockwise on screen from the left
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _rectification(corners: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Homography taking the page corners to a rectangle of the quadrilateral's mean side lengths, and its size."""
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    width, height = round((sides[0] + sides[2]) / 2), round((sides[1] + sides[3]) / 2)
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    return cv2.getPerspectiveTransform(corners.astype(np.float32), target).astype(np.float64), (width, height)


def _squared_grid(image: np.ndarray, homography: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """A rectification corrected so that the grid's squares come out square (the quadrilateral's side lengths
    only approximate the page's aspect under perspective), with the rectified image; unchanged without a grid."""
    periods = grid_periods(image)
    if periods is None:
        return homography, size, image
    ratio = periods[0] / periods[1]  # stretch of the height that makes the periods equal
    if abs(np.log(ratio)) > np.log(_MAX_ASPECT_FIX) or abs(ratio - 1) < 0.005:
        return homography, size, image
    size = (size[0], max(1, round(size[1] * ratio)))
    homography = _pixel_scale(1.0, size[1] / image.shape[0]) @ homography
    return homography, size, cv2.warpPerspective(image, _pixel_scale(1.0, size[1] / image.shape[0]), size,
                                                flags=cv2.INTER_LINEAR, borderValue=_WHITE)
