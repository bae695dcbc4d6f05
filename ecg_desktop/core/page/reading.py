"""Read a scan's page: make it upright, find the diagnostic region, and say whether its layout is the supported one.

Everything here works on the analysis-size copy (core.classify.preprocess); crops in and out are in pixels of
the full-size UPRIGHT page, so a page fed upside down, in portrait, askew or photographed is cropped,
shown and reported upright.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.classify.preprocess import reduce_for_analysis
from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox, CropResult, find_diagnostic_region
from ecg_desktop.core.page.geometry import PageTransform, find_page_transform
from ecg_desktop.core.page.layout import crop_reasons, layout_reasons, read_layout

NO_GRID_REASON = Reason(
    "no_grid",
    "No ECG grid was found in the classified region. The model reads only 12-lead printouts on grid paper; "
    "check that this is one (a very faint copy or a cut-off grid can also cause this).",
)


@dataclass(frozen=True)
class PageReading:
    """The upright analysis copy, the region to classify in it, and the page-level reasons against answering."""

    work: np.ndarray  # upright analysis-size copy
    box: CropBox  # the region, in ``work`` pixels
    crop: CropBox  # the same region in pixels of the full-size upright page
    page_transform: PageTransform  # full-size file pixels -> full-size upright page pixels
    source_size: tuple[int, int]  # (width, height) of the full-size file
    reasons: tuple[Reason, ...]

    @property
    def page_size(self) -> tuple[int, int]:
        """(width, height) of the full-size upright page."""
        return self.page_transform.size


def read_page(
    image: np.ndarray, *, image_size: tuple[int, int] | None = None, crop: CropBox | None = None
) -> PageReading:
    """Read ``image`` (BGR uint8; a reduced copy of a ``image_size`` file, or full size when None).

    ``crop`` (full-size upright pixels) replaces the automatic region; a crop that cuts off leads the
    automatic region holds is a reason not to answer.
    """
    analysis = reduce_for_analysis(image)
    width, height = image_size or (image.shape[1], image.shape[0])
    transform = find_page_transform(analysis)
    work = transform.apply(analysis)
    page_transform = transform.scaled(width / analysis.shape[1], height / analysis.shape[0])
    page_size = page_transform.size
    sx, sy = page_size[0] / work.shape[1], page_size[1] / work.shape[0]
    found = find_diagnostic_region(work)
    if crop is None:
        box = found.box
        reasons = _page_reasons(work, box, found.grid_found, found.grid_pitch_px)
    else:
        box = crop.scaled(1 / sx, 1 / sy).clamped(work.shape[1], work.shape[0])
        reasons = _crop_reasons(work, box, found)
    full = crop if crop is not None else box.scaled(sx, sy)
    return PageReading(work, box, full.clamped(*page_size), page_transform, (width, height), reasons)


def _crop_reasons(work: np.ndarray, box: CropBox, found: CropResult) -> tuple[Reason, ...]:
    """For a user's crop: does it cut off leads of the page's grid, and is what it holds the supported layout?"""
    if not found.grid_found:
        inside = find_diagnostic_region(work[box.y0 : box.y1, box.x0 : box.x1])
        return _page_reasons(work, box, inside.grid_found, inside.grid_pitch_px)
    return crop_reasons(work, found.box, box) or layout_reasons(read_layout(work, box, found.grid_pitch_px))


def _page_reasons(work: np.ndarray, box: CropBox, grid_found: bool, pitch: float | None) -> tuple[Reason, ...]:
    """No grid, or a grid whose lead layout is not the supported one."""
    if not grid_found:
        return (NO_GRID_REASON,)
    return layout_reasons(read_layout(work, box, pitch))


def upright(image: np.ndarray, page_transform: PageTransform, source_size: tuple[int, int]) -> np.ndarray:
    """``image`` (the file at full size or any reduced copy of it) turned into the upright page."""
    if page_transform.is_identity:
        return image
    factor_x, factor_y = image.shape[1] / source_size[0], image.shape[0] / source_size[1]
    return page_transform.scaled(factor_x, factor_y).apply(image)
