"""Saliency heat maps as colours: the same colour map, fixed scale, legend and opacity on screen and in the PDF.

The scale is fixed, never normalised per scan: a colour means the same drop in probability on every
scan (0 is blue, ``SCALE_MAX`` or more is red), and the legend states it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox
from ecg_desktop.core.saliency import heat_pixels

ALPHA = 0.45  # opacity of the heat colours over the scan
SCALE_MAX = 0.5  # drop in probability drawn in the hottest colour (and every larger drop)
_COLOUR_MAP = cv2.COLORMAP_JET  # blue (no effect) -> red (hiding this region lowered the result by SCALE_MAX)
LEGEND_TITLE = "Drop in the result's probability when a region is hidden"
LEGEND_TICKS = ((0.0, "0"), (SCALE_MAX / 2, f"{SCALE_MAX / 2:g}"), (SCALE_MAX, f"{SCALE_MAX:g} or more"))  # evenly spaced


def colour_values(values: np.ndarray) -> np.ndarray:
    """BGR colours of drops in probability (any shape), on the fixed 0..SCALE_MAX scale."""
    values = np.asarray(values, dtype=np.float32)
    scaled = np.clip(np.nan_to_num(values) / SCALE_MAX, 0.0, 1.0)
    levels = np.round(scaled * 255).astype(np.uint8).reshape(-1, 1)
    return cv2.applyColorMap(levels, _COLOUR_MAP).reshape(*values.shape, 3)


def colour_heatmap(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """A ``height`` x ``width`` BGR image of ``heatmap`` (drops in probability), smoothly upscaled, then coloured."""
    return colour_values(heat_pixels(heatmap, width, height))


def legend_bar(width: int, height: int) -> np.ndarray:
    """A ``height`` x ``width`` BGR colour bar from 0 (left) to SCALE_MAX (right), for the legend."""
    ramp = np.linspace(0.0, SCALE_MAX, max(1, width), dtype=np.float32)
    return colour_values(np.repeat(ramp[None, :], max(1, height), axis=0))


def blend_over_crop(image: np.ndarray, crop: CropBox, heatmap: np.ndarray, *, alpha: float = ALPHA) -> np.ndarray:
    """A copy of the BGR ``image`` with ``heatmap`` laid over ``crop`` (the model input maps linearly onto it)."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    box = crop.clamped(out.shape[1], out.shape[0])
    region = out[box.y0 : box.y1, box.x0 : box.x1]
    colours = colour_heatmap(heatmap, box.width, box.height)
    out[box.y0 : box.y1, box.x0 : box.x1] = cv2.addWeighted(region, 1.0 - alpha, colours, alpha, 0.0)
    return out
