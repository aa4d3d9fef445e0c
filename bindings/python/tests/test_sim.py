"""The simulator, trace readers and DataFrame conversions."""
import threading
import time

import pytest

import mlsched


def test_policies_compare_on_one_workload():
    w = mlsched.synthetic(jobs=1500, nodes=8, seed=2)
    reports = mlsched.simulate(w, ["fifo", "sjf", "drf-easy"])
    assert [r.policy for r in reports] == ["fifo", "sjf", "drf-easy"]
    frame = mlsched.summary_frame(reports)
    assert list(frame.index) == ["fifo", "sjf", "drf-easy"]
    assert (frame["jobs"] == 1500).all()
    # Shortest first cuts mean JCT on a heavy-tailed workload.
    assert frame.loc["sjf", "jct_mean"] < frame.loc["fifo", "jct_mean"]
    assert "fifo" in mlsched.format_comparison(reports)
    assert '"policy": "sjf"' in mlsched.reports_json(reports)


def test_same_seed_same_digest():
    w = mlsched.synthetic(jobs=500, nodes=4, seed=9)
    a = mlsched.simulate(w, ["drf-easy-preempt"], faults={"task_crash_probability": 0.1})[0]
    b = mlsched.simulate(w, ["drf-easy-preempt"], faults={"task_crash_probability": 0.1})[0]
    c = mlsched.simulate(w, ["drf-easy-preempt"], faults={"task_crash_probability": 0.1}, seed=2)[0]
    assert a.summary()["digest"] == b.summary()["digest"] != c.summary()["digest"]
    assert a.summary()["retries"] > 0


def test_frames_hold_every_job_and_the_series():
    w = mlsched.synthetic(jobs=400, nodes=4, tenants=3)
    r = mlsched.simulate(w, ["drf"])[0]
    jobs = mlsched.jobs_frame(r)
    assert len(jobs) == 400
    done = jobs.dropna(subset=["end"])
    assert ((done["jct"] - (done["end"] - done["submit"])).abs() < 1e-6).all()
    assert (jobs["wait"].dropna() >= 0).all()
    series = mlsched.series_frame(r)
    assert {"time", "gpus_used", "pending", "running"} <= set(series.columns)
    assert sum(c.startswith("gpus:") for c in series.columns) == 3
    tenants = mlsched.tenants_frame(r)
    assert len(tenants) == 3 and abs(tenants["share"].sum() - 1) < 1e-6
    assert r.summary()["jct"]["count"] == len(done)


def test_workload_from_dicts_and_nodes():
    jobs = [{"submit": 0, "name": "a", "gpu": 8, "runtime": "1h", "time_limit": "2h"},
            {"submit": 10, "name": "b", "gpu": 8, "runtime": "30m", "time_limit": "1h"}]
    w = mlsched.workload(jobs, nodes=[{"name": "n0", "cpu": 64, "memory": "512Gi", "gpus": 8}])
    assert (w.job_count, w.node_count) == (2, 1)
    r = mlsched.simulate(w, ["fifo"])[0]
    frame = mlsched.jobs_frame(r)
    assert list(frame["first_start"]) == [0.0, 3600.0]
    with pytest.raises(ValueError, match="runtime"):
        mlsched.workload([{"submit": 0, "name": "a"}])


def test_read_trace_reads_swf_and_reports_errors(tmp_path):
    swf = tmp_path / "tiny.swf"
    swf.write_text("; MaxProcs: 4\n"
                   "1 0 0 100 2 -1 -1 2 200 -1 1 1 1 -1 -1 -1 -1 -1\n"
                   "2 5 0 50 4 -1 -1 4 60 -1 1 2 1 -1 -1 -1 -1 -1\n")
    w, skipped, notes = mlsched.read_trace(str(swf))
    assert (w.job_count, skipped) == (2, 0)
    r = mlsched.simulate(w, ["fcfs"])[0]
    assert list(mlsched.jobs_frame(r)["first_start"]) == [0.0, 100.0]
    bad = tmp_path / "bad.swf"
    bad.write_text("1 0 0 100 2 -1 -1 2 200 -1 1 1 1 -1 -1 -1 -1 -1\n2 0 0 100\n")
    with pytest.raises(ValueError, match=r"bad.swf:2: truncated line"):
        mlsched.read_trace(str(bad))
    w, skipped, notes = mlsched.read_trace(str(bad), lenient=True)
    assert (w.job_count, skipped) == (1, 1) and any("bad.swf:2" in n for n in notes)
    with pytest.raises(FileNotFoundError):
        mlsched.read_trace(str(tmp_path / "missing.swf"))


