"""Occlusion saliency: which parts of the cropped scan drove the top class, overall and per lead.

Each region of the 227x227 model input is painted over with paper colour in turn; the drop in the
top class's probability is that region's importance. Runs on the ONNX model (no PyTorch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_desktop.core.crop import CropBox
from ecg_desktop.core.model import EcgModel
from ecg_desktop.core.preprocess import preprocess
from ecg_desktop.core.reading import read_page

# The standard printout (3 rows of 4 leads, then a rhythm strip), as fractions of the grid crop.
LEAD_ROWS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
ROW_EDGES = (0.0, 0.27, 0.515, 0.76, 1.0)
COLUMN_EDGES = (0.04, 0.273, 0.507, 0.74, 1.0)
RHYTHM = "rhythm strip"


@dataclass(frozen=True)
class Saliency:
    """Importance of each input region for ``class_id`` (grid x grid, in [0, 1]) and of each lead panel."""

    class_id: str
    heatmap: np.ndarray
    lead_scores: dict[str, float]


def _occluded(batch: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    paper = np.median(batch[0].reshape(3, -1), axis=1)[:, None, None]
    views = np.repeat(batch, len(boxes), axis=0)
    for view, (x0, y0, x1, y1) in zip(views, boxes):
        view[:, y0:y1, x0:x1] = paper
    return views


def lead_boxes(size: int) -> dict[str, tuple[int, int, int, int]]:
    """Pixel boxes of the 12 lead panels and the rhythm strip in a ``size`` x ``size`` model input."""
    def px(f: float) -> int:
        return int(round(f * size))

    boxes = {}
    for r, names in enumerate(LEAD_ROWS):
        for c, name in enumerate(names):
            boxes[name] = (px(COLUMN_EDGES[c]), px(ROW_EDGES[r]), px(COLUMN_EDGES[c + 1]), px(ROW_EDGES[r + 1]))
    boxes[RHYTHM] = (px(COLUMN_EDGES[0]), px(ROW_EDGES[3]), size, size)
    return boxes


def occlusion_saliency(
    model: EcgModel, image: np.ndarray, crop: CropBox, *, grid: int = 8, image_size: tuple[int, int] | None = None
) -> Saliency:
    """Occlusion map on a ``grid`` x ``grid`` lattice plus per-lead scores, for the top class.

    ``crop`` and ``image_size`` as for EcgModel.classify, so the input is the one that was classified.
    """
    size = model.manifest.input_size
    page = read_page(image, image_size=image_size, crop=crop)
    batch = preprocess(page.work, page.box)[None]
    base = model.probabilities(batch)[0]
    top = int(np.argmax(base))
    edges = np.linspace(0, size, grid + 1).round().astype(int)
    cells = [(edges[c], edges[r], edges[c + 1], edges[r + 1]) for r in range(grid) for c in range(grid)]
    leads = lead_boxes(size)
    probs = model.probabilities(_occluded(batch, cells + list(leads.values())))[:, top]
    drops = np.clip(base[top] - probs, 0.0, None)
    heat = drops[: len(cells)].reshape(grid, grid)
    peak = float(heat.max())
    heatmap = (heat / peak if peak > 0 else heat).astype(np.float32)
    lead_scores = {name: float(d) for name, d in zip(leads, drops[len(cells):])}
    return Saliency(model.manifest.class_ids[top], heatmap, lead_scores)


def top_leads(saliency: Saliency, count: int = 3) -> list[str]:
    """The ``count`` lead panels whose occlusion lowered the top class most (only those that lowered it)."""
    ranked = sorted(saliency.lead_scores.items(), key=lambda item: item[1], reverse=True)
    return [name for name, drop in ranked[:count] if drop > 0]


def describe_top_leads(saliency: Saliency, count: int = 3) -> str:
    """``'V5, V3, rhythm strip'``, or a plain sentence when no single lead panel mattered."""
    leads = top_leads(saliency, count)
    return ", ".join(leads) if leads else "no single lead panel stood out"
