"""Why the model must not answer for a page, in a clinician's words, from what the page reading found.

The model reads one printout: the supported cart's 3x4 layout with a rhythm strip, 25 mm/s and 10 mm/mV,
its panels split by full-height separator lines and each row's 1 mV pulse printed apart from the trace.
A reason states only what was found ("a 6x2 layout", "a 3x4 layout with a rhythm strip, from another ECG
cart", "no ECG traces"); the finer checks (layout fingerprint, CNN features) are the model's.
"""

from __future__ import annotations

import numpy as np

from ecg_desktop.core.outcome import Reason
from ecg_desktop.core.page.crop import CropBox
from ecg_desktop.core.page.layout import PageLayout

SUPPORTED_TEXT = "the 3x4 layout with a rhythm strip (25 mm/s, 10 mm/mV) of the ECG cart it was trained on"
SUPPORTED_LAYOUT = "3x4+1"
OTHER_CART = ", from another ECG cart"
OTHER_CART_PRINTOUT = "another ECG cart's printout"
_CROP_INK_LOSS = 0.03  # a crop that drops more than this share of the detected trace ink cuts leads
_CROP_MARGIN_MM = 2.0  # trace ends this far outside a crop are cut off

NO_GRID_REASON = Reason(
    "no_grid",
    "No ECG grid was found in the classified region. The model reads only 12-lead printouts on grid paper; "
    "check that this is one (a very faint copy or a cut-off grid can also cause this).",
)


def page_reasons(grid_found: bool, layout: PageLayout) -> tuple[Reason, ...]:
    """No reasons for the supported printout; otherwise one saying what was found instead."""
    if not grid_found and not layout.calibrated:
        return (NO_GRID_REASON,)  # without a grid, only pulses or marked boundaries tell that the traces are an ECG
    if not grid_found:
        return (Reason("no_grid", f"Found {layout.description}, but no ECG grid could be measured around the "
                                  f"traces; this model reads only {SUPPORTED_TEXT}."),)
    if not layout.rows:
        return (Reason("unsupported_layout", f"Found an ECG grid but no ECG traces on it; this model reads only "
                                             f"{SUPPORTED_TEXT}."),)
    found = describe(layout)
    if found is None:
        return ()
    return (Reason("unsupported_layout", f"Found {found}; this model reads only {SUPPORTED_TEXT}."),)


def describe(layout: PageLayout) -> str | None:
    """What the page is in plain words when it is not the supported printout; None when it is."""
    problems = layout.scale_problems()
    if layout.name == SUPPORTED_LAYOUT and is_supported_cart(layout) and not problems:
        return None
    words = layout.description
    if layout.name == SUPPORTED_LAYOUT and not is_supported_cart(layout):
        words += OTHER_CART
    if problems:
        words += f" ({' and '.join(problems)})"
    return words


def other_printout(layout: PageLayout) -> str | None:
    """Words for a standard printout that the digitizer reads but the model does not ("another ECG cart's
    printout", "a 3x4 layout with 3 rhythm strips"); None for the supported printout and for pages the
    digitizer cannot read."""
    words = describe(layout)
    if words is None or layout.known is None or not layout.known.digitized or not layout.standard_speed:
        return None
    return OTHER_CART_PRINTOUT if words == layout.known.words + OTHER_CART else words


def is_supported_cart(layout: PageLayout) -> bool:
    """The supported cart marks its panels with full-height separators and prints its pulses apart from the trace."""
    pulses = [row.pulse for row in layout.rows if row.pulse is not None]
    return "separators" in layout.marks and not any(pulse.joined for pulse in pulses)


def crop_reasons(detected: PageLayout, detected_box: CropBox, chosen: CropBox) -> tuple[Reason, ...]:
    """A ``crop_cuts_leads`` reason when the user's ``chosen`` box cuts off leads the ``detected`` region holds.

    A crop that only trims blank margin, or is equal or larger, gives no reason.
    """
    lost = _lost_parts(detected, detected_box, chosen)
    if not lost:
        return ()
    return (
        Reason(
            "crop_cuts_leads",
            f"The chosen crop cuts off {_join(lost)}, which the detected ECG region contains; "
            "widen the crop or reset it to the detected region.",
        ),
    )


def _lost_parts(layout: PageLayout, box: CropBox, chosen: CropBox) -> list[str]:
    """What of the detected region's leads falls outside the chosen box (empty when nothing does)."""
    ox, oy = box.x0, box.y0
    lost = []
    count = len(layout.rows)
    for index, row in enumerate(layout.rows):
        if not chosen.y0 <= row.baseline + oy < chosen.y1:
            strip = index == count - 1 and count > 1 and row.panels == 1
            lost.append("the rhythm strip" if strip else "the top lead row" if index == 0 else f"lead row {index + 1}")
    margin = _CROP_MARGIN_MM * layout.px_per_mm[0]
    if any(row.x_end + ox > chosen.x1 + margin for row in layout.rows):
        lost.append("the right end of the traces")
    if any(row.x_start + ox < chosen.x0 - margin for row in layout.rows):
        lost.append("the left end of the traces")
    total = int(np.count_nonzero(layout.trace))
    if not lost and total:
        x0, x1 = (max(0, x - ox) for x in (chosen.x0, chosen.x1))
        y0, y1 = (max(0, y - oy) for y in (chosen.y0, chosen.y1))
        kept = int(np.count_nonzero(layout.trace[y0:y1, x0:x1]))
        if total - kept > _CROP_INK_LOSS * total:
            lost.append(f"{100 * (total - kept) / total:.0f}% of the trace ink")
    return lost


def _join(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
