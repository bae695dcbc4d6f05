"""Read a scan's page once: upright page, grid, region, ink, lead layout and scales, and the reasons against answering.

Everything here works on the analysis-size copy (core.classify.preprocess); crops in and out are in pixels
of the full-size UPRIGHT page, so a page fed upside down, in portrait, askew or photographed is cropped,
shown and reported upright. The crop, the applicability reasons, the layout fingerprint, the digitizer
and the overlays all take what they need from one :class:`PageReading`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.classify.preprocess import reduce_for_analysis
from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox, CropResult, find_diagnostic_region
from ecg_desktop.core.page.geometry import PageTransform, find_page_transform
from ecg_desktop.core.page.ink import FAINT_INK_RATIO, InkMap, brightest_of, colour_planes, ink_map
from ecg_desktop.core.page.layout import PageLayout, read_layout
from ecg_desktop.core.page.reasons import crop_reasons, page_reasons


@dataclass(frozen=True)
class Grid:
    """The ECG grid found: its 5 mm square across and down, in pixels of the analysis copy."""

    pitch_x: float
    pitch_y: float

    @property
    def px_per_mm(self) -> tuple[float, float]:
        return self.pitch_x / 5, self.pitch_y / 5


@dataclass(frozen=True)
class PageReading:
    """One page, read once (see the module docstring); positions in ``work`` pixels unless said otherwise."""

    work: np.ndarray  # upright analysis-size copy
    box: CropBox  # the region read and classified, in ``work`` pixels
    crop: CropBox  # the same region in pixels of the full-size upright page
    page_transform: PageTransform  # full-size file pixels -> full-size upright page pixels
    source_size: tuple[int, int]  # (width, height) of the full-size file
    grid: Grid | None  # None when no grid was found
    ink: InkMap  # the trace ink of the region (``box``)
    layout: PageLayout  # rows, panels, pulses and scales inside the region (region pixels)
    reasons: tuple[Reason, ...]

    @property
    def page_size(self) -> tuple[int, int]:
        """(width, height) of the full-size upright page."""
        return self.page_transform.size

    @property
    def page_scale(self) -> float:
        """Full-size upright page pixels per ``work`` pixel."""
        return self.page_size[0] / self.work.shape[1]


def read_page(
    image: np.ndarray, *, image_size: tuple[int, int] | None = None, crop: CropBox | None = None
) -> PageReading:
    """Read ``image`` (BGR uint8; a reduced copy of a ``image_size`` file, or full size when None).

    ``crop`` (full-size upright pixels) replaces the automatic region; a crop that cuts off leads the
    automatic region holds is a reason not to answer.
    """
    analysis = reduce_for_analysis(image)
    width, height = image_size or (image.shape[1], image.shape[0])
    page = orient(analysis, turn=crop is None)
    transform, work, found, detected = page.transform, page.work, page.found, page.detected
    page_transform = transform.scaled(width / analysis.shape[1], height / analysis.shape[0])
    page_size = page_transform.size
    sx, sy = page_size[0] / work.shape[1], page_size[1] / work.shape[0]
    grid = detected.grid
    if crop is None:
        box, region = found.box, detected
        reasons = page_reasons(grid is not None, region.layout)
    else:
        box = crop.scaled(1 / sx, 1 / sy).clamped(work.shape[1], work.shape[0])
        if grid is None:
            grid = _grid(find_diagnostic_region(work[box.y0 : box.y1, box.x0 : box.x1]))
        region = _Region.read(work, box, grid, page.bright)
        reasons = crop_reasons(detected.layout, found.box, box) if found.grid_found else ()
        reasons = reasons or page_reasons(grid is not None, region.layout)
    full = crop if crop is not None else box.scaled(sx, sy)
    return PageReading(work, box, full.clamped(*page_size), page_transform, (width, height), grid, region.ink,
                       region.layout, reasons)


@dataclass(frozen=True)
class Oriented:
    """The upright page (``work``, and its brightest channel when worked out exactly), its automatic region
    (``found``) and what that region holds (``detected``)."""

    transform: PageTransform
    work: np.ndarray
    bright: np.ndarray | None
    found: CropResult
    detected: _Region

    @classmethod
    def read(cls, transform: PageTransform, analysis: np.ndarray, planes: tuple[np.ndarray, ...], bright: np.ndarray
             ) -> Oriented:
        """``analysis`` made upright by ``transform`` and its region read (``planes``: its colour planes,
        core.page.ink.colour_planes; ``bright``: their maximum)."""
        work = transform.apply(analysis)
        if transform.is_quarter_turn:  # no interpolation: the planes turn as the page does
            found = find_diagnostic_region(work, tuple(transform.apply(plane) for plane in planes))
            upright_bright = transform.apply(bright)
        else:
            found, upright_bright = find_diagnostic_region(work), None
        return cls(transform, work, upright_bright, found, _Region.read(work, found.box, _grid(found), upright_bright))


def orient(analysis: np.ndarray, *, turn: bool = True) -> Oriented:
    """The upright page (core.page.geometry), its automatic region and what the region holds.

    With ``turn``, a page whose rows mostly show no calibration pulse where they begin, but mostly do half
    turned, is half turned: the header cue of core.page.geometry fails on pages with little of a header.
    """
    planes = colour_planes(analysis)
    bright = brightest_of(planes)
    page = Oriented.read(find_page_transform(analysis, bright), analysis, planes, bright)
    if turn and page.detected.layout.rows and not _mostly_pulsed(page.detected.layout):
        turned = Oriented.read(page.transform.turned_half(), analysis, planes, bright)
        if _mostly_pulsed(turned.detected.layout):
            return turned
    return page


def _mostly_pulsed(layout: PageLayout) -> bool:
    """More than half the rows begin with a calibration pulse."""
    return sum(row.pulse is not None for row in layout.rows) > len(layout.rows) / 2


def as_it_comes(analysis: np.ndarray, *, turn: bool = True) -> Oriented:
    """:func:`orient` leaving the page as it comes: no turn, deskew or rectification (``turn``, taken as
    :func:`orient` takes it so that training.ablation can put this in its place, changes nothing)."""
    identity = PageTransform.identity(analysis.shape[1], analysis.shape[0])
    planes = colour_planes(analysis)
    return Oriented.read(identity, analysis, planes, brightest_of(planes))


@dataclass(frozen=True)
class _Region:
    """A region's grid, ink and layout."""

    grid: Grid | None
    ink: InkMap
    layout: PageLayout

    @classmethod
    def read(cls, work: np.ndarray, box: CropBox, grid: Grid | None, bright: np.ndarray | None) -> _Region:
        """``box`` of ``work`` (``bright``: its brightest channel, when worked out) read."""
        rows, columns = slice(box.y0, box.y1), slice(box.x0, box.x1)
        region, bright = work[rows, columns], None if bright is None else bright[rows, columns]
        ink = ink_map(region, bright)
        layout = read_layout(ink, grid.px_per_mm if grid else None)
        if grid is None and not layout.calibrated:  # paper without a grid: thin, faint traces (no grid line is ink)
            faint = ink.with_ratio(FAINT_INK_RATIO)
            if (faint_layout := read_layout(faint, None)).calibrated:
                return cls(grid, faint, faint_layout)
        return cls(grid, ink, layout)


def _grid(found: CropResult) -> Grid | None:
    """The grid of a region search, or None."""
    return Grid(*found.grid_pitches) if found.grid_pitches else None


def upright(image: np.ndarray, page_transform: PageTransform, source_size: tuple[int, int]) -> np.ndarray:
    """``image`` (the file at full size or any reduced copy of it) turned into the upright page."""
    if page_transform.is_identity:
        return image
    factor_x, factor_y = image.shape[1] / source_size[0], image.shape[0] / source_size[1]
    return page_transform.scaled(factor_x, factor_y).apply(image)
