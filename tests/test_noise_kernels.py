"""The noise model's local variance kernel against its plain definition."""

from __future__ import annotations

import numpy as np
import pytest

from fastdefect.kernels.variance import local_variance_at
from fastdefect.noise import chi2_median_ratio, local_variance

from reference import local_variance_reference


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (9, 14), (40, 33)])
@pytest.mark.parametrize(("step", "radius"), [(1, 5), (2, 5), (1, 1), (2, 2)])
def test_local_variance_kernel_equals_the_definition(shape, step, radius):
    rng = np.random.default_rng(shape[0] * 10 + step + radius)
    # Few distinct levels: ties, and even counts at edges and corners.
    std = rng.integers(1, 6, shape).astype(np.float32) * np.float32(1.5)
    std[rng.random(shape) < 0.05] = 90.0
    rows, columns = (a.ravel() for a in np.indices(shape))
    out = np.full(rows.size, -1.0)
    local_variance_at(std, rows.astype(np.int64), columns.astype(np.int64), step, radius, out)
    want = local_variance_reference(std, rows, columns, step, radius)
    np.testing.assert_array_equal(out, want)  # NaN where a pixel has no neighbours
    if np.isfinite(want).any():
        scaled = local_variance(std, rows, columns, step=step, radius=radius, n_frames=8)
        np.testing.assert_array_equal(scaled, want / chi2_median_ratio(7))
