"""Training-time augmentation: what clinics' copies look like (appearance) and how pages lie (geometry).

Every view goes through the core's ``preprocess`` with a warp, so training sees exactly what the app
computes; an identity view equals ``preprocess(image, box)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ecg_desktop.core.classify.preprocess import PREPROCESSING, PreprocessConfig, preprocess
from ecg_desktop.core.page.crop import CropBox

MARGIN = 0.06  # page kept around the crop so shifts, rotations and zoom-out show real page, not padding


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transforms and how often each appearance change is applied."""

    rotation_deg: float = 2.0
    shift: float = 0.03
    zoom: float = 0.06
    shear: float = 0.04
    perspective: float = 0.03  # corner displacement as a fraction of the box size
    low_resolution: float = 0.5  # probability of a copy at 50-80% of the resolution (100-160 dpi-like)
    greyscale: float = 0.3
    grid_hue: float = 0.3
    photocopy: float = 0.2
    lighting: float = 0.3
    noise: float = 0.3
    blur: float = 0.25
    jpeg: float = 0.3
    looks: int = 4  # appearance changes drawn once per scan and run; each view takes the clean scan or one of them


@dataclass(frozen=True)
class TrainingScan:
    """A scan's analysis-size pixels around its crop (``box`` in those pixels), clean and in ``looks``."""

    image: np.ndarray
    box: CropBox
    looks: tuple[np.ndarray, ...] = ()


def training_scan(image: np.ndarray, box: CropBox, config: AugmentConfig | None = None, seed: int = 0) -> TrainingScan:
    """Keep the crop and a margin of page around it (what augmentation can reach), with ``config.looks`` looks.

    Drawing the appearance changes once per scan (rather than per view) halves the cost of a view;
    geometry and resolution still change with every view.
    """
    height, width = image.shape[:2]
    mx, my = round(box.width * MARGIN), round(box.height * MARGIN)
    x0, y0 = max(0, box.x0 - mx), max(0, box.y0 - my)
    x1, y1 = min(width, box.x1 + mx), min(height, box.y1 + my)
    moved = CropBox(box.x0 - x0, box.y0 - y0, box.x1 - x0, box.y1 - y0)
    kept = np.ascontiguousarray(image[y0:y1, x0:x1])
    rng = np.random.default_rng(seed)
    looks = tuple(appearance(kept, rng, config) for _ in range(config.looks)) if config else ()
    return TrainingScan(kept, moved, looks)


def augment(
    scan: TrainingScan, rng: np.random.Generator, config: AugmentConfig, preprocessing: PreprocessConfig = PREPROCESSING
) -> np.ndarray:
    """One random view of ``scan`` as the model's input (float32 CHW in [0, 1]): a look, a resolution, a warp."""
    image, box = (scan.image, *scan.looks)[int(rng.integers(len(scan.looks) + 1))], scan.box
    if rng.random() < config.low_resolution:
        image, box = _low_resolution(image, box, rng)
    return preprocess(image, box, warp=random_warp(box, rng, config), config=preprocessing)


def random_warp(box: CropBox, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """A homography (image pixels -> warped pixels) rotating, shifting, zooming, shearing and tilting about the box."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    angle = np.deg2rad(rng.uniform(-config.rotation_deg, config.rotation_deg))
    zoom = np.exp(rng.uniform(-config.zoom, config.zoom))
    shear = rng.uniform(-config.shear, config.shear)
    tx, ty = rng.uniform(-config.shift, config.shift, size=2) * (box.width, box.height)
    cos, sin = np.cos(angle), np.sin(angle)
    affine = np.eye(3)
    affine[:2, :2] = zoom * np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear], [0.0, 1.0]])
    affine[:2, 2] = (cx + tx, cy + ty) - affine[:2, :2] @ (cx, cy)
    corners = np.float32([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    jitter = rng.uniform(-config.perspective, config.perspective, size=(4, 2)) * (box.width, box.height)
    tilt = cv2.getPerspectiveTransform(corners, (corners + jitter).astype(np.float32))
    return affine @ tilt


def appearance(image: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Grid hue, greyscale, photocopy, uneven lighting, blur, sensor noise and JPEG, each with its probability."""
    if rng.random() < config.grid_hue:
        image = _rotate_hue(image, rng)
    if rng.random() < config.greyscale:
        image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < config.photocopy:
        image = _photocopy(image, rng)
    if rng.random() < config.lighting:
        image = _uneven_lighting(image, rng)
    if rng.random() < config.blur:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < config.noise:
        image = _sensor_noise(image, rng)
    if rng.random() < config.jpeg:
        _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def _low_resolution(image: np.ndarray, box: CropBox, rng: np.random.Generator) -> tuple[np.ndarray, CropBox]:
    """The same page scanned at 50-80% of the resolution (as the analysis copy of a 100-160 dpi scan)."""
    factor = rng.uniform(0.5, 0.8)
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    sx, sy = small.shape[1] / width, small.shape[0] / height
    return small, box.scaled(sx, sy).clamped(small.shape[1], small.shape[0])


def _rotate_hue(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another grid colour (blue, green, orange ...): the hue turns, the grey ink and white paper stay."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0].astype(np.int16) + int(rng.integers(20, 160))) % 180
    if rng.random() < 0.5:
        hsv[:, :, 1] = np.clip(hsv[:, :, 1] * rng.uniform(1.0, 2.5), 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _photocopy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grey, harsh contrast (the pale grid fades or vanishes, ink goes black), toner specks."""
    contrast = rng.uniform(1.3, 2.5)
    white = rng.uniform(200, 245)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = cv2.addWeighted(grey, contrast, grey, 0.0, 255.0 - white * contrast)  # (grey - white) * contrast + 255
    count = int(grey.size * rng.uniform(0.0002, 0.002))
    ys, xs = rng.integers(0, grey.shape[0], count), rng.integers(0, grey.shape[1], count)
    grey[ys, xs] = rng.integers(0, 90)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def _uneven_lighting(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A linear light gradient across the page and a colour cast, as on phone photos and tired scanners."""
    height, width = image.shape[:2]
    gx, gy = rng.uniform(-0.35, 0.35, size=2)
    corners = 1.0 - abs(gx) / 2 - abs(gy) / 2 + np.array([[0.0, gx], [gy, gx + gy]])
    cast = rng.uniform(0.9, 1.05, size=3)
    small = (corners[:, :, None] * cast).astype(np.float32)
    ramp = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, ramp, dtype=cv2.CV_8U)


_NOISE = np.random.default_rng(12345).normal(0.0, 1.0, size=(1600, 1600)).astype(np.float32)


def _sensor_noise(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grey sensor noise of random strength (a window of one fixed noise field, for speed)."""
    height, width = image.shape[:2]
    y, x = rng.integers(0, _NOISE.shape[0] - height + 1), rng.integers(0, _NOISE.shape[1] - width + 1)
    noise = cv2.cvtColor(_NOISE[y : y + height, x : x + width] * rng.uniform(2, 8), cv2.COLOR_GRAY2BGR)
    return cv2.add(image, noise, dtype=cv2.CV_8U)
