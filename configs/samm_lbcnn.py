"""Pan et al.'s LBCNN on SAMM Long Videos (200 fps).

The same paper settings as `configs/casme2_lbcnn.py` (`paper_config`: 224 x
224 face and ROIs, the shallow AlexNet-like backbone, 3-class softmax,
uniform class sampling, LOSO, and the choices the paper leaves open, which
docs/LBCNN.md lists), on the `samm_lv` release.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/samm_lbcnn.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common
from mespot_jax.config import load_sibling

casme2_lbcnn = load_sibling(__file__, "casme2_lbcnn")


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = casme2_lbcnn.paper_config("samm_lv")
  return common.smoke(c) if variant == "smoke" else c
