"""Why a scan is not assessable: the reason codes and the texts users see for them."""

from __future__ import annotations

from dataclasses import dataclass

NOT_ASSESSABLE = "Not assessable by this model"
SIGNALS_BELOW = "signals and measurements below"  # after the headline of another printout whose signals are shown

#: Reason codes, in the order they are reported (most fundamental first).
REASON_CODES = (
    "not_an_ecg",
    "no_grid",
    "unsupported_layout",
    "crop_cuts_leads",
    "image_quality",
    "out_of_distribution",
)


@dataclass(frozen=True)
class Reason:
    """One reason why no diagnosis is given: a stable ``code`` (JSON, CSV) and a sentence for people."""

    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in REASON_CODES:
            raise ValueError(f"unknown reason code {self.code!r}")

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def format_percent(probability: float) -> str:
    """How a probability is shown to people everywhere (window, warnings, PDFs): one decimal, e.g. '42.5 %'."""
    return f"{probability * 100:.1f} %"


def ordered(reasons: list[Reason] | tuple[Reason, ...]) -> tuple[Reason, ...]:
    """``reasons`` without repeated codes, most fundamental first."""
    first: dict[str, Reason] = {}
    for reason in reasons:
        first.setdefault(reason.code, reason)
    return tuple(sorted(first.values(), key=lambda r: REASON_CODES.index(r.code)))
