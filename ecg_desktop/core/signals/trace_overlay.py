"""Where a digitization's traces lie on the image a front end shows, as polylines to draw over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ecg_desktop.core import palette
from ecg_desktop.core.page.geometry import PageTransform

if TYPE_CHECKING:  # only the type (see core.signals.signal_reading)
    from ecg_desktop.core.signals.digitize import Digitization


@dataclass(frozen=True, eq=False)
class TraceLine:
    """One traced stretch of a panel: its lead, colour (hex) and (n, 2) float x, y in pixels of the shown image."""

    lead: str
    colour: str
    points: np.ndarray


def trace_lines(
    digitization: Digitization, *, shown: PageTransform | None, shown_size: tuple[int, int]
) -> list[TraceLine]:
    """Every panel's traced stretches (a gap where no trace was found breaks the line) over the shown image.

    ``shown``: the full-size transform of the upright page on screen (None: the file is shown as it is);
    ``shown_size``: (width, height) of the image on screen, which may be a reduced copy of that page.
    Panels alternate colours by column so each panel's start and end can be seen.
    """
    lines = []
    for panel in digitization.panels:
        points = _on_shown(panel.pixels.astype(np.float64), digitization, shown, shown_size)
        colour = palette.TRACES[panel.column % len(palette.TRACES)]
        lines += [TraceLine(panel.lead, colour, run) for run in _runs(points)]
    return lines


def _on_shown(
    points: np.ndarray, digitization: Digitization, shown: PageTransform | None, shown_size: tuple[int, int]
) -> np.ndarray:
    """Points on the digitization's full-size upright page -> pixels of the shown image (NaN rows kept)."""
    page = digitization.page_transform
    if shown is not None and shown == page:
        base = page.size
    else:  # through the file's pixels: the page on screen was made upright by another reading (or not at all)
        points = _mapped(points, np.linalg.inv(page.homography))
        if shown is not None:
            points = _mapped(points, shown.homography)
        base = shown.size if shown is not None else digitization.source_size
    scale = np.array([shown_size[0] / base[0], shown_size[1] / base[1]])
    return (points + 0.5) * scale - 0.5


def _mapped(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    out = np.full_like(points, np.nan)
    finite = ~np.isnan(points).any(axis=1)
    if finite.any():
        out[finite] = cv2.perspectiveTransform(points[finite][None], homography)[0]
    return out


def _runs(points: np.ndarray) -> list[np.ndarray]:
    """The stretches of at least two consecutive finite points."""
    finite = ~np.isnan(points).any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
    return [points[start:stop] for start, stop in zip(edges[::2], edges[1::2]) if stop - start >= 2]
