"""The main window and Process Folder on a 1024x600 screen (what a 1280x720 screen, or 1366x768 at 125 %, leaves)
and on 1366x768: every action reachable, the result and its notice in view, nothing grows past the screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QLabel, QToolBar, QWidget
from test_gui_layout import long_not_assessable

SCREENS = {"1024x600": QRect(0, 0, 1024, 600), "1366x768": QRect(0, 0, 1366, 768)}
LONG_FOLDER = "/home/clinic/" + "/".join(["Cardiology outpatient scans December 2026"] * 3) + "/ward 3, a.m."  # 151 chars


@pytest.fixture(params=list(SCREENS))
def screen(request, monkeypatch) -> QRect:
    """The available area of the (offscreen) screen the windows are placed on."""
    area = SCREENS[request.param]
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(area))
    return area


def shown_inside(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is visible, wholly inside ``window`` and not clipped by a parent (e.g. a toolbar's overflow)."""
    if not widget.isVisible() or widget.visibleRegion().boundingRect().size() != widget.size():
        return False
    return window.rect().contains(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))


def first_window(qtbot, gui_model, settings_store):
    from ecg_desktop.gui.main_window import MainWindow

    window = MainWindow(gui_model, store=settings_store)  # a first start: no saved geometry
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the fit after the first show
    return window


def test_main_window_fits_with_every_action_reachable(qtbot, gui_model, settings_store, screen: QRect) -> None:
    window = first_window(qtbot, gui_model, settings_store)
    assert screen.contains(window.frameGeometry()), window.frameGeometry()  # the title bar's allowance included
    assert window.minimumSizeHint().width() <= screen.width() - 16
    toolbar = window.findChild(QToolBar, "mainToolbar")
    for act in toolbar.actions():
        if not act.isSeparator():
            assert shown_inside(toolbar.widgetForAction(act), window), act.text()  # none in an overflow menu
    assert shown_inside(window.menuBar(), window)
    window.panel.show_result(long_not_assessable(gui_model.manifest))
    qtbot.wait(50)
    notice = window.panel.disclaimer_label
    assert "Decision support only" in notice.text() and shown_inside(notice, window)
    assert shown_inside(window.panel.top_label, window) and window.panel.width() >= 300
    assert shown_inside(window.statusBar(), window)


def test_toolbar_keeps_texts_where_there_is_room(qtbot, gui_model, settings_store, screen: QRect) -> None:
    window = first_window(qtbot, gui_model, settings_store)
    toolbar = window.findChild(QToolBar, "mainToolbar")
    button = toolbar.widgetForAction(window.acts.batch)
    assert button.toolButtonStyle().name == "ToolButtonTextBesideIcon"  # Process Folder keeps its words
    assert toolbar.level <= 1  # at most the zoom buttons lose their words (how many fit depends on the font)
    zoom = toolbar.widgetForAction(window.acts.zoom_in)
    assert zoom.toolTip().startswith("Zoom In")  # an icon-only button still says what it does


def test_process_folder_fits_and_does_not_grow_with_a_long_path(qtbot, gui_model, screen: QRect) -> None:
    from ecg_desktop.gui.batch_dialog import BatchDialog

    assert len(LONG_FOLDER) == 151
    dialog = BatchDialog(gui_model, folder=LONG_FOLDER)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    width = dialog.width()
    assert width + 16 <= screen.width() and dialog.height() + 40 <= screen.height()
    assert screen.contains(dialog.frameGeometry())
    dialog.progress_label.setText(f"Finished: 98 classified in 12.0 s.  Results: {LONG_FOLDER}/results.csv")
    dialog.table_note.setText(f"The table shows the latest 2,000 files; every file is in {LONG_FOLDER}/results.csv")
    dialog.table_note.show()
    qtbot.wait(50)
    assert dialog.width() == width and dialog.minimumSizeHint().width() < screen.width() - 16
    label = dialog.progress_label
    shown = QLabel.text(label)  # what it draws; its text() is the full text, also its tooltip
    assert shown.endswith("…") and label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.toolTip() == label.text() and label.text().endswith("/results.csv")
    for button in (dialog.start_button, dialog.cancel_button, dialog.close_button, dialog.open_button):
        assert shown_inside(button, dialog), button.text()
    for browse in dialog.findChildren(type(dialog.start_button)):
        assert shown_inside(browse, dialog), browse.text()

