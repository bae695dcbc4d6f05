"""Load a scan from disk as an 8-bit BGR array, refusing anything unsafe or unreadable."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ecg_desktop.core.errors import ImageLoadError, ImageSizeError

MAX_PIXELS = 100_000_000
MIN_SIDE = 200
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})

# Pillow only reads headers here; the pixel limit is enforced by us, before any decoding.
Image.MAX_IMAGE_PIXELS = None


def load_image(path: str | Path) -> np.ndarray:
    """Return the image at ``path`` as an HxWx3 uint8 BGR array, EXIF orientation applied.

    Raises ImageLoadError (or ImageSizeError) with a message fit to show the user.
    """
    path = Path(path)
    data = _read_bytes(path)
    width, height, fmt = _probe(path, data)
    if width * height > MAX_PIXELS:
        raise ImageSizeError(
            f"{path.name}: {width}x{height} pixels is larger than the {MAX_PIXELS // 1_000_000} "
            "megapixel limit; scan it at a lower resolution."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageSizeError(
            f"{path.name}: {width}x{height} pixels is too small to hold a readable ECG "
            f"(each side must be at least {MIN_SIDE} pixels)."
        )
    image = _decode(data, fmt)
    if image is None:
        raise ImageLoadError(f"{path.name}: the image data is corrupt or truncated.")
    return _to_bgr8(image)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file.")
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a folder, not an image file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageLoadError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from exc
    if not data:
        raise ImageLoadError(f"{path.name}: the file is empty (0 bytes).")
    return data


def _probe(path: Path, data: bytes) -> tuple[int, int, str]:
    """Read size and format from the header only (no pixel decoding)."""
    if data[:5] == b"%PDF-":
        raise ImageLoadError(f"{path.name}: is a PDF document, not an image; export the page as an image.")
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
            fmt = header.format or ""
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageLoadError(
            f"{path.name}: is not a readable image (supported: JPEG, PNG, TIFF, BMP)."
        ) from exc
    if fmt not in {"JPEG", "PNG", "TIFF", "BMP", "MPO"}:
        raise ImageLoadError(f"{path.name}: {fmt or 'this'} images are not supported (use JPEG, PNG, TIFF or BMP).")
    return width, height, fmt


def _decode(data: bytes, fmt: str) -> np.ndarray | None:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if fmt in {"JPEG", "MPO"}:
        # IMREAD_COLOR applies the EXIF orientation and converts CMYK and grayscale.
        return cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    # Keep alpha and bit depth so they can be converted properly below.
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None and fmt in {"PNG", "TIFF", "BMP"}:
        return _decode_with_pillow(data)
    return image


def _decode_with_pillow(data: bytes) -> np.ndarray | None:
    """Fallback for variants OpenCV refuses (e.g. some palette or 1-bit files)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (OSError, ValueError):
        return None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _to_bgr8(image: np.ndarray) -> np.ndarray:
    """Convert grayscale, alpha and 16-bit/float images to 8-bit BGR."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        white = np.full_like(image[:, :, :3], 255, dtype=np.float32)
        blended = image[:, :, :3].astype(np.float32) * alpha + white * (1.0 - alpha)
        return blended.round().astype(np.uint8)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, :3])
