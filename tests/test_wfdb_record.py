"""The WFDB writer against the reference reader (the ``wfdb`` package, a test dependency only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecg_desktop.core.signals.wfdb_record import write_record

wfdb = pytest.importorskip("wfdb")


def test_record_reads_back_with_the_reference_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    signals = rng.normal(0, 0.8, (5000, 3)).astype(np.float32)
    signals[:1250, 1] = np.nan  # a lead not printed over the first quarter
    paths = write_record(tmp_path, "scan_01", 500, ["I", "II", "V6"], signals)

    record = wfdb.rdrecord(str(tmp_path / "scan_01"))
    assert [p.name for p in paths] == ["scan_01.hea", "scan_01.dat"]
    assert (record.fs, record.sig_len, record.sig_name, record.units) == (500, 5000, ["I", "II", "V6"], ["mV"] * 3)
    np.testing.assert_array_equal(np.isnan(record.p_signal), np.isnan(signals))
    known = ~np.isnan(signals)
    assert np.max(np.abs(record.p_signal[known] - signals[known])) <= 0.0005 + 1e-6  # 1 uV steps, rounded


def test_checksums_and_first_values_are_what_the_reader_verifies(tmp_path: Path) -> None:
    signals = np.full((10, 2), 30.0, dtype=np.float32)  # 30 mV x 1000 x 10 samples overflows 16 bits: checksum wraps
    signals[0, 1] = -1.5
    write_record(tmp_path, "r", 250, ["A", "B"], signals)
    header = wfdb.rdheader(str(tmp_path / "r"))
    assert header.checksum == [(300000 + 32768) % 65536 - 32768, (270000 - 1500 + 32768) % 65536 - 32768]
    assert header.init_value == [30000, -1500]
    wfdb.rdrecord(str(tmp_path / "r"))  # the reader checks the checksums itself and would warn or fail


def test_out_of_range_values_are_clipped_and_bad_names_refused(tmp_path: Path) -> None:
    write_record(tmp_path, "big", 500, ["I"], np.array([[40.0], [-40.0]]))
    np.testing.assert_allclose(wfdb.rdrecord(str(tmp_path / "big")).p_signal[:, 0], [32.767, -32.767])
    with pytest.raises(ValueError):
        write_record(tmp_path, "has space", 500, ["I"], np.zeros((2, 1)))
    with pytest.raises(ValueError):
        write_record(tmp_path, "x", 500, ["I", "II"], np.zeros((2, 1)))
