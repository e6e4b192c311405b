"""Pan et al.'s LBCNN on SAMM Long Videos (200 fps).

The same paper settings as `configs/casme2_lbcnn.py` (`paper_config`: 224 x
224 face and ROIs, the shallow AlexNet-like backbone, 3-class softmax,
uniform class sampling, LOSO, and the choices the paper leaves open, which
docs/LBCNN.md lists), on the `samm_lv` release.

The `:smoke` variant runs these settings on the tiny synthetic dataset.
"""
from configs import casme2_lbcnn
from configs import common


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = casme2_lbcnn.paper_config("samm_lv")
  return common.smoke(c) if variant == "smoke" else c
