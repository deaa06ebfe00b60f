"""Shared test helpers: the in-process CLI runner and the hypothesis profiles."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fastdefect.cli import main

# Profiles: "dev" (default) for the local loop, "ci" prints the blob that reproduces a
# failure; choose with HYPOTHESIS_PROFILE. Tests set max_examples themselves.
settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def run_cli(
    capsys: pytest.CaptureFixture[str], *args: str | Path | int, collapse_out: bool = False
) -> tuple[int, str, str]:
    """Run ``fastdefect ARGS`` in this process: ``(exit code, stdout, stderr)``.

    A ``str`` argument is split as a shell would (``"--at 3,4"`` is two words), anything
    else is one word. Whitespace runs in stderr (rich wraps long lines) are collapsed to
    one space, in stdout too with ``collapse_out``.
    """
    argv: list[str] = []
    for arg in args:
        argv.extend(shlex.split(arg) if isinstance(arg, str) else [str(arg)])
    code = main(argv)
    captured = capsys.readouterr()
    out = " ".join(captured.out.split()) if collapse_out else captured.out
    return code, out, " ".join(captured.err.split())
