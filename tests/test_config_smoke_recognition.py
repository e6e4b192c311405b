"""Every recognition experiment config has a `:smoke` variant, and it runs
with the golden metrics (`tests/smoke_runs.py`; the spotting configs are in
`test_config_smoke.py`, so that the two test workers share the runs)."""
import pytest

from tests import smoke_runs

pytestmark = pytest.mark.slow  # a tiny run per config


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  return tfds_dir  # the worker's shared folder (tests/conftest.py)


@pytest.mark.parametrize("name", smoke_runs.configs_of("recognition"))
def test_smoke_variant_runs_the_same_method(name, data_dir, tmp_path):
  smoke_runs.run_smoke(name, data_dir, str(tmp_path / "run"))
