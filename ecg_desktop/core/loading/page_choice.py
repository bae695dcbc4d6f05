"""Which page a front end opens when it is given one file: the same rule for the window and ``report``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecg_desktop.core.errors import ImageLoadError
from ecg_desktop.core.loading import pdf_pages, tiff_pages
from ecg_desktop.core.loading.file_bytes import read_scan_bytes


@dataclass(frozen=True)
class PageChoice:
    """The scan to load for a path the user gave, and how many pages its PDF or TIFF has (0 when it is neither)."""

    path: Path
    pages: int

    def note(self) -> str:
        """'Page 1 of 3 of scan.pdf' for a page of a PDF (or TIFF) with several pages, else ''."""
        pdf, page = pdf_pages.split_page_ref(self.path)
        if page is None or self.pages <= 1:
            return ""
        return f"Page {page} of {self.pages} of {pdf.name}"


def default_page(path: str | Path) -> PageChoice:
    """A PDF (or a TIFF of several pages) named without a page opens at its first page (``scan.pdf#page=1``);
    a page name opens that page; anything else is loaded as it is.

    Raises ImageLoadError for a PDF that cannot be read (with the reason loading it would give).
    """
    path = Path(path)
    document, page = pdf_pages.split_page_ref(path)
    if tiff_pages.is_tiff_file(document):
        pages = tiff_pages.page_count(document)
        return PageChoice(pdf_pages.page_ref(path, 1) if page is None and pages > 1 else path, pages)
    if page is None and not (pdf_pages.is_pdf_file(path) and path.is_file()):
        return PageChoice(path, 0)
    try:
        data = read_scan_bytes(document)
    except ImageLoadError:
        return PageChoice(path, 0)  # loading it says why
    pages = pdf_pages.count_pages(data, document.name)
    return PageChoice(path if page is not None else pdf_pages.page_ref(path, 1), pages)
