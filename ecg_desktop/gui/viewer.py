"""The scan viewer: a QGraphicsView with fit, zoom (wheel, Ctrl +/-), 1:1, hand panning, the crop box and the
saliency and digitized-trace overlays."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from ecg_desktop.core.classify.heat_overlay import heat_bgra
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.signals.trace_overlay import TraceLine
from ecg_desktop.gui.crop_item import CropItem
from ecg_desktop.gui.qimage import bgra_to_qimage
from ecg_desktop.gui.trace_item import TraceItem

MIN_ZOOM, MAX_ZOOM = 0.02, 16.0
STEP = 1.25
HEAT_SIDE = 512  # longest side of the heat-map pixmap; the view scales it smoothly onto the crop box


class ImageViewer(QGraphicsView):
    """Shows one scan; the crop box is ``self.crop_item``."""

    zoomChanged = Signal(float)  # the scale (1.0 = one image pixel per screen pixel)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._pixmap.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.scene().addItem(self._pixmap)
        self.heat_item = _heat_item()  # the saliency overlay: above the scan, below the crop box
        self.scene().addItem(self.heat_item)
        self.trace_item = TraceItem()  # the digitized traces: above the map, below the crop box
        self.scene().addItem(self.trace_item)
        self.crop_item = CropItem()
        self.scene().addItem(self.crop_item)
        self._fit_mode = True
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#2a2e35"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(False)  # drops go to the main window
        self.viewport().setAcceptDrops(False)

    def set_image(self, image: QImage) -> None:
        """Show ``image`` (converted to a pixmap once) and fit it to the window."""
        self._pixmap.setPixmap(QPixmap.fromImage(image))
        rect = QRectF(0, 0, image.width(), image.height())
        self.scene().setSceneRect(rect)
        self.crop_item.set_bounds(image.width(), image.height())
        self.hide_heatmap()
        self.hide_traces()
        self.fit()

    def show_heatmap(self, heatmap: np.ndarray, box: CropBox) -> None:
        """Lay ``heatmap`` (grid x grid drops in probability, fixed colour scale) exactly over ``box``, each colour
        as opaque as its drop is large."""
        scale = min(1.0, HEAT_SIDE / max(box.width, box.height, 1))
        width, height = max(1, round(box.width * scale)), max(1, round(box.height * scale))
        self.heat_item.setPixmap(QPixmap.fromImage(bgra_to_qimage(heat_bgra(heatmap, width, height))))
        self.heat_item.setTransform(QTransform.fromScale(box.width / width, box.height / height))
        self.heat_item.setPos(box.x0, box.y0)
        self.heat_item.show()

    def hide_heatmap(self) -> None:
        self.heat_item.hide()

    def heatmap_rect(self) -> QRectF | None:
        """Where the heat map is drawn, in image pixels (None when hidden)."""
        return self.heat_item.sceneBoundingRect() if self.heat_item.isVisible() else None

    def show_traces(self, lines: list[TraceLine]) -> None:
        """Draw the digitized traces, ``lines`` in pixels of the shown image, over it."""
        self.trace_item.set_lines(lines)

    def hide_traces(self) -> None:
        self.trace_item.hide()

    def image_size(self) -> tuple[int, int]:
        """(width, height) of the image shown, in its pixels."""
        size = self._pixmap.pixmap().size()
        return size.width(), size.height()

    def has_image(self) -> bool:
        return not self._pixmap.pixmap().isNull()

    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Fit the whole scan in the window (Ctrl+0); stays fitted when the window resizes."""
        self._fit_mode = True
        self._scroll_bars(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # no flicker: the whole scan fits
        if self.has_image():
            self.fitInView(self._pixmap.boundingRect().adjusted(-12, -12, 12, 12), Qt.AspectRatioMode.KeepAspectRatio)
        self._zoomed()

    def actual_size(self) -> None:
        """One image pixel per screen pixel (Ctrl+1), centred on the view centre."""
        self._fit_mode = False
        self._scroll_bars(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(centre)
        self._zoomed()

    def zoom_in(self) -> None:
        self.zoom_by(STEP, under_mouse=False)

    def zoom_out(self) -> None:
        self.zoom_by(1 / STEP, under_mouse=False)

    def zoom_by(self, factor: float, *, under_mouse: bool = True) -> None:
        """Scale by ``factor`` within MIN_ZOOM..MAX_ZOOM, anchored under the mouse or at the centre."""
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        if not self.has_image() or target == self.zoom():
            return
        self._fit_mode = False
        self._scroll_bars(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        anchors = QGraphicsView.ViewportAnchor
        self.setTransformationAnchor(anchors.AnchorUnderMouse if under_mouse else anchors.AnchorViewCenter)
        self.scale(target / self.zoom(), target / self.zoom())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._zoomed()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(STEP**steps)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def _scroll_bars(self, policy: Qt.ScrollBarPolicy) -> None:
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)

    def _zoomed(self) -> None:
        self.crop_item.view_scale_changed()
        self.zoomChanged.emit(self.zoom())


def _heat_item() -> QGraphicsPixmapItem:
    item = QGraphicsPixmapItem()
    item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
    item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks and drags reach the crop box and the view
    item.setZValue(5)  # the crop box is at 10
    item.hide()
    return item
