"""The single preprocessing step shared by training and inference, and the typed config it follows."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ecg_desktop.core.page.crop import CropBox, components
from ecg_desktop.core.page.ink import brightest_channel, paper_relative_ink

INPUT_STYLES = ("ink_on_scan", "ink_only")
_MANY_SPECKS = 100  # more specks than this are cleared by one lookup over the mask, fewer one by one


@dataclass(frozen=True)
class PreprocessConfig:
    """Every parameter that decides the model's input; training writes it into the manifest.

    The app refuses a model whose manifest names another config (core.classify.manifest), so changing any
    value here means retraining. ``input_style`` "ink_on_scan" (the shipped model) thickens the trace
    ink into the colour scan; "ink_only" keeps the ink alone on white, so the grid and its colour are
    gone from the model's input (for the next model: training reads it from this config).
    """

    version: int = 2
    input_style: str = "ink_on_scan"  # or "ink_only": see trace_ink / emphasize_ink
    input_size: int = 227
    analysis_min_side: int = 700  # work on a copy reduced 2, 4 or 8 times while its shorter side stays >= this
    reductions: tuple[int, ...] = (8, 4, 2)
    ink_ratio: float = 0.6  # darker than 60% of the local paper brightness is ink
    paper_block: int = 8  # paper brightness is estimated on a copy this many times smaller, then dilated 5x5
    ink_value: int = 40  # thickened ink is drawn at this grey level
    halve_above_scale: float = 4.0  # work at half resolution when the region is this many times the input size
    resize: str = "cv2.INTER_AREA"
    channels: str = "RGB"
    layout: str = "NCHW"
    scale: str = "1/255"

    def __post_init__(self) -> None:
        if self.input_style not in INPUT_STYLES:
            raise ValueError(f"input_style must be one of {INPUT_STYLES}, not {self.input_style!r}")

    def as_dict(self) -> dict:
        """JSON-ready form (tuples become lists), as written into the manifest."""
        values = asdict(self)
        values["reductions"] = list(self.reductions)
        return values


PREPROCESSING = PreprocessConfig()
INPUT_SIZE = PREPROCESSING.input_size
ANALYSIS_MIN_SIDE = PREPROCESSING.analysis_min_side


def analysis_reduction(width: int, height: int, config: PreprocessConfig = PREPROCESSING) -> int:
    """How many times smaller than the file the pipeline works (1, 2, 4 or 8).

    A 2213x1572 scan is analysed at 1107x786: its traces are still several pixels wide there, and
    decoding, cropping and ink emphasis cost a quarter. JPEGs are decoded straight at that size.
    """
    return next((f for f in config.reductions if min(width, height) // f >= config.analysis_min_side), 1)


def reduced_size(width: int, height: int, reduction: int) -> tuple[int, int]:
    """Size of an image reduced ``reduction`` times, rounded up as JPEG decoders do."""
    return -(-width // reduction), -(-height // reduction)


def reduce_for_analysis(image: np.ndarray) -> np.ndarray:
    """``image`` area-averaged down to the analysis resolution (unchanged when already there)."""
    height, width = image.shape[:2]
    reduction = analysis_reduction(width, height)
    if reduction == 1:
        return image
    return cv2.resize(image, reduced_size(width, height, reduction), interpolation=cv2.INTER_AREA)


def _paper_relative_ink(gray: np.ndarray, scale_x: float, scale_y: float, config: PreprocessConfig) -> np.ndarray:
    """Mask (255) of pixels well under the local paper brightness (core.page.ink), specks dropped, dilated by half
    a target pixel."""
    ink = paper_relative_ink(gray, config.ink_ratio, config.paper_block)
    ink = _drop_specks(ink, min_area=max(4, round(scale_x * scale_y / 2)))
    kernel = np.ones((max(1, round(scale_y / 2)), max(1, round(scale_x / 2))), np.uint8)
    return cv2.dilate(ink, kernel)


def emphasize_ink(
    region: np.ndarray, scale_x: float, scale_y: float, config: PreprocessConfig = PREPROCESSING
) -> np.ndarray:
    """"ink_on_scan": thicken dark trace ink (darkest channel vs local paper) into the colour region."""
    blue, green, red = cv2.split(region)
    ink = _paper_relative_ink(cv2.min(cv2.min(blue, green), red), scale_x, scale_y, config)
    shade = cv2.max(cv2.bitwise_not(ink), config.ink_value)  # ink_value on thickened ink, 255 elsewhere
    return cv2.min(region, cv2.merge([shade] * 3))


def trace_ink(
    region: np.ndarray, scale_x: float, scale_y: float, config: PreprocessConfig = PREPROCESSING
) -> np.ndarray:
    """"ink_only": the thickened trace ink alone, drawn at ``ink_value`` on white (one channel; the model's
    input repeats it in R, G and B).

    Ink is dark in every channel, while grid lines of any colour are bright in at least one: a pixel is
    ink when its brightest channel is well under the local paper brightness, so grid colour, grey
    copies and lighting matter little.
    """
    ink = _paper_relative_ink(brightest_channel(region), scale_x, scale_y, config)
    return cv2.max(cv2.bitwise_not(ink), config.ink_value)


def halve_large(
    region: np.ndarray, scale_x: float, scale_y: float, config: PreprocessConfig = PREPROCESSING
) -> tuple[np.ndarray, float, float]:
    """Work at half resolution when the region is over ``halve_above_scale`` times the target size."""
    if min(scale_x, scale_y) < config.halve_above_scale:
        return region, scale_x, scale_y
    height, width = region.shape[:2]
    half = cv2.resize(region, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return half, scale_x / 2, scale_y / 2


def _drop_specks(mask: np.ndarray, *, min_area: int) -> np.ndarray:
    """Remove blobs smaller than ``min_area`` pixels (grid dots, JPEG noise) from a 0/255 mask, keep traces."""
    _, labels, stats, _ = components(mask)
    specks = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < min_area) + 1
    if len(specks) > _MANY_SPECKS:  # e.g. a dot grid: one lookup over the whole mask
        keep = np.full(len(stats), 255, np.uint8)
        keep[0] = 0
        keep[specks] = 0
        return np.take(keep, labels)
    kept = mask.copy()
    for label in specks:  # each cleared inside its own bounding box
        x, y, width, height = stats[label, :4]
        box = slice(y, y + height), slice(x, x + width)
        kept[box][labels[box] == label] = 0
    return kept


def crop_region(image: np.ndarray, box: CropBox, warp: np.ndarray | None = None) -> np.ndarray:
    """The pixels of ``box``; with ``warp`` (3x3, image pixels -> warped image pixels) those of the warped image.

    Training's geometric augmentation passes a warp; white fills what comes from outside the image.
    """
    if warp is None:
        return image[box.y0 : box.y1, box.x0 : box.x1]
    to_box = np.array([[1.0, 0.0, -box.x0], [0.0, 1.0, -box.y0], [0.0, 0.0, 1.0]]) @ warp
    return cv2.warpPerspective(
        image, to_box, (box.width, box.height), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )


def preprocess(
    image: np.ndarray, box: CropBox, *, warp: np.ndarray | None = None, config: PreprocessConfig = PREPROCESSING
) -> np.ndarray:
    """Crop a BGR uint8 image to ``box`` (after ``warp``, if any), emphasise the traces, resize, scale to [0, 1].

    Returns float32 RGB in CHW layout (add a batch axis to feed the CNN).
    """
    size = config.input_size
    box = box.clamped(image.shape[1], image.shape[0])
    region = crop_region(image, box, warp)
    style = trace_ink if config.input_style == "ink_only" else emphasize_ink
    region = style(*halve_large(region, box.width / size, box.height / size, config), config)
    resized = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
    if resized.ndim == 2:  # "ink_only": one channel resized, the same in R, G and B
        chw = np.broadcast_to(resized, (3, size, size))
    else:
        chw = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
    return np.ascontiguousarray(chw, dtype=np.float32) / np.float32(255.0)


def ink_fraction(batch: np.ndarray) -> np.ndarray:
    """Share of each preprocessed input (N x 3 x S x S) that is dark trace ink; ECG printouts have a few percent."""
    return (batch.min(axis=1) < 0.5).mean(axis=(1, 2))
