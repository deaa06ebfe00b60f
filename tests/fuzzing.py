"""A mutation fuzzer for the list readers and the frame reader.

Seeds are files fastdefect writes itself (every list format, TIFF stacks written by
:func:`fastdefect.frames.write_stack`, by ``tifffile`` page by page and compressed);
each case is a seed with a few random mutations: bytes flipped, inserted, deleted or
repeated, numbers made huge, and "interesting" tokens spliced in (quotes, brackets,
line ends, XML declarations, JSON nesting). A case passes when reading it either
returns or raises :class:`fastdefect.errors.FastDefectError`; any other exception is a
crash and a case slower than ``HANG_SECONDS`` a hang.

Used by ``tests/test_fuzz.py`` (a quick and a ``slow`` profile) and by
``benchmarks/fuzz_readers.py`` (the measured run).
"""

from __future__ import annotations

import random
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile

from fastdefect.defects import DefectList
from fastdefect.errors import FastDefectError
from fastdefect.formats import read_list_file, write_list
from fastdefect.frames import open_stack, write_stack
from fastdefect.stats import stack_stats

#: A case taking longer than this is counted as a hang.
HANG_SECONDS = 5.0

LIST_FORMATS = ("av-csv", "csv", "json", "bin", "arri-xml", "dcraw")
_SUFFIX = {
    "av-csv": ".csv",
    "csv": ".csv",
    "json": ".json",
    "bin": ".bin",
    "arri-xml": ".xml",
    "dcraw": ".txt",
}

TOKENS = [
    b'"',
    b'""',
    b"\n",
    b"\r",
    b"\r\n",
    b",",
    b",,,,",
    b"#",
    b"-",
    b"+",
    b".",
    b"e9",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"[",
    b"]",
    b"{",
    b"}",
    b'"kind": []',
    b'"row": 1e999',
    b"NaN",
    b"Infinity",
    b"<",
    b">",
    b"<?xml version='1.0' encoding='x-unknown'?>",
    b"<!DOCTYPE a [<!ENTITY e 'x'>]>",
    b"&e;",
    b"<Pixel x='1' y='2'/>",
    b"# fastdefect-metadata: {}",
    b"9" * 40,
    b"1" * 5000,
    b"[" * 5000,
    b'{"a":' * 3000,
    b"[red]",
    b"[/x]",
]


def _lists() -> list[DefectList]:
    rng = np.random.default_rng(1)
    small = DefectList(
        [17, 17, 900],
        [2043, 2044, 3],
        kinds=["hot", "stuck_low", "dark"],
        source=["detected", "a,b", 'q"uote'],
        evidence={"dark_mean": [880.5, np.nan, np.inf], "timestamp": [0.0, 1.0, 2.0]},
        metadata={"exposure_us": 20000, "note": "x"},
    )
    random_list = DefectList(rng.integers(0, 4000, 40), rng.integers(0, 4000, 40), source="user")
    return [small, random_list, DefectList([], [])]


