"""File names as text any output can hold: what the OS allows in a name but UTF-8 text cannot carry, escaped."""

from __future__ import annotations

import json
import re

# Control characters (a newline in a name would break a row in two) and lone surrogates: the bytes of a name
# that is not UTF-8, as Python decodes them (surrogateescape), which no UTF-8 file can hold.
_UNSAFE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def name_text(text: str) -> str:
    r"""``text`` with every control character and undecodable byte written ``\xNN`` (``\uNNNN`` for any other
    lone surrogate): one line of valid UTF-8, the same for the same name in every run. Names that are plain
    UTF-8 text without control characters come back unchanged."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_line(value: object) -> str:
    """``value`` as one line of JSON whose every string went through name_text (a message naming a file that is
    not UTF-8 text stays valid UTF-8)."""
    return json.dumps(_named(value), ensure_ascii=False)


def _named(value: object) -> object:
    if isinstance(value, str):
        return name_text(value)
    if isinstance(value, dict):
        return {name_text(str(key)): _named(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_named(item) for item in value]
    return value
