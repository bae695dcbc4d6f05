"""Training-time augmentation: geometric (rotation, shift, zoom, shear, perspective) and photometric."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox
from ecg_desktop.core.preprocess import INPUT_SIZE, emphasize_ink, halve_large

WORK_SIZE = 2 * INPUT_SIZE  # warp at twice the input size, then area-resize like preprocess()
MARGIN = 0.06  # context kept around the crop so shifts and zoom-out show real page, not padding


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transforms; ``photometric`` adds what real scans and photos need."""

    rotation_deg: float = 2.0
    shift: float = 0.03
    zoom: float = 0.06
    shear: float = 0.04
    perspective: float = 0.0003
    photometric: bool = True


SEED_AUGMENT = AugmentConfig(rotation_deg=5.0, shift=0.05, zoom=0.1, shear=0.1, perspective=0.0, photometric=False)


def context_region(image: np.ndarray, box: CropBox, *, emphasize: bool = True) -> np.ndarray:
    """The crop plus a margin, scaled so the crop box itself is WORK_SIZE pixels square."""
    height, width = image.shape[:2]
    mx, my = round(box.width * MARGIN), round(box.height * MARGIN)
    padded = cv2.copyMakeBorder(image, my, my, mx, mx, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    region = padded[box.y0 : box.y1 + 2 * my, box.x0 : box.x1 + 2 * mx]
    if emphasize:
        region = emphasize_ink(*halve_large(region, box.width / INPUT_SIZE, box.height / INPUT_SIZE))
    size = (round(WORK_SIZE * (1 + 2 * MARGIN)), round(WORK_SIZE * (1 + 2 * MARGIN)))
    return cv2.resize(region, size, interpolation=cv2.INTER_AREA)


def augment(region: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """One random view of a context region as float32 RGB CHW in [0, 1] at INPUT_SIZE."""
    offset = WORK_SIZE * MARGIN
    centre = WORK_SIZE / 2
    angle = np.deg2rad(rng.uniform(-config.rotation_deg, config.rotation_deg))
    zoom = np.exp(rng.uniform(-config.zoom, config.zoom))
    shear = rng.uniform(-config.shear, config.shear)
    tx, ty = rng.uniform(-config.shift, config.shift, size=2) * WORK_SIZE
    cos, sin = np.cos(angle), np.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]]) / zoom
    # Map output pixels to region pixels: centre, transform, move back, skip the margin.
    homography = np.eye(3)
    homography[:2, :2] = linear
    homography[:2, 2] = centre + offset + np.array([tx, ty]) - linear @ np.array([centre, centre])
    homography[2, :2] = rng.uniform(-config.perspective, config.perspective, size=2)
    warped = cv2.warpPerspective(
        region, homography, (WORK_SIZE, WORK_SIZE),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=(255, 255, 255),
    )
    small = cv2.resize(warped, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    if config.photometric:
        small = _photometric(small, rng)
    rgb = small[:, :, ::-1] / 255.0
    return np.ascontiguousarray(np.clip(rgb, 0.0, 1.0).transpose(2, 0, 1), dtype=np.float32)


def _photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, colour cast, blur and sensor noise of scanners and phone cameras."""
    contrast = rng.uniform(0.85, 1.15)
    brightness = rng.uniform(-15, 10)
    cast = rng.uniform(-5, 5, size=3)
    image = (image - 128.0) * contrast + 128.0 + brightness + cast
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.3, 0.9))
    if rng.random() < 0.3:
        image = image + rng.normal(0.0, rng.uniform(1, 6), size=image.shape)
    return image.astype(np.float32)
