"""Policies written in Python: in the engine and the simulator, errors, lifetimes."""
import gc
import weakref

import pytest

import mlsched
from conftest import gpu_node


class ByNameLength(mlsched.OrderingPolicy):
    name = "by-name-length"

    def base_priority(self, job):
        return len(job["name"])  # longer names first


class Loosest(mlsched.PlacementPolicy):
    name = "loosest"

    def __init__(self):
        self.calls = 0

    def choose_node(self, task, candidates):
        self.calls += 1
        self.kept = candidates
        listed = candidates.nodes()
        assert all(free["gpu"] >= task["resources"]["gpu"] for _, free in listed)
        if listed:
            assert candidates.tightest() == listed[0][0] and len(candidates.nodes(limit=1)) == 1
        else:
            assert candidates.tightest() is None
        return candidates.loosest()


class Raising(mlsched.OrderingPolicy):
    name = "raising"

    def base_priority(self, job):
        raise ZeroDivisionError("no priority for " + job["name"])


def one_gpu(name):
    return {"name": name, "tenant": "t", "gpu": 1, "cpu": 1, "memory": "1Gi"}


def test_python_ordering_decides_who_starts_first():
    e = mlsched.Engine(mlsched.policy_set("fifo", ordering=ByNameLength()))
    e.add_node(gpu_node("n0", gpus=1))
    short = e.submit(one_gpu("a"))
    long = e.submit(one_gpu("aaaa"))
    assert [d["job"] for d in e.tick()] == [long]
    assert short != long


def test_python_placement_chooses_the_node():
    placement = Loosest()
    e = mlsched.Engine(mlsched.policy_set("fifo", placement=placement))
    e.add_node(gpu_node("busy", gpus=8))
    e.add_node(gpu_node("idle", gpus=8))
    e.submit({"name": "x", "gpu": 6})
    first = e.tick()[0]["tasks"][0]["node"]
    e.submit({"name": "y", "gpu": 1})
    assert e.tick()[0]["tasks"][0]["node"] == 1 - first  # the loosest node, where best fit takes the fuller one
    assert placement.calls == 2
    with pytest.raises(RuntimeError, match="only valid during choose_node"):
        placement.kept.tightest()


def test_a_raising_policy_is_a_clear_error_not_a_crash():
    e = mlsched.Engine(mlsched.policy_set("fifo", ordering=Raising()))
    e.add_node(gpu_node("n0"))
    with pytest.raises(RuntimeError, match=r'policy "raising": base_priority\(\) raised ZeroDivisionError'):
        e.submit(one_gpu("x"))
    # The engine is still usable.
    assert e.tick() is not None


def test_a_bad_return_value_is_reported():
    class NotAnInt(mlsched.OrderingPolicy):
        name = "not-an-int"

        def base_priority(self, job):
            return "high"

    e = mlsched.Engine(mlsched.policy_set("fifo", ordering=NotAnInt()))
    with pytest.raises(RuntimeError, match="must return an int"):
        e.submit(one_gpu("x"))


def test_policy_objects_live_as_long_as_the_engine_needs_them():
    policy = ByNameLength()
    ref = weakref.ref(policy)
    e = mlsched.Engine(mlsched.policy_set("fifo", ordering=policy))
    del policy
    gc.collect()
    assert ref() is not None  # held by the engine
    e.add_node(gpu_node("n0", gpus=1))
    e.submit(one_gpu("a"))
    b = e.submit(one_gpu("bbb"))
    assert e.tick()[0]["job"] == b
    del e
    gc.collect()
    assert ref() is None  # released with the engine


def test_python_policies_run_in_the_simulator():
    w = mlsched.synthetic(jobs=300, nodes=4, seed=3)
    r_py, r_cpp = mlsched.simulate(w, [mlsched.policy_set("fifo", placement=Loosest()), "fifo"])
    assert r_py.summary()["succeeded"] + r_py.summary()["unfinished"] + r_py.summary()["failed"] == 300
    assert r_py.policy == "fifo+loosest"
    # Spreading differs from best fit somewhere in 300 jobs.
    assert r_py.summary()["digest"] != r_cpp.summary()["digest"]


def test_a_raising_policy_in_the_simulator_raises():
    w = mlsched.synthetic(jobs=50, nodes=2)
    with pytest.raises(RuntimeError, match='policy "raising"'):
        mlsched.simulate(w, [mlsched.policy_set("fifo", ordering=Raising())])


def test_objects_without_the_method_are_refused():
    with pytest.raises(ValueError, match="base_priority"):
        mlsched.policy_set("fifo", ordering=object())
    with pytest.raises(ValueError, match="choose_node"):
        mlsched.policy_set("fifo", placement=object())
