"""Page geometry: quarter turns, skew and perspective found and undone; clean scans untouched."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ecg_desktop.core.loading.image_io import load_for_analysis
from ecg_desktop.core.page.geometry import PageTransform, find_page_transform
from ecg_desktop.testing.synthetic import render_printout

_WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def printout() -> np.ndarray:
    """A rendered printout at the analysis size of a dataset scan."""
    return cv2.resize(render_printout(kind="normal", seed=3), (1107, 786), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def real_scans(data_dir: Path) -> list[np.ndarray]:
    """Analysis copies of three real scans, one per class folder."""
    folders = ("mi", "normal", "history_of_mi")
    return [load_for_analysis(sorted((data_dir / name).glob("*.jpg"))[4]).pixels for name in folders]


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """``image`` turned ``degrees`` counter-clockwise about its centre, same size, white fill."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=_WHITE)


def _check_orientations(page: np.ndarray) -> None:
    """Each quarter turn of an upright page is undone exactly."""
    for turns in (1, 2, 3):
        turned = np.ascontiguousarray(np.rot90(page, turns))
        found = find_page_transform(turned)
        assert (found.quarter_turns + turns) % 4 == 0 and found.skew_deg == 0.0 and not found.rectified, turns
        assert np.array_equal(found.apply(turned), page), turns


def _check_skews(page: np.ndarray) -> None:
    """Skews either way are measured within 0.3 degree, with no quarter turn."""
    for degrees in (-12.0, -4.0, 2.5, 10.0):
        found = find_page_transform(_rotated(page, degrees))
        assert found.quarter_turns == 0 and abs(found.skew_deg - degrees) < 0.3, (degrees, found.skew_deg)


def test_rendered_printout_orientations_and_skews(printout: np.ndarray) -> None:
    _check_orientations(printout)
    _check_skews(printout)


def test_real_scans_orientations_and_skews(real_scans: list[np.ndarray]) -> None:
    for scan in real_scans:
        _check_orientations(scan)
        _check_skews(scan)


def test_clean_scans_go_through_unchanged(printout: np.ndarray, real_scans: list[np.ndarray]) -> None:
    for page in (printout, *real_scans):
        found = find_page_transform(page)
        assert found.is_identity and found.size == (page.shape[1], page.shape[0])
        assert found.apply(page) is page


def test_deskewed_page_lines_up_with_the_original(printout: np.ndarray) -> None:
    """Undoing a 6 degree skew puts the traces back where they were (centre region compared)."""
    found = find_page_transform(_rotated(printout, 6.0))
    restored = found.apply(_rotated(printout, 6.0))
    centre = (slice(250, 550), slice(300, 800))
    diff = np.abs(restored[centre].astype(int) - printout[centre].astype(int)).mean()
    assert diff < 6, diff


def test_phone_photo_is_rectified(printout: np.ndarray) -> None:
    """A page photographed in perspective on a dark table comes back with its grid corners in place."""
    h, w = printout.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32([[70, 40], [1050, 75], [1010, 760], [95, 720]])
    matrix = cv2.getPerspectiveTransform(corners, seen)
    photo = cv2.warpPerspective(printout, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(60, 80, 95))
    found = find_page_transform(photo)
    assert found.rectified and found.quarter_turns == 0
    grid = np.float32([[67, 283], [2177, 283], [2177, 1517], [67, 1517]]) * (w / 2213)  # synthetic grid corners
    in_photo = cv2.perspectiveTransform(grid[None], matrix)[0]
    back = cv2.perspectiveTransform(in_photo[None].astype(np.float64), found.homography)[0]
    out_w, out_h = found.size
    expected = grid * (out_w / w, out_h / h)
    assert np.all(np.abs(back - expected) < 0.03 * np.array([out_w, out_h])), (back, expected)
    assert found.apply(photo).shape == (out_h, out_w, 3)


def test_scaled_transform_matches_at_another_resolution(printout: np.ndarray) -> None:
    """The transform found on the small copy, scaled, maps points of the large copy consistently."""
    for page in (np.ascontiguousarray(np.rot90(printout, 1)), _rotated(printout, 5.0)):
        small = find_page_transform(page)
        big = small.scaled(2.0, 2.0)
        assert big.quarter_turns == small.quarter_turns and big.skew_deg == small.skew_deg
        assert big.size == (small.size[0] * 2, small.size[1] * 2)
        points = np.array([[[10.0, 20.0], [300.0, 400.0], [700.0, 100.0]]])
        on_small = cv2.perspectiveTransform(points, small.homography)
        on_big = cv2.perspectiveTransform((points + 0.5) * 2 - 0.5, big.homography)
        assert np.allclose((on_small + 0.5) * 2 - 0.5, on_big, atol=1e-6)


def test_scaled_quarter_turn_homography_is_the_exact_turn(printout: np.ndarray) -> None:
    """A scaled quarter turn applies as np.rot90, and its homography moves every pixel to the same place."""
    turned = np.ascontiguousarray(np.rot90(printout, 1))
    big_page = cv2.resize(turned, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    big = find_page_transform(turned).scaled(2.0, 2.0)
    upright = big.apply(big_page)
    assert np.array_equal(upright, np.rot90(big_page, 3)) and upright.shape[1::-1] == big.size
    warped = cv2.warpPerspective(big_page, big.homography, big.size, flags=cv2.INTER_NEAREST)
    assert np.array_equal(warped, upright)


def test_identity() -> None:
    identity = PageTransform.identity(40, 30)
    image = np.zeros((30, 40, 3), np.uint8)
    assert identity.is_identity and identity.apply(image) is image
    assert identity.scaled(2.0, 2.0).size == (80, 60)
