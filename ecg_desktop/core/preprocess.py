"""The single preprocessing step shared by training and inference."""

from __future__ import annotations

import cv2
import numpy as np

from ecg_desktop.core.crop import CropBox

INPUT_SIZE = 227


def preprocess(image: np.ndarray, box: CropBox, *, size: int = INPUT_SIZE) -> np.ndarray:
    """Crop a BGR uint8 image to ``box``, resize to ``size`` square, scale to [0, 1].

    Returns float32 RGB in CHW layout (add a batch axis to feed the CNN).
    """
    box = box.clamped(image.shape[1], image.shape[0])
    region = image[box.y0 : box.y1, box.x0 : box.x1]
    resized = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)
