"""The inference pipeline: image -> crop -> CNN features (onnxruntime) -> LightGBM probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core import resources
from ecg_desktop.core.calibration import apply_temperature
from ecg_desktop.core.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.errors import ModelError
from ecg_desktop.core.image_io import load_for_analysis
from ecg_desktop.core.manifest import Manifest, load_manifest
from ecg_desktop.core.ood import OOD_WARNING, FeatureDistribution
from ecg_desktop.core.preprocess import ink_fraction, preprocess, reduce_for_analysis

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
    """What the model says about one scan; ``crop`` is in pixels of the full-size image of ``image_size``."""

    label: str
    probabilities: dict[str, float]
    findings: tuple[str, ...]
    crop: CropBox
    warnings: tuple[str, ...]
    low_confidence: bool
    out_of_distribution: bool = False
    ood_distance: float | None = None
    image_size: tuple[int, int] | None = None  # (width, height); None: the image that was passed in

    def crop_in(self, image: np.ndarray) -> CropBox:
        """The crop in pixels of ``image``, a full-size or reduced copy of the classified scan."""
        height, width = image.shape[:2]
        if self.image_size is None:
            return self.crop.clamped(width, height)
        return self.crop.scaled(width / self.image_size[0], height / self.image_size[1]).clamped(width, height)


def analysis_view(image: np.ndarray, image_size: tuple[int, int] | None) -> tuple[np.ndarray, float, float]:
    """The analysis-resolution copy of ``image`` and how many full-size pixels one of its pixels spans (x, y).

    ``image_size`` is the full-size (width, height) when ``image`` is already a reduced copy
    (image_io.load_for_analysis); None means ``image`` is full size.
    """
    work = reduce_for_analysis(image)
    width, height = image_size or (image.shape[1], image.shape[0])
    return work, width / work.shape[1], height / work.shape[0]


def to_analysis_box(crop: CropBox, work: np.ndarray, sx: float, sy: float) -> CropBox:
    """A full-size crop in pixels of the analysis copy ``work`` (see analysis_view)."""
    return crop.scaled(1 / sx, 1 / sy).clamped(work.shape[1], work.shape[0])


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

    def classify(
        self, image: np.ndarray, *, crop: CropBox | None = None, image_size: tuple[int, int] | None = None
    ) -> Classification:
        """Classify a BGR image; ``crop`` (full-size pixels) overrides the automatic diagnostic-region crop.

        The work happens at the analysis resolution (see analysis_view); crops in and out are in
        full-size pixels, ``image_size`` being the full size when ``image`` is a reduced copy.
        """
        work, sx, sy = analysis_view(image, image_size)
        full_width, full_height = image_size or (image.shape[1], image.shape[0])
        warnings: list[str] = []
        if crop is None:
            found = find_diagnostic_region(work)
            box, grid_found = found.box, found.grid_found
        else:
            box = to_analysis_box(crop.clamped(full_width, full_height), work, sx, sy)
            grid_found = find_diagnostic_region(work[box.y0 : box.y1, box.x0 : box.x1]).grid_found
        crop = (crop if crop is not None else box.scaled(sx, sy)).clamped(full_width, full_height)
        if not grid_found:
            warnings.append(NO_GRID_WARNING)
        if crop.width < 100 or crop.height < 100:
            warnings.append(SMALL_CROP_WARNING)
        batch = preprocess(work, box, size=self.manifest.input_size)[None]
        ink_ok = self._ink_within_range(batch, warnings)
        features, _ = self.features(batch)
        distance = float(self._distribution.distance(features)[0]) if self._distribution else None
        far = distance is not None and distance > self._distribution.threshold
        if far:
            warnings.append(OOD_WARNING)
        outlier = far or not grid_found or not ink_ok  # each means: unlike the training printouts
        probs = self.probabilities_from_features(features)[0]
        return self._result(probs, crop, warnings, outlier, distance, (full_width, full_height))

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
        scan = load_for_analysis(path)
        return self.classify(scan.pixels, crop=crop, image_size=scan.file_size)

    def _result(
        self, probs: np.ndarray, crop: CropBox, warnings: list[str], outlier: bool, distance: float | None,
        image_size: tuple[int, int],
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
        return Classification(
            label, probabilities, findings, crop, tuple(warnings), low, outlier, distance, image_size
        )
