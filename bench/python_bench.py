#!/usr/bin/env python3
"""Python binding benchmarks (issue targets):

  submit_many: 1,000,000 jobs through the batch API          <= 2 s
  tick():      overhead of one call from Python above C++      <= 5 us

Run after a Release build:  PYTHONPATH=build/python python3 bench/python_bench.py
"""
import resource
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
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    ids = e.submit_many(columns)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert len(ids) == n and e.job_count == n
    # On a virtual machine much of the time can be the kernel faulting in
    # and zeroing the engine's fresh memory: report it beside the wall time.
    return elapsed, after.ru_minflt - before.ru_minflt, after.ru_stime - before.ru_stime


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
    elapsed, faults, system = submit_million()
    print(f"submit_many, 1,000,000 jobs: {elapsed:.2f} s ({faults} page faults, {system:.2f} s in the kernel)")
    full, bare = tick_overhead()
    print(f"tick() on an idle engine: {full * 1e6:.2f} us per call from Python "
          f"(tick_count(): {bare * 1e6:.2f} us); the C++ call: BM_Engine_IdleTick")
