"""A second run compiles nothing, also when the package directory is not writable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from fastdefect.kernels import COMPILE_NOTICE

SCRIPT = (
    "import numpy as np\n"
    "from fastdefect.detection import deviation_outliers\n"
    "image = np.full((64, 64), 100, np.uint16); image[5, 5] = 900\n"
    "assert deviation_outliers(image, 102.0)[0].tolist() == [5]\n"
)


def _run(env: dict[str, str], user: str | None = None) -> str:
    command = [sys.executable, "-c", SCRIPT]
    if user is not None:
        command = ["runuser", "-u", user, "--", "env", *(f"{k}={v}" for k, v in env.items()),
                   *command]  # fmt: skip
        environment = None
    else:
        environment = {**os.environ, **env}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return result.stdout + result.stderr


def _saved(env: dict[str, str], user: str | None = None) -> int:
    return _run(env, user).count("data saved to")


@pytest.mark.slow
def test_second_run_compiles_nothing(tmp_path):
    env = {"NUMBA_DEBUG_CACHE": "1", "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    assert _saved(env) > 0
    assert _saved(env) == 0


@pytest.mark.slow
def test_first_run_says_once_that_it_compiles(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _run(env)
    assert first.count(COMPILE_NOTICE) == 1, first
    assert COMPILE_NOTICE not in _run(env)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs root and runuser to run as a user who cannot write the package directory",
)
def test_read_only_install_without_home_still_caches(tmp_path):
    # 'nobody' can write neither the source tree nor /nonexistent: numba alone would fail.
    env = {
        "NUMBA_DEBUG_CACHE": "1",
        "HOME": "/nonexistent",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in env.items()),
         sys.executable, "-c", "import fastdefect"],
        capture_output=True, text=True,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot read this checkout: {probe.stderr.strip()[-200:]}")
    cache = os.path.join("/tmp", "fastdefect-numba-65534")
    shutil.rmtree(cache, ignore_errors=True)
    assert _saved(env, user="nobody") > 0
    assert _saved(env, user="nobody") == 0
    assert os.path.isdir(cache)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_the_shared_fallback_is_created_private(tmp_path):
    from fastdefect.kernels import _private_directory

    path = str(tmp_path / "cache")
    assert _private_directory(path) == path
    info = os.lstat(path)
    assert info.st_uid == os.getuid() and info.st_mode & 0o077 == 0


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_planted_or_open_fallback_is_not_trusted(tmp_path):
    from fastdefect.kernels import _private_directory

    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    chosen = _private_directory(str(open_to_all))
    assert chosen != str(open_to_all)
    assert os.lstat(chosen).st_mode & 0o077 == 0

    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    assert _private_directory(str(link)) != str(link)

    if os.geteuid() == 0:  # a directory another user made (and could fill)
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        assert _private_directory(str(foreign)) != str(foreign)


PROBE = (
    "import sys\n"
    "from fastdefect import _process\n"
    "if sys.argv[1] == 'cli': _process.own()\n"
    "exec(SCRIPT)\n"
    "import numba.np.arraymath as arraymath\n"
    "print(arraymath._HAVE_BLAS, 'scipy.linalg' in sys.modules)\n"
)


@pytest.mark.parametrize(("mode", "expected"), [("cli", "False False"), ("library", "True True")])
def test_the_command_line_alone_skips_numbas_blas_probe(mode, expected):
    """Numba's BLAS probe imports scipy.linalg (0.2 s): the command line skips it; a
    library user's process keeps numba's behaviour. Needs SciPy (a test dependency)."""
    pytest.importorskip("scipy.linalg")
    script = f"SCRIPT = {SCRIPT!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[-2] == expected, result.stdout + result.stderr
