"""Classifying: preprocessing, the CNN + LightGBM model, calibration, the decision rule and its applicability checks."""
