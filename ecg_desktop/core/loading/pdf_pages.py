"""PDF input (e.g. from an ECG cart): every page is a scan, rendered to an 8-bit BGR array with pypdfium2.

A page is named by a fragment on the PDF's path, ``scan.pdf#page=2`` (pages count from 1). That name is a
plain ``Path``, so batch results, results.csv (and its resume), the CLI and the GUI carry pages like files.
The pages of a multi-page TIFF are named the same way (``scan.tif#page=2``, see tiff_pages).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ecg_desktop.core.errors import ImageLoadError
from ecg_desktop.core.loading.file_bytes import read_scan_bytes

if TYPE_CHECKING:
    from pypdfium2 import PdfDocument

PDF_SUFFIX = ".pdf"
PAGED_SUFFIXES = (PDF_SUFFIX, ".tif", ".tiff")  # files whose pages are named ``file#page=N``
PAGE_DPI = 200
DEFAULT_MAX_PIXELS = 100_000_000
REPORT_CREATOR = "ECG Desk"  # the /Creator of the PDFs ECG Desk writes: never read back as scans

_FRAGMENT = re.compile(r"^(?P<name>.+)#page=(?P<page>[1-9][0-9]{0,5})$")
_LOCK = threading.Lock()  # PDFium is not thread-safe: one call at a time in the whole process


def page_ref(path: str | Path, page: int) -> Path:
    """The name of page ``page`` (from 1) of the PDF (or TIFF) at ``path``: ``path#page=N``."""
    return Path(f"{path}#page={page}")


def split_page_ref(path: str | Path) -> tuple[Path, int | None]:
    """``(file, page)`` for a page name ``file.pdf#page=N`` (or ``file.tif#page=N``); ``(path, None)`` otherwise.

    A file that really exists under that name is a file, not a page.
    """
    path = Path(path)
    match = _FRAGMENT.match(path.name)
    if match is None or not match["name"].lower().endswith(PAGED_SUFFIXES) or path.exists():
        return path, None
    return path.with_name(match["name"]), int(match["page"])


def is_pdf_file(path: str | Path) -> bool:
    """Whether ``path`` names a PDF file by its suffix (not a page of one)."""
    return Path(path).suffix.lower() == PDF_SUFFIX


def report_stem(path: str | Path) -> str:
    """A file-name stem for outputs about ``path``: ``scan`` for scan.png, ``scan-page2`` for scan.pdf#page=2."""
    pdf, page = split_page_ref(path)
    return f"{pdf.stem}-page{page}" if page is not None else Path(path).stem


def count_pages(data: bytes, name: str) -> int:
    """Number of pages of the PDF in ``data`` (ImageLoadError with a clear reason if it cannot be read)."""
    with _document(data, name) as document:
        return len(document)


