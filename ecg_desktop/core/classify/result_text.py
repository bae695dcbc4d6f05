"""The words front ends show around a Classification: the status line, the findings and the outlined region.

One place, so the window, the reports and the tables say the same thing about one result.
"""

from __future__ import annotations

from ecg_desktop.core.classify.manifest import Manifest
from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.outcome import format_percent

CLASSIFIED_REGION = "Classified region"
EXAMINED_REGION = "Region examined"  # not assessable: the region was read and checked, but not classified
LOW_CONFIDENCE = "low confidence"


def status_line(result: Classification, manifest: Manifest) -> str:
    """One line for a status bar: 'Normal (92.5 %).', 'Normal (52.0 %, low confidence).' or the verdict."""
    if not result.assessable:
        return result.verdict(manifest)
    unsure = f", {LOW_CONFIDENCE}" if result.low_confidence else ""
    return f"{result.headline(manifest)} ({format_percent(result.top_probability)}{unsure})."


def no_findings_text(result: Classification, manifest: Manifest) -> str:
    """Why an answer stands without a finding: no class reached its threshold, the headline is only the likeliest."""
    return (f"No class reached its finding threshold; {result.headline(manifest)} is shown because it is the most "
            "probable class.")


def findings_text(result: Classification, manifest: Manifest) -> str:
    """The FINDINGS line: every class over its threshold, why there is none beside an answer, or '–'."""
    if not result.assessable:
        return "–"
    names = [manifest.display_name(f) for f in result.findings]
    return ", ".join(names) if names else no_findings_text(result, manifest)


def other_findings_text(result: Classification, manifest: Manifest) -> str:
    """The report's line under its headline: the findings besides the answer, or why there are none at all."""
    if not result.findings:
        return f"Findings: {no_findings_text(result, manifest)}"
    return f"Other findings: {', '.join(other_findings(result, manifest)) or 'none'}"


def other_findings(result: Classification, manifest: Manifest) -> list[str]:
    """The display names of the findings besides the answer (the report's line and the summary's column)."""
    return [manifest.display_name(f) for f in result.findings if f != result.label]


def region_name(result: Classification | None) -> str:
    """What the outlined box is: the classified region, or (not assessable) only the region examined."""
    return CLASSIFIED_REGION if result is None or result.assessable else EXAMINED_REGION


def report_region_sentence(result: Classification, image_size: tuple[int, int]) -> str:
    """The report's caption under the scan: what the outline is and where it lies on the (width, height) page."""
    box, (width, height) = result.crop, result.image_size or image_size
    what = "the region that was classified" if result.assessable else "the region examined (it was not classified)"
    return f"Outlined: {what}, pixels ({box.x0}, {box.y0}) to ({box.x1}, {box.y1}) of a {width} x {height} scan."


def crop_text(result: Classification, *, edited_crop: bool = False) -> str:
    """The region line under the result: the box, and whether the user set it, the grid was found automatically, or
    no grid was found and the whole image was used."""
    crop = result.crop
    box = f"{crop.width} × {crop.height} px at ({crop.x0}, {crop.y0})"
    if edited_crop:
        return f"{box}, set by you (View ▸ Reset Crop restores the automatic one)."
    whole = result.image_size is not None and crop.as_list() == [0, 0, *result.image_size]
    if any(reason.code == "no_grid" for reason in result.reasons):
        if whole:
            return f"The whole image ({crop.width} × {crop.height} px): no ECG grid was found to crop to."
        return f"{box}: no ECG grid was found in it."
    if whole:
        return f"The whole image ({crop.width} × {crop.height} px), where the ECG grid was found."
    return f"{box}, found automatically."
