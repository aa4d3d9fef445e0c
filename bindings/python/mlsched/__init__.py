"""mlsched: an embeddable scheduling engine for ML and GPU clusters.

The engine, the simulator and the trace readers are the C++ library's, bound
with pybind11 (``mlsched._mlsched``); this package adds Python base classes
for custom policies, DataFrame conversions and plots (``mlsched.plot``).

    import mlsched
    w = mlsched.synthetic(jobs=2000, nodes=16)
    reports = mlsched.simulate(w, ["fifo", "drf-easy"])
    mlsched.jobs_frame(reports[0]).describe()

Times are seconds; resources are dicts {"cpu": cores, "memory": bytes,
"gpu": count} or texts "cpu=8,memory=64Gi,gpu=4". Errors: invalid arguments
raise ValueError, unknown ids KeyError, everything else RuntimeError, each
with the C++ message.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ._mlsched import (
    Candidates,
    Engine as _Engine,
    PolicySet,
    Report,
    Workload,
    format_comparison,
    parse_jobs_jsonl,
    policy_set_names,
    read_alibaba,
    read_philly,
    read_trace,
    release_cached_memory,
    reports_json,
    simulate as _simulate,
    synthetic,
)

__all__ = [
    "Candidates", "Engine", "OrderingPolicy", "PlacementPolicy", "PolicySet", "Report", "Workload",
    "format_comparison", "history_frame", "jobs_frame", "policy_set", "policy_set_names", "read_alibaba", "read_philly", "read_trace",
    "release_cached_memory", "reports_json", "series_frame", "simulate", "summary_frame", "synthetic", "tenants_frame",
    "workload",
]


class OrderingPolicy:
    """Base class of ordering policies written in Python.

    ``base_priority(job)`` gets the job as a dict (name, tenant, user, class,
    priority, task_groups, gpu_model, time_limit, preemptible) and returns
    an int (larger goes first, within ±10**12). ``aging_points_per_hour`` and
    ``aging_cap`` add priority with time waited, for every job alike.
    """

    name = "python-ordering"
    aging_points_per_hour = 0
    aging_cap = 0

    def base_priority(self, job: dict) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


class PlacementPolicy:
    """Base class of placement policies written in Python.

    ``choose_node(task, candidates)`` gets the task (job, group, task,
    gang_size, resources) and the nodes where it fits now
    (``candidates.tightest()``, ``.loosest()``, ``.nodes(limit)``) and
    returns a node id, or None to leave the job waiting.
    """

    name = "python-placement"

    def choose_node(self, task: dict, candidates: Candidates):  # pragma: no cover - abstract
        raise NotImplementedError


def policy_set(name: str = "fifo", ordering: OrderingPolicy | None = None,
               placement: PlacementPolicy | None = None) -> PolicySet:
    """A policy set by name (see ``policy_set_names()``) or from a JSON or YAML
    policy document (``"backfill: {reservation_depth: easy}"``), with optional
    Python ordering and placement policies."""
    return PolicySet(name, ordering, placement)


def _as_policy_set(p) -> PolicySet:
    if isinstance(p, PolicySet):
        return p
    if isinstance(p, str):
        return PolicySet(p)
    raise ValueError(f"policies: expected a PolicySet or a name, got {type(p).__name__}")


class Engine(_Engine):
    """The scheduling engine on a manual clock (seconds).

    ``Engine("drf-easy")`` or ``Engine(policy_set(...), seed=1)``.
    """

    def __init__(self, policies="fifo", seed: int = 0, start: float = 0.0):
        super().__init__(_as_policy_set(policies), seed, start)


def simulate(workload: Workload, policies: Iterable, seed: int = 1, faults: dict | None = None,
             keep_jobs: bool = True, tenants: list | None = None) -> list[Report]:
    """Replays ``workload`` under each policy set (names or PolicySet objects).

    ``faults``: node_mtbf, node_repair, task_crash_probability,
    checkpoint_interval. ``tenants``: dicts as Engine.configure_tenants takes
    (weights and quotas). The GIL is released while the C++ simulator runs."""
    sets = [_as_policy_set(p) for p in policies]
    return _simulate(workload, sets, seed, faults or {}, keep_jobs, tenants or [])


def workload(jobs: Sequence[dict], nodes: Sequence[dict] | None = None, name: str = "<python>") -> Workload:
    """A workload from job dicts in mlsched's JSON Lines form (submit and
    runtime required; see README "Trace files") and optional node dicts."""
    import json

    text = "\n".join(json.dumps(j) for j in jobs)
    w = parse_jobs_jsonl(text, name)
    return w.with_nodes(list(nodes)) if nodes is not None else w


# ------------------------------------------------------------- DataFrames

def history_frame(engine: Engine, jobs: Sequence[int] | None = None):
    """One row per attempt of the engine's jobs (all, or ``jobs``): job, name,
    tenant, state, submit and end, and the attempt's start, end, outcome and
    reason (a job that never started has one row with no attempt)."""
    import pandas as pd

    rows = []
    for j in (engine.list_jobs() if jobs is None else jobs):
        job = engine.get_job(j)
        base = {k: job[k] for k in ("id", "name", "tenant", "user", "state", "submit_time", "end_time")}
        for n, a in enumerate(job["attempts"] or [None]):
            row = dict(base, attempt=n + 1 if a else None)
            if a:
                row.update(attempt_start=a["start"], attempt_end=a["end"], outcome=a["outcome"], reason=a["reason"])
            rows.append(row)
    return pd.DataFrame(rows)


def summary_frame(reports: Sequence[Report]):
    """One row per report: the headline metrics (pandas DataFrame)."""
    import pandas as pd

    rows = []
    for r in reports:
        s = r.summary()
        row = {k: v for k, v in s.items() if not isinstance(v, (dict, list))}
        for k in ("jct", "wait", "bounded_slowdown"):
            for stat, v in s[k].items():
                row[f"{k}_{stat}"] = v
        rows.append(row)
    return pd.DataFrame(rows).set_index("policy")


def jobs_frame(report: Report):
    """One row per job: submit, first start, end, wait, JCT (seconds), state..."""
    import pandas as pd

    return pd.DataFrame(report.job_columns())


def series_frame(report: Report):
    """The time series: GPUs and CPU in use, pending and running jobs, and one
    ``gpus:<tenant>`` column per tenant."""
    import pandas as pd

    cols = report.series_columns()
    tenants = cols.pop("tenant_gpus")
    frame = pd.DataFrame(cols)
    for name, values in tenants.items():
        frame[f"gpus:{name}"] = values
    return frame


def tenants_frame(report: Report):
    """One row per tenant: jobs, GPU-hours, share, mean and p95 wait."""
    import pandas as pd

    rows = []
    for t in report.summary()["tenants"]:
        rows.append({"tenant": t["name"], "jobs": t["jobs"], "gpu_hours": t["gpu_hours"], "share": t["share"],
                     "wait_mean": t["wait"]["mean"], "wait_p95": t["wait"]["p95"]})
    return pd.DataFrame(rows)
