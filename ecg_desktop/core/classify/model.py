"""The inference pipeline: image -> upright page and region -> CNN features (onnxruntime) -> LightGBM -> decision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecg_desktop.core import resources
from ecg_desktop.core.classify.calibration import apply_temperature
from ecg_desktop.core.classify.decision import decide
from ecg_desktop.core.classify.fingerprint import UNLIKE_PRINTOUT, layout_fingerprint
from ecg_desktop.core.classify.manifest import Manifest, load_manifest
from ecg_desktop.core.classify.ood import OOD_WARNING, FeatureDistribution
from ecg_desktop.core.classify.preprocess import ink_fraction, preprocess
from ecg_desktop.core.classify.signal_branch import SignalBranch, booster_probabilities
from ecg_desktop.core.errors import ModelError
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.outcome import NOT_ASSESSABLE, SIGNALS_BELOW, Reason, format_percent, ordered
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.geometry import PageTransform
from ecg_desktop.core.page.reading import PageReading, read_page, upright
from ecg_desktop.core.page.reasons import other_printout

SMALL_CROP_WARNING = "The crop is very small; the result may not reflect the whole ECG."
INK_REASON = (
    "The classified region has {:.1%} dark trace ink, outside the {:.1%} to {:.1%} seen on the training "
    "printouts: it looks blank, noisy or like something other than an ECG trace."
)
OOD_REASON = Reason("out_of_distribution", OOD_WARNING)
LOW_CONFIDENCE_WARNING = "Low confidence: the answer's probability is {}; treat this result with extra caution."
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
    image_size: tuple[int, int] | None = None  # (width, height) of the full-size upright page
    reasons: tuple[Reason, ...] = ()  # why no diagnosis is given; empty when assessable
    page_transform: PageTransform | None = None  # full-size file -> upright page (turn, skew, photo rectification)
    source_size: tuple[int, int] | None = None  # (width, height) of the full-size file
    other_printout: str | None = None  # not assessable, but a standard printout the digitizer reads (its words)

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
    def signals_follow(self) -> bool:
        """Another standard printout: front ends that can digitize show its signals and measurements instead."""
        return self.other_printout is not None

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

    def headline(self, manifest: Manifest, *, signals_shown: bool = False) -> str:
        """The answer as front ends show it: the top class's name, or 'Not assessable by this model', with what the
        page is when it is another standard printout (and, where they are shown, that its signals follow)."""
        if self.label is not None:
            return manifest.display_name(self.label)
        if self.other_printout is None:
            return NOT_ASSESSABLE
        return f"{NOT_ASSESSABLE} ({self.other_printout})" + (f"; {SIGNALS_BELOW}" if signals_shown else "")

    def verdict(self, manifest: Manifest) -> str:
        """The headline, followed by the reasons when not assessable (one line for status bars, tables, CLI)."""
        if self.assessable:
            return self.headline(manifest)
        return f"{self.headline(manifest)} — " + " ".join(reason.message for reason in self.reasons)

    def upright(self, image: np.ndarray) -> np.ndarray:
        """``image`` (the classified file at full size or a reduced copy) as the upright page ``crop`` refers to."""
        if self.page_transform is None or self.source_size is None:
            return image
        return upright(image, self.page_transform, self.source_size)

    def crop_in(self, image: np.ndarray) -> CropBox:
        """The crop in pixels of ``image``, a full-size or reduced copy of the upright page (see ``upright``)."""
        height, width = image.shape[:2]
        if self.image_size is None:
            return self.crop.clamped(width, height)
        return self.crop.scaled(width / self.image_size[0], height / self.image_size[1]).clamped(width, height)


def _other_printout(page: PageReading) -> str | None:
    """What the page is when its own layout (not a crop, not the model's finer checks) is why no answer is given:
    a layout the model does not read, or a standard page without a grid whose pulses or ticks give its scales."""
    codes = {reason.code for reason in page.reasons}
    readable = "unsupported_layout" in codes or ("no_grid" in codes and page.layout.calibrated)
    return other_printout(page.layout) if readable else None


class EcgModel:
    """The verified CNN + LightGBM pair described by a manifest."""

    def __init__(self, manifest: Manifest, *, threads: int = 0) -> None:
        import lightgbm
        import onnxruntime

        self.manifest = manifest
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: on 2 shared cores spinning cost twice the run itself.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(
                str(manifest.files["cnn"]), options, providers=["CPUExecutionProvider"]
            )
            self._booster = lightgbm.Booster(model_file=str(manifest.files["classifier"]))
            ood_file = manifest.files.get("feature_distribution")
            self._distribution = FeatureDistribution.load(ood_file) if ood_file else None
            layout_file = manifest.files.get("layout_distribution")
            self._layouts = FeatureDistribution.load(layout_file) if layout_file else None
            self._signal_branch = SignalBranch.load(manifest)
        except ModelError:
            raise
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

    @property
    def has_signal_branch(self) -> bool:
        """True when the answer combines the image with the digitized signals (see core.classify.signal_branch)."""
        return self._signal_branch is not None

    def features(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CNN feature vectors and logits for an N x 3 x S x S batch."""
        features, logits = self._session.run(["features", "logits"], {"image": batch})
        return features, logits

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Per-class probabilities (N x classes) for a preprocessed batch."""
        return self.probabilities_from_features(self.features(batch)[0])

    def probabilities_from_features(self, features: np.ndarray) -> np.ndarray:
        """Per-class probabilities of the image branch alone from CNN feature vectors (LightGBM, then the manifest's
        temperature, fitted for the shipped classifier); what the saliency map explains."""
        return apply_temperature(self._image_branch(features), self.manifest.temperature)

    def _image_branch(self, features: np.ndarray) -> np.ndarray:
        """The image branch's uncalibrated class probabilities (LightGBM on CNN features)."""
        return booster_probabilities(self._booster, features)

    def classify(
        self, image: np.ndarray, *, crop: CropBox | None = None, image_size: tuple[int, int] | None = None
    ) -> Classification:
        """Classify a BGR image; ``crop`` (full-size upright pixels) overrides the automatic region.

        The page is read at the analysis resolution and made upright (core.page.reading); ``image_size`` is
        the file's full size when ``image`` is a reduced copy.
        """
        return self.classify_page(read_page(image, image_size=image_size, crop=crop))

    def classify_page(self, page: PageReading) -> Classification:
        """Classify a page already read (core.page.reading), e.g. one whose reading the window keeps for the
        digitizer. Every check appends to one list of reasons; any reason means no diagnosis."""
        warnings = [SMALL_CROP_WARNING] if page.crop.width < 100 or page.crop.height < 100 else []
        reasons = list(page.reasons) or self._unlike_printout(page)  # the finer check, when the page reads
        batch = preprocess(page.work, page.box)[None]
        if not page.reasons or not page.layout.calibrated:  # a standard printout of another kind is an ECG
            reasons += self._ink_reasons(batch)
        features, _ = self.features(batch)
        distance = float(self._distribution.distance(features)[0]) if self._distribution else None
        if distance is not None and distance > self._distribution.threshold:
            reasons.append(OOD_REASON)
        image = self._image_branch(features)
        if self._signal_branch is None:
            return self._result(apply_temperature(image, self.manifest.temperature)[0], page, warnings, reasons,
                                distance)
        probs, disagreement = self._signal_branch.answer(image, page, self.manifest)
        if disagreement is not None and not reasons:
            warnings.append(disagreement)
        return self._result(probs, page, warnings, reasons, distance, flagged=disagreement is not None)

    def _unlike_printout(self, page: PageReading) -> list[Reason]:
        """``out_of_distribution`` when the region's layout fingerprint is far from the training scans'."""
        if self._layouts is None:
            return []
        distance = float(self._layouts.distance(layout_fingerprint(page.work, page.box))[0])
        return [UNLIKE_PRINTOUT] if distance > self._layouts.threshold else []

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
        self, probs: np.ndarray, page: PageReading, warnings: list[str], reasons: list[Reason], distance: float | None,
        *, flagged: bool = False,
    ) -> Classification:
        """A diagnosis by the decision rule when ``reasons`` is empty, else a not-assessable outcome; ``flagged``:
        low confidence whatever the probabilities (the branches disagree)."""
        probabilities = {cid: float(p) for cid, p in zip(self.manifest.class_ids, probs)}
        where = {"crop": page.crop, "image_size": page.page_size, "page_transform": page.page_transform,
                 "source_size": page.source_size}
        if reasons:
            unlike = any(r.code in _UNLIKE_TRAINING for r in reasons)
            return Classification(None, probabilities, (), warnings=tuple(warnings), low_confidence=False,
                                  out_of_distribution=unlike, ood_distance=distance, reasons=ordered(reasons),
                                  other_printout=_other_printout(page), **where)
        decision = decide(probabilities, self.manifest.thresholds, self.manifest.low_confidence)
        if decision.low_confidence:
            warnings.append(LOW_CONFIDENCE_WARNING.format(format_percent(probabilities[decision.label])))
        return Classification(decision.label, probabilities, decision.findings, warnings=tuple(warnings),
                              low_confidence=decision.low_confidence or flagged, ood_distance=distance, **where)

