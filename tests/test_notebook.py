"""The Colab notebook runs top to bottom here (Colab-only cells skipped).

It runs the main command's `:smoke` variant in this checkout, reads the
report and shows plots, as it would on a TPU runtime with the full config.
"""
import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_colab_notebook_executes(tmp_path, monkeypatch, tfds_dir):
  monkeypatch.setenv("MESPOT_NOTEBOOK_SMOKE", "1")
  monkeypatch.setenv("MESPOT_NOTEBOOK_WORKDIR", str(tmp_path / "run"))
  # The worker's shared data folder (tests/conftest.py): built there once.
  monkeypatch.setenv("TFDS_DATA_DIR", tfds_dir)
  nb = nbformat.read(os.path.join(ROOT, "notebooks", "colab_tpu.ipynb"),
                     as_version=4)
  client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                   resources={"metadata": {"path": ROOT}})
  client.execute()
  outputs = "".join(o.get("text", "") for c in nb.cells
                    if c.cell_type == "code" for o in c.get("outputs", []))
  assert "Colab: False" in outputs
  assert "overall F1" in outputs
  assert os.path.exists(tmp_path / "run" / "metrics.json")
  images = [o for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
  assert images  # the plots were displayed
