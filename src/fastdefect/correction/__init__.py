"""Correction simulation: what the camera will make of a defect list, before an upload.

Three methods, each applied to any frame or stack (a stack streams frame by frame):

``left`` — the Allied Vision camera (docs/domain.md §3)
    A listed pixel takes the value of the nearest *non-listed* pixel to its left in the
    same row; on a colour (Bayer) sensor, the nearest of its own colour (two columns per
    step). So a run of ``n`` consecutive listed pixels is filled with the one value left
    of the run (the rule set's reading of "the pixel to the left will be omitted", see
    :mod:`fastdefect.rules`). A run longer than the rule set's hard limit
    (:attr:`RuleSet.hard_max_run`, 8 for ``av``) and a run with no active pixel to its
    left (it starts in the first column of its colour) stay uncorrected and are reported.

``mean`` / ``median`` — an interpolating camera such as ARRI's User Pixel Mask (§4)
    A listed pixel takes the rounded mean (median) of the non-listed pixels of its colour
    in its 3 x 3 plane neighbourhood (the 8 nearest same-colour pixels); when all of those
    are listed too, of the 5 x 5 one. A pixel with no good pixel there stays uncorrected
    and is reported. ARRI does not publish its kernel: this is a documented stand-in
    that shows the "blurry pixel" and where clusters leave nothing to interpolate from.

Runs and neighbourhoods are computed on the unique listed positions (a camera ignores
duplicates). A correction depends on the positions only, so it is planned once
(:func:`plan_correction`, a :class:`CorrectionPlan`) and applied to every frame
(:meth:`CorrectionPlan.apply`); the per-frame cost is a copy of the frame plus the listed
pixels.

:func:`confirm_masked` is the vendor's "confirm pixel defects are masked" step done by a
detector instead of by eye: it runs the detection rule on a corrected image or stack
(yours, or frames captured with the camera's masking on) and says which listed defects
are still visible and why.

Modules
-------
Everything public is re-exported here (``from fastdefect.correction import X``):

* :mod:`~fastdefect.correction.positions`: :func:`check_list_fits`, :func:`check_list_size`
* :mod:`~fastdefect.correction.plan`: :func:`plan_correction`, :class:`CorrectionPlan`
* :mod:`~fastdefect.correction.report`: :class:`CorrectionReport`, :data:`REASONS`,
  :func:`uncorrected_reason`
* :mod:`~fastdefect.correction.apply`: :func:`correct`, :func:`correct_left`,
  :func:`correct_stack`, :class:`CorrectedStack`
* :mod:`~fastdefect.correction.confirm`: :func:`confirm_masked`, :class:`ConfirmResult`
"""

from __future__ import annotations

from .apply import CorrectedStack, CorrectionResult, correct, correct_left, correct_stack
from .confirm import CONFIRM_REASONS, ConfirmResult, confirm_masked
from .plan import METHODS, CorrectionPlan, plan_correction
from .positions import check_list_fits, check_list_size
from .report import REASONS, CorrectionReport, uncorrected_reason

__all__ = [
    "CONFIRM_REASONS",
    "METHODS",
    "REASONS",
    "ConfirmResult",
    "CorrectedStack",
    "CorrectionPlan",
    "CorrectionReport",
    "CorrectionResult",
    "check_list_fits",
    "check_list_size",
    "confirm_masked",
    "correct",
    "correct_left",
    "correct_stack",
    "plan_correction",
    "uncorrected_reason",
]
