"""The one place that knows where bundled models and resources live.

Works from a source checkout, an installed wheel (data shipped inside the package is not used;
the checkout layout is) and a PyInstaller bundle (``sys._MEIPASS``). ``ECG_DESK_MODELS`` overrides
the models folder, e.g. to try a freshly trained model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def app_root() -> Path:
    """Folder holding ``models/`` and ``resources/``: the bundle root or the source checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parents[2]


def models_dir() -> Path:
    """Folder with ``manifest.json`` and the model files it names."""
    override = os.environ.get("ECG_DESK_MODELS")
    return Path(override) if override else app_root() / "models"


def resources_dir() -> Path:
    """Folder with icons and the bundled sample scans."""
    return app_root() / "resources"


def sample_scans() -> list[Path]:
    """The bundled synthetic sample scans, sorted by name."""
    return sorted((resources_dir() / "samples").glob("*.png"))
