"""Find the diagnostic region of a scan: the ECG grid, without the printed header and footer."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_WORK_WIDTH = 512
_MIN_REGION_FRACTION = 0.2
_MIN_PAPER_BRIGHTNESS = 150  # median of the darkest channel inside the grid: paper is light (scans here: ~245)


@dataclass(frozen=True)
class CropBox:
    """A pixel rectangle ``[x0, x1) x [y0, y1)`` in image coordinates."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def full(cls, image: np.ndarray) -> CropBox:
        """The whole image."""
        height, width = image.shape[:2]
        return cls(0, 0, width, height)

    def clamped(self, width: int, height: int) -> CropBox:
        """This box limited to an image of the given size (at least 1 pixel each way)."""
        x0 = min(max(self.x0, 0), width - 1)
        y0 = min(max(self.y0, 0), height - 1)
        x1 = min(max(self.x1, x0 + 1), width)
        y1 = min(max(self.y1, y0 + 1), height)
        return CropBox(x0, y0, x1, y1)

    def scaled(self, sx: float, sy: float) -> CropBox:
        """This box in an image ``sx`` times wider and ``sy`` times taller (rounded to pixels)."""
        return CropBox(round(self.x0 * sx), round(self.y0 * sy), round(self.x1 * sx), round(self.y1 * sy))

    def as_list(self) -> list[int]:
        """``[x0, y0, x1, y1]`` as used in JSON and CSV output."""
        return [self.x0, self.y0, self.x1, self.y1]

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class CropResult:
    """The box to use and whether it came from a detected ECG grid."""

    box: CropBox
    grid_found: bool


def find_diagnostic_region(image: np.ndarray) -> CropResult:
    """Locate the pink/red ECG grid; fall back to the whole image when none is found.

    Works on a 512-pixel-wide copy: the grid's faint red tint survives area averaging,
    so the largest tinted connected region is the grid including its border.
    """
    height, width = image.shape[:2]
    scale = _WORK_WIDTH / width
    small = cv2.resize(image, (_WORK_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    red = small[:, :, 2].astype(np.int16)
    tint = red - small[:, :, 1].astype(np.int16)
    mask = ((tint > 4) & (red > 120)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return CropResult(CropBox.full(image), grid_found=False)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, _ = stats[best]
    if w * h < _MIN_REGION_FRACTION * mask.size:
        return CropResult(CropBox.full(image), grid_found=False)
    if np.median(small[y : y + h, x : x + w].min(axis=2)) < _MIN_PAPER_BRIGHTNESS:
        return CropResult(CropBox.full(image), grid_found=False)  # tinted but dark: not grid paper
    box = CropBox(round(x / scale), round(y / scale), round((x + w) / scale), round((y + h) / scale))
    return CropResult(box.clamped(width, height), grid_found=True)
