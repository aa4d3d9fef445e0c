"""The engine through the bindings: nodes, jobs, rounds, reports, queries, errors."""
import pytest

import mlsched
from conftest import gpu_node


def job(name, gpus, **extra):
    return {"name": name, "tenant": "t", "user": "u", "gpu": gpus, "cpu": 8, "memory": "64Gi", **extra}


def test_start_decision_names_node_and_gpus(engine):
    j = engine.submit(job("a", 4))
    decisions = engine.tick()
    assert len(decisions) == 1
    d = decisions[0]
    assert d["kind"] == "start" and d["job"] == j and d["token"] == (1, 1)
    assert d["tasks"][0]["node"] == 0 and len(d["tasks"][0]["gpus"]) == 4
    assert engine.get_job(j)["state"] == "Starting"


def test_reports_move_the_job_through_its_states(engine):
    j = engine.submit(job("a", 8, time_limit="1h"))
    token = engine.tick()[0]["token"]
    engine.task_started(j, token, 0)
    assert engine.get_job(j)["state"] == "Running"
    engine.advance(60)
    engine.task_exited(j, token, 0, exit_code=0)
    assert engine.get_job(j)["state"] == "Succeeded"
    assert engine.get_job(j)["end_time"] == pytest.approx(60.0)
    assert engine.counters()["starts"] == 1


def test_a_blocked_job_waits_and_explains_itself(engine):
    a = engine.submit(job("a", 8))
    engine.tick()
    b = engine.submit(job("b", 4))
    assert engine.tick() == []
    e = engine.explain(b)
    assert e["verdict"] == "wait" and e["reason"]
    assert engine.queue_depth()["total"] == 1
    assert engine.utilization()["allocated"]["gpu"] == 8
    assert engine.node(0)["free_gpus"] == []
    engine.cancel(b)
    assert engine.get_job(b)["state"] == "Cancelled"
    assert a != b


def test_backfill_reservation_has_an_expected_start():
    e = mlsched.Engine("easy")
    e.add_node(gpu_node("n0"))
    running = e.submit(job("running", 6, time_limit="2h"))
    e.tick()
    head = e.submit(job("head", 8, time_limit="1h"))
    e.tick()
    assert e.explain(head)["expected_start"] == pytest.approx(7200.0)
    assert running != head


def test_submit_many_takes_columns_and_shared_values(engine):
    ids = engine.submit_many({"name": [f"j{i}" for i in range(5)], "tenant": "t", "gpu": [1, 2, 1, 2, 1]})
    assert len(ids) == 5 and ids == sorted(ids)
    assert engine.get_job(ids[1])["spec"]["task_groups"][0]["resources"]["gpu"] == 2
    assert len(engine.tick()) == 5


def test_submit_many_is_all_or_nothing(engine):
    with pytest.raises(ValueError, match=r"job 2: .*gpu"):
        engine.submit_many({"name": ["a", "b", "c"], "gpu": [1, 1, "lots"]})
    assert engine.job_count == 0
    with pytest.raises(ValueError, match="has 2 values"):
        engine.submit_many({"name": ["a", "b", "c"], "gpu": [1, 1]})


def test_errors_map_to_python_exceptions(engine):
    with pytest.raises(KeyError, match="unknown job"):
        engine.get_job(12345)
    with pytest.raises(ValueError, match='unknown key "gpus_wanted"'):
        engine.submit({"name": "x", "gpus_wanted": 1})
    with pytest.raises(ValueError, match="class"):
        engine.submit(job("x", 1, **{"class": "urgent"}))
    with pytest.raises(ValueError, match="time_limit"):
        engine.submit(job("x", 1, time_limit="soon"))
    with pytest.raises(ValueError, match="must be >= 0"):
        engine.advance(-1)
    with pytest.raises(ValueError, match="node"):
        engine.add_node({"name": "bad", "cpu": 8, "memory": "1Gi", "gpus": 65})
    # A report with a stale fencing token is refused: neither bad input nor unknown.
    j = engine.submit(job("a", 1))
    token = engine.tick()[0]["token"]
    with pytest.raises(RuntimeError):
        engine.task_started(j, (token[0], token[1] + 5), 0)
    assert engine.job_count == 1


def test_resources_take_dicts_and_texts(engine):
    a = engine.submit({"name": "a", "resources": "cpu=2,memory=4Gi,gpu=1"})
    b = engine.submit({"name": "b", "resources": {"cpu": 0.5, "memory": 2**30, "gpu": 1}})
    ra = engine.get_job(a)["spec"]["task_groups"][0]["resources"]
    rb = engine.get_job(b)["spec"]["task_groups"][0]["resources"]
    assert ra == {"cpu": 2.0, "memory": 4 * 2**30, "gpu": 1}
    assert rb == {"cpu": 0.5, "memory": 2**30, "gpu": 1}


