"""Read and verify ``models/manifest.json``: what the models are and that they are unaltered."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecg_desktop.core.classify.preprocess import PREPROCESSING
from ecg_desktop.core.errors import ModelError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ClassInfo:
    """A diagnostic class: stable id (files, JSON, CSV) and display name."""

    id: str
    name: str


@dataclass(frozen=True)
class Manifest:
    """The parts of the manifest the app uses; ``raw`` keeps the rest (metrics, data split)."""

    directory: Path
    model_version: str
    classes: tuple[ClassInfo, ...]
    input_size: int
    thresholds: dict[str, float]
    low_confidence: float
    temperature: float
    ink_range: tuple[float, float] | None
    files: dict[str, Path]
    sha256: dict[str, str]
    raw: dict[str, Any] = field(repr=False)

    @property
    def class_ids(self) -> list[str]:
        return [c.id for c in self.classes]

    def display_name(self, class_id: str) -> str:
        return next(c.name for c in self.classes if c.id == class_id)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(directory: Path) -> Manifest:
    """Parse the manifest in ``directory`` and check every model file against its sha256."""
    path = directory / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"The model manifest is missing ({path}). Reinstall ECG Desk.") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"The model manifest cannot be read ({path}): {exc}") from exc
    if raw.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"The model manifest has format version {raw.get('format_version')!r}; "
            f"this version of ECG Desk reads version {FORMAT_VERSION}."
        )
    try:
        files = {role: directory / entry["file"] for role, entry in raw["files"].items()}
        hashes = {role: entry["sha256"] for role, entry in raw["files"].items()}
        classes = tuple(ClassInfo(c["id"], c["name"]) for c in raw["classes"])
        manifest = Manifest(
            directory=directory,
            model_version=str(raw["model_version"]),
            classes=classes,
            input_size=PREPROCESSING.input_size,
            thresholds={k: float(v) for k, v in raw["thresholds"]["findings"].items()},
            low_confidence=float(raw["thresholds"]["low_confidence"]),
            temperature=float(raw.get("calibration", {}).get("temperature", 1.0)),
            ink_range=_ink_range(raw),
            files=files,
            sha256=hashes,
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"The model manifest ({path}) is incomplete: missing {exc}.") from exc
    _check_preprocessing(raw["preprocessing"], path)
    _verify_files(manifest)
    return manifest


def _check_preprocessing(trained: dict[str, Any], path: Path) -> None:
    """Refuse a model trained on inputs prepared otherwise than this app prepares them."""
    ours = PREPROCESSING.as_dict()
    differing = sorted(key for key in ours.keys() | trained.keys() if trained.get(key) != ours.get(key))
    if differing:
        details = "; ".join(f"{key}: model {trained.get(key)!r}, app {ours.get(key)!r}" for key in differing[:3])
        raise ModelError(
            f"The model in {path.parent} was trained with different image preprocessing than this version of "
            f"ECG Desk uses ({details}); its results would be wrong, so it is not used. Install matching models."
        )


def _ink_range(raw: dict[str, Any]) -> tuple[float, float] | None:
    low_high = raw.get("input_checks", {}).get("ink_fraction_range")
    return (float(low_high[0]), float(low_high[1])) if low_high else None


def _verify_files(manifest: Manifest) -> None:
    for role, path in manifest.files.items():
        if not path.is_file():
            raise ModelError(f"The model file {path.name} is missing from {manifest.directory}. Reinstall ECG Desk.")
        if sha256_of(path) != manifest.sha256[role]:
            raise ModelError(
                f"The model file {path.name} has been altered (its sha256 does not match the manifest); "
                "ECG Desk will not classify with it. Reinstall ECG Desk."
            )
