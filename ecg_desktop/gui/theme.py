"""The look of the app: Fusion style, a light palette and one style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#1f5fbf"
MUTED = "#5f6b7a"
ALARM = "#b3261e"
CAUTION = "#8a5a00"

STYLE_SHEET = f"""
QMainWindow {{ background: #eef1f5; }}
QToolBar {{ background: #f7f8fa; border: none; border-bottom: 1px solid #d9dee5; spacing: 4px; padding: 3px 6px; }}
QToolBar QToolButton {{ padding: 4px 8px; border-radius: 4px; color: #1d2633; }}
QToolBar QToolButton:hover {{ background: #e3e8ef; }}
QToolBar QToolButton:disabled {{ color: #a7afba; }}
QStatusBar {{ background: #f7f8fa; border-top: 1px solid #d9dee5; color: #3a4553; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 8px; }}
QSplitter::handle {{ background: #d9dee5; }}
#resultPanel, #resultScroll, #resultBody {{ background: #ffffff; }}
#resultPanel {{ border-left: 1px solid #d9dee5; }}
#resultBody QLabel#caption {{ color: {MUTED}; font-size: 8pt; font-weight: 600; letter-spacing: 1px; margin-top: 4px; }}
#resultBody QLabel#topLabel {{ color: {ACCENT}; font-size: 19pt; font-weight: 700; }}
#resultBody QLabel#topLabel[muted="true"] {{ color: #3a4553; font-size: 14pt; }}
#resultBody QLabel#topLabel[error="true"] {{ color: {ALARM}; font-size: 14pt; }}
#resultBody QLabel#topLabel[unassessable="true"] {{ color: {CAUTION}; font-size: 16pt; }}
#resultBody QLabel#probability {{ color: #1d2633; font-size: 12pt; }}
#resultBody QLabel#lowConfidence {{ color: white; background: {CAUTION}; border-radius: 3px; padding: 2px 8px;
    font-weight: 700; }}
#resultBody QLabel#status {{ color: #3a4553; }}
#resultBody QLabel#reasons {{ color: #1d2633; background: #fff6e0; border-left: 3px solid {CAUTION};
    padding: 6px 8px; }}
#resultBody QLabel#source {{ color: {MUTED}; font-size: 8.5pt; padding-bottom: 6px; border-bottom: 1px solid #e3e8ef; }}
#resultBody QLabel#className, #resultBody QLabel#classPercent {{ color: #1d2633; }}
#resultBody QLabel#className[top="true"], #resultBody QLabel#classPercent[top="true"] {{ font-weight: 700;
    color: {ACCENT}; }}
#resultBody QProgressBar#classBar {{ border: none; background: #e8ecf2; border-radius: 4px; }}
#resultBody QProgressBar#classBar::chunk {{ background: #9aa6b5; border-radius: 4px; }}
#resultBody QProgressBar#classBar[top="true"]::chunk {{ background: {ACCENT}; }}
#resultBody QLabel#findings, #resultBody QLabel#saliency {{ color: #1d2633; }}
#resultBody QLabel#warnings {{ color: {CAUTION}; background: #fff6e0; border: 1px solid #f0d9a0; border-radius: 4px;
    padding: 6px; }}
#resultBody QLabel#detail {{ color: {MUTED}; font-size: 8.5pt; }}
#resultPanel QLabel#disclaimer {{ color: #1d2633; background: #eef3fb; border-left: 3px solid {ACCENT};
    padding: 6px 8px; font-weight: 600; }}
#welcome {{ background: #2a2e35; }}
#welcome QLabel {{ color: #e6e9ee; }}
#welcome QLabel#welcomeTitle {{ font-size: 22pt; font-weight: 700; }}
#welcome QLabel#welcomeText {{ color: #b8c0cc; font-size: 11pt; }}
#welcome QPushButton {{ background: {ACCENT}; color: white; border: none; border-radius: 4px; padding: 8px 18px;
    font-weight: 600; }}
#welcome QPushButton:hover {{ background: #2a6fd6; }}
#welcome QPushButton#sampleButton {{ background: #3b414b; }}
QTableWidget {{ gridline-color: #e3e8ef; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion with a light palette, so the app looks the same on every desktop (the main window sets STYLE_SHEET)."""
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#eef1f5"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f5f7fa"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.Text, QColor("#1d2633"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#1d2633"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#1d2633"))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
