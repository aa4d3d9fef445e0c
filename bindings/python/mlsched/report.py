"""Writes an HTML report of a policy comparison: the table and the figures.

    python3 -m mlsched.report --synthetic 20000 --policies fifo,drf-easy --out report.html
    python3 -m mlsched.report --trace log.swf.gz --policies fcfs,easy,conservative --out report.html
"""
from __future__ import annotations

import argparse
import sys

import matplotlib

matplotlib.use("Agg")

import mlsched  # noqa: E402
from mlsched import plot  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m mlsched.report", description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--synthetic", type=int, metavar="JOBS", help="a synthetic ML workload of JOBS jobs")
    src.add_argument("--trace", metavar="FILE", help="an SWF or mlsched jobs file")
    p.add_argument("--nodes", type=int, default=64, help="GPU nodes of the synthetic cluster (default 64)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--policies", default="fifo,priority,drf,drf-easy,drf-easy-preempt")
    p.add_argument("--out", default="report.html")
    args = p.parse_args(argv)
    if args.synthetic is not None:
        workload = mlsched.synthetic(jobs=args.synthetic, nodes=args.nodes, seed=args.seed)
    else:
        workload, _, _ = mlsched.read_trace(args.trace)
    reports = mlsched.simulate(workload, args.policies.split(","), seed=args.seed)
    path = plot.html_report(reports, args.out, title=f"mlsched: {workload.name}, {len(workload)} jobs")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
