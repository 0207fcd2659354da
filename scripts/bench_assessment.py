#!/usr/bin/env python
"""Time the self-assessment: load_index() cold (YAML parse + validation, cache cleared) and warm (cached),
score() and validate() on a realistic answer set. Target: < 1 ms per scoring.

    .venv/bin/python scripts/bench_assessment.py [--runs 10000]
"""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MS = 1.0

# A realistic answer set: the manual's example (49.34, 二级) for a firm with 120 production machines.
ANSWERS = {
    "questions": {
        "Q1": ["B", "C"],
        "Q2": "B",
        "Q3": "C",
        "Q4": ["B", "C", "D", "E", "F", "G", "H", "I"],
        "Q5": "C",
        "Q6": ["B", "C"],
        "Q7": ["B", "C", "D"],
        "Q8": "C",
        "Q9": ["B", "C", "D"],
        "Q10": ["B"],
        "Q11": "C",
        "Q12": "B",
        "Q13": "B",
        "Q14": "C",
        "Q15": "A",
    },
    "fields": {
        "Q2.total": 120,
        "Q2.digital": 18,
        "Q3.networked": 36,
        "Q11.investment": 35.5,
        "Q12.energy_last_year": 812.4,
        "Q12.energy_year_before": 809.9,
        "Q13.value": 98.6,
        "Q14.staff_last_year": 86,
        "Q14.revenue_last_year": 5230,
        "Q14.staff_year_before": 91,
        "Q14.revenue_year_before": 4980,
        "Q15.cost_last_year": 4410,
        "Q15.cost_year_before": 4275,
    },
    "scenarios": {f"S{n}": (2 if n in (1, 2, 3, 5, 6, 7) else 1) for n in range(1, 17)},
}


def timings_ms(fn, runs):
    out = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1e6)
    return out


def describe(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, statistics.fmean(ordered), ordered[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()

    sys.path.insert(0, ROOT)
    t0 = time.perf_counter()
    from zsdx import assessment  # after sys.path is set: the script runs from anywhere

    import_ms = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    index = assessment.load_index()
    first_ms = (time.perf_counter() - t0) * 1e3

    def cold():
        assessment._load_cached.cache_clear()
        assessment.load_index()

    cold_ms = timings_ms(cold, 20)
    warm_ms = timings_ms(assessment.load_index, 1000)
    index = assessment.load_index()

    result = assessment.score(ANSWERS, index)
    assert assessment.validate(ANSWERS, index) == {}, assessment.validate(ANSWERS, index)
    for _ in range(200):  # warm-up
        assessment.score(ANSWERS, index)

    score_ms = timings_ms(lambda: assessment.score(ANSWERS, index), args.runs)
    default_ms = timings_ms(lambda: assessment.score(ANSWERS), args.runs)
    validate_ms = timings_ms(lambda: assessment.validate(ANSWERS, index), args.runs)

    print(f"python {sys.version.split()[0]}, PyYAML C loader: {assessment._Loader.__name__}")
    print(
        f"answer set: total {assessment.fmt2(result.total)} "
        f"(基础 {assessment.fmt2(result.dimension_scores['foundation'])} / "
        f"管理 {assessment.fmt2(result.dimension_scores['management'])} / "
        f"成效 {assessment.fmt2(result.dimension_scores['outcome'])}), {result.level_name}"
    )
    print(f"import zsdx.assessment (incl. yaml):      {import_ms:8.2f} ms")
    print(f"load_index() first call in this process:  {first_ms:8.2f} ms")
    med, p95, mean, worst = describe(cold_ms)
    print(f"load_index() cold, cache cleared (n=20):  median {med:.2f} ms  p95 {p95:.2f} ms  max {worst:.2f} ms")
    med, p95, mean, worst = describe(warm_ms)
    print(f"load_index() cached (n=1000):             median {med * 1e3:.2f} µs  p95 {p95 * 1e3:.2f} µs")
    failed = False
    for name, samples in (
        ("score(answers, index)", score_ms),
        ("score(answers) [get_index()]", default_ms),
        ("validate(answers, index)", validate_ms),
    ):
        med, p95, mean, worst = describe(samples)
        print(
            f"{name:<30} n={len(samples)}: median {med * 1e3:7.1f} µs  p95 {p95 * 1e3:7.1f} µs  "
            f"mean {mean * 1e3:7.1f} µs  max {worst * 1e3:8.1f} µs"
        )
        if name.startswith("score") and p95 >= TARGET_MS:
            failed = True
    print(f"target < {TARGET_MS} ms per scoring (p95): {'FAIL' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
