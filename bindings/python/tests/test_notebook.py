"""The example notebook runs headless and draws its figures."""
import os

import nbformat
from nbclient import NotebookClient

from conftest import SOURCE_DIR


def test_compare_policies_notebook_runs_and_plots(tmp_path):
    path = os.path.join(SOURCE_DIR, "examples", "notebooks", "compare_policies.ipynb")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert images >= 4
    assert "shortest-limit" in str(nb.cells[4].outputs)
