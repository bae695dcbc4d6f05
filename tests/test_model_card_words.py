"""The model card as Help ▸ About shows it: words that agree with themselves and no notes meant for developers."""

from __future__ import annotations

import re

from ecg_desktop.core.resources import models_dir


def _card() -> str:
    return " ".join((models_dir() / "MODEL_CARD.md").read_text(encoding="utf-8").split())


def test_the_card_points_down_to_the_table_below_it() -> None:
    card = _card()
    assert "interval above" not in card
    said = card.index('(see its 95% interval in the table under "Performance of the shipped model" below)')
    assert said < card.index("## Performance of the shipped model")  # the table is indeed below


def test_phone_photos_are_not_said_to_be_both_unsupported_and_read() -> None:
    card = _card()
    assert not re.search(r"not built for[^.]*phone photos", card)
    assert "Photos of that printout taken with a phone are read too" in card


def test_no_developer_notes_in_the_card() -> None:
    card = _card()
    for note in ("do not edit", "by hand", "make_model_card", "in the model card"):
        assert note not in card, note
