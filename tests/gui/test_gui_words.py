"""What the window says and how its controls answer: the status line, the outlined region of a page that is not
assessable, File ▸ Open's title, Print's order, where save dialogs start, the View menu's and toolbar's toggles."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMenu, QToolBar
from test_gui_reports import WAIT_MS, shown  # noqa: F401  (the fixture)
from test_gui_texts import diagnosis

from ecg_desktop.core.classify.result_text import CLASSIFIED_REGION, EXAMINED_REGION
from ecg_desktop.gui import main_window as main_window_module
from ecg_desktop.gui.report_dialog import PatientDialog
from tests.bad_inputs import text_page
from tests.conftest import write_image

LONG_REASON = ("No ECG grid was found in the classified region: the page may be a letter, a photo or a scan too "
               "faint to read. Scan the printout again at 200 dpi or more, in colour, with the whole grid in view.")


def test_a_long_status_message_ends_at_a_word_with_an_ellipsis(main_window) -> None:
    main_window.resize(1008, 530)
    status = main_window.statusBar()
    status.showMessage(f"scan.jpg: Not assessable by this model — {LONG_REASON}")
    label = status.message_label
    shown_text = QLabel.text(label)
    assert shown_text.endswith("…") and len(shown_text) < len(status.currentMessage())
    assert status.currentMessage().startswith(shown_text[:-1])
    assert status.currentMessage()[len(shown_text) - 1] in " ,.—"  # cut between words, not inside one
    assert label.fontMetrics().horizontalAdvance(shown_text) <= label.contentsRect().width()
    assert label.toolTip() == status.currentMessage()
    status.showMessage("Ready.")
    assert QLabel.text(label) == "Ready." and label.toolTip() == ""


def test_the_status_line_says_low_confidence(main_window) -> None:
    from ecg_desktop.core.classify.result_text import status_line

    manifest = main_window.model.manifest
    assert status_line(diagnosis(manifest, low_confidence=True), manifest) == "Normal (40.0 %, low confidence)."
    assert status_line(diagnosis(manifest, low_confidence=False), manifest) == "Normal (40.0 %)."


def test_a_page_not_assessable_is_outlined_as_the_region_examined(qtbot, main_window, tmp_path: Path) -> None:
    page = write_image(tmp_path / "letter.png", text_page())
    with qtbot.waitSignal(main_window.resultShown, timeout=WAIT_MS):
        main_window.open_path(page)
    assert not main_window.result.assessable
    assert main_window.viewer.crop_item.label == EXAMINED_REGION
    assert main_window.panel.region_caption.text() == EXAMINED_REGION.upper()
    main_window.panel.show_result(diagnosis(main_window.model.manifest, low_confidence=False))
    assert main_window.panel.region_caption.text() == CLASSIFIED_REGION.upper()


def test_open_dialog_title(main_window, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (asked.append(args[1]), ("", ""))[1])
    main_window.acts.open.trigger()
    assert asked == ["Open ECG Scan"]


def test_print_shows_the_print_dialog_first(shown, monkeypatch) -> None:  # noqa: F811
    order: list[str] = []
    answers = iter([QDialog.DialogCode.Rejected, QDialog.DialogCode.Accepted])

    def print_exec(dialog) -> int:
        order.append(dialog.windowTitle())
        return next(answers)

    def details_exec(dialog) -> int:
        order.append(dialog.windowTitle())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(main_window_module.QPrintDialog, "exec", print_exec)
    monkeypatch.setattr(PatientDialog, "exec", details_exec)
    shown.acts.print.trigger()  # printer dialog cancelled: nothing else is asked
    assert order == ["Print ECG Report"]
    shown.acts.print.trigger()  # printer chosen: then the details, titled for printing
    assert order == ["Print ECG Report", "Print ECG Report", "Print Report"]


def test_print_details_dialog_says_print(qtbot) -> None:
    from PySide6.QtWidgets import QPushButton

    dialog = PatientDialog(printing=True)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Print Report"
    assert "Print" in [b.text() for b in dialog.findChildren(QPushButton)]
    assert "Save" not in [b.text() for b in dialog.findChildren(QPushButton)]


def test_save_dialogs_start_in_the_last_folder_saved_to(qtbot, shown, tmp_path: Path, monkeypatch) -> None:  # noqa: F811
    chosen = tmp_path / "reports" / "first.pdf"
    chosen.parent.mkdir()
    started: list[str] = []

    def save_name(parent, title, suggested, filters):
        started.append(suggested)
        return str(chosen), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(PatientDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    with qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS):
        shown.save_report_dialog()
    assert Path(started[0]).parent == shown.scan.path.parent  # the first save starts beside the scan
    shown.save_report_dialog()
    qtbot.waitSignal(shown.reportSaved, timeout=WAIT_MS).wait()
    assert Path(started[1]).parent == chosen.parent  # then where the last one went
    assert shown.store.load().save_folder == str(chosen.parent)  # remembered for the next start
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (started.append(args[2]), ("", ""))[1])
    shown.export_signals_dialog()
    assert Path(started[2]).parent == chosen.parent


def test_toolbar_does_not_shift_when_show_saliency_toggles(qtbot, main_window) -> None:
    toolbar = main_window.findChild(QToolBar, "mainToolbar")

    def places() -> list[tuple[int, int, int, int]]:
        qtbot.wait(10)
        return [toolbar.widgetForAction(a).geometry().getRect() for a in toolbar.actions() if not a.isSeparator()]

    before = places()
    main_window.acts.saliency.setChecked(True)
    assert places() == before
    main_window.acts.saliency.setChecked(False)
    assert places() == before


@pytest.mark.parametrize("name", ["saliency", "traces"])
def test_view_menu_toggles_show_a_check_mark(qtbot, main_window, name: str) -> None:
    act = getattr(main_window.acts, name)
    menu = next(m for m in main_window.menuBar().findChildren(QMenu) if m.title() == "&View")
    assert act in menu.actions() and act.isCheckable()
    assert not act.isIconVisibleInMenu()  # a check box, not an icon with a faint frame around it
    act.setChecked(False)
    menu.popup(main_window.mapToGlobal(QPoint(0, 0)))
    qtbot.waitExposed(menu)
    row = menu.actionGeometry(act)
    off = menu.grab(row).toImage()
    act.setChecked(True)
    qtbot.wait(20)
    on = menu.grab(row).toImage()
    menu.hide()
    act.setChecked(False)
    differing = sum(off.pixel(x, y) != on.pixel(x, y) for x in range(row.width()) for y in range(row.height()))
    assert differing > 20, "checked and unchecked look the same"
