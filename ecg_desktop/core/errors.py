"""Typed errors whose message is written for the person using the app."""


class EcgDeskError(Exception):
    """Base class: ``str(error)`` is a complete, user-readable sentence."""


class ImageLoadError(EcgDeskError):
    """The file cannot be read as an image (missing, empty, corrupt, not an image)."""


class ImageSizeError(ImageLoadError):
    """The image is too large to decode safely or too small to hold an ECG."""


class ModelError(EcgDeskError):
    """A model file is missing, altered (sha256 mismatch) or unreadable."""


class ReportWriteError(EcgDeskError):
    """A PDF report cannot be written (folder not writable, disk full, file locked)."""
