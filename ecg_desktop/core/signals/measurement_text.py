"""The words every front end uses for the digitizer's measurements (window panel, PDF report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only the type: core.signals.measure loads the digitizer (see core.signals.signal_reading)
    from ecg_desktop.core.signals.measure import Measurements

NOT_MEASURED = "—"
MEASUREMENTS_TITLE = "Measurements (from the digitized traces)"
MEASUREMENTS_NOTE = (
    "Measured on the digitized traces with textbook methods (QTc by Bazett); not a validated measurement "
    "program. Check them on the printout."
)
#: (label, Measurements field, unit), in the order they are shown.
_ROWS = (
    ("Heart rate", "heart_rate_bpm", " bpm"),
    ("RR", "rr_ms", " ms"),
    ("PR", "pr_ms", " ms"),
    ("QRS", "qrs_ms", " ms"),
    ("QT", "qt_ms", " ms"),
    ("QTc", "qtc_ms", " ms"),
    ("Axis", "axis_deg", "°"),
)
MEASUREMENT_LABELS = tuple(label for label, _, _ in _ROWS)


def measurement_lines(measurements: Measurements) -> tuple[tuple[str, str], ...]:
    """(label, value) per measurement, e.g. ("Heart rate", "72 bpm"), with "—" where it was not measurable."""
    values = measurements.as_dict()
    return tuple(
        (label, NOT_MEASURED if values[field] is None else f"{values[field]}{unit}") for label, field, unit in _ROWS
    )


def not_digitized(reason: str) -> str:
    """The sentence for a scan whose traces could not be digitized, ``reason`` being the digitizer's."""
    return f"Signals could not be digitized: {reason}"