def test_bad_arguments():
    w = mlsched.synthetic(jobs=10, nodes=1)
    with pytest.raises(ValueError, match="faults: unknown key"):
        mlsched.simulate(w, ["fifo"], faults={"meteors": 1})
    with pytest.raises(ValueError):
        mlsched.simulate(w, [3])
    with pytest.raises(ValueError, match="jobs = 0"):
        mlsched.synthetic(jobs=0)


def test_simulation_releases_the_gil():
    w = mlsched.synthetic(jobs=20000, nodes=64, seed=4)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    mlsched.simulate(w, ["drf-easy"], keep_jobs=False)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    # While C++ ran, the other thread kept going (with the GIL held it could not).
    assert len(ticks) > elapsed * 100 * 0.2


def test_tenant_weights_change_the_schedule_in_the_simulator():
    w = mlsched.synthetic(jobs=3000, nodes=8, tenants=2, seed=5, load=1.5)
    tenants = [{"name": "team-0", "weight": 1}, {"name": "team-1", "weight": 4}]
    equal, weighted = (mlsched.simulate(w, ["drf"], tenants=t)[0] for t in ([], tenants))
    # Every job runs in the end, so the GPU-hours (and shares) are the
    # workload's; the heavier tenant goes first more often and waits less.
    wait = lambda r: {t["name"]: t["wait"]["mean"] for t in r.summary()["tenants"]}
    assert wait(weighted)["team-1"] < wait(equal)["team-1"]
    assert weighted.summary()["digest"] != equal.summary()["digest"]
    with pytest.raises(ValueError, match="tenant"):
        mlsched.simulate(w, ["drf"], tenants=[{"name": "t", "weight": "heavy"}])


def test_read_alibaba(tmp_path):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("sn,cpu_milli,memory_mib,gpu,model\nnode-a,64000,262144,2,P100\n")
    pods = tmp_path / "pods.csv"
    pods.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
                    "creation_time,deletion_time,scheduled_time\n"
                    "pod-0,12000,16384,1,1000,,LS,Running,100,1100,150\n"
                    "pod-1,6000,12288,1,460,,BE,Running,50,500,60\n")
    w = mlsched.read_alibaba(str(pods), str(nodes))
    assert (w.job_count, w.node_count) == (2, 1)
    r = mlsched.simulate(w, ["fifo"])[0]
    assert r.summary()["succeeded"] == 2
    with pytest.raises(FileNotFoundError):
        mlsched.read_alibaba(str(tmp_path / "none.csv"), str(nodes))


def test_read_philly(tmp_path):
    (tmp_path / "vc-a.trace").write_text("A3C\tpython3 train.py\t-step\t1\t500\t0.0\t1\n"
                                         "A3C\tpython3 train.py\t-step\t1\t500\t5.0\t16\n")
    (tmp_path / "isolated_throughputs.csv").write_text(
        "gpu_type,job_type,scale_factor,steps_per_sec\nv100,A3C,1,5.0\n")
    (tmp_path / "cluster_specs.json").write_text('{"philly": ["16:0:0"]}')
    w, skipped, notes = mlsched.read_philly(str(tmp_path))
    assert (w.job_count, w.node_count, skipped) == (2, 2, 0)
    assert any("scaled linearly" in n for n in notes)
    r = mlsched.simulate(w, ["fifo"])[0]
    assert r.summary()["succeeded"] == 2
    w, skipped, _ = mlsched.read_philly(str(tmp_path), unknown_scale="skip")
    assert (w.job_count, skipped) == (1, 1)
    with pytest.raises(ValueError, match=r"linear"):
        mlsched.read_philly(str(tmp_path), unknown_scale="guess")
    with pytest.raises(ValueError, match=r"no throughput for GPU type"):
        mlsched.read_philly(str(tmp_path), gpu_type="k80")
    with pytest.raises(FileNotFoundError):
        mlsched.read_philly(str(tmp_path / "none"))


def test_parse_jobs_jsonl_errors_name_the_line():
    w = mlsched.parse_jobs_jsonl('{"submit": 0, "runtime": 5, "cpu": 1}\n', "jobs.jsonl")
    assert w.job_count == 1 and w.name == "jobs.jsonl"
    with pytest.raises(ValueError, match=r"jobs.jsonl:2"):
        mlsched.parse_jobs_jsonl('{"submit": 0, "runtime": 5, "cpu": 1}\n{"submit": "soon"}\n', "jobs.jsonl")