def list_seeds(directory: Path) -> dict[str, list[bytes]]:
    """Files of every list format as fastdefect writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds: dict[str, list[bytes]] = {name: [] for name in LIST_FORMATS}
    for index, defects in enumerate(_lists()):
        for name in LIST_FORMATS:
            path = directory / f"seed{index}-{name}{_SUFFIX[name]}"
            options = {}
            if name in ("bin", "arri-xml"):
                options = {"width": 5120, "height": 5120}
            if name == "arri-xml":
                options["serial"] = "K1.0012345"
            write_list(path, defects, name, overwrite=True, **options)
            seeds[name].append(path.read_bytes())
    return seeds


def tiff_seeds(directory: Path) -> list[bytes]:
    """TIFF stacks written in the ways real files are: ours, page by page, compressed."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 1023, (3, 16, 24), dtype=np.uint16)
    seeds = []
    path = directory / "ours.tif"
    write_stack(path, frames, bit_depth=10, metadata={"exposure_us": 100}, overwrite=True)
    seeds.append(path.read_bytes())
    for index, options in enumerate(
        ({}, {"compression": "zlib"}, {"compression": "zlib", "rowsperstrip": 4})
    ):
        path = directory / f"pages{index}.tif"
        with tifffile.TiffWriter(path) as writer:
            for frame in frames:
                writer.write(frame, photometric="minisblack", **options)
        seeds.append(path.read_bytes())
    path = directory / "bytes.tif"
    tifffile.imwrite(path, frames[0].astype(np.uint8), photometric="minisblack")
    seeds.append(path.read_bytes())
    path = directory / "bigendian.tif"
    tifffile.imwrite(path, frames, byteorder=">", photometric="minisblack")
    seeds.append(path.read_bytes())
    return seeds


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits of ``data``."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        n = len(buffer)
        op = rng.randrange(9)
        at = rng.randrange(n + 1) if n else 0
        if op == 0 and n:  # flip a byte
            buffer[min(at, n - 1)] = rng.randrange(256)
        elif op == 1:  # splice a token
            buffer[at:at] = rng.choice(TOKENS)
        elif op == 2 and n:  # delete a span
            del buffer[at : at + rng.randint(1, 32)]
        elif op == 3 and n:  # repeat a span
            span = bytes(buffer[at : at + rng.randint(1, 64)])
            buffer[at:at] = span * rng.randint(2, 200)
        elif op == 4:  # truncate
            del buffer[at:]
        elif op == 5:  # make a digit run huge or a number negative
            digits = [i for i in range(n) if 48 <= buffer[i] <= 57]
            if digits:
                where = rng.choice(digits)
                buffer[where:where] = rng.choice([b"9" * rng.randint(5, 4000), b"-", b"0" * 30])
        elif op == 6 and n >= 4:  # a little-endian integer field set to an extreme
            where = rng.randrange(n - 3)
            value = rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)])
            buffer[where : where + 4] = value.to_bytes(4, "little")
        elif op == 7 and n:  # swap two bytes
            other = rng.randrange(n)
            i = min(at, n - 1)
            buffer[i], buffer[other] = buffer[other], buffer[i]
        elif op == 8 and n >= 2:  # a 2-byte field set to an extreme (TIFF tags, counts)
            where = rng.randrange(n - 1)
            value = rng.choice([0, 1, 2, 3, 7, 8, 16, 0xFFFF, rng.randrange(1 << 16)])
            buffer[where : where + 2] = value.to_bytes(2, "little")
    return bytes(buffer)


@dataclass
class FuzzReport:
    """What a fuzz run found."""

    cases: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (file, traceback)
    hangs: list[tuple[str, float]] = field(default_factory=list)
    slowest: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.cases} cases: {self.accepted} read, {self.refused} refused with a clear "
            f"error, {len(self.crashes)} crashes, {len(self.hangs)} hangs, "
            f"slowest {self.slowest:.3f} s"
        )


def _run(report: FuzzReport, path: Path, action: Callable[[], object]) -> None:
    report.cases += 1
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action()
        report.accepted += 1
    except FastDefectError:
        report.refused += 1
    except Exception:
        report.crashes.append((str(path), traceback.format_exc(limit=-3)))
    elapsed = time.perf_counter() - start
    report.slowest = max(report.slowest, elapsed)
    if elapsed > HANG_SECONDS:
        report.hangs.append((str(path), elapsed))


def _read_all_frames(path: Path) -> None:
    """Both ways a stack is read: frame by frame, and band by band (``stack_stats``)."""
    stack = open_stack(path)
    for _frame in stack.frames():
        pass
    stack_stats(open_stack(path))


def _cases(seeds: list[bytes], rng: random.Random, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield mutate(rng.choice(seeds), rng)


def fuzz_lists(directory: Path, count: int, seed: int = 0, keep: bool = False) -> FuzzReport:
    """Read ``count`` mutated list files (spread over the formats); report what happened.

    Each format is read by its name (``--from``) and every tenth case also by inference
    from the file name, so the sniffing code is fuzzed too.
    """
    rng = random.Random(seed)
    seeds = list_seeds(directory / "seeds")
    report = FuzzReport()
    work = directory / "cases"
    work.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        name = LIST_FORMATS[index % len(LIST_FORMATS)]
        data = mutate(rng.choice(seeds[name]), rng)
        path = work / f"case{index}{_SUFFIX[name]}"
        path.write_bytes(data)
        fmt = None if index % 10 == 0 else name
        _run(report, path, lambda path=path, fmt=fmt: read_list_file(path, fmt))
        if not keep:
            path.unlink()
    return report


def fuzz_tiffs(directory: Path, count: int, seed: int = 0, keep: bool = False) -> FuzzReport:
    """Open and read every frame of ``count`` mutated TIFF stacks; report what happened."""
    rng = random.Random(seed)
    seeds = tiff_seeds(directory / "seeds")
    report = FuzzReport()
    work = directory / "cases"
    work.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        data = mutate(rng.choice(seeds), rng)
        path = work / f"case{index}.tif"
        path.write_bytes(data)
        _run(report, path, lambda path=path: _read_all_frames(path))
        if not keep:
            path.unlink()
    return report
