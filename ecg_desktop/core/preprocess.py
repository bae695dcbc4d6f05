"""The single preprocessing step shared by training and inference."""

from __future__ import annotations

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox

INPUT_SIZE = 227
ANALYSIS_MIN_SIDE = 700  # the pipeline works on a copy reduced 2, 4 or 8 times while its shorter side stays above this
_REDUCTIONS = (8, 4, 2)
_INK_RATIO = 0.6  # darker than 60% of the local paper brightness is ink; lone grid dots are dropped as specks


def analysis_reduction(width: int, height: int) -> int:
    """How many times smaller than the file the pipeline works (1, 2, 4 or 8).

    A 2213x1572 scan is analysed at 1107x786: its traces are still several pixels wide there, and
    decoding, cropping and ink emphasis cost a quarter. JPEGs are decoded straight at that size.
    """
    return next((f for f in _REDUCTIONS if min(width, height) // f >= ANALYSIS_MIN_SIDE), 1)


def reduced_size(width: int, height: int, reduction: int) -> tuple[int, int]:
    """Size of an image reduced ``reduction`` times, rounded up as JPEG decoders do."""
    return -(-width // reduction), -(-height // reduction)


def reduce_for_analysis(image: np.ndarray) -> np.ndarray:
    """``image`` area-averaged down to the analysis resolution (unchanged when already there)."""
    height, width = image.shape[:2]
    reduction = analysis_reduction(width, height)
    if reduction == 1:
        return image
    return cv2.resize(image, reduced_size(width, height, reduction), interpolation=cv2.INTER_AREA)


def emphasize_ink(region: np.ndarray, scale_x: float, scale_y: float) -> np.ndarray:
    """Thicken dark trace ink so it survives downscaling by (scale_x, scale_y).

    Ink is found relative to the local paper brightness (so grid colour, lighting and scanner
    gamma matter little), dilated by about half a target pixel, and darkened into the image.
    """
    blue, green, red = cv2.split(region)
    gray = cv2.min(cv2.min(blue, green), red)
    height, width = gray.shape
    small = cv2.resize(gray, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.resize(cv2.dilate(small, np.ones((5, 5), np.uint8)), (width, height), interpolation=cv2.INTER_LINEAR)
    ink = cv2.compare(gray, cv2.multiply(paper, _INK_RATIO), cv2.CMP_LT)
    ink = _drop_specks(ink, min_area=max(4, round(scale_x * scale_y / 2)))
    kernel = np.ones((max(1, round(scale_y / 2)), max(1, round(scale_x / 2))), np.uint8)
    shade = cv2.bitwise_not(cv2.dilate(ink, kernel))  # 0 on thickened ink, 255 elsewhere
    return cv2.min(region, cv2.merge([cv2.max(shade, 40)] * 3))


def halve_large(region: np.ndarray, scale_x: float, scale_y: float) -> tuple[np.ndarray, float, float]:
    """Work at half resolution when the region is over 4x the target size (4x less work, same result)."""
    if min(scale_x, scale_y) < 4:
        return region, scale_x, scale_y
    height, width = region.shape[:2]
    half = cv2.resize(region, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return half, scale_x / 2, scale_y / 2


def _drop_specks(mask: np.ndarray, *, min_area: int) -> np.ndarray:
    """Remove connected blobs smaller than ``min_area`` pixels (grid dots, JPEG noise), keep traces."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = (stats[:, cv2.CC_STAT_AREA] >= min_area).astype(np.uint8) * 255
    keep[0] = 0
    return keep[labels]


def preprocess(image: np.ndarray, box: CropBox, *, size: int = INPUT_SIZE, emphasize: bool = True) -> np.ndarray:
    """Crop a BGR uint8 image to ``box``, emphasise the traces, resize to ``size`` square, scale to [0, 1].

    Returns float32 RGB in CHW layout (add a batch axis to feed the CNN). ``emphasize=False`` is the
    seed's plain crop-and-resize, kept for the baseline in the training comparison.
    """
    box = box.clamped(image.shape[1], image.shape[0])
    region = image[box.y0 : box.y1, box.x0 : box.x1]
    if emphasize:
        region = emphasize_ink(*halve_large(region, box.width / size, box.height / size))
    resized = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)


def ink_fraction(batch: np.ndarray) -> np.ndarray:
    """Share of each preprocessed input (N x 3 x S x S) that is dark trace ink; ECG printouts have a few percent."""
    return (batch.min(axis=1) < 0.5).mean(axis=(1, 2))
