"""Occlusion saliency: which parts of the cropped scan drove the top class, overall and per lead.

A patch of the 227x227 model input is painted over with paper colour, sliding over the input one map
cell at a time; the drop in the top class's probability is that patch's importance, and each cell of
the map holds the mean drop of the patches that hid it. The leads named come from that same map: a
lead's score is the map's mean over its panel box. Runs on the ONNX model (no PyTorch).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.classify.preprocess import preprocess
from ecg_desktop.core.page.reading import PageReading

# The standard printout (3 rows of 4 leads, then a rhythm strip), as fractions of the grid crop.
LEAD_ROWS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
ROW_EDGES = (0.0, 0.27, 0.515, 0.76, 1.0)
COLUMN_EDGES = (0.04, 0.273, 0.507, 0.74, 1.0)
RHYTHM = "rhythm strip"
GRID = 16  # map cells per side (about 14 input pixels each)
PATCH = 2  # cells per side of one occluding patch (about 28 input pixels), slid one cell at a time


@dataclass(frozen=True)
class Saliency:
    """Importance of each input region for ``class_id`` and of each lead panel, on one scale.

    ``heatmap`` (grid x grid) holds drops in the top class's probability (0 to 1, not normalised per
    scan); ``lead_scores`` holds the mean of that same map over each lead's panel box (``lead_scores_of``).
    """

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
        return round(f * size)

    boxes = {}
    for r, names in enumerate(LEAD_ROWS):
        for c, name in enumerate(names):
            boxes[name] = (px(COLUMN_EDGES[c]), px(ROW_EDGES[r]), px(COLUMN_EDGES[c + 1]), px(ROW_EDGES[r + 1]))
    boxes[RHYTHM] = (px(COLUMN_EDGES[0]), px(ROW_EDGES[3]), size, size)
    return boxes


def heat_pixels(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """The map as a ``height`` x ``width`` float image, smoothly (bilinearly) upscaled.

    The one upscaling used both to score the leads and to draw the map (screen and PDF).
    """
    values = np.nan_to_num(np.asarray(heatmap, dtype=np.float32))
    return cv2.resize(values, (max(1, width), max(1, height)), interpolation=cv2.INTER_LINEAR)


def lead_scores_of(heatmap: np.ndarray, size: int) -> dict[str, float]:
    """Each lead panel's score: the mean of the map (upscaled to the ``size`` x ``size`` input) over its box."""
    pixels = heat_pixels(heatmap, size, size)
    return {name: float(pixels[y0:y1, x0:x1].mean()) for name, (x0, y0, x1, y1) in lead_boxes(size).items()}


def occlusion_saliency(model: EcgModel, page: PageReading, *, grid: int = GRID, patch: int = PATCH) -> Saliency:
    """Occlusion map on a ``grid`` x ``grid`` lattice, and per-lead scores taken from it, for the top class.

    ``page`` is the page reading that was classified (EcgModel.classify_page), so the input is the one classified.
    """
    size = model.manifest.input_size
    batch = preprocess(page.work, page.box)[None]
    base = model.probabilities(batch)[0]
    top = int(np.argmax(base))
    edges = np.linspace(0, size, grid + 1).round().astype(int)
    starts = range(grid - patch + 1)
    patches = [(c, r) for r in starts for c in starts]  # top-left cell of each patch
    boxes = [(edges[c], edges[r], edges[c + patch], edges[r + patch]) for c, r in patches]
    drops = np.clip(base[top] - model.probabilities(_occluded(batch, boxes))[:, top], 0.0, None)
    total, count = np.zeros((grid, grid)), np.zeros((grid, grid))
    for (c, r), drop in zip(patches, drops):
        total[r : r + patch, c : c + patch] += drop
        count[r : r + patch, c : c + patch] += 1
    heatmap = (total / count).astype(np.float32)
    return Saliency(model.manifest.class_ids[top], heatmap, lead_scores_of(heatmap, size))


def saliency_of(model: EcgModel, page: PageReading, result: Classification) -> Saliency | None:
    """The map of ``result``, on the page reading it was classified from: the one map the viewer, the PDF report
    and the command line show. None for a scan that is not assessable (no answer to explain).
    """
    if not result.assessable:
        return None
    return occlusion_saliency(model, page)


MIN_NAMED_DROP = 0.05  # a lead is named only when hiding it lowered the answer's probability this much on average:
# smaller drops are tinted at under a tenth of the map's opacity, too faint to see, and say little about the answer


def top_leads(saliency: Saliency, count: int = 3) -> list[str]:
    """The ``count`` lead panels with the highest map means, among those whose drop is material (MIN_NAMED_DROP)."""
    ranked = sorted(saliency.lead_scores.items(), key=lambda item: item[1], reverse=True)
    return [name for name, drop in ranked[:count] if drop >= MIN_NAMED_DROP]


def describe_top_leads(saliency: Saliency, count: int = 3) -> str:
    """``'V5 0.12, V3 0.08'`` (each lead with its mean drop), or why no lead is named, with the largest drop."""
    leads = top_leads(saliency, count)
    if leads:
        return ", ".join(f"{name} {saliency.lead_scores[name]:.2f}" for name in leads)
    name, drop = max(saliency.lead_scores.items(), key=lambda item: item[1], default=("", 0.0))
    largest = f"; the largest, {name}, {max(drop, 0.0):.2f}" if name else ""
    return f"no lead panel stood out (none lowered the probability by {MIN_NAMED_DROP:g} or more{largest})"


def saliency_line(saliency: Saliency) -> str:
    """The sentence the window and the report show: the leads that drove the result, with their magnitudes."""
    return f"Leads that drove the result (mean drop in its probability when the panel is hidden): " \
           f"{describe_top_leads(saliency)}."
