"""ECG Desk: offline classification of scanned 12-lead ECG printouts (decision support)."""

__version__ = "0.1.0"
