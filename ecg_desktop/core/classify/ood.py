"""Out-of-distribution score: how far a scan's CNN features lie from those of the training scans."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core.errors import ModelError

OOD_WARNING = (
    "What the model sees in this image is unlike the ECG printouts it was trained on (another ECG cart or "
    "layout, an unusual copy or photo, or not an ECG)."
)


@dataclass(frozen=True)
class FeatureDistribution:
    """Mean and (shrunk) precision matrix of the training features, and the distance deemed too far."""

    mean: np.ndarray
    precision: np.ndarray
    threshold: float

    @classmethod
    def load(cls, path: Path) -> FeatureDistribution:
        try:
            with np.load(path, allow_pickle=False) as stored:
                return cls(stored["mean"], stored["precision"], float(stored["threshold"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"The feature-distribution file {path.name} cannot be read: {exc}") from exc

    def save(self, path: Path) -> None:
        with path.open("wb") as stream:
            np.savez(stream, mean=self.mean, precision=self.precision, threshold=np.float64(self.threshold))

    def distance(self, features: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of each row of ``features`` to the training mean."""
        centred = np.atleast_2d(features) - self.mean
        return np.sqrt(np.einsum("ij,jk,ik->i", centred, self.precision, centred).clip(min=0))
