"""The top-level API: every public name importable, none shadowed by a module."""

from __future__ import annotations

import importlib
import pkgutil

import fastdefect


def test_public_names_are_the_objects_not_modules():
    # Import every submodule first: importing fastdefect.X binds X on the package, which
    # would shadow a public function of the same name.
    for module in pkgutil.walk_packages(fastdefect.__path__, "fastdefect."):
        if ".cli" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    for name in fastdefect.__all__:
        value = getattr(fastdefect, name)
        assert not isinstance(value, type(fastdefect)), name


def test_main_entry_points_are_callables():
    for name in ("detect", "analyse", "score", "correct", "sweep", "local_median",
                 "read_list", "write_list", "check_list", "build_report"):  # fmt: skip
        assert callable(getattr(fastdefect, name)), name
