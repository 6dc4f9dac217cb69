"""Summaries of timed samples: median and p95 by the nearest-rank method, in milliseconds."""

import math
import statistics
from dataclasses import dataclass


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of them at or
    below it (no interpolation between samples)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> "Summary":
        if not seconds:
            raise ValueError("no samples")
        ms = [value * 1000 for value in seconds]
        return cls(
            n=len(ms),
            median_ms=round(statistics.median(ms), 2),
            p95_ms=round(percentile(ms, 0.95), 2),
            mean_ms=round(statistics.fmean(ms), 2),
            min_ms=round(min(ms), 2),
            max_ms=round(max(ms), 2),
        )
