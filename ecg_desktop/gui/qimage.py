"""Convert a BGR uint8 numpy image to a QImage once (safe to call outside the GUI thread)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of an HxWx3 uint8 BGR array (QImage does not own numpy memory)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 image, got {image.dtype} {image.shape}")
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    view = QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888)
    return view.convertToFormat(QImage.Format.Format_RGB32)  # a copy in the fastest format to paint


def bgra_to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage, with transparency, of an HxWx4 uint8 BGRA array (straight, not premultiplied alpha)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
        raise ValueError(f"expected an HxWx4 uint8 image, got {image.dtype} {image.shape}")
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_ARGB32).copy()  # B,G,R,A bytes
