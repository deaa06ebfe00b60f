"""Fuzzing every list reader and the frame reader (issue 11).

A mutation fuzzer (``tests/fuzzing.py``) edits files fastdefect writes itself; reading
each case must return or raise :class:`~fastdefect.errors.FastDefectError` — any other
exception fails the test with its traceback, and so does a case slower than
``fuzzing.HANG_SECONDS``. The quick profile runs in the default lane (well under a
minute); the ``slow`` profile runs 20,000 list files and 1,000 TIFFs with other seeds.
``benchmarks/fuzz_readers.py`` runs the measured profile and saves its counts.

A second, structural layer uses hypothesis to build syntactically plausible files
(rows of numbers, signs, quotes and separators) for the text formats.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastdefect.errors import FastDefectError
from fastdefect.formats import read_list_file

import fuzzing


def _check(report) -> None:
    crashes = "\n\n".join(f"{path}\n{trace}" for path, trace in report.crashes[:3])
    assert not report.crashes, f"{report.summary()}\n{crashes}"
    assert not report.hangs, report.summary()


def test_fuzz_list_readers_quick(tmp_path):
    report = fuzzing.fuzz_lists(tmp_path, 3000, seed=11)
    _check(report)
    assert report.refused > 0 and report.accepted > 0  # the fuzzer reaches both outcomes


def test_fuzz_frame_reader_quick(tmp_path):
    report = fuzzing.fuzz_tiffs(tmp_path, 300, seed=11)
    _check(report)
    assert report.refused > 0 and report.accepted > 0


@pytest.mark.slow
def test_fuzz_list_readers_long(tmp_path):
    _check(fuzzing.fuzz_lists(tmp_path, 20000, seed=2024))


@pytest.mark.slow
def test_fuzz_frame_reader_long(tmp_path):
    _check(fuzzing.fuzz_tiffs(tmp_path, 1000, seed=2024))


_PIECES = st.sampled_from(
    ["0", "1", "65535", "65536", "-1", "+2", "1.5", "1e3", "9" * 30, " ", "\t", ",", ";",
     '"', '""', "\n", "\r\n", "#", "hot", "user", "nan", "inf", "x"]
)  # fmt: skip
_TEXT = st.lists(_PIECES, max_size=60).map("".join)
_HEADERS = {
    "av-csv": "Row, Column\n",
    "csv": "row,column,kind,source,dark_mean\n",
    "dcraw": "",
    "json": "",
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fmt=st.sampled_from(sorted(_HEADERS)), body=_TEXT)
def test_structured_text_never_crashes(tmp_path, fmt, body):
    path = tmp_path / f"case.{'txt' if fmt == 'dcraw' else fmt.split('-')[-1]}"
    path.write_text(_HEADERS[fmt] + body, encoding="utf-8")
    with contextlib.suppress(FastDefectError):  # anything else fails the test
        read_list_file(path, fmt)
