"""Saliency heat maps as colours: the same colour map, fixed scale, legend and opacity on screen and in the PDF.

The scale is fixed, never normalised per scan: a colour means the same drop in probability on every
scan, and the legend states it. The colours run from pale yellow (0) through orange to dark red
(``SCALE_MAX`` or more), each darker than the last, so their order survives a black-and-white print; over
the scan a colour is as opaque as its drop is large, so a region that did not matter stays as printed.
"""

from __future__ import annotations

import numpy as np

from ecg_desktop.core.classify.saliency import heat_pixels
from ecg_desktop.core.page.crop import CropBox

ALPHA = 0.6  # opacity of the hottest colour over the scan (a smaller drop is drawn fainter, 0 not at all)
SCALE_MAX = 0.5  # drop in probability drawn in the hottest colour (and every larger drop)
_STOPS_BGR = ((204, 255, 255), (60, 141, 253), (38, 0, 128))  # pale yellow, orange, dark red: ever darker
_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_STOPS_BGR)), channel)
                 for channel in zip(*_STOPS_BGR)], axis=1).round().astype(np.uint8)
LEGEND_TITLE = "Drop in the result's probability when a region is hidden"
LEGEND_TICKS = ((0.0, "0"), (SCALE_MAX / 2, f"{SCALE_MAX / 2:g}"), (SCALE_MAX, f"{SCALE_MAX:g} or more"))  # evenly spaced
LEGEND_NOTE = (f"Colours on a fixed scale, the same for every scan: no tint where hiding the region changed nothing, "
               f"dark red where it lowered the probability by {SCALE_MAX:g} or more (darker is a larger drop, also "
               "in black and white).")


def _levels(values: np.ndarray) -> np.ndarray:
    """Drops in probability as 0..255 on the fixed 0..SCALE_MAX scale."""
    scaled = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32)) / SCALE_MAX, 0.0, 1.0)
    return np.round(scaled * 255).astype(np.uint8)


def colour_values(values: np.ndarray) -> np.ndarray:
    """BGR colours of drops in probability (any shape), on the fixed 0..SCALE_MAX scale."""
    return _LUT[_levels(values)]


def heat_bgra(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """A ``height`` x ``width`` BGRA image of ``heatmap`` for laying over the scan: each colour ``ALPHA`` times its
    share of the scale opaque (what blend_over_crop paints)."""
    levels = _levels(heat_pixels(heatmap, width, height))
    alpha = np.round(levels.astype(np.float32) * ALPHA).astype(np.uint8)
    return np.dstack([_LUT[levels], alpha])


def legend_bar(width: int, height: int) -> np.ndarray:
    """A ``height`` x ``width`` BGR colour bar from 0 (left) to SCALE_MAX (right), for the legend."""
    ramp = np.linspace(0.0, SCALE_MAX, max(1, width), dtype=np.float32)
    return colour_values(np.repeat(ramp[None, :], max(1, height), axis=0))


def blend_over_crop(image: np.ndarray, crop: CropBox, heatmap: np.ndarray, *, alpha: float = ALPHA) -> np.ndarray:
    """A copy of the BGR ``image`` with ``heatmap`` laid over ``crop`` (the model input maps linearly onto it),
    each colour ``alpha`` times its share of the scale opaque."""
    out = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image.copy()
    box = crop.clamped(out.shape[1], out.shape[0])
    levels = _levels(heat_pixels(heatmap, box.width, box.height))
    weight = (alpha / 255.0) * levels[..., None].astype(np.float32)
    region = out[box.y0 : box.y1, box.x0 : box.x1].astype(np.float32)
    out[box.y0 : box.y1, box.x0 : box.x1] = np.round(region + weight * (_LUT[levels] - region)).astype(np.uint8)
    return out
