"""The input sanity range stored in the manifest: how much trace ink a real printout's model input has.

    python -m training.input_checks [--data DIR] [--models models]   # (re)write it into models/manifest.json

Training calls ``ink_range`` too; this command fills it in for a model trained before the check existed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ecg_desktop.core.classify.preprocess import ink_fraction, preprocess
from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.crop import find_diagnostic_region
from training import data

MARGIN_LOW, MARGIN_HIGH = 0.5, 2.0  # allow half the least and twice the most ink seen in training


def ink_range(inputs: np.ndarray) -> dict:
    """Allowed ink fraction, from the training inputs' minimum and maximum with a wide margin."""
    fractions = ink_fraction(inputs)
    return {
        "ink_fraction_range": [round(float(fractions.min()) * MARGIN_LOW, 5), round(float(fractions.max()) * MARGIN_HIGH, 5)],
        "ink_fraction_training": {"min": float(fractions.min()), "median": float(np.median(fractions)),
                                  "max": float(fractions.max())},
        "method": f"ink fraction (darkest channel < 0.5) of the training inputs: [{MARGIN_LOW} x min, {MARGIN_HIGH} x max]",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[1] / "models")
    args = parser.parse_args(argv)
    manifest_path = args.models / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    class_ids = [c["id"] for c in manifest["classes"]]
    inputs = []
    for path, _ in data.discover(args.data, class_ids):
        image = load_for_analysis(path).pixels  # what inference reads: the analysis-size copy
        inputs.append(preprocess(image, find_diagnostic_region(image).box))
    manifest["input_checks"] = ink_range(np.stack(inputs))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest["input_checks"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
