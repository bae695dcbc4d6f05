"""Acquisition conditions: what a clinic could also produce from the same paper ECG.

Each condition turns a real scan (BGR uint8, full size or the analysis-size copy) into another
acquisition of the same printout: a greyscale scan, a photocopy, a page fed upside down or in
portrait, a skewed page, a cart printing a blue grid, a 100 dpi scan, a phone photo. They are
used only to MEASURE the model (evaluation and tests), never to train the diagnosis.
Every function is deterministic for a given generator state; pixel sizes scale with the width.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

_REF_WIDTH = 2213  # full-size scan width (200 dpi) that the pixel constants below refer to
_WHITE = (255, 255, 255)


def _scale(image: np.ndarray) -> float:
    """Image width relative to a full-size 200 dpi scan."""
    return image.shape[1] / _REF_WIDTH


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through a JPEG file of the given quality."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre by ``degrees`` (counter-clockwise), same size, white fill."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=_WHITE)


def clean(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The scan unchanged."""
    return image.copy()


def grey(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A greyscale scan, back to 3 channels."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def photocopy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photocopy: grey, slight skew (< 1 deg), harsh contrast (faint grid), toner specks, slight blur."""
    s = _scale(image)
    g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = g.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.9, 0.9)), 1.0)
    g = cv2.warpAffine(g, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    white, black = rng.uniform(214, 232), rng.uniform(60, 110)  # grid lines at ~225-245 go (nearly) white
    lut = np.clip((np.arange(256) - black) / (white - black), 0, 1) ** rng.uniform(0.8, 1.3) * 255
    g = cv2.LUT(g, lut.astype(np.uint8))
    n = int(rng.integers(150, 600) * s * s) + 5
    for x, y, r in zip(rng.integers(0, w, n), rng.integers(0, h, n), rng.uniform(0.4, 2.2, n) * max(s, 0.5)):
        cv2.circle(g, (int(x), int(y)), max(1, round(r)), int(rng.integers(20, 120)), -1, cv2.LINE_AA)
    g = cv2.GaussianBlur(g, (0, 0), 0.8 * max(s, 0.5))
    return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)


def upside_down(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page fed upside down (rotated 180 deg)."""
    return cv2.rotate(image, cv2.ROTATE_180)


def portrait(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page scanned in portrait (rotated 90 deg either way; taller than wide)."""
    return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE if rng.random() < 0.5 else cv2.ROTATE_90_COUNTERCLOCKWISE)


def askew_4deg(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page placed 4 deg askew on the scanner (random sign), white fill, same size."""
    return _rotate(image, 4.0 if rng.random() < 0.5 else -4.0)


def blue_grid(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The pink/red grid recoloured to blue; dark ink and neutral paper unchanged.

    Grid pixels are those tinted red (R above G and B) and not dark; their red excess becomes
    a blue excess of the same strength, with a slight cyan lean drawn per seed.
    """
    b, g, r = (c.astype(np.int16) for c in cv2.split(image))
    base = np.minimum(b, g)
    tint = r - np.maximum(b, g)
    grid = (tint > 3) & (base > 90)
    strength = np.where(grid, r - base, 0)
    cyan = rng.uniform(0.0, 0.4)
    out_b = np.where(grid, np.maximum(r, b), b)
    out_g = np.where(grid, base - (1 - cyan) * strength // 2, g)
    out_r = np.where(grid, base - strength, r)
    return cv2.merge([np.clip(c, 0, 255).astype(np.uint8) for c in (out_b, out_g, out_r)])


def dpi_100(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 100 dpi scan: half the resolution, saved as JPEG quality ~60."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (round(w / 2), round(h / 2)), interpolation=cv2.INTER_AREA)
    return _jpeg(small, int(rng.integers(55, 66)))


def phone_photo(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone photo of the page on a table: perspective, uneven light, colour cast, blur, noise, JPEG ~80."""
    s = _scale(image)
    h, w = image.shape[:2]
    margin = rng.uniform(0.03, 0.07, 2) * (w, h)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.03, 0.03, (4, 2)) * (w, h)
    target = np.float32(corners * (1 - 2 * margin / (w, h)) + margin + jitter)
    table = rng.uniform(50, 130) * np.array([rng.uniform(0.6, 0.8), rng.uniform(0.8, 0.95), 1.0])
    matrix = cv2.getPerspectiveTransform(corners, target)
    photo = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=tuple(table.tolist()))
    cast = np.array([rng.uniform(0.82, 0.95), rng.uniform(0.92, 1.0), 1.0], np.float32)  # warm light
    yy, xx = np.mgrid[0:1:8j, 0:1:8j].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) * rng.uniform(0.25, 0.45)
    blotches = cv2.resize(rng.uniform(-0.06, 0.06, (3, 3)).astype(np.float32), (8, 8), interpolation=cv2.INTER_CUBIC)
    gain = cv2.resize((0.85 - ramp + blotches)[..., None] * cast, (w, h), interpolation=cv2.INTER_LINEAR)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.0 * max(s, 0.5))
    noise = rng.normal(0, 3.0, (h // 2, w // 2)).astype(np.float32)
    noise = cv2.cvtColor(cv2.resize(noise, (w, h), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR)
    photo = cv2.add(cv2.multiply(photo, gain, dtype=cv2.CV_32F), noise, dtype=cv2.CV_8U)
    return _jpeg(photo, int(rng.integers(75, 86)))


#: Acquisition conditions in a fixed order: name -> (image, rng) -> image.
CONDITIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "clean": clean,
    "grey": grey,
    "photocopy": photocopy,
    "upside_down": upside_down,
    "portrait": portrait,
    "askew_4deg": askew_4deg,
    "blue_grid": blue_grid,
    "dpi_100": dpi_100,
    "phone_photo": phone_photo,
}


def apply_condition(name: str, image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` under condition ``name`` (a :data:`CONDITIONS` key), deterministic for ``seed``."""
    if name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; expected one of {tuple(CONDITIONS)}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image, got {image.dtype} {image.shape}")
    return CONDITIONS[name](image, np.random.default_rng(seed))
