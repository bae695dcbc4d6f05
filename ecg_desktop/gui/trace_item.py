"""The digitized traces drawn over the scan: thin polylines, the same width on screen at any zoom."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ecg_desktop.core.signals.trace_overlay import TraceLine

PEN_WIDTH = 1.5  # screen pixels
MARGIN = 12.0  # image pixels around the lines that a redraw covers: the pen's half width at zooms down to 1/16


class TraceItem(QGraphicsItem):
    """Polylines in image pixels (core.signals.trace_overlay), above the saliency map and below the crop box."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[TraceLine] = []  # what is drawn, in image pixels
        self._polylines: list[tuple[QColor, QPolygonF]] = []
        self._rect = QRectF()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks and drags reach the crop box and the view
        self.setZValue(6)  # the heat map is at 5, the crop box at 10
        self.hide()

    def set_lines(self, lines: list[TraceLine]) -> None:
        """Draw ``lines`` (and show them)."""
        self.prepareGeometryChange()
        self.lines = lines
        self._polylines = [(QColor(line.colour), QPolygonF([QPointF(x, y) for x, y in line.points])) for line in lines]
        self._rect = QRectF()
        for _, polygon in self._polylines:
            self._rect = self._rect.united(polygon.boundingRect())
        self.show()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        for colour, polygon in self._polylines:
            # round joins: a sharp R-wave tip keeps its point (a bevel join would cut it flat)
            pen = QPen(colour, PEN_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPolyline(polygon)
