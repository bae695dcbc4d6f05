"""File ▸ Print: print the PDF report itself (core.reports.report_pdf.write_report), page by page.

There is one report layout: the one write_report draws. Printing writes that PDF to a temporary file,
rasterises each page with pypdfium2 and paints it onto the printer's whole paper, so the printed page
is the saved page.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from ecg_desktop.core.loading import pdf_pages
from ecg_desktop.gui.qimage import bgr_to_qimage

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MAX_DPI = 300  # the pages are rasterised at the printer's resolution, at most this


def make_printer(page_size: str) -> QPrinter:
    """A high-resolution printer set to ``page_size``, portrait like the report, painting on the whole paper."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(PAGE_SIZES.get(page_size, QPageSize.PageSizeId.A4)))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)  # the report has its own margins
    printer.setDocName("ECG Desk report")
    return printer


def print_pdf(printer: QPrinter, path: str | Path) -> int:
    """Paint every page of the PDF at ``path`` on ``printer`` (one printed page each); returns the page count."""
    path = Path(path)
    pages = pdf_pages.render_all_pages(path.read_bytes(), path.name, dpi=min(printer.resolution(), MAX_DPI))
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be started")
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for index, pixels in enumerate(pages):
            if index and not printer.newPage():
                raise OSError("the printer could not start a new page")
            image = bgr_to_qimage(pixels)
            paper = printer.paperRect(QPrinter.Unit.DevicePixel)
            scale = min(paper.width() / image.width(), paper.height() / image.height())
            painter.drawImage(QRectF(0, 0, image.width() * scale, image.height() * scale), image)
    finally:
        painter.end()
    return len(pages)
