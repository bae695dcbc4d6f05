"""Occlusion saliency, its heat-map colouring, and calibrated probabilities (core, no Qt)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ecg_desktop.core.classify.heat_overlay import (
    ALPHA,
    LEGEND_TICKS,
    LEGEND_TITLE,
    SCALE_MAX,
    blend_over_crop,
    colour_values,
    heat_bgra,
    legend_bar,
)
from ecg_desktop.core.classify.model import EcgModel
from ecg_desktop.core.classify.saliency import (
    GRID,
    MIN_NAMED_DROP,
    RHYTHM,
    Saliency,
    describe_top_leads,
    heat_pixels,
    lead_boxes,
    lead_scores_of,
    occlusion_saliency,
    saliency_line,
    top_leads,
)
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region
from ecg_desktop.core.page.reading import read_page
from ecg_desktop.testing.synthetic import render_printout

LEADS = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", RHYTHM}


@pytest.fixture(scope="module")
def scan() -> tuple[np.ndarray, CropBox]:
    image = render_printout(kind="normal", seed=3)
    return image, find_diagnostic_region(image).box


@pytest.fixture(scope="module")
def saliency(model: EcgModel, scan: tuple[np.ndarray, CropBox]) -> Saliency:
    image, crop = scan
    return occlusion_saliency(model, read_page(image, crop=crop))


def test_saliency_shape_range_and_leads(model: EcgModel, scan, saliency: Saliency) -> None:
    image, crop = scan
    assert saliency.class_id == model.classify(image, crop=crop).label  # the map explains the shown result
    assert set(saliency.lead_scores) == LEADS and len(saliency.lead_scores) == 13
    assert all(score >= 0 for score in saliency.lead_scores.values())
    heat = saliency.heatmap
    assert heat.shape == (GRID, GRID) == (16, 16) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0  # drops in probability, never normalised per scan
    base = model.classify(image, crop=crop).top_probability
    assert heat.max() <= base + 1e-6  # hiding a region can lower the top class at most to 0


def test_the_named_leads_come_from_the_map(model: EcgModel, saliency: Saliency) -> None:
    """Each lead's score is the map's mean over its panel: the top-named lead's panel holds the highest mean."""
    pixels = heat_pixels(saliency.heatmap, 227, 227)
    means = {name: float(pixels[y0:y1, x0:x1].mean()) for name, (x0, y0, x1, y1) in lead_boxes(227).items()}
    assert saliency.lead_scores == pytest.approx(means)
    assert saliency.lead_scores == lead_scores_of(saliency.heatmap, model.manifest.input_size)
    ranked = sorted(means, key=means.get, reverse=True)
    assert top_leads(saliency) == [n for n in ranked[:3] if means[n] >= MIN_NAMED_DROP]  # the top three, if material
    # the hottest part of the map lies inside the panel ranked first (or touches it, the boxes tile the map)
    y, x = np.unravel_index(int(np.argmax(pixels)), pixels.shape)
    hot = [n for n, (x0, y0, x1, y1) in lead_boxes(227).items() if x0 - 14 <= x < x1 + 14 and y0 - 14 <= y < y1 + 14]
    assert ranked[0] in hot


def test_a_hot_cell_names_its_own_panel() -> None:
    """A map hot only in one cell names the lead whose panel holds that cell."""
    heat = np.zeros((GRID, GRID), np.float32)
    x0, y0, x1, y1 = lead_boxes(227)["aVF"]
    row, column = round((y0 + y1) / 2 / 227 * GRID - 0.5), round((x0 + x1) / 2 / 227 * GRID - 0.5)
    heat[row : row + 2, column : column + 2] = 0.4
    saliency = Saliency("mi", heat, lead_scores_of(heat, 227))
    assert top_leads(saliency, 1) == ["aVF"]


def test_lead_boxes_cover_the_layout() -> None:
    boxes = lead_boxes(227)
    assert set(boxes) == LEADS
    for x0, y0, x1, y1 in boxes.values():
        assert 0 <= x0 < x1 <= 227 and 0 <= y0 < y1 <= 227
    assert boxes[RHYTHM][3] == 227 and boxes["V4"][2] == 227


