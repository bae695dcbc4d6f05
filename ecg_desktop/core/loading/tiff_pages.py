"""Multi-page TIFF input (a fax or a scanner's document feeder): every page is a scan, named like a PDF's pages
(``scan.tif#page=2``, see pdf_pages.page_ref); a TIFF of one page keeps its own name."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import numpy as np
from PIL import Image

from ecg_desktop.core.errors import ImageLoadError, ImageSizeError

TIFF_SUFFIXES = frozenset({".tif", ".tiff"})
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError)  # what Pillow raises on data it cannot read


def is_tiff_file(path: str | Path) -> bool:
    """Whether ``path`` names a TIFF file by its suffix (not a page of one)."""
    return Path(path).suffix.lower() in TIFF_SUFFIXES


def page_count(path: Path) -> int:
    """How many pages the TIFF at ``path`` holds; 1 when it cannot be read or is not a regular file (loading it
    then says why). Only the page directories are read, never the pixels."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return 1
        with Image.open(path) as image:
            return max(1, getattr(image, "n_frames", 1))
    except _PILLOW_ERRORS:
        return 1


def pages_of(path: Path) -> list[Path]:
    """The scans in the TIFF at ``path``: ``[path]`` for one page, else ``path#page=1`` ... ``path#page=N``."""
    from ecg_desktop.core.loading.pdf_pages import page_ref

    count = page_count(path)
    return [path] if count == 1 else [page_ref(path, page) for page in range(1, count + 1)]


def read_page(data: bytes, page: int, name: str, *, max_pixels: int) -> np.ndarray:
    """Page ``page`` (from 1) of the TIFF in ``data``, decoded: uint8 or uint16, grey, grey + alpha, RGB or RGBA
    (other modes are converted to RGB), channels in RGB order. Raises ImageLoadError (ImageSizeError for a page
    over ``max_pixels``, found before its pixels are decoded)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            count = getattr(image, "n_frames", 1)
            if not 1 <= page <= count:
                raise ImageLoadError(
                    f"{name}: there is no page {page}; the TIFF has {count} page{'s' if count != 1 else ''}.")
            image.seek(page - 1)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageSizeError(f"{name}: {width}x{height} pixels is larger than the "
                                     f"{max_pixels // 1_000_000} megapixel limit; scan it at a lower resolution.")
            if image.mode not in {"L", "LA", "RGB", "RGBA", "I;16", "I;16B"}:
                image = image.convert("RGB")
            array = np.asarray(image)
    except _PILLOW_ERRORS as exc:
        raise ImageLoadError(f"{name}: page {page} of this TIFF is corrupt or truncated.") from exc
    return array.astype(np.uint16) if array.dtype.itemsize == 2 else array
