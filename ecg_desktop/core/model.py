"""The inference pipeline: image -> crop -> CNN features (onnxruntime) -> LightGBM probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core import resources
from ecg_desktop.core.calibration import apply_temperature
from ecg_desktop.core.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.errors import ModelError
from ecg_desktop.core.image_io import load_image
from ecg_desktop.core.manifest import Manifest, load_manifest
from ecg_desktop.core.ood import OOD_WARNING, FeatureDistribution
from ecg_desktop.core.preprocess import ink_fraction, preprocess

NO_GRID_WARNING = (
    "No ECG grid was found in the classified region: check that this is a 12-lead ECG printout on grid "
    "paper. The model was trained only on such printouts, so no diagnosis should be drawn from this result."
)
SMALL_CROP_WARNING = "The crop is very small; the result may not reflect the whole ECG."
INK_WARNING = (
    "The classified region has {:.1%} dark trace ink, outside the {:.1%} to {:.1%} seen on the training "
    "printouts (blank, noisy or not an ECG); no diagnosis should be drawn from this result."
)


@dataclass(frozen=True)
class Classification:
    """What the model says about one scan."""

    label: str
    probabilities: dict[str, float]
    findings: tuple[str, ...]
    crop: CropBox
    warnings: tuple[str, ...]
    low_confidence: bool
    out_of_distribution: bool = False
    ood_distance: float | None = None


class EcgModel:
    """The verified CNN + LightGBM pair described by a manifest."""

    def __init__(self, manifest: Manifest, *, threads: int = 0) -> None:
        import lightgbm
        import onnxruntime

        self.manifest = manifest
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(manifest.files["cnn"]), options, providers=["CPUExecutionProvider"]
            )
            self._booster = lightgbm.Booster(model_file=str(manifest.files["classifier"]))
            ood_file = manifest.files.get("feature_distribution")
            self._distribution = FeatureDistribution.load(ood_file) if ood_file else None
        except Exception as exc:  # onnxruntime and lightgbm raise their own base types
            raise ModelError(f"The model files in {manifest.directory} cannot be loaded: {exc}") from exc
        if self._booster.num_model_per_iteration() != len(manifest.classes):
            raise ModelError("The classifier and the manifest disagree on the number of classes.")

    @classmethod
    def load(cls, directory: Path | None = None, *, threads: int = 0) -> EcgModel:
        """Load and verify the models in ``directory`` (default: the bundled models)."""
        return cls(load_manifest(directory or resources.models_dir()), threads=threads)

    @property
    def version(self) -> str:
        return self.manifest.model_version

    def features(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CNN feature vectors and logits for an N x 3 x S x S batch."""
        features, logits = self._session.run(["features", "logits"], {"image": batch})
        return features, logits

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Per-class probabilities (N x classes) for a preprocessed batch."""
        return self.probabilities_from_features(self.features(batch)[0])

    def probabilities_from_features(self, features: np.ndarray) -> np.ndarray:
        """Calibrated per-class probabilities from CNN feature vectors (LightGBM, then temperature)."""
        raw = np.asarray(self._booster.predict(features), dtype=np.float64).reshape(len(features), -1)
        return apply_temperature(raw, self.manifest.temperature)

    def classify(self, image: np.ndarray, *, crop: CropBox | None = None) -> Classification:
        """Classify a BGR image; ``crop`` overrides the automatic diagnostic-region crop."""
        warnings: list[str] = []
        if crop is None:
            found = find_diagnostic_region(image)
            crop, grid_found = found.box, found.grid_found
        else:
            crop = crop.clamped(image.shape[1], image.shape[0])
            grid_found = find_diagnostic_region(image[crop.y0 : crop.y1, crop.x0 : crop.x1]).grid_found
        if not grid_found:
            warnings.append(NO_GRID_WARNING)
        if crop.width < 100 or crop.height < 100:
            warnings.append(SMALL_CROP_WARNING)
        batch = preprocess(image, crop, size=self.manifest.input_size)[None]
        ink_ok = self._ink_within_range(batch, warnings)
        features, _ = self.features(batch)
        distance = float(self._distribution.distance(features)[0]) if self._distribution else None
        far = distance is not None and distance > self._distribution.threshold
        if far:
            warnings.append(OOD_WARNING)
        outlier = far or not grid_found or not ink_ok  # each means: unlike the training printouts
        return self._result(self.probabilities_from_features(features)[0], crop, warnings, outlier, distance)

    def _ink_within_range(self, batch: np.ndarray, warnings: list[str]) -> bool:
        if self.manifest.ink_range is None:
            return True
        low, high = self.manifest.ink_range
        ink = float(ink_fraction(batch)[0])
        if low <= ink <= high:
            return True
        warnings.append(INK_WARNING.format(ink, low, high))
        return False

    def classify_file(self, path: str | Path, *, crop: CropBox | None = None) -> Classification:
        """Load and classify one scan file (raises ImageLoadError for unreadable files)."""
        return self.classify(load_image(path), crop=crop)

    def _result(
        self, probs: np.ndarray, crop: CropBox, warnings: list[str], outlier: bool, distance: float | None
    ) -> Classification:
        ids = self.manifest.class_ids
        probabilities = {cid: float(p) for cid, p in zip(ids, probs)}
        label = ids[int(np.argmax(probs))]
        thresholds = self.manifest.thresholds
        findings = tuple(cid for cid in ids if probabilities[cid] >= thresholds.get(cid, 1.0))
        low = outlier or probabilities[label] < self.manifest.low_confidence
        if probabilities[label] < self.manifest.low_confidence:
            warnings.append(
                f"Low confidence: the top class has probability {probabilities[label]:.2f}; "
                "treat this result with extra caution."
            )
        return Classification(label, probabilities, findings, crop, tuple(warnings), low, outlier, distance)