def test_saliency_follows_the_content(model: EcgModel, scan, saliency: Saliency) -> None:
    image, crop = scan
    other = render_printout(kind="st_elevation", seed=5)
    assert not np.allclose(occlusion_saliency(model, read_page(other, crop=crop)).heatmap, saliency.heatmap, atol=0.05)

    blanked = image.copy()
    middle = (crop.x0 + crop.x1) // 2
    blanked[crop.y0 : crop.y1, middle : crop.x1] = 255  # the right half of the grid becomes blank paper
    half = occlusion_saliency(model, read_page(blanked, crop=crop))
    assert np.abs(half.heatmap - saliency.heatmap).max() > 0.01  # the map moves with the content
    assert half.heatmap[:, GRID // 2 + 1 :].max() < 0.02  # hiding blank paper changes nothing
    assert max(half.lead_scores[lead] for lead in ("V4", "V5", "V6")) < 0.02


def test_top_leads() -> None:
    scores = dict.fromkeys(LEADS, 0.0) | {"V5": 0.8, "V3": 0.5, RHYTHM: 0.6, "I": 0.1}
    saliency = Saliency("mi", np.zeros((GRID, GRID), np.float32), scores)
    assert top_leads(saliency) == ["V5", RHYTHM, "V3"]
    assert describe_top_leads(saliency) == "V5 0.80, rhythm strip 0.60, V3 0.50"  # each with its magnitude
    assert top_leads(saliency, 5) == ["V5", RHYTHM, "V3", "I"]  # leads whose occlusion changed nothing are left out
    none = Saliency("mi", np.zeros((GRID, GRID), np.float32), dict.fromkeys(LEADS, 0.0))
    assert top_leads(none) == [] and "no lead panel stood out" in describe_top_leads(none)


def test_heat_overlay_only_inside_the_crop() -> None:
    image = np.full((300, 400, 3), 200, np.uint8)
    crop = CropBox(100, 50, 300, 250)
    heat = np.zeros((8, 8), np.float32)
    heat[0, 0] = SCALE_MAX
    out = blend_over_crop(image, crop, heat)
    assert out.shape == image.shape and out.dtype == np.uint8
    inside = np.zeros(image.shape[:2], bool)
    inside[50:250, 100:300] = True
    assert np.array_equal(out[~inside], image[~inside])
    assert (out[inside] != 200).any()
    assert heat_bgra(heat, 200, 200).shape == (200, 200, 4)
    hot = out[52, 102].astype(int)  # top-left cell: dark red, at ALPHA
    assert hot[2] > hot[0] + 40 and hot[2] > hot[1] + 40
    assert np.allclose(hot, (1 - ALPHA) * image[52, 102] + ALPHA * colour_values(np.float32(SCALE_MAX)), atol=1)
    assert np.array_equal(out[248, 298], image[248, 298])  # far corner: hiding it changed nothing, left as printed


def test_the_colours_darken_with_the_drop_so_a_grey_print_keeps_their_order() -> None:
    bar = legend_bar(256, 1)[0].astype(float)
    luminance = bar @ [0.114, 0.587, 0.299]  # BGR
    assert np.all(np.diff(luminance) < 0) and luminance[0] > 240 and luminance[-1] < 60
    rgba = heat_bgra(np.full((GRID, GRID), SCALE_MAX / 2, np.float32), 8, 8)
    assert rgba.shape == (8, 8, 4) and np.all(np.abs(rgba[..., 3].astype(int) - 255 * ALPHA / 2) <= 1)
    assert np.all(heat_bgra(np.zeros((GRID, GRID), np.float32), 8, 8)[..., 3] == 0)  # nothing hidden mattered


@pytest.mark.parametrize("temperature", [1.0, 2.5, 0.5])
def test_calibrated_probabilities_sum_to_one(model: EcgModel, scan, temperature: float) -> None:
    image, crop = scan
    calibrated = EcgModel(replace(model.manifest, temperature=temperature), threads=1)
    result = calibrated.classify(image, crop=crop)
    probabilities = np.array(list(result.probabilities.values()))
    assert list(result.probabilities) == model.manifest.class_ids
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    assert (probabilities >= 0).all() and (probabilities <= 1).all()
    raw = model.classify(image, crop=crop)
    assert result.label == raw.label  # temperature scaling never changes the top class
    if temperature > model.manifest.temperature:
        assert max(result.probabilities.values()) < max(raw.probabilities.values())


def test_the_colour_scale_is_fixed_and_stated() -> None:
    """Two maps with different maximum drops colour the same value alike: no per-scan normalisation."""
    weak, strong = np.zeros((GRID, GRID), np.float32), np.zeros((GRID, GRID), np.float32)
    weak[3, 3], strong[3, 3] = 0.1, 0.1
    strong[10, 10] = 0.45  # the second scan's maximum drop is larger
    a, b = heat_bgra(weak, GRID, GRID)[..., :3], heat_bgra(strong, GRID, GRID)[..., :3]
    assert np.array_equal(a[3, 3], b[3, 3]) and np.array_equal(a[3, 3], colour_values(np.float32(0.1)).reshape(3))
    assert not np.array_equal(a[3, 3], colour_values(np.float32(SCALE_MAX)).reshape(3))  # 0.1 is not the top colour
    assert np.array_equal(colour_values(np.float32(0.9)), colour_values(np.float32(SCALE_MAX)))  # clipped at the max
    assert np.array_equal(a[0, 0], colour_values(np.float32(0.0)).reshape(3))
    bar = legend_bar(101, 5)
    assert bar.shape == (5, 101, 3)
    assert np.array_equal(bar[0, 0], colour_values(np.float32(0.0)).reshape(3))
    assert np.array_equal(bar[0, -1], colour_values(np.float32(SCALE_MAX)).reshape(3))
    assert LEGEND_TICKS[0][0] == 0.0 and LEGEND_TICKS[-1][0] == SCALE_MAX == 0.5
    assert "0.5" in LEGEND_TICKS[-1][1] and "probability" in LEGEND_TITLE


def test_no_lead_is_named_when_hiding_any_region_changes_nothing() -> None:
    """A confident answer that no hidden region moves (drops under 0.005) names no lead rather than three zeros."""
    flat = Saliency("mi", np.full((16, 16), 0.001), {name: 0.001 for name in ("I", "II", "V2")})
    assert top_leads(flat) == []
    assert describe_top_leads(flat) == "no lead panel stood out (none lowered the probability by 0.05 or more; " \
        "the largest, I, 0.00)"


def test_small_drops_name_no_lead_and_say_how_small() -> None:
    """Drops of 0.04, 0.03 and 0.01 are tinted too faintly to see: no lead is named, the largest drop is given."""
    scores = dict.fromkeys(LEADS, 0.0) | {"V5": 0.04, "V2": 0.03, "aVR": 0.01}
    saliency = Saliency("normal", np.zeros((GRID, GRID), np.float32), scores)
    assert top_leads(saliency) == []
    line = saliency_line(saliency)
    assert "V5, 0.04" in line and "0.05 or more" in line and "V2" not in line
