"""Negative families for the applicability check: pages this model must NOT read.

Each family renders, for a seed, a full-size (2213 x 1572, 200 dpi) BGR uint8 page that is
ECG-like but outside what the model supports (another layout, cart, paper speed; an empty
grid) or not an ECG at all (a text page, a photo-like image). ECG pages come from the
project's renderer (:func:`ecg_desktop.testing.synthetic.render_printout`), varying heart rate,
kind, signal seed and grid colour inside each family. They are used only to MEASURE the
applicability check, never to train the diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ecg_desktop.testing.synthetic import KINDS, render_printout

WIDTH, HEIGHT = 2213, 1572
#: Grid (5 mm line) colours, BGR; None is the EDAN pink the model was trained on.
GRID_COLOURS: tuple[tuple[int, int, int] | None, ...] = (
    None, (215, 215, 250), (200, 225, 252), (205, 235, 205), (245, 222, 205), (210, 210, 210),
)
_WORDS = ("patient", "the", "report", "of", "and", "clinic", "results", "follow-up", "blood", "pressure",
          "was", "normal", "with", "no", "history", "date", "medication", "dose", "mg", "daily", "review",
          "in", "weeks", "signed", "department", "cardiology", "referral", "letter", "to", "from", "a")


def _ecg(seed: int, **options: object) -> np.ndarray:
    """A printout with random kind, heart rate, signal seed and grid colour, plus ``options``."""
    rng = np.random.default_rng(seed)
    choice = {
        "kind": str(rng.choice(KINDS)),
        "heart_rate": float(rng.uniform(48, 125)),
        "seed": int(rng.integers(2**31)),
        "grid_colour": GRID_COLOURS[int(rng.integers(len(GRID_COLOURS)))],
        "patient_id": f"{rng.integers(10**6):06d}",
    }
    return render_printout(width=WIDTH, height=HEIGHT, **{**choice, **options})


def layout_6x2(seed: int) -> np.ndarray:
    """6 rows of 2 leads, 5 s each."""
    return _ecg(seed, layout="6x2")


def layout_12x1(seed: int) -> np.ndarray:
    """12 rows of one lead, 10 s each (gain 5 or 10 mm/mV)."""
    return _ecg(seed, layout="12x1", gain_mm_mv=(5, 10)[seed % 2])


def layout_3x4_no_rhythm(seed: int) -> np.ndarray:
    """3 rows of 4 leads, no rhythm strip."""
    return _ecg(seed, layout="3x4")


def layout_3x4_3rhythm(seed: int) -> np.ndarray:
    """3 rows of 4 leads plus three rhythm strips (II, V1, V5)."""
    return _ecg(seed, layout="3x4+3")


def other_cart_header(seed: int) -> np.ndarray:
    """The supported 3x4+1 geometry from another cart: other header/footer, margins, grid, speed or gain."""
    rng = np.random.default_rng(seed + 7919)
    return _ecg(seed, header="other", dot_grid=bool(rng.random() < 0.3),
                speed_mm_s=float(rng.choice((25, 50))), gain_mm_mv=float(rng.choice((5, 10, 20))))


def speed_50mm_s(seed: int) -> np.ndarray:
    """The EDAN 3x4+1 report recorded at 50 mm/s (1.25 s per column)."""
    return _ecg(seed, speed_mm_s=50)


def blank_grid(seed: int) -> np.ndarray:
    """ECG paper with a header and footer but no traces (line or dot grid)."""
    return _ecg(seed, traces=False, dot_grid=seed % 3 == 2, header=("edan", "other")[seed % 2])


def not_ecg_text_page(seed: int) -> np.ndarray:
    """A landscape page of typed text: a title, paragraphs and a small ruled table."""
    rng = np.random.default_rng(seed)
    page = np.full((HEIGHT, WIDTH, 3), (250, 251, 253), np.uint8)
    font = (cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX)[seed % 3]
    ink = (30, 30, 30)
    cv2.putText(page, " ".join(rng.choice(_WORDS, 4)).upper(), (120, 130), font, 1.6, ink, 2, cv2.LINE_AA)
    y, size = 220, float(rng.uniform(0.8, 1.0))
    table_at = int(rng.integers(8, 20))
    for line in range(36):
        if y > HEIGHT - 100:
            break
        if line == table_at:
            rows, cols = int(rng.integers(3, 6)), int(rng.integers(3, 5))
            for r in range(rows + 1):
                cv2.line(page, (120, y + 50 * r), (1500, y + 50 * r), ink, 2)
            for c in range(cols + 1):
                cv2.line(page, (120 + 1380 * c // cols, y), (120 + 1380 * c // cols, y + 50 * rows), ink, 2)
            for r in range(rows):
                for c in range(cols):
                    cv2.putText(page, str(rng.choice(_WORDS)), (135 + 1380 * c // cols, y + 50 * r + 35), font,
                                size, ink, 1, cv2.LINE_AA)
            y += 50 * rows + 60
            continue
        words = " ".join(rng.choice(_WORDS, int(rng.integers(6, 14))))
        cv2.putText(page, words.capitalize() + ".", (120, y), font, size, ink, 1 + (line % 9 == 0), cv2.LINE_AA)
        y += int(44 * size) + (40 if rng.random() < 0.15 else 0)
    return page


def not_ecg_photo(seed: int) -> np.ndarray:
    """A photo-like image: multi-scale coloured texture, a lighting gradient and soft shapes."""
    rng = np.random.default_rng(seed)
    h, w = HEIGHT // 4, WIDTH // 4
    texture = np.zeros((h, w, 3), np.float32)
    for cells, weight in ((3, 1.0), (12, 0.5), (48, 0.25), (h // 2, 0.12)):
        coarse = rng.normal(0, 1, (cells, max(2, cells * w // h), 3)).astype(np.float32)
        texture += weight * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    palette = rng.uniform(40, 200, 3).astype(np.float32)
    image = palette + 28 * texture
    for _ in range(int(rng.integers(4, 12))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        centre = (int(rng.integers(w)), int(rng.integers(h)))
        if rng.random() < 0.5:
            axes = (int(rng.integers(10, w // 4)), int(rng.integers(10, h // 4)))
            cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:
            points = (rng.normal(0, w / 8, (int(rng.integers(3, 7)), 2)) + centre).astype(np.int32)
            cv2.fillPoly(image, [points], colour, cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.8, 3.0)))
    ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.9, 1.3), w, dtype=np.float32)
    image *= ramp[None, :, None]
    image = cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    return np.clip(image, 0, 255).astype(np.uint8)


#: Negative families in a fixed order: name -> (seed -> BGR uint8 page of HEIGHT x WIDTH).
NEGATIVE_FAMILIES: dict[str, Callable[[int], np.ndarray]] = {
    "layout_6x2": layout_6x2,
    "layout_12x1": layout_12x1,
    "layout_3x4_no_rhythm": layout_3x4_no_rhythm,
    "layout_3x4_3rhythm": layout_3x4_3rhythm,
    "other_cart_header": other_cart_header,
    "speed_50mm_s": speed_50mm_s,
    "not_ecg_text_page": not_ecg_text_page,
    "not_ecg_photo": not_ecg_photo,
    "blank_grid": blank_grid,
}
