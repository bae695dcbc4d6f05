"""Training of the bundled models (PyTorch, CPU). Never imported by the app."""

import ecg_desktop  # noqa: F401  (sets ORT_DISABLE_TELEMETRY before onnxruntime is imported)
