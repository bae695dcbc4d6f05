"""core.signals.trace_overlay: the digitized traces on the image a front end shows (upright page, file as it is, reduced)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ecg_desktop.core import palette
from ecg_desktop.core.signals.digitize import LEADS, Digitization, digitize
from ecg_desktop.core.signals.trace_overlay import trace_lines
from ecg_desktop.testing.synthetic import render_printout


def _on_ink(image: np.ndarray, points: np.ndarray) -> float:
    """Share of ``points`` with dark ink within a pixel of them."""
    dark = cv2.erode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.ones((3, 3), np.uint8)) < 128
    x = np.clip(np.round(points[:, 0]).astype(int), 0, image.shape[1] - 1)
    y = np.clip(np.round(points[:, 1]).astype(int), 0, image.shape[0] - 1)
    return float(dark[y, x].mean())


@pytest.fixture(scope="module")
def sideways() -> tuple[np.ndarray, Digitization]:
    """A printout scanned a quarter turn off, and its digitization."""
    image = np.ascontiguousarray(np.rot90(render_printout(seed=8)))
    return image, digitize(image)


def test_lines_lie_on_the_upright_page_in_alternating_colours(sideways: tuple[np.ndarray, Digitization]) -> None:
    image, dig = sideways
    page = dig.page_transform
    lines = trace_lines(dig, shown=page, shown_size=page.size)
    assert {line.lead for line in lines} == set(LEADS)
    assert {line.colour for line in lines} == set(palette.TRACES)
    assert all(len(line.points) >= 2 and not np.isnan(line.points).any() for line in lines)
    upright = page.apply(image)
    assert _on_ink(upright, np.concatenate([line.points for line in lines])) > 0.9


def test_lines_follow_the_file_when_it_is_shown_as_it_is(sideways: tuple[np.ndarray, Digitization]) -> None:
    image, dig = sideways
    lines = trace_lines(dig, shown=None, shown_size=(image.shape[1], image.shape[0]))
    assert _on_ink(image, np.concatenate([line.points for line in lines])) > 0.9


def test_lines_are_scaled_onto_a_reduced_copy(sideways: tuple[np.ndarray, Digitization]) -> None:
    _, dig = sideways
    page = dig.page_transform
    full = trace_lines(dig, shown=page, shown_size=page.size)
    half = trace_lines(dig, shown=page, shown_size=(page.size[0] // 2, page.size[1] // 2))
    assert len(full) == len(half)
    scale = np.array([(page.size[0] // 2) / page.size[0], (page.size[1] // 2) / page.size[1]])
    for a, b in zip(full, half):
        np.testing.assert_allclose(b.points, (a.points + 0.5) * scale - 0.5, atol=1e-6)
