"""Probability calibration shared by training (fitting) and the app (applying)."""

from __future__ import annotations

import numpy as np


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature-scale probabilities: softmax(log(p) / T), row-wise; T > 1 softens, T < 1 sharpens."""
    logits = np.log(np.clip(probs, 1e-12, None)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=-1, keepdims=True)
