"""Property testing from Python with Hypothesis: random clusters and
workloads through the bindings, checking the engine's invariants.

Run it alone with ``python3 -m pytest bindings/python/tests/test_properties.py``.
"""
from hypothesis import given, settings, strategies as st

import mlsched

node_st = st.fixed_dictionaries({"gpus": st.sampled_from([0, 1, 2, 4, 8]), "cpu": st.integers(4, 64)})
job_st = st.fixed_dictionaries({
    "gpu": st.sampled_from([0, 1, 2, 4, 8]),
    "cpu": st.integers(1, 16),
    "tenant": st.sampled_from(["a", "b", "c"]),
    "class": st.sampled_from(["low", "medium", "high"]),
    "time_limit": st.integers(60, 3600),
})


@settings(max_examples=60, deadline=None)
@given(nodes=st.lists(node_st, min_size=1, max_size=6), jobs=st.lists(job_st, min_size=1, max_size=40),
       policies=st.sampled_from(["fifo", "priority", "drf", "easy", "drf-easy", "drf-easy-preempt"]))
def test_no_node_is_overcommitted_and_every_fitting_job_finishes(nodes, jobs, policies):
    e = mlsched.Engine(policies, seed=1)
    for i, n in enumerate(nodes):
        e.add_node({"name": f"n{i}", "cpu": n["cpu"], "memory": "256Gi", "gpus": n["gpus"], "gpu_model": "X"})
    fits = [any(j["gpu"] <= n["gpus"] and j["cpu"] <= n["cpu"] for n in nodes) for j in jobs]
    ids = [e.submit({"name": f"j{k}", "memory": "1Gi", **j}) for k, j in enumerate(jobs)]
    running = {}  # job -> (token, tasks, end)
    for _ in range(400):
        for d in e.tick():
            if d["kind"] == "start":
                for t in d["tasks"]:
                    e.task_started(d["job"], d["token"], t["task"])
                running[d["job"]] = (d["token"], len(d["tasks"]), e.now + 30)
            else:  # kill or checkpoint request: the task stops now
                if d["job"] in running:
                    token, n, _ = running.pop(d["job"])
                    for t in range(n):
                        e.task_exited(d["job"], token, t, signal=15)
        # Invariant: no node holds more than it has.
        for i in range(len(nodes)):
            node = e.node(i)
            for kind in ("cpu", "gpu"):
                assert node["allocated"][kind] <= node["capacity"][kind]
        e.advance(30)
        for job, (token, n, end) in list(running.items()):
            if end <= e.now:
                for t in range(n):
                    e.task_exited(job, token, t)
                del running[job]
        if not running and e.queue_depth()["total"] == 0:
            break
    states = [e.get_job(j)["state"] for j in ids]
    for ok, state in zip(fits, states):
        if ok:
            assert state == "Succeeded", states
