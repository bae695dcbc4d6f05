"""Load a scan from disk as an 8-bit BGR array, refusing anything unsafe or unreadable."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ecg_desktop.core.classify.preprocess import analysis_reduction, reduce_for_analysis, reduced_size
from ecg_desktop.core.errors import ImageLoadError, ImageSizeError
from ecg_desktop.core.loading import pdf_pages, tiff_pages
from ecg_desktop.core.loading.file_bytes import read_scan_bytes

MAX_PIXELS = 100_000_000
MIN_SIDE = 200
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})
SCAN_SUFFIXES = IMAGE_SUFFIXES | {pdf_pages.PDF_SUFFIX}  # what a folder search picks up: images and PDFs
SUPPORTED = "JPEG, PNG, TIFF, BMP, or a page of a PDF"
# Image files a folder search lists although they cannot be read, so that each gets a row saying why
# instead of being left out without a word (phones save HEIC).
UNSUPPORTED_IMAGE_SUFFIXES = frozenset({".heic", ".heif", ".avif", ".webp", ".gif", ".jp2"})

# What the decoders raise on data they cannot read; anything else is a bug and is not caught. Pillow raises
# OSError (UnidentifiedImageError, "image file is truncated", decoder errors) and, from its format plugins,
# SyntaxError, ValueError or EOFError; OpenCV raises cv2.error.
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError)
DECODER_ERRORS = (cv2.error, *PILLOW_ERRORS)

# Pillow only reads headers here; the pixel limit is enforced by us, before any decoding.
Image.MAX_IMAGE_PIXELS = None
_REDUCED_JPEG_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisImage:
    """A scan at the resolution the pipeline works at, and the (width, height) of the full-size image."""

    pixels: np.ndarray
    file_size: tuple[int, int]


def load_image(path: str | Path) -> np.ndarray:
    """Return the image at ``path`` as an HxWx3 uint8 BGR array, EXIF orientation applied.

    ``path`` may name one page of a PDF, ``scan.pdf#page=2`` (see pdf_pages); a PDF itself is refused
    with a message saying how many pages it has and how to name one.
    Raises ImageLoadError (or ImageSizeError) with a message fit to show the user.
    """
    return _load(Path(path), reduce=False).pixels


def load_for_analysis(path: str | Path) -> AnalysisImage:
    """Like load_image, but at the analysis resolution (see preprocess.analysis_reduction).

    JPEGs are decoded straight at that size (the decoder skips most of the work); other images are
    decoded in full and area-averaged. Training and inference both read scans this way.
    """
    return _load(Path(path), reduce=True)


def load_for_viewing(path: str | Path) -> tuple[np.ndarray, AnalysisImage]:
    """The full-size image (to show) and the analysis-size copy (to classify), each read as above.

    Only a JPEG is decoded a second time (the decoder's reduction is what load_for_analysis gives);
    any other image or PDF page is read once and area-averaged, exactly as load_for_analysis does.
    """
    path = Path(path)
    full = _load(path, reduce=False)
    if pdf_pages.split_page_ref(path)[1] is None and _is_jpeg(path):
        return full.pixels, load_for_analysis(path)
    return full.pixels, AnalysisImage(reduce_for_analysis(full.pixels), full.file_size)


def _is_jpeg(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(3) == b"\xff\xd8\xff"


def _load(path: Path, *, reduce: bool) -> AnalysisImage:
    document, page = pdf_pages.split_page_ref(path)
    if page is not None:
        data = read_scan_bytes(document)
        if tiff_pages.is_tiff_file(document):
            image = _to_bgr8(_rgb_to_bgr(tiff_pages.read_page(data, page, path.name, max_pixels=MAX_PIXELS)))
        else:
            image = pdf_pages.render_page(data, page, path.name, max_pixels=MAX_PIXELS)
        _check_min_side(path, image.shape[1], image.shape[0])
        return _full_size(image, reduce=reduce)
    data = read_scan_bytes(path)
    width, height, fmt = _probe(path, data)
    if width * height > MAX_PIXELS:
        raise ImageSizeError(
            f"{path.name}: {width}x{height} pixels is larger than the {MAX_PIXELS // 1_000_000} "
            "megapixel limit; scan it at a lower resolution."
        )
    _check_min_side(path, width, height)
    reduction = analysis_reduction(width, height) if reduce and fmt in {"JPEG", "MPO"} else 1
    try:
        image = _decode(data, fmt, reduction)
    except DECODER_ERRORS as exc:
        _log_refusal(f"{fmt} data not decoded", exc)
        raise ImageLoadError(f"{path.name}: the image data is corrupt or truncated.") from exc
    if image is None or image.size == 0:
        log.warning("%s data not decoded: the decoder returned no image", fmt)
        raise ImageLoadError(f"{path.name}: the image data is corrupt or truncated.")
    image = _to_bgr8(image)
    if reduction == 1:
        return _full_size(image, reduce=reduce)
    # The decoder applied the EXIF orientation, which may have swapped width and height.
    turned = (image.shape[1], image.shape[0]) != reduced_size(width, height, reduction)
    return AnalysisImage(image, (height, width) if turned else (width, height))


def _full_size(image: np.ndarray, *, reduce: bool) -> AnalysisImage:
    size = (image.shape[1], image.shape[0])
    return AnalysisImage(reduce_for_analysis(image) if reduce else image, size)


def _check_min_side(path: Path, width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise ImageSizeError(
            f"{path.name}: {width}x{height} pixels is too small to hold a readable ECG "
            f"(each side must be at least {MIN_SIDE} pixels)."
        )


def _probe(path: Path, data: bytes) -> tuple[int, int, str]:
    """Read size and format from the header only (no pixel decoding)."""
    if data[:5] == b"%PDF-":
        pages = pdf_pages.count_pages(data, path.name)  # a damaged or protected PDF says so here
        if not pdf_pages.is_pdf_file(path):
            raise ImageLoadError(f"{path.name}: is a PDF document, not an image; rename it to end in .pdf.")
        first = pdf_pages.page_ref(path.name, 1)
        raise ImageLoadError(
            f"{path.name}: is a PDF document ({pages} page{'s' if pages != 1 else ''}), not an image; "
            f"open one page by its name, e.g. '{first}' (folders and the classify command read every page)."
        )
    if data[4:12] in {b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypavif"}:
        raise ImageLoadError(
            f"{path.name}: is a HEIC/AVIF photo, which cannot be read; export it as JPEG "
            "(or set the phone camera to 'Most Compatible')."
        )
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
            fmt = header.format or ""
    except PILLOW_ERRORS as exc:
        _log_refusal("image header not read", exc)
        raise ImageLoadError(f"{path.name}: is not a readable image (supported: {SUPPORTED}).") from exc
    if fmt not in {"JPEG", "PNG", "TIFF", "BMP", "MPO"}:
        raise ImageLoadError(f"{path.name}: {fmt or 'this'} images are not supported (use JPEG, PNG, TIFF or BMP).")
    return width, height, fmt


def _decode(data: bytes, fmt: str, reduction: int) -> np.ndarray | None:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if fmt in {"JPEG", "MPO"}:
        # IMREAD_COLOR (and its reduced forms) apply the EXIF orientation and convert CMYK and grayscale.
        return cv2.imdecode(buffer, _REDUCED_JPEG_FLAGS.get(reduction, cv2.IMREAD_COLOR))
    # Keep alpha and bit depth so they can be converted properly below.
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None and fmt in {"PNG", "TIFF", "BMP"}:
        return _decode_with_pillow(data)
    return image


def _decode_with_pillow(data: bytes) -> np.ndarray:
    """Fallback for variants OpenCV refuses (e.g. some palette or 1-bit files); raises PILLOW_ERRORS."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = np.asarray(img.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _log_refusal(what: str, exc: Exception) -> None:
    """Log why a decoder refused a file: the exception's type and message (decoders read from memory, so the
    message holds no file name; the caller's ImageLoadError, which names the file, is not logged)."""
    log.warning("%s: %s: %s", what, type(exc).__name__, exc)


def _rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    """Pillow's RGB(A) channel order as OpenCV's BGR(A); grey images as they are."""
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return image[:, :, [2, 1, 0, 3][: image.shape[2]]]
    return image


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
    if image.shape[2] == 2:  # gray + alpha
        gray, alpha = image[:, :, 0:1].astype(np.float32), image[:, :, 1:2].astype(np.float32) / 255.0
        blended = (gray * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
        return cv2.cvtColor(blended, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, :3])
