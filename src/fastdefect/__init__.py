"""fastdefect: find, judge and fix defective pixels on image sensors, fast.

The public API is re-exported here. Heavy parts (numba kernels) load on first use, so
``import fastdefect`` and the command line start quickly.
"""

from __future__ import annotations

from ._interrupt import exit_at_once_during_startup

exit_at_once_during_startup()  # Ctrl-C while the command line imports: one line, 130

import importlib  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402

from .errors import (  # noqa: E402
    CameraError,
    ExitCode,
    FastDefectError,
    FileFormatError,
    InputError,
)
from .sensor import SensorSpec, sensor_preset  # noqa: E402

try:
    __version__ = version("fastdefect")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"


# name -> module that defines it; imported lazily on first attribute access (PEP 562).
_LAZY = {
    # frames
    "FrameStack": "frames",
    "open_stack": "frames",
    "read_image": "frames",
    "write_image": "frames",
    "write_stack": "frames",
    # local median
    "local_median": "median",
    # statistics and detection
    "StackStats": "stats",
    "stack_stats": "stats",
    "DetectionAnalysis": "detection",
    "DetectionConfig": "detection",
    "DetectionResult": "detection",
    "Threshold": "detection",
    "analyse": "detection",
    "detect": "detection",
    "deviation_outliers": "detection",
    "line_deviations": "detection",
    "local_deviation": "detection",
    "Score": "scoring",
    "load_truth": "scoring",
    "score": "scoring",
    # threshold sweeps and the report
    "SweepResult": "threshold_sweep",
    "parse_thresholds": "threshold_sweep",
    "sweep": "threshold_sweep",
    "Report": "report",
    "build_report": "report",
    # defect lists, camera rules, file formats
    "KINDS": "defects",
    "DefectList": "defects",
    "DefectRecord": "defects",
    "DefectStats": "defects",
    "ListDiff": "defects",
    "diff_lists": "defects",
    "merge_lists": "defects",
    "ARRI_INTERPOLATING": "rules",
    "AV_LEFT_NEIGHBOUR": "rules",
    "RuleSet": "rules",
    "Verdict": "rules",
    "Verdicts": "rules",
    "check_list": "rules",
    "rule_set": "rules",
    "FORMATS": "formats",
    "CameraBackup": "formats",
    "ListFile": "formats",
    "read_backup": "formats",
    "read_list": "formats",
    "read_list_file": "formats",
    "write_backup": "formats",
    "write_list": "formats",
    # correction simulation and preview
    "CorrectionPlan": "correction",
    "CorrectionResult": "correction",
    "ConfirmResult": "correction",
    "confirm_masked": "correction",
    "correct_left": "correction",
    "correct_stack": "correction",
    "correct": "correction",
    "plan_correction": "correction",
    "render_preview": "preview",
    "write_preview": "preview",
    # synthetic sensor
    "SimulationConfig": "simulate",
    "SimulationResult": "simulate",
    "TruthTable": "simulate",
    "read_truth": "simulate",
    "simulate_to_directory": "simulate",
}

__all__ = [
    "CameraError",
    "ExitCode",
    "FastDefectError",
    "FileFormatError",
    "InputError",
    "SensorSpec",
    "__version__",
    "sensor_preset",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastdefect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
