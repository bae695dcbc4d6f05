"""Help ▸ About: the model card (classes, cross-validated metrics, training data, attribution, disclaimer).

Shows models/MODEL_CARD.md (written by tools/make_model_card.py) when it is there, else a summary of the manifest.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from ecg_desktop import __version__
from ecg_desktop.core.classify.manifest import Manifest
from ecg_desktop.core.notices import ATTRIBUTION, DISCLAIMER
from ecg_desktop.core.palette import ALARM, MUTED

CARD_IMAGE_WIDTH = 600  # figures in the card are shown at most this wide (pixels)


def model_card_html(manifest: Manifest | None, *, model_error: str | None = None) -> str:
    """The About text as HTML, built from the manifest only (nothing is hard-coded about the model)."""
    parts = [f"<h2>ECG Desk {escape(__version__)}</h2>",
             "<p>Reads scans of paper 12-lead ECGs and classifies them, offline.</p>"]
    if manifest is None:
        reason = escape(model_error or "unknown reason")
        parts.append(f"<h3>Model</h3><p style='color:{ALARM}'>No model loaded: {reason}</p>")
    else:
        parts.append(_model_html(manifest))
    parts.append(f"<h3>Training data</h3><p>{escape(ATTRIBUTION)}.{_data_html(manifest)}</p>")
    parts.append(f"<h3>Disclaimer</h3><p><b>{escape(DISCLAIMER)}</b></p>")
    samples = "The bundled sample scans are synthetic drawings for demonstration only."
    parts.append(f"<p style='color:{MUTED}'>{samples}</p>")
    return "\n".join(parts)


def _model_html(manifest: Manifest) -> str:
    raw = manifest.raw
    metrics = raw.get("metrics") or {}
    per_class = metrics.get("per_class_f1") or {}
    counts = (raw.get("training_data") or {}).get("class_counts") or {}
    rows = "".join(
        f"<tr><td>{escape(c.name)}</td><td><code>{escape(c.id)}</code></td>"
        f"<td align='right'>{_num(per_class.get(c.id))}</td>"
        f"<td align='right'>{escape(str(counts.get(c.id, '–')))}</td></tr>"
        for c in manifest.classes
    )
    summary = []
    if "macro_f1_mean" in metrics:
        std = f" ± {_num(metrics.get('macro_f1_std'))}" if "macro_f1_std" in metrics else ""
        summary.append(f"Macro F1: <b>{_num(metrics['macro_f1_mean'])}{std}</b>")
    if "accuracy" in metrics:
        summary.append(f"Accuracy: <b>{_num(metrics['accuracy'])}</b>")
    how = escape(str(metrics.get("cv", "cross-validation")))
    return (
        f"<h3>Model</h3><p>{escape(str(raw.get('model_name', 'ECG Desk model')))}<br>"
        f"Version <code>{escape(manifest.model_version)}</code>"
        f"{'<br>Created ' + escape(str(raw['created'])) if raw.get('created') else ''}</p>"
        f"<h3>Classes and cross-validated metrics</h3>"
        f"<table cellspacing='0' cellpadding='4' border='1' style='border-collapse:collapse; border-color:#d9dee5'>"
        f"<tr><th align='left'>Class</th><th align='left'>Id</th><th>F1</th><th>Training scans</th></tr>{rows}</table>"
        f"<p>{' &nbsp;·&nbsp; '.join(summary) or 'No metrics in the manifest.'}<br>"
        f"<span style='color:{MUTED}'>Measured by {how}.</span></p>"
    )


def _data_html(manifest: Manifest | None) -> str:
    """What the manifest says about the training scans (source with DOI, how many)."""
    data = (manifest.raw.get("training_data") or {}) if manifest else {}
    lines = []
    if data.get("source"):
        lines.append(f"Source: {escape(str(data['source']))}.")
    if data.get("files"):
        lines.append(f"{escape(str(data['files']))} scans were used for training and cross-validation.")
    return "".join(f"<br><span style='color:{MUTED}'>{line}</span>" for line in lines)


def model_card_markdown(manifest: Manifest | None) -> str | None:
    """The model card beside the manifest (MODEL_CARD.md) under a line naming the app, or None if there is none."""
    path = model_card_path(manifest)
    if path is None:
        return None
    try:
        card = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return f"**ECG Desk {__version__}**: reads scans of paper 12-lead ECGs and classifies them, offline.\n\n{card}"


def model_card_path(manifest: Manifest | None) -> Path | None:
    """MODEL_CARD.md beside the manifest, if it exists."""
    path = manifest.directory / "MODEL_CARD.md" if manifest is not None else None
    return path if path is not None and path.is_file() else None


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "–"


class AboutDialog(QDialog):
    """Shows model_card_html in a scrollable browser."""

    def __init__(
        self, manifest: Manifest | None, parent: QWidget | None = None, *, model_error: str | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ECG Desk")
        self.browser = QTextBrowser(objectName="modelCard")
        self.browser.setOpenExternalLinks(False)
        card = model_card_markdown(manifest)
        if card is not None:
            self.browser.setOpenLinks(False)  # offline: the DOI and licence links are shown, not followed
            self.browser.setSearchPaths([str(manifest.directory)])  # the card's figures, by relative link
            self.browser.setMarkdown(card)
            _limit_image_width(self.browser.document(), CARD_IMAGE_WIDTH)
        else:
            self.browser.setHtml(model_card_html(manifest, model_error=model_error))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(*((700, 720) if card is not None else (560, 620)))


def _limit_image_width(document: QTextDocument, width: int) -> None:
    """Give every image without an explicit size the width ``width`` (the height follows the aspect ratio)."""
    images = []
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            image = fragment.charFormat().toImageFormat()
            if image.isValid() and image.width() <= 0:
                images.append((fragment.position(), fragment.length(), image))
            fragments += 1
        block = block.next()
    for position, length, image in images:
        image.setWidth(width)
        cursor = QTextCursor(document)
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.setCharFormat(image)
