#!/usr/bin/env python3
"""Python binding benchmarks (issue targets):

  submit_many: 1,000,000 jobs through the batch API          <= 2 s
  tick():      overhead of one call from Python above C++      <= 5 us

Run after a Release build:  PYTHONPATH=build/python python3 bench/python_bench.py
"""
import time

import mlsched


def best_of(n, f):
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def submit_million():
    e = mlsched.Engine("fifo")
    n = 1_000_000
    columns = {"name": "job", "tenant": [f"team-{i % 50}" for i in range(n)], "gpu": [1 << (i % 4) for i in range(n)],
               "cpu": 8, "memory": "64Gi", "time_limit": 3600}
    start = time.perf_counter()
    ids = e.submit_many(columns)
    elapsed = time.perf_counter() - start
    assert len(ids) == n and e.job_count == n
    return elapsed


def tick_overhead():
    e = mlsched.Engine("fifo")
    e.add_node({"name": "n0", "cpu": 64, "memory": "512Gi", "gpus": 8})
    e.tick()
    calls = 200_000

    def loop(f):
        def run():
            for _ in range(calls):
                f()
        return run

    full = best_of(5, loop(e.tick)) / calls
    bare = best_of(5, loop(e.tick_count)) / calls
    return full, bare


if __name__ == "__main__":
    print(f"submit_many, 1,000,000 jobs: {submit_million():.2f} s")
    full, bare = tick_overhead()
    print(f"tick() on an idle engine: {full * 1e6:.2f} us per call from Python "
          f"(tick_count(): {bare * 1e6:.2f} us); the C++ call: BM_Engine_IdleTick")
