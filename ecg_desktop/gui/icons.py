"""Toolbar icons drawn with QPainter: one consistent line style, no image files to ship."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

from ecg_desktop.core import palette

SIZE = 48  # drawn at 48 px, shown at 20-24 px: crisp on high-DPI screens too
INK = QColor("#2b3646")
ACCENT = QColor(palette.ACCENT)


def _folder(p: QPainter) -> None:
    path = QPainterPath(QPointF(6, 14))
    for x, y in ((18, 14), (22, 18), (42, 18), (42, 38), (6, 38)):
        path.lineTo(x, y)
    path.closeSubpath()
    p.drawPath(path)
    p.drawLine(QPointF(6, 22), QPointF(42, 22))


def _report(p: QPainter) -> None:
    path = QPainterPath(QPointF(12, 6))
    for x, y in ((30, 6), (38, 14), (38, 42), (12, 42)):
        path.lineTo(x, y)
    path.closeSubpath()
    p.drawPath(path)
    p.drawPolyline([QPointF(30, 6), QPointF(30, 14), QPointF(38, 14)])
    p.setPen(QPen(ACCENT, 3, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
    p.drawPolyline([QPointF(x, y) for x, y in ((16, 28), (20, 28), (23, 20), (27, 35), (30, 28), (34, 28))])


def _printer(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(6, 18, 36, 16), 3, 3)
    p.drawRect(QRectF(14, 6, 20, 12))
    p.drawRect(QRectF(14, 28, 20, 14))
    p.drawLine(QPointF(18, 34), QPointF(30, 34))
    p.drawLine(QPointF(18, 38), QPointF(26, 38))


def _fit(p: QPainter) -> None:
    for (x, y), (dx, dy) in (((8, 8), (1, 1)), ((40, 8), (-1, 1)), ((8, 40), (1, -1)), ((40, 40), (-1, -1))):
        p.drawPolyline([QPointF(x, y + 10 * dy), QPointF(x, y), QPointF(x + 10 * dx, y)])
    p.drawRect(QRectF(17, 17, 14, 14))


def _actual(p: QPainter) -> None:
    font = QFont("DejaVu Sans")
    font.setPixelSize(20)
    font.setBold(True)
    p.setFont(font)
    p.drawRoundedRect(QRectF(5, 9, 38, 30), 4, 4)
    p.drawText(QRectF(5, 9, 38, 30), Qt.AlignmentFlag.AlignCenter, "1:1")


def _magnifier(p: QPainter, plus: bool) -> None:
    p.drawEllipse(QPointF(20, 20), 13, 13)
    p.drawLine(QPointF(30, 30), QPointF(42, 42))
    p.drawLine(QPointF(14, 20), QPointF(26, 20))
    if plus:
        p.drawLine(QPointF(20, 14), QPointF(20, 26))


def _reset(p: QPainter) -> None:
    p.setPen(QPen(INK, 3, Qt.PenStyle.DashLine))
    p.drawRect(QRectF(8, 12, 26, 24))
    p.setPen(QPen(ACCENT, 3.4, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
    arc = QPainterPath()
    arc.arcMoveTo(QRectF(22, 4, 20, 20), 200)
    arc.arcTo(QRectF(22, 4, 20, 20), 200, -250)
    p.drawPath(arc)
    end = arc.currentPosition()
    angle = math.radians(-50)
    tip = [end + QPointF(6 * math.cos(angle + a), -6 * math.sin(angle + a)) for a in (2.2, -0.6)]
    p.drawPolyline([tip[0], end, tip[1]])


def _batch(p: QPainter) -> None:
    for offset in (0, 6, 12):
        p.setBrush(QColor("#ffffff"))
        p.drawRect(QRectF(6 + offset, 18 - offset, 24, 24))
    p.setPen(QPen(ACCENT, 3, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
    p.drawPolyline([QPointF(x, y) for x, y in ((22, 18), (26, 18), (29, 11), (32, 24), (34, 18), (38, 18))])


def _info(p: QPainter) -> None:
    p.drawEllipse(QPointF(24, 24), 17, 17)
    p.drawLine(QPointF(24, 21), QPointF(24, 33))
    p.setBrush(INK)
    p.drawEllipse(QPointF(24, 15), 1.5, 1.5)


def _heat(p: QPainter) -> None:
    p.drawRect(QRectF(6, 10, 36, 28))
    p.setPen(Qt.PenStyle.NoPen)
    for radius, colour in ((11, "#f2c14e"), (7, "#e8743b"), (3.5, "#c0392b")):
        p.setBrush(QColor(colour))
        p.drawEllipse(QPointF(28, 22), radius, radius * 0.8)


def _traces(p: QPainter) -> None:
    p.drawRect(QRectF(6, 10, 36, 28))
    p.setPen(QPen(QColor(palette.TRACES[0]), 3, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
    p.drawPolyline([QPointF(x, y) for x, y in ((10, 26), (17, 26), (20, 30), (24, 14), (28, 32), (31, 26), (38, 26))])


_PAINTERS: dict[str, Callable[[QPainter], None]] = {
    "open": _folder, "save_report": _report, "print": _printer, "fit": _fit, "actual_size": _actual,
    "zoom_in": lambda p: _magnifier(p, True), "zoom_out": lambda p: _magnifier(p, False),
    "reset_crop": _reset, "saliency": _heat, "traces": _traces, "batch": _batch, "about": _info,
}


@cache
def icon(name: str) -> QIcon:
    """The icon for action ``name`` (empty if there is none); needs a QGuiApplication."""
    draw = _PAINTERS.get(name)
    if draw is None:
        return QIcon()
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(INK, 3, c=Qt.PenCapStyle.RoundCap, j=Qt.PenJoinStyle.RoundJoin))
    draw(painter)
    painter.end()
    return QIcon(pixmap)
