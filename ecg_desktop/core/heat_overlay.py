"""Saliency heat maps as colours: the same colour map and opacity on screen (GUI) and in the PDF report."""

from __future__ import annotations

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox

ALPHA = 0.45  # opacity of the heat colours over the scan
_COLOUR_MAP = cv2.COLORMAP_JET  # blue (no effect) -> red (removing this region changed the result most)


def colour_heatmap(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """A ``height`` x ``width`` BGR image of ``heatmap`` (values in [0, 1]), smoothly upscaled, then colour-mapped."""
    values = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    smooth = cv2.resize(values, (max(1, width), max(1, height)), interpolation=cv2.INTER_LINEAR)
    return cv2.applyColorMap(np.round(smooth * 255).astype(np.uint8), _COLOUR_MAP)


def blend_over_crop(image: np.ndarray, crop: CropBox, heatmap: np.ndarray, *, alpha: float = ALPHA) -> np.ndarray:
    """A copy of the BGR ``image`` with ``heatmap`` laid over ``crop`` (the model input maps linearly onto it)."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    box = crop.clamped(out.shape[1], out.shape[0])
    region = out[box.y0 : box.y1, box.x0 : box.x1]
    colours = colour_heatmap(heatmap, box.width, box.height)
    out[box.y0 : box.y1, box.x0 : box.x1] = cv2.addWeighted(region, 1.0 - alpha, colours, alpha, 0.0)
    return out
