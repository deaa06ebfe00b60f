"""Generate the min/max network kernels: ``python tools/gen_networks.py --check|--write``.

The median filter (``kernels/median.py``) and the full-frame deviation
(``kernels/full_frame.py``) run data-oblivious sorting and rank networks, hundreds of
min/max operations per pixel, written out as numba functions. Nobody writes those by
hand: this tool builds the networks (optimal row sorts, Batcher's odd-even merge,
"forgetful" selection of the ranks that can still matter, dead comparators dropped) and
emits two whole modules, which the hand-written kernels import:

* ``src/fastdefect/kernels/_networks_median.py``: ``sort_windows_N`` (every N-wide row
  window sorted) and ``tile_medians_N`` (medians of 4 adjacent N x N blocks), N = 3, 5, 7;
* ``src/fastdefect/kernels/_networks_rank.py``: ``tile_ranks_7`` (ranks 23, 24, 25 of 4
  adjacent 7 x 7 blocks; its row sort is ``sort_windows_7``).

``--write`` regenerates both (atomically, through ``fastdefect.outputs.atomic_output``:
run it with the project installed, ``.venv/bin/python tools/gen_networks.py --write``);
``--check`` exits with status 1, naming the stale module, when a checked-in module is not
exactly what this tool emits. ``--check`` needs only the standard library; ``.ci/run``
runs it after the linters, and ``tests/test_median.py`` runs it too. The tests
(``tests/test_median.py``, ``tests/test_deviation_full.py``) also prove the networks
exact with the 0-1 principle, on the generated kernels and on the networks built here.

The work-buffer layout the kernels share (``TILE_WIDTH``) lives in ``kernels/_shared.py``.
Changing the networks changes the compile time of a first run: measure it
(``benchmarks/bench_median.py`` reports the first call).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "src" / "fastdefect" / "kernels"

#: Window sizes with a median network.
NETWORK_SIZES = (3, 5, 7)

#: Optimal sorting networks (compare-exchange pairs) for the row windows.
SORTING_NETWORKS = {
    3: ((0, 2), (0, 1), (1, 2)),
    5: ((0, 3), (1, 4), (0, 2), (1, 3), (0, 1), (2, 4), (1, 2), (3, 4), (2, 3)),
    7: (
        (0, 6), (2, 3), (4, 5), (0, 2), (1, 4), (3, 6), (0, 1), (2, 5),
        (3, 4), (1, 2), (4, 6), (2, 3), (4, 5), (1, 2), (3, 4), (5, 6),
    ),
}  # fmt: skip

#: Side of the block of the deviation's rank network.
RANK_SIZE = 7
#: 0-based ranks of the 49 block values the deviation needs: the 24th, 25th, 26th smallest.
RANK_TARGETS = (23, 24, 25)


# --------------------------------------------------------------------------------------
# The networks
# --------------------------------------------------------------------------------------


class Network:
    """Records min/max operations on named values, each result a new name."""

    def __init__(self):
        self.ops = []

    def op(self, kind, a, b):
        name = f"w{len(self.ops) + 1}"
        self.ops.append((name, kind, a, b))
        return name

    def exchange(self, a, b):
        return [self.op("min", a, b), self.op("max", a, b)]

    def merge(self, a, b):
        """Batcher's odd-even merge of two sorted lists of any lengths."""
        if not a or not b:
            return list(a) + list(b)
        if len(a) == 1 and len(b) == 1:
            return self.exchange(a[0], b[0])
        evens = self.merge(a[0::2], b[0::2])
        odds = self.merge(a[1::2], b[1::2])
        out = [evens[0]]
        i = 0
        while i < len(odds) and i + 1 < len(evens):
            out += self.exchange(odds[i], evens[i + 1])
            i += 1
        return out + odds[i:] + evens[i + 1 :]

    def merge_all(self, lists):
        lists = [list(x) for x in lists]
        while len(lists) > 1:
            merged = [self.merge(lists[i], lists[i + 1]) for i in range(0, len(lists) - 1, 2)]
            lists = merged + lists[len(lists) - len(lists) % 2 :]
        return lists[0]

    def rank_of_two(self, kept, row):
        """Rank ``len(row)`` of the union of sorted ``kept`` (one longer) and sorted ``row``.

        In 0-1 terms the rank-k element is 1 when at most k zeros exist, i.e. when
        ``kept[p]`` and ``row[k - p]`` are both 1 for some p: ``max_p min(...)``.
        """
        k = len(row)
        terms = [kept[0]] + [self.op("min", kept[p], row[k - p]) for p in range(1, k + 1)]
        while len(terms) > 1:
            pairs = [self.op("max", terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
            terms = pairs + terms[len(terms) - len(terms) % 2 :]
        return terms[0]

    def live(self, outputs):
        """The operations ``outputs`` need, renumbered ``w1, w2, ...`` in order, and the
        renaming (applied to operands; inputs keep their names)."""
        needed, live = set(outputs), []
        for op in reversed(self.ops):
            if op[0] in needed:
                live.append(op)
                needed.update(op[2:])
        live.reverse()
        names = {op[0]: f"w{i}" for i, op in enumerate(live, start=1)}
        live = [(names[d], kind, names.get(a, a), names.get(b, b)) for d, kind, a, b in live]
        return live, names


class SharedNetwork(Network):
    """A network that computes each distinct min/max of the same operands once."""

    def __init__(self):
        super().__init__()
        self.known = {}

    def op(self, kind, a, b):
        key = (kind, *sorted((a, b)))
        if key not in self.known:
            self.known[key] = super().op(kind, a, b)
        return self.known[key]


def tile_network(size):
    """Live min/max ops and output names of 4 vertically adjacent medians.

    Inputs ``r{d}_{k}``: rank k of sorted row d, d = 0 .. size + 2. Output t is the
    median of rows t .. t + size - 1. Of ``m`` values that ``size`` more will join, the
    final median (rank ``size**2 // 2``) can only be one of the merged ranks
    ``size**2 // 2 - size .. size**2 // 2``; only those are kept ("forgetful" merging).
    """
    net = Network()
    rows = [[f"r{d}_{k}" for k in range(size)] for d in range(size + 3)]
    lo, hi = size * size // 2 - size, size * size // 2
    if size >= 5:
        common = net.merge_all(rows[3:size])  # rows shared by all four outputs
        upper = net.merge(common, net.merge(rows[1], rows[2]))[lo : hi + 1]
        lower = net.merge(common, net.merge(rows[size], rows[size + 1]))[lo : hi + 1]
    else:  # size 3: two independent pairs of outputs
        upper = net.merge_all(rows[1:size])[lo : hi + 1]
        lower = net.merge_all(rows[3 : size + 2])[lo : hi + 1]
    outputs = [
        net.rank_of_two(upper, rows[0]),
        net.rank_of_two(upper, rows[size]),
        net.rank_of_two(lower, rows[2]),
        net.rank_of_two(lower, rows[size + 2]),
    ]
    live, names = net.live(outputs)
    return live, [names.get(o, o) for o in outputs]


def tile_rank_network(size=RANK_SIZE, targets=RANK_TARGETS):
    """Live min/max ops and outputs (per output row, one name per target rank).

    Inputs ``r{d}_{k}``: rank k of sorted row d, d = 0 .. size + 2. Output t holds the
    target ranks of rows t .. t + size - 1. Of ``m`` merged values that ``size`` more
    will join, a final rank in ``min(targets) .. max(targets)`` can only be one of the
    merged ranks ``min(targets) - size .. max(targets)``; only those are kept. Each
    output then merges them with its own row (Batcher) and takes its ranks; comparators
    whose results are not needed are dropped.
    """
    net = SharedNetwork()
    rows = [[f"r{d}_{k}" for k in range(size)] for d in range(size + 3)]
    lo, hi = min(targets) - size, max(targets)
    common = net.merge_all(rows[3:size])  # rows shared by all four outputs
    upper = net.merge(common, net.merge(rows[1], rows[2]))[lo : hi + 1]
    lower = net.merge(common, net.merge(rows[size], rows[size + 1]))[lo : hi + 1]
    outputs = []
    for kept, row in ((upper, rows[0]), (upper, rows[size]), (lower, rows[2]),
                      (lower, rows[size + 2])):  # fmt: skip
        merged = net.merge(kept, row)
        outputs.append([merged[t - lo] for t in targets])
    live, names = net.live([name for names_t in outputs for name in names_t])
    return live, [[names.get(o, o) for o in names_t] for names_t in outputs]


# --------------------------------------------------------------------------------------
# The numba source
# --------------------------------------------------------------------------------------

_INTRINSIC = {"min": "lo", "max": "hi"}


def _offset(index):
    return "x" if index == 0 else f"x + np.uint64({index} * TILE_WIDTH)"


def _emit_sort_windows(size):
    lines = [
        "@njit(cache=True, nogil=True)",
        f"def sort_windows_{size}(src, start, work, dst, n):",
        f'    """Sort every {size}-wide window of ``src`` into {size} rank rows of ``work``."""',
        "    for x in range(n):",
    ]
    for k in range(size):
        index = "start + x" if k == 0 else f"start + x + np.uint64({k})"
        lines.append(f"        p{k} = src[{index}]")
    for i, j in SORTING_NETWORKS[size]:
        lines.append(f"        p{i}, p{j} = lo(p{i}, p{j}), hi(p{i}, p{j})")
    for k in range(size):
        lines.append(f"        work[dst + {_offset(k)}] = p{k}")
    return lines


def _emit_network(function, docstring, size, live, stores):
    """A generated tile kernel: load the sorted-row ranks it reads (``r<row>_<rank>``),
    apply the min/max network ``live``, store ``(slot, value)`` pairs into ``work``."""
    inputs = sorted(
        {a for op in live for a in op[2:] if a.startswith("r")},
        key=lambda name: tuple(int(t) for t in name[1:].split("_")),
    )
    lines = [
        "@njit(cache=True, nogil=True)",
        f"def {function}(work, n):",
        f'    """{docstring}"""',
        "    for x in range(n):",
    ]
    for name in inputs:
        row, rank = (int(t) for t in name[1:].split("_"))
        lines.append(f"        {name} = work[{_offset(row * size + rank)}]")
    for name, kind, a, b in live:
        lines.append(f"        {name} = {_INTRINSIC[kind]}({a}, {b})")
    for slot, value in stores:
        lines.append(f"        work[{_offset(slot)}] = {value}")
    return lines


def _emit_tile_medians(size):
    live, outputs = tile_network(size)
    first_output = (size + 3) * size
    docstring = f"Medians of 4 vertically adjacent {size} x {size} windows, {len(live)} min/max."
    stores = [(first_output + t, name) for t, name in enumerate(outputs)]
    return _emit_network(f"tile_medians_{size}", docstring, size, live, stores)


def _emit_tile_ranks(size=RANK_SIZE):
    live, outputs = tile_rank_network(size)
    first_output = (size + 3) * size
    docstring = (
        f"Ranks {', '.join(map(str, RANK_TARGETS))} of 4 vertically adjacent {size} x {size}"
        f" windows, {len(live) / len(outputs):g} min/max each."
    )
    stores = [
        (first_output + 3 * t + i, name)
        for t, names in enumerate(outputs)
        for i, name in enumerate(names)
    ]
    return _emit_network(f"tile_ranks_{size}", docstring, size, live, stores)


_HEADER = '''"""{title}

Generated by tools/gen_networks.py: do not edit by hand. Regenerate with
``python tools/gen_networks.py --write``; ``--check`` (run by CI and the tests) fails
when this file is not what the generator emits. The networks are proved exact by
{tests} (0-1 principle).

{layout}
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._minmax import hi, lo
from ._shared import TILE_WIDTH
'''

_MEDIAN_LAYOUT = """\
``sort_windows_N(src, start, work, dst, n)``: for x < n, rank k of
``src[start + x : start + x + N]`` -> ``work[dst + k * TILE_WIDTH + x]``.

``tile_medians_N(work, n)``: rank k of sorted row d at
``work[(d * N + k) * TILE_WIDTH + x]``, d = 0 .. N + 2; the median of rows t .. t + N - 1
-> ``work[((N + 3) * N + t) * TILE_WIDTH + x]``, t = 0 .. 3.

min/max are the ``lo``/``hi`` intrinsics of ``kernels/_minmax.py`` (quick to compile)."""

_RANK_LAYOUT = """\
``tile_ranks_7(work, n)``: rank k of sorted row d at ``work[(d * 7 + k) * TILE_WIDTH + x]``
(sorted by ``_networks_median.sort_windows_7``), d = 0 .. 9; ranks 23, 24, 25 (0-based)
of the 7 x 7 block of rows t .. t + 6 -> ``work[(70 + 3 * t + i) * TILE_WIDTH + x]``,
i = 0, 1, 2.

min/max are the ``lo``/``hi`` intrinsics of ``kernels/_minmax.py`` (quick to compile)."""


def _module(title, tests, layout, functions):
    header = _HEADER.format(title=title, tests=tests, layout=layout)
    return header + "\n\n" + "\n\n\n".join("\n".join(f) for f in functions) + "\n"


def median_module():
    """Source of ``kernels/_networks_median.py``."""
    functions = []
    for size in NETWORK_SIZES:
        functions += [_emit_sort_windows(size), _emit_tile_medians(size)]
    return _module(
        "Sorting and median networks of the exact median filter (``kernels/median.py``).",
        "tests/test_median.py",
        _MEDIAN_LAYOUT,
        functions,
    )


def rank_module():
    """Source of ``kernels/_networks_rank.py``."""
    return _module(
        "The rank network of the full-frame deviation (``kernels/full_frame.py``).",
        "tests/test_deviation_full.py",
        _RANK_LAYOUT,
        [_emit_tile_ranks(RANK_SIZE)],
    )


#: Every generated module and the function that emits its source.
GENERATED = {
    KERNELS / "_networks_median.py": median_module,
    KERNELS / "_networks_rank.py": rank_module,
}


# --------------------------------------------------------------------------------------
# --check and --write
# --------------------------------------------------------------------------------------


def stale_modules():
    """The generated modules (paths) whose checked-in text is not what the tool emits."""
    stale = []
    for path, emit in GENERATED.items():
        current = path.read_text() if path.exists() else None
        if current != emit():
            stale.append(path)
    return stale


def write_modules():
    """Regenerate every module whose text differs; return the paths written."""
    from fastdefect.outputs import atomic_output

    written = []
    for path in stale_modules():
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(GENERATED[path]())
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--check", action="store_true", help="fail when a generated module is stale"
    )
    action.add_argument("--write", action="store_true", help="regenerate the modules")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_modules():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    stale = stale_modules()
    for path in stale:
        print(
            f"{path.relative_to(ROOT)} is not what tools/gen_networks.py emits:"
            " run python tools/gen_networks.py --write",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
