"""Every experiment config's docstring ends with its "Run" block: the
command, and the run time and headline metric from the committed rows
(`scripts/config_headlines.py`, big_vision's convention)."""
import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import config_headlines  # pylint: disable=g-import-not-at-top,wrong-import-position


def test_every_docstring_holds_its_block():
  for name in config_headlines.configs():
    path = os.path.join(ROOT, "configs", f"{name}.py")
    doc = ast.get_docstring(ast.parse(open(path).read()), clean=False)
    assert doc.rstrip().endswith(config_headlines.docstring_block(name)), (
        f"{path}: run `python scripts/config_headlines.py --write`")


def test_headline_is_the_rows_mean():
  # Known answer: synthetic_3dcnn's rows on its own dataset seed give
  # overall F1 0.444, 0.402, 0.423 (docs/RESULTS.md) -> mean 0.423.
  text = config_headlines.block("synthetic_3dcnn")
  assert "overall F1 (one_to_one) 0.423" in text
  assert "run seeds 0, 1, 2" in text
  assert "not measured here" in config_headlines.block("samm_3dcnn")


def test_the_command_in_each_block_resolves(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.main",
       "--config=configs/synthetic_partnet.py", "--dry_run",
       f"--workdir={tmp_path}/run"], cwd=ROOT, capture_output=True,
      text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
