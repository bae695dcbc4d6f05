"""The window at a clinic laptop's screen size, and how disabled and checked controls look."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen

from ecg_desktop.core.crop import CropBox
from ecg_desktop.core.model import Classification
from ecg_desktop.core.outcome import REASON_CODES, Reason

LAPTOP = QRect(0, 0, 1366, 768)


def long_not_assessable(manifest) -> Classification:
    """A result whose reasons and warnings are far taller than the panel."""
    reasons = tuple(
        Reason(code, f"Reason {code}: " + "this sentence is long so that it wraps over several lines of the panel. " * 3)
        for code in REASON_CODES
    )
    warnings = tuple(f"Warning {i}: " + "a long note that wraps over a few lines in the narrow panel. " * 3 for i in range(6))
    return Classification(
        label=None, probabilities={c: 0.25 for c in manifest.class_ids}, findings=(), crop=CropBox(0, 0, 1000, 700),
        warnings=warnings, low_confidence=False, out_of_distribution=True, reasons=reasons, image_size=(1000, 700),
    )


def test_first_window_fits_a_1366x768_screen_and_the_notice_stays_in_view(
    qtbot, gui_model, settings_store, monkeypatch
) -> None:
    from ecg_desktop.gui.main_window import MainWindow

    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(LAPTOP))
    window = MainWindow(gui_model, store=settings_store)  # a first start: no saved geometry
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the fit after the first show
    assert LAPTOP.contains(window.frameGeometry()), window.frameGeometry()

    window.panel.show_result(long_not_assessable(gui_model.manifest))
    qtbot.wait(50)
    notice = window.panel.disclaimer_label
    assert notice.isVisible() and "Decision support only" in notice.text()
    top_left = notice.mapTo(window, QPoint(0, 0))
    assert window.rect().contains(QRect(top_left, notice.size())), "the notice is outside the window"
    assert notice.visibleRegion().boundingRect().size() == notice.size(), "the notice is scrolled or cut off"
    status = window.statusBar()
    assert status.isVisible() and window.rect().contains(status.geometry())
