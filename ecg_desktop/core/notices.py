"""The texts every output carries: the decision-support disclaimer and the training data's attribution."""

from __future__ import annotations

DISCLAIMER = (
    "Decision support only: this result was produced by a machine-learning model trained on scans from one "
    "hospital and one ECG machine layout, and must be confirmed by a qualified physician. It is not a diagnosis."
)
DISCLAIMER_SHORT = "Decision support only — confirm with a physician."  # where there is room for one line
ATTRIBUTION = "ECG Images dataset of Cardiac Patients (Khan & Hussain, Mendeley Data 2021), CC BY 4.0"
