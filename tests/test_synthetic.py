"""Tests for the synthetic ECG signal and printout renderer."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from ecg_desktop.core.page.crop import find_diagnostic_region
from ecg_desktop.testing.synthetic import (
    GRID_BOX_FRACTIONS,
    KINDS,
    LAYOUTS,
    LEAD_NAMES,
    STYLE_CONDITIONS,
    STYLES,
    CartStyle,
    PrintoutTruth,
    degrade,
    render_condition,
    render_printout,
    render_printout_with_truth,
    synthesize_leads,
)

STANDARD_LEADS = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}
SIZES = [(2213, 1572), (1106, 786)]


@pytest.fixture(scope="module")
def printouts() -> dict[tuple[int, int], np.ndarray]:
    return {(w, h): render_printout(width=w, height=h) for w, h in SIZES}


def _grid_box(width: int, height: int) -> tuple[int, int, int, int]:
    fx0, fy0, fx1, fy1 = GRID_BOX_FRACTIONS
    return round(fx0 * width), round(fy0 * height), round(fx1 * width), round(fy1 * height)


@pytest.mark.parametrize("kind", KINDS)
def test_leads_have_standard_names_and_length(kind: str) -> None:
    leads = synthesize_leads(kind=kind, seconds=10.0, fs=500)
    assert set(leads) == STANDARD_LEADS == set(LEAD_NAMES)
    for signal in leads.values():
        assert signal.shape == (5000,)
        assert np.all(np.isfinite(signal))
        assert 0.15 < np.ptp(signal) < 5.0  # mV: a visible QRS (aVL is small), nothing absurd
    assert synthesize_leads(seconds=2.5, fs=250)["V1"].shape == (625,)


def test_leads_are_physiologically_plausible() -> None:
    leads = synthesize_leads(kind="normal")
    assert np.median(leads["II"]) < np.max(leads["II"]) - 0.7  # upright R waves in II
    assert np.min(leads["aVR"]) < -0.5 < np.max(leads["aVR"])  # aVR mostly negative
    assert abs(np.min(leads["V1"])) > np.max(leads["V1"])  # V1 mostly negative QRS
    assert np.max(leads["V5"]) > np.max(leads["V1"]) + 0.5  # R-wave progression
    np.testing.assert_allclose(leads["III"], leads["II"] - leads["I"], atol=0.2)  # Einthoven, up to noise


def test_leads_are_deterministic_and_seed_dependent() -> None:
    a, b = synthesize_leads(seed=5), synthesize_leads(seed=5)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    assert not np.array_equal(a["II"], synthesize_leads(seed=6)["II"])


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        synthesize_leads(kind="bogus")
    with pytest.raises(ValueError):
        synthesize_leads(heart_rate=0)
    with pytest.raises(ValueError):
        render_printout(width=50, height=30)


def test_printout_shape_and_type(printouts: dict[tuple[int, int], np.ndarray]) -> None:
    for (width, height), image in printouts.items():
        assert image.shape == (height, width, 3)
        assert image.dtype == np.uint8


def test_printout_is_deterministic_for_a_seed() -> None:
    a = render_printout(kind="irregular", seed=3, width=1106, height=786)
    b = render_printout(kind="irregular", seed=3, width=1106, height=786)
    assert np.array_equal(a, b)


def test_seeds_and_kinds_give_different_images() -> None:
    images = [render_printout(kind=kind, seed=seed, width=1106, height=786) for kind in KINDS for seed in (0, 1)]
    for i, first in enumerate(images):
        for second in images[i + 1:]:
            assert not np.array_equal(first, second)


@pytest.mark.parametrize("size", SIZES)
def test_automatic_crop_finds_the_grid(printouts: dict[tuple[int, int], np.ndarray], size: tuple[int, int]) -> None:
    width, height = size
    result = find_diagnostic_region(printouts[size])
    assert result.grid_found
    expected = _grid_box(width, height)
    tolerances = (width, height, width, height)
    for found, want, extent in zip(result.box.as_list(), expected, tolerances):
        assert abs(found - want) <= 0.01 * extent, (result.box, expected)


def test_blank_page_has_no_grid() -> None:
    page = np.full((1572, 2213, 3), 255, np.uint8)
    assert not find_diagnostic_region(page).grid_found


@pytest.mark.parametrize("size", SIZES)
def test_traces_are_inside_the_grid(printouts: dict[tuple[int, int], np.ndarray], size: tuple[int, int]) -> None:
    width, height = size
    dark = printouts[size].min(axis=2) < 100
    x0, y0, x1, y1 = _grid_box(width, height)
    inside = dark[y0:y1, x0:x1]
    assert inside.mean() > 0.005  # 12 leads, rhythm strip, calibration pulses, separators
    for centre in (0.146, 0.390, 0.635, 0.879):  # baselines of the 3 lead rows and the rhythm strip
        band = inside[round((centre - 0.05) * (y1 - y0)):round((centre + 0.05) * (y1 - y0))]
        assert band.any(axis=0).mean() > 0.85  # each row's trace spans (nearly) the whole width
    margin = max(2, round(0.004 * width))
    assert not dark[y0:y1, : x0 - margin].any()  # left margin
    assert not dark[y0:y1, x1 + margin:].any()  # right margin
    assert not dark[y1 + margin: y1 + round(0.008 * height)].any()  # gap above the footer text
    assert dark[:y0].any() and dark[y1:].any()  # header and footer text


def test_default_printout_matches_the_bundled_sample() -> None:
    """The new keyword options leave the default EDAN page byte-identical (resources/make_samples.py)."""
    cv2 = pytest.importorskip("cv2")
    path = Path(__file__).resolve().parent.parent / "resources" / "samples" / "sample_normal.png"
    rendered = render_printout(kind="normal", heart_rate=72, seed=1, patient_id="100001",
                               date_text="2026-01-01  09:12:40 AM")
    assert np.array_equal(cv2.imread(str(path)), rendered)


@pytest.mark.parametrize("option", [{"layout": "6x2"}, {"grid_colour": (245, 222, 205)}, {"dot_grid": True},
                                    {"header": "other"}, {"speed_mm_s": 50}, {"gain_mm_mv": 5}, {"traces": False}])
def test_each_option_changes_the_page(option: dict[str, object]) -> None:
    default = render_printout(width=1106, height=786)
    changed = render_printout(width=1106, height=786, **option)
    assert changed.shape == default.shape and changed.dtype == np.uint8
    assert not np.array_equal(changed, default)


def test_traces_false_leaves_the_grid_empty() -> None:
    image = render_printout(width=1106, height=786, traces=False)
    x0, y0, x1, y1 = _grid_box(1106, 786)
    assert not (image[y0 + 4:y1 - 4, x0 + 4:x1 - 4].min(axis=2) < 100).any()


def test_invalid_printout_options_are_rejected() -> None:
    for option in ({"layout": "4x3"}, {"header": "ge"}, {"speed_mm_s": 0}, {"gain_mm_mv": -5}):
        with pytest.raises(ValueError):
            render_printout(width=1106, height=786, **option)


# sha256 of the image and truth (_render_hash) of default-style pages, computed with the renderer before
# cart styles existed: the "edan" style must keep drawing them byte for byte.
EDAN_HASHES = [
    ({}, "22b5d78ba37d19485c70dff0fc14c927bf9404339c6d4ac46ae34c879331c300"),
    ({"width": 1106, "height": 786}, "aaa5aa227927f72a1e0bb9cc8ee29821eee54d98bcd8f885e3f3cc258d71c95d"),
    ({"kind": "irregular", "heart_rate": 130}, "e4bfe8a369eff78bb7d47b55cf58cd84dda1150a0b2708178311f52078074c5d"),
    ({"layout": "12x1"}, "986b9ddf07714affa4d0fba111c0ce5152e0fe0c884e4d6ece0c306370c1ede4"),
    ({"traces": False}, "9110f2696f12a655e593f6d8771de5f9abcf0e0dbecb30ef9086257e36c3de8a"),
    ({"rhythm_lead": "V5"}, "cf0881dff3a2a4e6c02cfba5b5e5aa9738a305ed7b2e0f4e95b6e67bba7683cb"),
    ({"width": 1106, "height": 786, "layout": "6x2", "header": "other", "dot_grid": True},
     "b873efce8bf17b3f1d0b16a33876b2c2ff1594e1c8bbca833872b253a3402f5f"),
    ({"width": 1000, "height": 700, "layout": "3x4+3", "speed_mm_s": 50, "gain_mm_mv": 20,
      "grid_colour": (80, 80, 200)}, "96df102ad8ac289fd59c324997b640556b6a66e6f89d55cb1e0fe106e4067cbe"),
]
SMALL = {"width": 1106, "height": 786}


def _render_hash(image: np.ndarray, truth: PrintoutTruth) -> str:
    """sha256 over the image's bytes and every drawn panel's and the page's scales and positions."""
    digest = hashlib.sha256(image.tobytes())
    for panel in truth.panels:
        digest.update(panel.lead.encode())
        digest.update(np.int64([panel.row, panel.column, panel.start]).tobytes())
        digest.update(panel.xs.tobytes())
        digest.update(panel.ys.tobytes())
    digest.update(np.float64([*truth.baselines, truth.x0, truth.px_per_s, truth.px_per_mv]).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize(("options", "expected"), EDAN_HASHES)
def test_edan_style_draws_the_pages_it_drew_before_styles(options: dict[str, object], expected: str) -> None:
    assert _render_hash(*render_printout_with_truth(**options)) == expected
    assert np.array_equal(render_printout(style="edan", **options), render_printout(**options))


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.int16)


