"""One page reading for standard printouts of any cart: rendered styles of other carts (testing.synthetic),
their layouts described truthfully, 3x4 pages with rhythm strips digitized, and the reasons a clinician reads."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_desktop.core.outcome import NOT_ASSESSABLE, SIGNALS_BELOW
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.core.page.reasons import OTHER_CART_PRINTOUT
from ecg_desktop.core.signals.digitize import LEADS, digitize
from ecg_desktop.testing.synthetic import (
    STYLE_CONDITIONS,
    STYLES,
    reconstruction_snr,
    render_condition,
    render_printout,
)

#: every rendered style and degradation (STYLE_CONDITIONS) is read and digitized
READ = list(STYLE_CONDITIONS)
#: layout -> the words a reason gives for it
WORDS = {"3x4+3": "a 3x4 layout with 3 rhythm strips", "3x4": "a 3x4 layout without a rhythm strip",
         "6x2": "a 6x2 layout", "12x1": "a 12x1 layout"}
UNTRUE = ("0 panels", "No ECG grid", "not an ECG", "dark trace ink")


def _median_snr(image: np.ndarray, truth) -> float:
    dig, drawn = digitize(image), truth.drawn_leads()
    return float(np.median([reconstruction_snr(drawn[lead][~np.isnan(drawn[lead])],
                                               np.nan_to_num(dig.lead(lead)[~np.isnan(drawn[lead])]), truth.fs)
                            for lead in LEADS]))


@pytest.mark.parametrize("condition", READ)
def test_every_style_reads_as_a_3x4_page_with_a_rhythm_strip_and_is_digitized(condition: str) -> None:
    image, truth = render_condition(condition, seed=1, heart_rate=75)
    reading = read_page(image)
    assert reading.layout.name == "3x4+1", (condition, reading.layout.description)
    pulsed = STYLES[STYLE_CONDITIONS[condition][0]].pulse != "none"
    assert len(reading.layout.rows) == 4 and all((row.pulse is not None) == pulsed for row in reading.layout.rows)
    assert _median_snr(image, truth) >= (13.0 if condition in ("brown", "blue") else 16.0), condition


def test_a_page_without_a_grid_is_described_and_digitized_but_not_answered(model) -> None:
    image, _ = render_condition("no_grid", seed=2, heart_rate=80)
    reading = read_page(image)
    assert reading.grid is None and reading.layout.time_marks  # ticks at the panel boundaries give the time axis
    assert [r.code for r in reading.reasons] == ["no_grid"]
    assert reading.reasons[0].message.startswith("Found a 3x4 layout with a rhythm strip, but no ECG grid")
    result = model.classify(image)
    assert not result.assessable and result.other_printout == OTHER_CART_PRINTOUT and result.signals_follow
    digitized = digitize(image, reading=reading)
    assert len(digitized.strips) == 1
    assert digitized.warnings == (("No ECG grid was measured: the time scale comes from the panel marks, the voltage "
                                   "scale from 10 mm/mV on a page taken to be A4 (check amplitudes)."),)


@pytest.mark.parametrize("style", ["red", "green", "pink"])
def test_another_carts_page_is_named_so_and_not_answered(style: str, model) -> None:
    image = render_printout(style=style, seed=2, heart_rate=90)
    reading = read_page(image)
    assert [r.code for r in reading.reasons] == ["unsupported_layout"]
    assert reading.reasons[0].message.startswith("Found a 3x4 layout with a rhythm strip, from another ECG cart;")
    result = model.classify(image)
    assert not result.assessable and result.other_printout == OTHER_CART_PRINTOUT and result.signals_follow
    assert result.headline(model.manifest) == f"{NOT_ASSESSABLE} ({OTHER_CART_PRINTOUT})"
    assert result.headline(model.manifest, signals_shown=True).endswith(f"; {SIGNALS_BELOW}")
    assert not any(text in reason.message for reason in result.reasons for text in UNTRUE)


@pytest.mark.parametrize("layout", list(WORDS))
@pytest.mark.parametrize("style", ["edan", "red", "blue"])
def test_other_layouts_are_described_as_what_they_are(layout: str, style: str) -> None:
    reading = read_page(render_printout(layout=layout, style=style, seed=0, heart_rate=70))
    assert reading.layout.name == layout, reading.layout.description
    assert len(reading.reasons) == 1 and reading.reasons[0].message.startswith(f"Found {WORDS[layout]}")


def test_a_3x4_page_with_three_rhythm_strips_is_digitized_and_each_strip_named() -> None:
    image, truth = render_condition("red", seed=3, heart_rate=70, layout="3x4+3")
    dig = digitize(image)
    assert [strip.lead for strip in dig.strips] == [panel.lead for panel in truth.panels if panel.xs.size > 2000]


def test_a_page_upside_down_with_little_header_is_turned_by_its_pulses() -> None:
    image = render_printout(style="pink", seed=4)  # a blank top third: the header cue says nothing
    reading = read_page(np.ascontiguousarray(image[::-1, ::-1]))
    assert reading.page_transform.quarter_turns == 2 and reading.layout.name == "3x4+1"


def test_the_digitizer_reuses_a_page_reading() -> None:
    image = render_printout(style="red", seed=5)
    page = read_page(image)
    again, reused = digitize(image), digitize(image, reading=page)
    assert np.array_equal(again.signals(), reused.signals(), equal_nan=True)


def test_real_scans_read_as_the_supported_printout(data_dir) -> None:
    from ecg_desktop.core.loading.image_io import load_for_analysis

    for path in sorted(data_dir.glob("*/*.jpg"))[::25]:
        scan = load_for_analysis(path)
        reading = read_page(scan.pixels, image_size=scan.file_size)
        assert not reading.reasons and reading.layout.name == "3x4+1", path.name
        assert "separators" in reading.layout.marks and all(row.pulse is not None for row in reading.layout.rows)


@pytest.mark.parametrize(("condition", "case"), [
    ("red", {"heart_rate": 160, "kind": "irregular", "amplitude": 1.4, "seed": 123, "rhythm_lead": "III"}),  # tall QRS
    ("rotated", {"heart_rate": 140, "kind": "irregular", "amplitude": 0.6, "seed": 114}),  # a QRS by every row's tick
])
def test_the_time_axis_stands_on_the_ticks_not_on_qrs_complexes_beside_them(condition: str, case: dict) -> None:
    image, truth = render_condition(condition, **case)
    reading = read_page(image)
    scale, x0 = reading.page_scale, reading.crop.x0
    drawn = {share: truth.x0 + share * 10 * truth.px_per_s for share in (0.25, 0.5, 0.75)}
    marks = reading.layout.time_marks
    assert len(marks) >= 6
    assert all(abs(x * scale + x0 - drawn[share]) <= 4 for x, share, _ in marks), marks  # 4 px: half a millimetre
