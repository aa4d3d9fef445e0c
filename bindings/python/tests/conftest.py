import os
import sys

import pytest

# The package built by CMake (build/python), unless PYTHONPATH already has one.
_here = os.path.dirname(os.path.abspath(__file__))
_build = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(_here))), "build", "python")
if not any(os.path.exists(os.path.join(p, "mlsched", "__init__.py")) for p in sys.path if p):
    sys.path.insert(0, _build)

import mlsched  # noqa: E402

SOURCE_DIR = os.environ.get("MLSCHED_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(_here))))


def gpu_node(name, gpus=8, **extra):
    return {"name": name, "cpu": 64, "memory": "512Gi", "gpus": gpus, "gpu_model": "H100", **extra}


@pytest.fixture
def engine():
    e = mlsched.Engine("fifo")
    e.add_node(gpu_node("n0"))
    return e
