"""The app's colours as hex strings, shared by the window (gui/theme.py) and the PDF reports (report_pdf)."""

from __future__ import annotations

ACCENT = "#1f5fbf"  # the answer, the crop box, the selected class
MUTED = "#5f6b7a"  # captions and details
ALARM = "#b3261e"  # errors, failed files
CAUTION = "#8a5a00"  # not assessable, low confidence, warnings
TRACES = ("#00a651", "#7b2ff7")  # digitized traces drawn over a scan, alternating by panel column
