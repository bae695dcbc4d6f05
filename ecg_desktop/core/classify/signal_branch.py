"""The signal branch's part in the answer: the digitized leads' features (core.signals.features) beside the image
branch's probabilities in a second LightGBM (the stacker), and a warning when the signals alone and the image
alone disagree on whether the ECG is normal.

Training (training.signal_branch) and the app build the stacker's input with the one function here.
"""

from __future__ import annotations

import numpy as np

NORMAL_INDEX = 0  # "normal" is the manifest's first class
_FLOOR = 1e-4  # image probabilities are clipped here before their log (LightGBM's own floor is far below)

DISAGREEMENT_WARNING = (
    "The image and the digitized signals disagree: the image reads {image}, the signals read {signals}. "
    "Treat this result with extra caution and read the printout."
)


def stack_inputs(image_probs: np.ndarray, signal_features: np.ndarray) -> np.ndarray:
    """The stacker's input rows: the image branch's (uncalibrated) class probabilities as logs, then the signal
    features (NaN where not read)."""
    return np.hstack([np.log(np.clip(image_probs, _FLOOR, 1.0)), signal_features]).astype(np.float64)


def disagree(image_probs: np.ndarray, signal_probs: np.ndarray, signal_features: np.ndarray) -> np.ndarray:
    """Per row: the image and the signals, each alone, disagree on Normal against an abnormal class (never on a
    page whose signals were not read)."""
    read = ~np.isnan(signal_features).all(axis=-1)
    image_normal = np.argmax(image_probs, axis=-1) == NORMAL_INDEX
    signal_normal = np.argmax(signal_probs, axis=-1) == NORMAL_INDEX
    return read & (image_normal != signal_normal)
