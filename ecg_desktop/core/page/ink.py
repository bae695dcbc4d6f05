"""The one trace-ink rule of the app: a pixel is ink when it is well under the local paper brightness.

Ink is dark in every colour channel while grid lines of any colour are bright in at least one, so the
brightest channel is compared with the local paper brightness (the brightest pixel nearby, found on a
reduced copy): pink, red, blue, green or grey grids, uneven light and photocopies leave the traces alone.
The page reading (core.page.layout), the digitizer, the layout fingerprint and the model's input
(core.classify.preprocess, which thickens the ink) all use :func:`paper_relative_ink`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, reduce

import cv2
import numpy as np

INK_RATIO = 0.6  # darker than 60% of the local paper brightness is ink
FAINT_INK_RATIO = 0.8  # on paper without a grid faint ink is no grid line: darker than 80% is ink
PAPER_BLOCK = 8  # paper brightness is estimated on a copy this many times smaller, then dilated 5x5


@dataclass(frozen=True)
class InkMap:
    """Ink of a region: ``mask`` (bool), from its brightest channel ``bright`` and the local ``paper`` brightness.

    ``darkness`` (float32, 0 on paper, 1 black) and the ink's connected blobs (``blobs``: label per pixel, 0 on
    paper; ``blob_size``: width, height per label) are worked out when first asked for (the digitizer does).
    """

    mask: np.ndarray
    bright: np.ndarray
    paper: np.ndarray
    ratio: float = INK_RATIO  # ink is darker than this share of the local paper

    def with_ratio(self, ratio: float) -> InkMap:
        """The same region's ink at another ``ratio`` of the paper (the brightest channel and paper reused)."""
        return _compared(self.bright, self.paper, ratio)

    @cached_property
    def darkness(self) -> np.ndarray:
        return self.darkness_of(slice(None), slice(None))

    def darkness_of(self, rows: slice | np.ndarray, columns: slice | np.ndarray) -> np.ndarray:
        """``darkness`` of some pixels only (``bright[rows, columns]``), without working it out for the whole map."""
        bright, paper = self.bright[rows, columns], self.paper[rows, columns]
        return np.clip(1.0 - bright.astype(np.float32) / np.maximum(paper.astype(np.float32), 1.0), 0.0, 1.0)

    @cached_property
    def _components(self) -> tuple[np.ndarray, np.ndarray]:
        _, blobs, stats, _ = cv2.connectedComponentsWithStats(self.mask.view(np.uint8), connectivity=8)
        return blobs, stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]]

    @property
    def blobs(self) -> np.ndarray:
        return self._components[0]

    @property
    def blob_size(self) -> np.ndarray:
        return self._components[1]


def colour_planes(image: np.ndarray) -> tuple[np.ndarray, ...]:
    """The colour planes of a BGR image, split once (a grey image is its own one plane): contiguous planes are
    faster to work on than strided views."""
    return (image,) if image.ndim == 2 else tuple(cv2.split(image))


def brightest_channel(region: np.ndarray) -> np.ndarray:
    """The per-pixel maximum over the colour channels (a grey image as it is)."""
    return brightest_of(colour_planes(region))


def brightest_of(planes: tuple[np.ndarray, ...]) -> np.ndarray:
    """The per-pixel maximum over colour planes (:func:`colour_planes`)."""
    return reduce(cv2.max, planes)


def darkest_of(planes: tuple[np.ndarray, ...]) -> np.ndarray:
    """The per-pixel minimum over colour planes (:func:`colour_planes`)."""
    return reduce(cv2.min, planes)


def local_paper(channel: np.ndarray, block: int = PAPER_BLOCK) -> np.ndarray:
    """The local paper brightness of a single-channel uint8 image: the brightest nearby, on a ``block`` times
    smaller copy dilated 5x5, brought back to full size."""
    height, width = channel.shape
    small = cv2.resize(channel, (max(1, width // block), max(1, height // block)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.dilate(small, np.ones((5, 5), np.uint8)), (width, height), interpolation=cv2.INTER_LINEAR)


def paper_relative_ink(channel: np.ndarray, ratio: float = INK_RATIO, block: int = PAPER_BLOCK) -> np.ndarray:
    """Mask (255) of the pixels of a single-channel uint8 image darker than ``ratio`` of the local paper."""
    return cv2.compare(channel, cv2.multiply(local_paper(channel, block), ratio), cv2.CMP_LT)


def ink_map(region: np.ndarray, bright: np.ndarray | None = None, *, ratio: float = INK_RATIO) -> InkMap:
    """The ink of a BGR (or grey) uint8 region (``bright``: its brightest channel, when already worked out);
    ``ratio`` :data:`FAINT_INK_RATIO` keeps thin, faint traces whole on paper without a grid."""
    bright = brightest_channel(region) if bright is None else bright
    return _compared(bright, local_paper(bright), ratio)


def _compared(bright: np.ndarray, paper: np.ndarray, ratio: float) -> InkMap:
    """The ink: pixels of ``bright`` darker than ``ratio`` of the local ``paper``."""
    return InkMap(np.less(bright, cv2.multiply(paper, ratio)), bright, paper, ratio)
