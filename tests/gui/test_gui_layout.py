"""The window at a clinic laptop's screen size, and how disabled and checked controls look."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QToolBar

from ecg_desktop.core.classify.model import Classification
from ecg_desktop.core.outcome import REASON_CODES, Reason
from ecg_desktop.core.page.crop import CropBox

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


@pytest.fixture
def themed(qapp):
    """The app's theme (Fusion and the light palette), as ecg-desktop applies it; restored afterwards."""
    from ecg_desktop.gui.theme import apply_theme

    style, palette, font = qapp.style().name(), qapp.palette(), qapp.font()
    apply_theme(qapp)
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


def looks(widget) -> object:
    widget.repaint()
    return widget.grab().toImage()


def looks_different(qtbot, widget, change) -> bool:
    """Whether ``widget`` is drawn differently after ``change(widget)``."""
    before = looks(widget)
    change(widget)
    qtbot.wait(10)
    return looks(widget) != before


def test_disabled_palette_differs_from_the_enabled_one(themed) -> None:
    from PySide6.QtGui import QPalette

    palette = themed.palette()
    Group = QPalette.ColorGroup
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        assert palette.color(Group.Disabled, role) != palette.color(Group.Active, role), role


def test_disabled_controls_and_the_saliency_toggle_look_different(qtbot, themed, make_window, gui_model) -> None:
    from ecg_desktop.gui.batch_dialog import BatchDialog

    window = make_window()  # the welcome screen: no result, so Save Report and Print are disabled
    acts, toolbar = window.acts, window.findChild(QToolBar, "mainToolbar")
    assert not acts.save_report.isEnabled() and not acts.print.isEnabled()
    for act in (acts.save_report, acts.print):
        button = toolbar.widgetForAction(act)
        assert looks_different(qtbot, button, lambda _, act=act: act.setEnabled(True)), act.text()
        act.setEnabled(False)
    for button in (window.welcome.open_button, window.welcome.batch_button):
        assert looks_different(qtbot, button, lambda b: b.setEnabled(False)), button.text()
        button.setEnabled(True)

    saliency = toolbar.widgetForAction(acts.saliency)
    assert not acts.saliency.isChecked()
    assert looks_different(qtbot, saliency, lambda _: acts.saliency.setChecked(True)), "Show Saliency on = off"
    acts.saliency.setChecked(False)

    dialog = BatchDialog(gui_model, window, folder="")
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.cancel_button.isEnabled() and not dialog.open_button.isEnabled()
    for button in (dialog.cancel_button, dialog.open_button):
        assert looks_different(qtbot, button, lambda b: b.setEnabled(True)), button.text()
    assert looks_different(qtbot, dialog.start_button, lambda b: b.setEnabled(False)), "Start"
    dialog.close()