def _ink(image: np.ndarray, blank: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Pixels of ``image`` at least 40% covered with ink of ``colour``, against ``blank`` (the page without traces)."""
    paper, ink = _grey(blank), _grey(np.array([[colour]], np.uint8))[0, 0]
    return _grey(image) <= paper - 0.4 * (paper - ink)


def _on_ink(image: np.ndarray, blank: np.ndarray, colour: tuple[int, int, int], xs: np.ndarray, ys: np.ndarray
            ) -> np.ndarray:
    """Whether the 3 x 3 pixels around each (x, y) hold ink."""
    near_ink = cv2.dilate(_ink(image, blank, colour).astype(np.uint8), np.ones((3, 3), np.uint8))
    return near_ink[np.round(ys).astype(int), np.round(xs).astype(int)] > 0


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("options", [{"layout": name} for name in LAYOUTS] + [
    {"speed_mm_s": 50, "gain_mm_mv": 5}, {"gain_mm_mv": 20, "layout": "6x2"}, {"rhythm_lead": "V2", "kind": "irregular"}])
def test_every_drawn_sample_is_on_the_ink_where_the_truth_says(style: str, options: dict[str, object]) -> None:
    image, truth = render_printout_with_truth(style=style, seed=4, **SMALL, **options)
    blank = render_printout(style=style, seed=4, traces=False, **SMALL, **options)
    rows = LAYOUTS[options.get("layout", "3x4+1")]
    assert len(truth.baselines) == len(rows) and len(truth.panels) == sum(map(len, rows))
    rng = np.random.default_rng(0)
    for panel in truth.panels:
        picks = rng.choice(panel.xs.size, 25, replace=False)
        assert _on_ink(image, blank, STYLES[style].ink, panel.xs[picks], panel.ys[picks]).all(), panel
        # the truth is self-consistent: time and voltage scales, start sample, time 0 at the first column
        assert np.allclose(np.diff(panel.xs), truth.px_per_s / truth.fs)
        assert panel.xs[0] == pytest.approx(truth.x0 + panel.start / truth.fs * truth.px_per_s, abs=0.5)
        drawn = truth.leads[panel.lead][panel.start : panel.start + panel.xs.size]
        inside = (panel.ys > panel.ys.min()) & (panel.ys < panel.ys.max())  # not clipped at the page
        mv = (truth.baselines[panel.row] - panel.ys) / truth.px_per_mv
        assert np.allclose(mv[inside], drawn[inside], atol=1e-3)
    assert all(truth.panels[i].xs[0] == truth.x0 for i in range(len(rows)) if truth.panels[i].column == 0)
    drawn_leads = truth.drawn_leads()
    rhythm = options.get("rhythm_lead", "II")
    expected = {lead for row in rows for lead in row} if options.get("layout", "3x4+1") != "3x4+1" else \
        set(LEAD_NAMES)
    assert set(drawn_leads) == expected
    if options.get("layout", "3x4+1") == "3x4+1":  # the rhythm strip: 10 s at 25 mm/s, 5 s at 50 mm/s
        seconds = 10 * 25 / options.get("speed_mm_s", 25)
        assert np.flatnonzero(~np.isnan(drawn_leads[rhythm])).size == round(seconds * truth.fs)


def test_page_options_and_mixed_styles_draw_where_the_truth_says() -> None:
    mixed = dataclasses.replace(STYLES["edan"], boundaries="ticks", pulse="joined", label_position="below")
    for style, option in ((mixed, {}), ("green", {"dot_grid": True}), ("red", {"grid_colour": (245, 222, 205)})):
        image, truth = render_printout_with_truth(style=style, **SMALL, **option)
        blank = render_printout(style=style, traces=False, **SMALL, **option)
        assert not np.array_equal(image, render_printout_with_truth(style=style, **SMALL)[0]) or not option
        ink = STYLES[style].ink if isinstance(style, str) else style.ink
        for panel in truth.panels:
            assert _on_ink(image, blank, ink, panel.xs[::50], panel.ys[::50]).all(), panel.lead


def _row_panels(truth: PrintoutTruth, row: int) -> list:
    return [panel for panel in truth.panels if panel.row == row]


@pytest.mark.parametrize("style", STYLES)
def test_panel_boundary_ticks_are_where_the_style_draws_them(style: str) -> None:
    cart = STYLES[style]
    image, truth = render_printout_with_truth(style=cart, **SMALL)
    unmarked = render_printout(style=dataclasses.replace(cart, boundaries="none"), **SMALL)
    changed = np.argwhere((image != unmarked).any(axis=2))  # (y, x)
    ticks = [(panel.xs[0], truth.baselines[panel.row]) for panel in truth.panels if panel.column]
    if cart.boundaries != "ticks":
        assert cart.boundaries == "separators" or not changed.size
        return
    half = 3 / 2 * 200 / 25.4 * 1106 / 2213  # 1.5 mm
    near = np.zeros(len(changed), bool)
    grey = _grey(image)
    for x, baseline in ticks:
        near |= (np.abs(changed[:, 1] - x) <= 2) & (np.abs(changed[:, 0] - baseline) <= half + 1)
        column = grey[round(baseline - half) + 1 : round(baseline + half), round(x) - 1 : round(x) + 1]
        assert (column < 90).all(), (x, baseline)  # a solid dark tick, 2 px wide, centred on the baseline
    assert near.all()  # nothing else changed


@pytest.mark.parametrize("style", STYLES)
def test_calibration_pulses_are_where_the_style_draws_them(style: str) -> None:
    cart = STYLES[style]
    image, truth = render_printout_with_truth(style=cart, gain_mm_mv=5, **SMALL)
    ink = _ink(image, render_printout(style=cart, gain_mm_mv=5, traces=False, **SMALL), cart.ink)
    mm = 200 / 25.4 * 1106 / 2213
    for row, baseline in enumerate(truth.baselines):
        left = ink[round(baseline - 12 * mm) : round(baseline + 2 * mm), round(truth.x0 - 9 * mm) : round(truth.x0) - 2]
        if cart.pulse == "none":
            assert not left.any()  # nothing before time 0
            continue
        if cart.pulse == "edan":  # 1 mV = 5 mm at 5 mm/mV, 5 mm wide, ending before time 0
            top, up = baseline - 5 * mm, 92 * 1106 / 2213 + mm
            assert ink[round(top) - 1 : round(top) + 2, round(up + mm) : round(up + 4 * mm)].any(axis=0).all()
            continue
        # joined: 0.2 s wide, its fall at time 0 (the first sample's x), 1 mV tall
        rise, top = truth.x0 - 0.2 * truth.px_per_s, baseline - truth.px_per_mv
        assert _row_panels(truth, row)[0].xs[0] == truth.x0
        assert ink[round(top) - 1 : round(top) + 2, round(rise) + 2 : round(truth.x0) - 1].any(axis=0).all()  # top
        for x in (rise, truth.x0):  # the rise and the fall, all along
            assert ink[round(top) + 2 : round(baseline) - 1, round(x) - 1 : round(x) + 2].any(axis=1).all()


@pytest.mark.parametrize("style", STYLES)
def test_lead_labels_are_where_the_style_puts_them(style: str) -> None:
    cart = STYLES[style]
    other = "below" if cart.label_position == "above" else "above"
    image, truth = render_printout_with_truth(style=cart, **SMALL)
    swapped = render_printout(style=dataclasses.replace(cart, label_position=other), **SMALL)
    darker = _grey(image) < _grey(swapped) - 60  # ink only this page has: its labels
    scale = 1106 / 2213
    for panel in truth.panels:
        width, height = cv2.getTextSize(panel.lead, cart.font, cart.label_size, 1)[0]
        baseline, gap = truth.baselines[panel.row], cart.label_gap * scale
        y0, y1 = (baseline - gap - height * scale, baseline - gap) if cart.label_position == "above" else \
            (baseline + gap, baseline + gap + height * scale)
        x0 = panel.xs[0] + 3 * scale
        box = darker[round(y0) - 1 : round(y1) + 2, round(x0) - 1 : round(x0 + width * scale) + 2]
        assert box.sum() >= 4 * len(panel.lead), (panel.lead, panel.row)
        darker[round(y0) - 1 : round(y1) + 2, round(x0) - 1 : round(x0 + width * scale) + 2] = False
    assert darker.sum() <= 0.02 * len(truth.panels) * 20  # no label ink elsewhere (but a few anti-aliasing pixels)


def test_full_bleed_pages_have_a_dark_frame_and_the_grid_to_the_edge() -> None:
    for name in ("red", "blue"):
        cart = STYLES[name]
        image = render_printout(style=name, traces=False, **SMALL)
        frame = max(3, round(cart.frame_px * 1106 / 2213))
        for edge in (image[:frame], image[-frame:], image[:, :frame], image[:, -frame:]):
            assert (edge == cart.frame_colour).all()
        inner = image[frame:-frame, frame:-frame]
        assert (inner == cart.paper).all(axis=2).mean() < 0.9  # grid lines everywhere
        assert (inner[:20] != cart.paper).any() and (inner[:, :20] != cart.paper).any()
    plain = render_printout(style="no_grid", traces=False, patient_id="1", **SMALL)
    frame = max(3, round(STYLES["no_grid"].frame_px * 1106 / 2213))
    assert (plain[frame:-frame, frame:-frame] == 255).all(axis=2).mean() > 0.97  # white paper, some header text


def test_invalid_style_options_are_rejected() -> None:
    with pytest.raises(ValueError):
        render_printout(style="ge", **SMALL)
    with pytest.raises(ValueError):
        render_printout(style="red", header="other", **SMALL)
    with pytest.raises(ValueError):
        dataclasses.replace(STYLES["red"], boundaries="dashes")
    with pytest.raises(ValueError):
        render_condition("smudged", **SMALL)
    assert all(isinstance(style, CartStyle) for style in STYLES.values())


@pytest.fixture(scope="module")
def red_page() -> np.ndarray:
    return render_printout(style="red", **SMALL)


def test_degrade_is_deterministic_per_seed_and_keeps_the_page(red_page: np.ndarray) -> None:
    options = {"creases": 2, "colour_temperature": 0.05, "rotation_deg": 2.0, "noise": 5.0, "jpeg_quality": 70}
    a, b = degrade(red_page, seed=3, **options), degrade(red_page, seed=3, **options)
    assert np.array_equal(a, b) and a.shape == red_page.shape and a.dtype == np.uint8
    assert not np.array_equal(a, degrade(red_page, seed=4, **options))
    assert np.array_equal(degrade(red_page), red_page)


def test_each_degradation_does_what_it_says(red_page: np.ndarray) -> None:
    grey = _grey(red_page)
    creased = _grey(degrade(red_page, creases=3, seed=1))
    assert (creased < grey - 20).mean() > 0.002  # fold lines darken some pixels
    warm, cool = degrade(red_page, colour_temperature=0.1), degrade(red_page, colour_temperature=-0.1)
    assert warm[..., 0].mean() < red_page[..., 0].mean() < cool[..., 0].mean()  # blue
    assert warm[..., 2].mean() >= red_page[..., 2].mean() >= cool[..., 2].mean()  # red (clipped at white)
    rotated = degrade(red_page, rotation_deg=3.0)
    assert (rotated[0, -1] == 255).all() and (rotated[-1, 0] == 255).all()  # white corners
    assert not np.array_equal(rotated[300:500, 300:800], red_page[300:500, 300:800])
    noisy = degrade(red_page, noise=8.0, seed=2).astype(float) - red_page
    assert 6 < noisy[red_page < 250].std() < 10
    recompressed = degrade(red_page, jpeg_quality=40)
    assert not np.array_equal(recompressed, red_page)
    assert abs(_grey(recompressed).mean() - grey.mean()) < 5


def test_every_style_condition_renders() -> None:
    clean = render_printout(style="red", seed=1, **SMALL)
    for condition, (style, degradation) in STYLE_CONDITIONS.items():
        image, truth = render_condition(condition, seed=1, **SMALL)
        assert image.shape == (786, 1106, 3) and len(truth.panels) == 13
        assert np.array_equal(image, clean) == (style == "red" and not degradation)
    assert {"red", "brown", "pink", "blue", "green", "plain", "no_grid", "edan"} <= set(STYLE_CONDITIONS)
