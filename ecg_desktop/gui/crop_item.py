"""The crop box drawn over the scan: move it, resize it by its handles; emits the new box on release."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsObject,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ecg_desktop.core import palette
from ecg_desktop.core.classify.result_text import region_name
from ecg_desktop.core.page.crop import CropBox

HANDLE_PX = 11  # handle size on screen, whatever the zoom
MIN_SIDE = 24  # smallest box the user can draw, in image pixels
ACCENT = QColor(palette.ACCENT)
SHADE = QColor(20, 24, 32, 110)

_CURSORS = {
    "tl": Qt.CursorShape.SizeFDiagCursor, "br": Qt.CursorShape.SizeFDiagCursor,
    "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
    "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor,
    "l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
    "move": Qt.CursorShape.SizeAllCursor,
}


class CropItem(QGraphicsObject):
    """An editable rectangle in image coordinates; the area outside it is shaded."""

    edited = Signal(object)  # CropBox, when the user finishes a move or resize that changed the box

    def __init__(self) -> None:
        super().__init__()
        self._bounds = QRectF()
        self._rect = QRectF()
        self._drag: tuple[str, QPointF, QRectF] | None = None
        self.label = region_name(None)  # the tag's words
        self.setAcceptHoverEvents(True)
        self.setZValue(10)
        self.setVisible(False)

    # -- state ---------------------------------------------------------------------------------
    def set_bounds(self, width: int, height: int) -> None:
        """The image size; the box always stays inside it."""
        self.prepareGeometryChange()
        self._bounds = QRectF(0, 0, width, height)

    def set_box(self, box: CropBox, *, label: str | None = None) -> None:
        """Show ``box``, tagged ``label`` if given (no signal: this is the program speaking, not the user)."""
        self.prepareGeometryChange()
        self._rect = QRectF(box.x0, box.y0, box.width, box.height)
        self.label = label or self.label
        self.setVisible(True)
        self.update()

    def box(self) -> CropBox:
        """The box shown, in whole image pixels."""
        r = self._rect
        return CropBox(round(r.left()), round(r.top()), round(r.right()), round(r.bottom()))

    def apply_user_edit(self, box: CropBox) -> None:
        """Set ``box`` as if the user had dragged it there: clamp to the image and emit ``edited``."""
        self.set_box(box.clamped(int(self._bounds.width()), int(self._bounds.height())))
        self.edited.emit(self.box())

    def view_scale_changed(self) -> None:
        """The view zoomed: handle sizes (in scene units) change."""
        self.prepareGeometryChange()
        self.update()

    # -- geometry ------------------------------------------------------------------------------
    def _scale(self) -> float:
        views = self.scene().views() if self.scene() else []
        return views[0].transform().m11() if views else 1.0

    def _handle(self) -> float:
        return HANDLE_PX / max(self._scale(), 1e-6)

    def boundingRect(self) -> QRectF:
        margin = self._handle()
        return self._bounds.united(self._rect).adjusted(-margin, -margin, margin, margin)

    def shape(self) -> QPainterPath:
        """Only the box and its handles take mouse clicks (the shaded area lets the view pan)."""
        path = QPainterPath()
        half = self._handle() / 2
        path.addRect(self._rect.adjusted(-half, -half, half, half))
        return path

    def _handle_rects(self) -> dict[str, QRectF]:
        r, size = self._rect, self._handle()
        centres = {
            "tl": r.topLeft(), "t": QPointF(r.center().x(), r.top()), "tr": r.topRight(),
            "r": QPointF(r.right(), r.center().y()), "br": r.bottomRight(),
            "b": QPointF(r.center().x(), r.bottom()), "bl": r.bottomLeft(), "l": QPointF(r.left(), r.center().y()),
        }
        return {name: QRectF(c.x() - size / 2, c.y() - size / 2, size, size) for name, c in centres.items()}

    def _hit(self, pos: QPointF) -> str | None:
        for name, rect in self._handle_rects().items():
            if rect.adjusted(-2, -2, 2, 2).contains(pos):
                return name
        return "move" if self._rect.contains(pos) else None

    # -- painting ------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r, b = self._rect, self._bounds
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SHADE)
        for shade in (
            QRectF(b.left(), b.top(), b.width(), r.top() - b.top()),
            QRectF(b.left(), r.bottom(), b.width(), b.bottom() - r.bottom()),
            QRectF(b.left(), r.top(), r.left() - b.left(), r.height()),
            QRectF(r.right(), r.top(), b.right() - r.right(), r.height()),
        ):
            if shade.width() > 0 and shade.height() > 0:
                painter.drawRect(shade)
        pen = QPen(ACCENT, 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        painter.setBrush(QBrush(Qt.GlobalColor.white))
        for rect in self._handle_rects().values():
            painter.drawRect(rect)
        self._paint_tag(painter)

    def _paint_tag(self, painter: QPainter) -> None:
        """A small tag ('Classified region', or 'Region examined') at the box's top-left corner, constant size on
        screen."""
        corner = painter.worldTransform().map(self._rect.topLeft())
        painter.save()
        painter.resetTransform()
        font = painter.font()
        font.setPointSizeF(8.5)
        font.setBold(True)
        painter.setFont(font)
        text = f"{self.label}  {round(self._rect.width())} × {round(self._rect.height())}"
        box = painter.fontMetrics().boundingRect(text).adjusted(-6, -3, 6, 3)
        box.moveTopLeft(corner.toPoint() + QPointF(HANDLE_PX, HANDLE_PX).toPoint())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ACCENT)
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    # -- mouse -------------------------------------------------------------------------------------
    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        region = self._hit(event.pos())
        if region:
            self.setCursor(_CURSORS[region])
        else:
            self.unsetCursor()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.unsetCursor()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        region = self._hit(event.pos()) if event.button() == Qt.MouseButton.LeftButton else None
        if region is None:
            event.ignore()
            return
        self._drag = (region, event.pos(), QRectF(self._rect))
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is None:
            return
        region, start, rect = self._drag
        delta = event.pos() - start
        self.prepareGeometryChange()
        if region == "move":
            self._rect = _moved(rect, delta, self._bounds)
        else:
            self._rect = _resized(rect, region, event.pos(), self._bounds)
        self.update()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is None:
            return
        _, _, before = self._drag
        self._drag = None
        self.set_box(self.box())  # snap to whole pixels
        if self._rect != before:
            self.edited.emit(self.box())


def _moved(rect: QRectF, delta: QPointF, bounds: QRectF) -> QRectF:
    """``rect`` shifted by ``delta`` (whole pixels), kept inside ``bounds``."""
    dx = min(max(round(delta.x()), bounds.left() - rect.left()), bounds.right() - rect.right())
    dy = min(max(round(delta.y()), bounds.top() - rect.top()), bounds.bottom() - rect.bottom())
    return rect.translated(dx, dy)


def _resized(rect: QRectF, region: str, pos: QPointF, bounds: QRectF) -> QRectF:
    """``rect`` with the edges named in ``region`` moved to ``pos`` (whole pixels, inside ``bounds``)."""
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    x, y = round(pos.x()), round(pos.y())
    if "l" in region:
        left = min(max(x, bounds.left()), right - MIN_SIDE)
    if "r" in region:
        right = max(min(x, bounds.right()), left + MIN_SIDE)
    if "t" in region:
        top = min(max(y, bounds.top()), bottom - MIN_SIDE)
    if "b" in region:
        bottom = max(min(y, bounds.bottom()), top + MIN_SIDE)
    return QRectF(QPointF(left, top), QPointF(right, bottom))
