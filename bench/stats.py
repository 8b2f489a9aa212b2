"""Percentiles and rounding shared by the load client and the report."""
from __future__ import annotations

import math
from typing import List, Optional


def percentile(values: List[float], q: float) -> Optional[float]:
    """Linear-interpolated percentile (q in 0..100); None for an empty list."""
    if not values:
        return None
    data = sorted(values)
    k = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def rounded(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(value, digits)
