"""A layout fingerprint of the diagnostic region, and how far it lies from the supported printout's.

The fingerprint is where the trace ink lies inside the cropped region: its row and column profiles and
a coarse 16 x 16 map, taken from the ink alone (grid colour, grey copies and lighting do not change it).
The supported printout puts its lead rows, calibration pulses, lead labels and panel separators in the
same places on every page; other carts and layouts do not. The distance is a Mahalanobis distance to
the training scans' fingerprints (``core.classify.ood.FeatureDistribution``); its threshold is chosen by training
on scans the distribution was not fitted on.
"""

from __future__ import annotations

import cv2
import numpy as np

from ecg_desktop.core.classify.preprocess import PREPROCESSING, halve_large, trace_ink
from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox

SIZE = 64
MAP_SIZE = 16

UNLIKE_PRINTOUT = Reason(
    "out_of_distribution",
    "The lead layout inside the ECG region does not match the printouts this model was trained on "
    "(another ECG cart or layout, a badly cropped page, or not an ECG).",
)


def layout_fingerprint(image: np.ndarray, box: CropBox) -> np.ndarray:
    """Row profile, column profile and 16x16 map of trace ink inside ``box`` (float32, 2 * SIZE + MAP_SIZE**2)."""
    box = box.clamped(image.shape[1], image.shape[0])
    region = image[box.y0 : box.y1, box.x0 : box.x1]
    ink = trace_ink(*halve_large(region, box.width / SIZE, box.height / SIZE), PREPROCESSING)
    darkness = 1.0 - cv2.resize(ink, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    coarse = cv2.resize(darkness, (MAP_SIZE, MAP_SIZE), interpolation=cv2.INTER_AREA)
    return np.concatenate([darkness.mean(axis=1), darkness.mean(axis=0), coarse.ravel()]).astype(np.float32)