def test_gangs_and_task_groups(engine):
    engine.add_node(gpu_node("n1"))
    j = engine.submit({"name": "gang", "task_groups": [{"name": "w", "count": 2, "resources": "cpu=8,gpu=8"}]})
    d = engine.tick()[0]
    assert d["job"] == j and sorted(t["node"] for t in d["tasks"]) == [0, 1]


def test_policy_sets_by_name_and_document():
    assert "drf-easy-preempt" in mlsched.policy_set_names()
    p = mlsched.policy_set("drf-easy")
    assert p.fair_share and p.reservation_depth == 1
    doc = mlsched.policy_set('{"ordering": "fifo", "backfill": {"reservation_depth": "all"}}')
    assert doc.reservation_depth == 2**31 - 1
    with pytest.raises(ValueError, match="unknown"):
        mlsched.policy_set("no-such-policy")
    with pytest.raises(ValueError, match="policy config"):
        mlsched.policy_set('{"ordering": 3}')
    assert '"ordering"' in p.document()


def test_policy_set_from_a_yaml_document():
    doc = mlsched.policy_set("ordering: fifo\nfair_share: {usage_half_life: 2d}\nbackfill:\n  reservation_depth: 3\n")
    assert doc.fair_share and doc.reservation_depth == 3
    # The same document in JSON gives the same policy set.
    same = mlsched.policy_set('{"ordering": "fifo", "fair_share": {"usage_half_life": "2d"}, '
                              '"backfill": {"reservation_depth": 3}}')
    assert doc.document() == same.document()
    with pytest.raises(ValueError, match=r"\$\.backfill\.reservation_depth \(line 2, column 31\) = 0"):
        mlsched.policy_set("ordering: fifo\nbackfill: {reservation_depth: 0}\n")


def test_node_states_and_gpu_health(engine):
    engine.add_node(gpu_node("n1", gpus=2))
    engine.set_node_state(0, "draining")
    j = engine.submit(job("a", 2))
    assert engine.tick()[0]["tasks"][0]["node"] == 1  # a draining node takes no new work
    assert engine.node(0)["state"] == "Draining"
    engine.set_node_state(0, "up")
    for g in range(8):
        engine.set_gpu_health(0, g, g == 7)
    k = engine.submit(job("b", 1))
    assert engine.tick()[0]["tasks"][0]["gpus"] == [7]  # only the healthy GPU
    with pytest.raises(ValueError, match="expected"):
        engine.set_node_state(0, "asleep")
    with pytest.raises(KeyError):
        engine.set_node_state(99, "up")
    engine.add_node(gpu_node("spare"))
    engine.remove_node(2)
    assert engine.node_count == 2
    assert j != k


def test_tenants_quotas_and_usage():
    e = mlsched.Engine("drf")
    e.add_node(gpu_node("n0"))
    e.configure_tenants([{"name": "org", "guarantee": "gpu=8"},
                         {"name": "a", "parent": "org", "weight": 2, "guarantee": {"gpu": 4}, "borrowing_limit": {"gpu": 0}},
                         {"name": "b", "parent": "org", "guarantee": "gpu=4"}])
    ids = e.submit_many({"name": ["a1", "a2"], "tenant": "a", "gpu": 4})
    started = {d["job"] for d in e.tick()}
    assert started == {ids[0]}  # a may not borrow beyond its 4 GPUs
    assert e.tenant("a")["usage"]["gpu"] == 4 and e.tenant("a")["weight"] == 2
    assert "quota" in e.explain(ids[1])["reason"]
    with pytest.raises(ValueError, match='tenant "x": unknown key "budget"'):
        e.configure_tenants([{"name": "x", "budget": 3}])
    with pytest.raises(KeyError):
        e.tenant("nobody")


def test_job_history_as_dicts_and_a_frame():
    e = mlsched.Engine("fifo")
    e.add_node(gpu_node("n0"))
    a = e.submit(job("a", 4, max_attempts=2))
    b = e.submit(job("b", 8, tenant="other"))
    d = e.tick()[0]
    e.task_started(a, d["token"], 0)
    e.advance(10)
    e.task_exited(a, d["token"], 0, exit_code=1)  # fails; retried
    assert e.get_job(a)["attempts"][0]["outcome"] != "none"
    assert e.list_jobs(tenant="other") == [b]
    assert e.list_jobs(state="Queued") == sorted(e.list_jobs(state="Queued"))
    with pytest.raises(ValueError, match="not a job state"):
        e.list_jobs(state="Sleeping")
    frame = mlsched.history_frame(e)
    assert set(frame["id"]) == {a, b}
    first = frame[(frame["id"] == a) & (frame["attempt"] == 1)].iloc[0]
    assert first["attempt_end"] == pytest.approx(10.0) and "exit code 1" in first["reason"]
    assert frame[frame["id"] == b]["attempt"].isna().all()


