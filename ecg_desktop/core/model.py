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
from ecg_desktop.core.outcome import NOT_ASSESSABLE, Reason, ordered
from ecg_desktop.core.preprocess import ink_fraction, preprocess, reduce_for_analysis

SMALL_CROP_WARNING = "The crop is very small; the result may not reflect the whole ECG."
NO_GRID_REASON = Reason(
    "no_grid",
    "No ECG grid was found in the classified region. The model was trained only on 12-lead printouts on "
    "grid paper; check that this is one (a faint, blurred or low-resolution grid can also cause this).",
)
INK_REASON = (
    "The classified region has {:.1%} dark trace ink, outside the {:.1%} to {:.1%} seen on the training "
    "printouts: it looks blank, noisy or like something other than an ECG trace."
)
OOD_REASON = Reason("out_of_distribution", OOD_WARNING)
LOW_CONFIDENCE_WARNING = (
    "Low confidence: the top class has probability {:.2f}; treat this result with extra caution."
)
#: Reasons that mean "unlike the training printouts" (the ``out_of_distribution`` flag).
_UNLIKE_TRAINING = {"not_an_ecg", "no_grid", "unsupported_layout", "out_of_distribution"}


@dataclass(frozen=True)
class Classification:
    """The outcome for one readable scan; ``crop`` is in pixels of the full-size image of ``image_size``.

    Two states (an unreadable file, the third, is an error and has no Classification):

    - assessable (``reasons`` empty): ``label`` is the top class, the diagnosis; ``findings`` the classes
      over their thresholds; ``low_confidence`` flags a top probability under the manifest's level.
    - not assessable (``reasons`` given): no diagnosis. ``label`` is None, ``findings`` empty and
      ``low_confidence`` False (there is no answer to be unsure of). ``probabilities`` still holds what
      the model computed, for research only: it is never shown as an answer (see
      ``model_outputs_not_a_diagnosis``, ``model_output_label``).
    """

    label: str | None
    probabilities: dict[str, float]  # the model's calibrated outputs; a diagnosis only when assessable
    findings: tuple[str, ...]
    crop: CropBox
    warnings: tuple[str, ...]  # non-blocking notes (low confidence, small crop)
    low_confidence: bool
    out_of_distribution: bool = False  # unlike the training printouts (a reason in _UNLIKE_TRAINING)
    ood_distance: float | None = None
    image_size: tuple[int, int] | None = None  # (width, height); None: the image that was passed in
    reasons: tuple[Reason, ...] = ()  # why no diagnosis is given; empty when assessable

    def __post_init__(self) -> None:
        if self.reasons and (self.label is not None or self.findings):
            raise ValueError("a scan that is not assessable has no label and no findings")
        if not self.reasons and self.label is None:
            raise ValueError("an assessable scan has a label")

    @property
    def assessable(self) -> bool:
        """True when the model may answer for this scan (no reason against it)."""
        return not self.reasons

    @property
    def diagnostic_probabilities(self) -> dict[str, float] | None:
        """The class probabilities as part of a diagnosis: None when not assessable."""
        return self.probabilities if self.assessable else None

    @property
    def model_outputs_not_a_diagnosis(self) -> dict[str, float] | None:
        """What the model computed for a scan that is not assessable (research only); None when assessable."""
        return None if self.assessable else self.probabilities

    @property
    def top_probability(self) -> float | None:
        """The probability of the diagnosis (``label``); None when not assessable."""
        return None if self.label is None else self.probabilities[self.label]

    @property
    def model_output_label(self) -> str:
        """The class the model scored highest, whether or not the scan is assessable (research only)."""
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def notes(self) -> tuple[str, ...]:
        """The reasons' messages, then the warnings: what a one-line row shows beside the headline."""
        return (*(reason.message for reason in self.reasons), *self.warnings)

    def headline(self, manifest: Manifest) -> str:
        """The answer as front ends show it: the top class's name, or 'Not assessable by this model'."""
        return manifest.display_name(self.label) if self.label is not None else NOT_ASSESSABLE

    def verdict(self, manifest: Manifest) -> str:
        """The headline, followed by the reasons when not assessable (one line for status bars, tables, CLI)."""
        if self.assessable:
            return self.headline(manifest)
        return f"{NOT_ASSESSABLE} — " + " ".join(reason.message for reason in self.reasons)

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
        if crop is None:
            found = find_diagnostic_region(work)
            box, grid_found = found.box, found.grid_found
        else:
            box = to_analysis_box(crop.clamped(full_width, full_height), work, sx, sy)
            grid_found = find_diagnostic_region(work[box.y0 : box.y1, box.x0 : box.x1]).grid_found
        crop = (crop if crop is not None else box.scaled(sx, sy)).clamped(full_width, full_height)
        warnings = [SMALL_CROP_WARNING] if crop.width < 100 or crop.height < 100 else []
        reasons: list[Reason] = [] if grid_found else [NO_GRID_REASON]  # every check appends its Reason here
        batch = preprocess(work, box)[None]
        reasons += self._ink_reasons(batch)
        features, _ = self.features(batch)
        distance = float(self._distribution.distance(features)[0]) if self._distribution else None
        if distance is not None and distance > self._distribution.threshold:
            reasons.append(OOD_REASON)
        probs = self.probabilities_from_features(features)[0]
        return self._result(probs, crop, warnings, reasons, distance, (full_width, full_height))

    def _ink_reasons(self, batch: np.ndarray) -> list[Reason]:
        """``not_an_ecg`` when the share of dark ink is outside the range seen on the training printouts."""
        if self.manifest.ink_range is None:
            return []
        low, high = self.manifest.ink_range
        ink = float(ink_fraction(batch)[0])
        return [] if low <= ink <= high else [Reason("not_an_ecg", INK_REASON.format(ink, low, high))]

    def classify_file(self, path: str | Path, *, crop: CropBox | None = None) -> Classification:
        """Load and classify one scan file (raises ImageLoadError for unreadable files)."""
        scan = load_for_analysis(path)
        return self.classify(scan.pixels, crop=crop, image_size=scan.file_size)

    def _result(
        self, probs: np.ndarray, crop: CropBox, warnings: list[str], reasons: list[Reason], distance: float | None,
        image_size: tuple[int, int],
    ) -> Classification:
        """A diagnosis when ``reasons`` is empty, else a not-assessable outcome keeping the raw outputs."""
        ids = self.manifest.class_ids
        probabilities = {cid: float(p) for cid, p in zip(ids, probs)}
        if reasons:
            unlike = any(r.code in _UNLIKE_TRAINING for r in reasons)
            return Classification(None, probabilities, (), crop, tuple(warnings), False, unlike, distance,
                                  image_size, ordered(reasons))
        label = ids[int(np.argmax(probs))]
        thresholds = self.manifest.thresholds
        findings = tuple(cid for cid in ids if probabilities[cid] >= thresholds.get(cid, 1.0))
        low = probabilities[label] < self.manifest.low_confidence
        if low:
            warnings.append(LOW_CONFIDENCE_WARNING.format(probabilities[label]))
        return Classification(label, probabilities, findings, crop, tuple(warnings), low, False, distance, image_size)
