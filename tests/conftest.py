"""Shared test helpers: the in-process CLI runner, the hypothesis profiles, and a real
PostgreSQL server for the history database tests.

The server is Debian's ``postgresql`` (``.ci/run`` installs it): ``initdb`` and
``pg_ctl`` on a temporary directory, listening on 127.0.0.1 on a free port, trust
authentication, stopped and removed at the end of the session. PostgreSQL refuses to
run as root, so as root the server runs as ``nobody`` (through ``runuser``). Tests
using it are skipped, with the reason, only when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
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


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """``postgresql://postgres@127.0.0.1:PORT`` of a server started for this session."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
        )
    pytest.importorskip("psycopg", reason="the fleet extra (psycopg) is not installed")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="fastdefect-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root and runuser is missing: PostgreSQL refuses root")
        prefix = [runuser, "-u", "nobody", "--"]
        os.chown(base, 65534, 65534)
        os.chmod(base, 0o700)
    data = base / "data"
    port = _free_port()
    log = base / "server.log"

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, cwd=base
        )

    done = run(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {done.stderr}")
    options = f"-p {port} -h 127.0.0.1 -k {base} -c max_connections=100 -c fsync=off"
    started = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
                  "-t", "60", "start")  # fmt: skip
    if started.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {started.stderr}\n{text}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with contextlib.closing(
        psycopg.connect(f"{postgres_server}/postgres", autocommit=True)
    ) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"