def test_workflows_release_children_as_parents_succeed(engine):
    w = engine.submit_workflow("pipe", [job("prep", 1), job("train", 8), job("eval", 1)],
                               [("prep", "train"), ("train", "eval", "afterok")])
    prep, train, ev = w["jobs"]
    d = engine.tick()
    assert [x["job"] for x in d] == [prep]
    engine.task_started(prep, d[0]["token"], 0)
    engine.advance(5)
    engine.task_exited(prep, d[0]["token"], 0)
    assert [x["job"] for x in engine.tick()] == [train]
    status = engine.workflow(w["id"])
    assert status["by_state"] == {"Starting": 1, "Succeeded": 1, "WaitingDeps": 1} and not status["finished"]
    with pytest.raises(ValueError, match="cycle"):
        engine.submit_workflow("loop", [job("a", 1), job("b", 1)], [("a", "b"), ("b", "a")])
    with pytest.raises(ValueError, match='kind "soon"'):
        engine.submit_workflow("k", [job("a", 1), job("b", 1)], [("a", "b", "soon")])
    with pytest.raises(KeyError):
        engine.workflow(99)
    assert ev > train


def test_cron_schedules_fire_in_ticks_and_can_be_paused(engine):
    s = engine.create_schedule({"name": "hourly", "cron": "0 * * * *", "job": job("report", 1),
                                "concurrency": "forbid"})
    first = engine.schedule(s)["next_fire"]
    assert first > engine.now and first % 3600 == 0
    assert engine.preview_schedule(s, 3) == [first, first + 3600, first + 7200]
    engine.advance(first - engine.now)
    d = engine.tick()
    status = engine.schedule(s)
    assert status["runs"] == 1 and status["last_fire"] == first and status["concurrency"] == "forbid"
    assert [x["job"] for x in d] == status["last_jobs"]
    assert engine.get_job(status["last_jobs"][0])["name"] == "report"
    engine.pause_schedule(s)
    assert engine.schedule(s)["paused"] and engine.schedule(s)["next_fire"] is None
    engine.advance(3600)
    engine.tick()
    assert engine.schedule(s)["runs"] == 1
    engine.resume_schedule(s)
    assert [x["name"] for x in engine.list_schedules()] == ["hourly"]
    engine.update_schedule(s, {"name": "hourly", "cron": "30 * * * *", "job": job("report", 1)})
    nxt = engine.schedule(s)["next_fire"]
    assert nxt % 3600 == 1800 and engine.preview_schedule(s, 2) == [nxt, nxt + 3600]
    with pytest.raises(ValueError, match=r'concurrency: "never"'):
        engine.update_schedule(s, {"name": "hourly", "cron": "@daily", "concurrency": "never", "job": job("r", 1)})
    assert engine.schedule(s)["next_fire"] == nxt  # the refused update changed nothing
    engine.delete_schedule(s)
    assert engine.list_schedules() == []
    with pytest.raises(KeyError):
        engine.schedule(s)


def test_one_off_schedules_of_workflows(engine):
    s = engine.create_schedule({"name": "later", "in": "10m",
                                "workflow": {"jobs": [job("a", 1), job("b", 1)], "edges": [("a", "b")]}})
    assert engine.schedule(s)["next_fire"] == pytest.approx(engine.now + 600)
    engine.advance(600)
    engine.tick()
    status = engine.schedule(s)
    assert status["runs"] == 1 and status["last_workflow"] is not None
    assert engine.workflow(status["last_workflow"])["name"].startswith("later")


def test_bad_schedules_are_refused_naming_the_field(engine):
    with pytest.raises(ValueError, match=r'schedule "x": cron "61 \* \* \* \*": minute'):
        engine.create_schedule({"name": "x", "cron": "61 * * * *", "job": job("a", 1)})
    with pytest.raises(ValueError, match=r'schedule "x": when: unknown key'):
        engine.create_schedule({"name": "x", "when": "soon", "job": job("a", 1)})
    with pytest.raises(ValueError, match=r'schedule "x": misfire: "later"'):
        engine.create_schedule({"name": "x", "cron": "@daily", "misfire": "later", "job": job("a", 1)})
    with pytest.raises(ValueError, match=r"exactly one of them"):
        engine.create_schedule({"name": "x", "cron": "@daily"})
    assert engine.list_schedules() == []


def test_release_cached_memory_gives_back_a_finished_engines_table_once():
    """An engine's job table takes 2.5 MiB chunks that are kept for reuse when
    it goes; release_cached_memory() gives them back, and then has nothing."""
    import gc

    mlsched.release_cached_memory()
    e = mlsched.Engine("fifo")
    e.add_node(gpu_node("g0", 8))
    e.submit(job("a", 1))
    del e
    gc.collect()
    assert mlsched.release_cached_memory() >= 5 << 19
    assert mlsched.release_cached_memory() == 0
