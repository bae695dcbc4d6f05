"""The signal branch's part in the answer: the digitized leads' features (core.signals.features) beside the image
branch's probabilities in a second LightGBM (the stacker), and a warning when the signals alone and the image
alone disagree on whether the ECG is normal.

Training (training.signal_branch) and the app build the stacker's input with the one function here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ecg_desktop.core.classify.calibration import apply_temperature
from ecg_desktop.core.errors import ModelError

if TYPE_CHECKING:
    from ecg_desktop.core.classify.manifest import Manifest
    from ecg_desktop.core.page.reading import PageReading

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


def booster_probabilities(booster, rows: np.ndarray) -> np.ndarray:
    """A LightGBM booster's class probabilities, (N, classes) float64."""
    # One thread: most calls are one row (a scan), for which an OpenMP team cost 25 times the prediction.
    return np.asarray(booster.predict(rows, num_threads=1), dtype=np.float64).reshape(len(rows), -1)


@dataclass(frozen=True, eq=False)
class SignalBranch:
    """The stacker (image probabilities + signal features -> classes) and the signals' own classifier."""

    stacker: object  # lightgbm.Booster
    signals_alone: object  # lightgbm.Booster

    @classmethod
    def load(cls, manifest: Manifest) -> SignalBranch | None:
        """The manifest's signal branch; None for a model without one (the image branch answers alone)."""
        import lightgbm

        from ecg_desktop.core.signals.features import FEATURE_NAMES

        files = manifest.files
        if "signal_stacker" not in files:
            return None
        if manifest.raw.get("signal_branch", {}).get("features") != list(FEATURE_NAMES):
            raise ModelError(f"The model in {manifest.directory} reads other signal features than this version of "
                             "ECG Desk computes; its results would be wrong, so it is not used. Install matching models.")
        return cls(lightgbm.Booster(model_file=str(files["signal_stacker"])),
                   lightgbm.Booster(model_file=str(files["signal_classifier"])))

    def answer(self, image: np.ndarray, page: PageReading, manifest: Manifest) -> tuple[np.ndarray, str | None]:
        """The calibrated probabilities of the combination for one page (``image``: the image branch's raw
        probabilities, one row), and the warning when the two branches disagree (None when they agree)."""
        from ecg_desktop.core.signals.features import page_signal_features

        features = page_signal_features(page)[None]
        probs = apply_temperature(booster_probabilities(self.stacker, stack_inputs(image, features)), manifest.temperature)[0]
        signals = booster_probabilities(self.signals_alone, features)
        if not disagree(image, signals, features)[0]:
            return probs, None
        names = [manifest.display_name(c) for c in manifest.class_ids]
        image_name, signal_name = (names[int(np.argmax(p[0]))] for p in (image, signals))
        return probs, DISAGREEMENT_WARNING.format(image=image_name, signals=signal_name)
