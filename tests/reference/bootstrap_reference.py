#!/usr/bin/env python3
"""Independent reference for lvs_median_ci: resample indices drawn as next() % n from the
xoshiro256** of rng_reference.py, the median of each resample and the 2.5 / 97.5 percentiles
of the medians by numpy (linear interpolation), the median and mean by numpy.
Writes tests/fixtures/bootstrap.txt: one case per line, "n seed resamples v1..vn median lo hi mean".
Run: /usr/bin/python3 tests/reference/bootstrap_reference.py"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rng_reference import xoshiro  # noqa: E402


def case(vals, seed, resamples):
    n = len(vals)
    draws = xoshiro(seed, n * resamples)
    v = np.array(vals, dtype=np.float64)
    meds = np.array([np.median(v[[draws[b * n + i] % n for i in range(n)]]) for b in range(resamples)])
    lo, hi = np.percentile(meds, [2.5, 97.5])
    return np.median(v), lo, hi, np.mean(v)


def main():
    rng = np.random.default_rng(5)
    cases = [([0.0, 0.0, 1.2, 3.4, 0.0], 42, 1000), ([1.0, 2.0], 7, 1000), ([2.0, 1.0, 3.0], 42, 40)]
    for n in (4, 9, 24):
        vals = list(np.round(rng.exponential(1.0, n) * (rng.random(n) > 0.4), 6))
        cases.append((vals, 42, 1000))
    lines = []
    for vals, seed, rs in cases:
        med, lo, hi, mean = case(vals, seed, rs)
        nums = " ".join(repr(float(x)) for x in vals)
        lines.append("%d %d %d %s %r %r %r %r" % (len(vals), seed, rs, nums, float(med), float(lo), float(hi), float(mean)))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "bootstrap.txt")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(lines), out))


if __name__ == "__main__":
    main()
