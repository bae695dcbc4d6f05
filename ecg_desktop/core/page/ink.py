"""Trace ink of a printout region: how dark each pixel is against the local paper, and which pixels are ink.

Ink is dark in every colour channel while grid lines of any colour are bright in at least one, so the
brightest channel is compared with the local paper brightness (the brightest pixel nearby, found on a
reduced copy): pink, blue or grey grids, uneven light and photocopies leave the traces alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_RATIO = 0.6  # darker than 60% of the local paper brightness is ink (as core.classify.preprocess)
_PAPER_BLOCK = 8  # paper brightness is estimated on a copy this many times smaller, then dilated 5x5


@dataclass(frozen=True)
class InkMap:
    """Ink of a region: ``mask`` (bool) and ``darkness`` (float32, 0 on paper, 1 black), same shape as the region,
    and the ink's connected blobs: ``blobs`` (label per pixel, 0 on paper) and ``blob_size`` (width, height per label)."""

    mask: np.ndarray
    darkness: np.ndarray
    blobs: np.ndarray
    blob_size: np.ndarray


def ink_map(region: np.ndarray) -> InkMap:
    """The ink of a BGR (or grey) uint8 region."""
    bright = region if region.ndim == 2 else cv2.max(cv2.max(region[..., 0], region[..., 1]), region[..., 2])
    height, width = bright.shape
    small = cv2.resize(bright, (max(1, width // _PAPER_BLOCK), max(1, height // _PAPER_BLOCK)),
                       interpolation=cv2.INTER_AREA)
    paper = cv2.resize(cv2.dilate(small, np.ones((5, 5), np.uint8)), (width, height), interpolation=cv2.INTER_LINEAR)
    paper = np.maximum(paper.astype(np.float32), 1.0)
    darkness = np.clip(1.0 - bright.astype(np.float32) / paper, 0.0, 1.0)
    mask = darkness > 1.0 - INK_RATIO
    _, blobs, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    return InkMap(mask, darkness, blobs, stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]])