def render_page(
    data: bytes, page: int, name: str, *, dpi: float = PAGE_DPI, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Page ``page`` (from 1) of the PDF in ``data`` as an HxWx3 uint8 BGR array on white.

    Rendered at ``dpi``, or lower if the page would exceed ``max_pixels``.
    """
    with _document(data, name) as document:
        from pypdfium2 import PdfiumError

        count = len(document)
        if not 1 <= page <= count:
            raise ImageLoadError(
                f"{name}: there is no page {page}; the document has {count} page{'s' if count != 1 else ''}."
            )
        try:
            pdf_page = document[page - 1]
            try:
                width, height = pdf_page.get_size()  # points, after the page's own rotation
                return _pixels(pdf_page, _scale(width, height, dpi, max_pixels))
            finally:
                pdf_page.close()
        except PdfiumError as exc:  # a page PDFium cannot load or draw
            raise ImageLoadError(f"{name}: page {page} of this PDF cannot be rendered ({exc}).") from exc


def render_all_pages(data: bytes, name: str, *, dpi: float) -> list[np.ndarray]:
    """Every page of the PDF in ``data`` as HxWx3 uint8 BGR arrays on white at ``dpi`` (printing a report)."""
    with _document(data, name) as document:
        pages = []
        for index in range(len(document)):
            pdf_page = document[index]
            try:
                pages.append(_pixels(pdf_page, dpi / 72))
            finally:
                pdf_page.close()
        return pages


def _pixels(pdf_page, scale: float) -> np.ndarray:
    """One page drawn at ``scale`` (pixels per point) on white, as an HxWx3 uint8 BGR array."""
    bitmap = pdf_page.render(scale=scale, fill_color=(255, 255, 255, 255))
    try:
        image = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
    finally:
        bitmap.close()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def pages_of(path: str | Path, *, skip_reports: bool = False) -> list[Path]:
    """The page names of the PDF at ``path``; ``[path]`` itself if it cannot be read.

    (Loading the bare path then reports why.) With ``skip_reports``, a PDF written by ECG Desk has no pages.
    """
    path = Path(path)
    try:
        with _document(read_scan_bytes(path), path.name) as document:
            if skip_reports and _is_report(document):
                return []
            count = len(document)
    except (OSError, ImageLoadError):
        return [path]
    return [page_ref(path, page) for page in range(1, count + 1)]


@contextmanager
def _document(data: bytes, name: str) -> Iterator[PdfDocument]:
    """The PDF in ``data`` as a ``pypdfium2.PdfDocument`` with at least one page, open under the PDFium lock.

    Raises ImageLoadError saying why PDFium refused it. ``data`` stays referenced here until the document is
    closed: PDFium reads the bytes in place.
    """
    try:
        import pypdfium2
        import pypdfium2.raw as pdfium
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise ImageLoadError(f"{name}: PDF support is not installed (the pypdfium2 package is missing).") from exc
    with _LOCK:
        handle = pdfium.FPDF_LoadMemDocument64(data, len(data), None)
        if not handle:  # read at once, under the lock: PDFium's last error is one value for the whole process
            raise ImageLoadError(f"{name}: this PDF {_load_error(pdfium.FPDF_GetLastError())}.")
        document = pypdfium2.PdfDocument(handle)
        try:
            if len(document) == 0:
                raise ImageLoadError(f"{name}: this PDF contains no pages.")
            yield document
        finally:
            document.close()


def _load_error(code: int) -> str:
    """Why PDFium could not load a document, from its ``FPDF_ERR_*`` code."""
    import pypdfium2.raw as pdfium

    if code == pdfium.FPDF_ERR_PASSWORD:
        return "is password-protected; save an unprotected copy of it first"
    if code == pdfium.FPDF_ERR_SECURITY:
        return "is protected by a security scheme that cannot be read; save an unprotected copy of it first"
    return "is damaged or is not a PDF document"  # FPDF_ERR_FORMAT, _FILE, _UNKNOWN


def is_report_file(path: str | Path) -> bool:
    """Whether the file at ``path`` is a PDF that ECG Desk wrote (a report or a batch summary)."""
    try:
        with _document(read_scan_bytes(Path(path)), Path(path).name) as document:
            return _is_report(document)
    except ImageLoadError:
        return False


def _is_report(document: PdfDocument) -> bool:
    """Whether ECG Desk wrote this PDF: its /Creator is REPORT_CREATOR.

    Only that one entry is read, so another entry PDFium cannot decode (a title, an author) cannot hide it.
    """
    try:
        return document.get_metadata_value("Creator") == REPORT_CREATOR
    except UnicodeDecodeError:  # not valid UTF-16: not the ASCII creator ECG Desk writes
        return False


def _scale(width: float, height: float, dpi: float, max_pixels: int) -> float:
    """PDFium scale (pixels per point) for ``dpi``, lowered so the page stays within ``max_pixels``."""
    scale = dpi / 72.0
    area = max(width, 1.0) * max(height, 1.0)
    if area * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / area) * 0.999
    return scale
