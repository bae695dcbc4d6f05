"""File ▸ Print: draw the scan, its crop and the result on one page of a QPrinter (or any paged device)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPen
from PySide6.QtPrintSupport import QPrinter

from ecg_desktop.core.manifest import Manifest
from ecg_desktop.core.model import Classification
from ecg_desktop.gui.about_dialog import ATTRIBUTION
from ecg_desktop.gui.inference import Scan
from ecg_desktop.gui.result_panel import DISCLAIMER, format_percent
from ecg_desktop.gui.theme import ACCENT, ALARM, CAUTION, MUTED

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}


def make_printer(page_size: str) -> QPrinter:
    """A high-resolution printer set to ``page_size``, landscape (the scans are landscape)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(PAGE_SIZES.get(page_size, QPageSize.PageSizeId.A4)))
    printer.setPageOrientation(QPageLayout.Orientation.Landscape)
    printer.setDocName("ECG Desk report")
    return printer


def print_result(
    printer: QPrinter, scan: Scan, result: Classification, manifest: Manifest, *, facility: str = ""
) -> None:
    """Draw one page: header, the scan with the classified region outlined, the probabilities, the disclaimer."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be started")
    try:
        page, mm = printer.pageRect(QPrinter.Unit.DevicePixel), printer.resolution() / 25.4
        _draw(painter, page, mm, scan, result, manifest, facility)
    finally:
        painter.end()


def _draw(
    painter: QPainter, page: QRectF, mm: float, scan: Scan, result: Classification, manifest: Manifest, facility: str
) -> None:
    page = QRectF(0, 0, page.width(), page.height())
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    y = 0.0

    def text(
        line: str, size: float, *, bold: bool = False, colour: str = "#1d2633", x: float = 0, width: float | None = None
    ) -> float:
        """Draw wrapped text at (x, y); returns the height it took."""
        font = QFont("DejaVu Sans")
        font.setPointSizeF(size)
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(QColor(colour))
        box = QRectF(x, y, width or page.width() - x, page.height())
        used = painter.boundingRect(box, Qt.TextFlag.TextWordWrap, line)
        painter.drawText(box, Qt.TextFlag.TextWordWrap, line)
        return used.height()

    y += text("ECG classification", 16, bold=True)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    details = [facility, scan.path.name, f"printed {stamp}", f"model {manifest.model_version}"]
    y += text("  ·  ".join(d for d in details if d), 8, colour=MUTED)
    y += 3 * mm

    side = 70 * mm  # right column for the result
    image_box = QRectF(0, y, page.width() - side - 6 * mm, page.height() - y - 22 * mm)
    scale = min(image_box.width() / scan.qimage.width(), image_box.height() / scan.qimage.height())
    target = QRectF(0, y, scan.qimage.width() * scale, scan.qimage.height() * scale)
    painter.drawImage(target, scan.qimage)
    crop = result.crop
    painter.setPen(QPen(QColor(ACCENT), 0.6 * mm))
    painter.drawRect(QRectF(crop.x0 * scale, y + crop.y0 * scale, crop.width * scale, crop.height * scale))

    x = page.width() - side
    y += text("Result", 8, bold=True, colour=MUTED, x=x)
    y += text(result.headline(manifest), 15, bold=True, colour=ACCENT if result.assessable else CAUTION, x=x,
              width=side)
    if not result.assessable:
        for reason in result.reasons:
            y += text(f"• {reason.message}", 8.5, x=x, width=side) + 1 * mm
    else:
        y += text(f"{format_percent(result.top_probability)} probability", 10, x=x)
        if result.low_confidence:
            y += text("Low confidence", 10, bold=True, colour=ALARM, x=x)
        y += 3 * mm
        bar_w = side - 22 * mm
        for info in manifest.classes:
            p = result.probabilities[info.id]
            y += text(info.name, 8.5, bold=info.id == result.label, x=x)
            painter.fillRect(QRectF(x, y, bar_w, 3 * mm), QColor("#e8ecf2"))
            painter.fillRect(QRectF(x, y, bar_w * p, 3 * mm), QColor(ACCENT if info.id == result.label else "#9aa6b5"))
            text(format_percent(p), 8.5, x=x + bar_w + 2 * mm)
            y += 4.5 * mm
        y += 2 * mm
        findings = ", ".join(manifest.display_name(f) for f in result.findings) or "None"
        y += text(f"Findings: {findings}", 8.5, x=x, width=side)
    y += 2 * mm
    for warning in result.warnings:
        y += text(f"• {warning}", 8, colour="#8a5a00", x=x, width=side) + 1 * mm

    y = page.height() - 18 * mm
    painter.setPen(QPen(QColor("#9aa6b5"), 0.2 * mm))
    painter.drawLine(0, round(y), round(page.width()), round(y))
    y += 2 * mm
    y += text(DISCLAIMER, 9, bold=True)
    text(f"Model trained on the {ATTRIBUTION}.", 7.5, colour=MUTED)
