"""Write a WFDB record (PhysioNet's signal format): a ``.hea`` header and a ``.dat`` file in format 16.

The ``wfdb`` package writes the same files, but importing it loads pandas, requests, aiohttp and fsspec:
a network stack and some 50 MB that an offline clinical app must not carry for two small files. Format 16
is the simplest WFDB layout (little-endian int16, samples of all signals interleaved); the tests read what
this module writes back with ``wfdb.rdrecord`` (the reference reader, a test dependency only).
Specification: https://physionet.org/physiotools/wag/header-5.htm and signal-5.htm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

INVALID_SAMPLE = -32768  # format 16's "no value here"; readers return NaN for it
_LIMIT = 32767


def record_name(text: str, fallback: str = "record") -> str:
    """``text`` as a WFDB record name: letters, digits, ``-`` and ``_`` only (others become ``_``)."""
    return re.sub(r"[^-\w]", "_", text, flags=re.ASCII) or fallback


def write_record(out_dir: Path, name: str, fs: float, signal_names: Sequence[str], signals: np.ndarray,
                 *, units: str = "mV", gain: float = 1000.0) -> list[Path]:
    """``out_dir/name.hea`` and ``out_dir/name.dat`` holding ``signals`` (samples x signals, in ``units``,
    NaN where a signal has no value) at ``fs`` Hz, stored as ``round(value * gain)``; returns the two paths.
    Values beyond +-32.767 / gain ``units`` are clipped to the format's range."""
    if signals.ndim != 2 or signals.shape[1] != len(signal_names):
        raise ValueError(f"signals must be samples x {len(signal_names)}, got {signals.shape}")
    if any(not n or any(c.isspace() for c in n) for n in [name, *signal_names]):
        raise ValueError("WFDB record and signal names must be non-empty and without spaces")
    digital = np.clip(np.round(np.nan_to_num(signals, nan=0.0) * gain), -_LIMIT, _LIMIT).astype("<i2")
    digital[np.isnan(signals)] = INVALID_SAMPLE
    dat = out_dir / f"{name}.dat"
    dat.write_bytes(digital.tobytes())
    lines = [f"{name} {len(signal_names)} {fs:g} {len(digital)}"]
    for column, signal_name in enumerate(signal_names):
        values = digital[:, column]
        checksum = int(values.astype(np.int64).sum()) % 65536
        checksum = checksum - 65536 if checksum >= 32768 else checksum
        first = int(values[0]) if len(values) else 0
        lines.append(f"{dat.name} 16 {gain:g}(0)/{units} 16 0 {first} {checksum} 0 {signal_name}")
    header = out_dir / f"{name}.hea"
    header.write_text("\n".join(lines) + "\n", encoding="ascii")
    return [header, dat]
