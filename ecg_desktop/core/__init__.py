"""Qt-free core of ECG Desk: loading, cropping, preprocessing, inference, reports and batches."""

from ecg_desktop.core.classify.model import Classification, EcgModel
from ecg_desktop.core.errors import EcgDeskError, ImageLoadError, ImageSizeError, ModelError
from ecg_desktop.core.loading.image_io import load_image
from ecg_desktop.core.page.crop import CropBox, find_diagnostic_region

__all__ = [
    "Classification",
    "CropBox",
    "EcgDeskError",
    "EcgModel",
    "ImageLoadError",
    "ImageSizeError",
    "ModelError",
    "find_diagnostic_region",
    "load_image",
]
