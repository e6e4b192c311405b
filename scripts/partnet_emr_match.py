r"""EMR's magnification factor chosen by matching flow sizes on dev data.

  python scripts/partnet_emr_match.py [--dataset_seed=1] \
      [--alphas=0,1,2,5,10] [--source_subjects=4]

Liu et al. magnify the micro clips and reduce the macro sequences so that
their motion is alike in size (section II-D), and give no alpha. This
prints the size of the onset->apex flows (`_size`: the top 5% flow
magnitudes of each clip, px, TV-L1 at the config's flow size) of the
synthetic micro clips (dataset seed `--dataset_seed`: 1 is the
development rendering) magnified by each alpha, beside that of the
CK+-like macro sequences' onset->apex and onset->halfway flows. The
alpha whose magnified micro flows come closest to the reduced macro
flows is the choice among alpha > 0 (alpha 0 is no magnification, which
the method's EMR is not); no model is trained.
"""
import numpy as np
from absl import app
from absl import flags

from mespot_jax.config import load_module as load_config
from mespot_jax.data import datasets
from mespot_jax.methods import partnet_data

synthetic_partnet = load_config("synthetic_partnet")

_SEED = flags.DEFINE_integer("dataset_seed", 1, "synthetic_me seed.")
_ALPHAS = flags.DEFINE_list("alphas", ["0", "1", "2", "5", "10"], "Alphas.")
_SUBJECTS = flags.DEFINE_integer("source_subjects", 4, "Macro subjects.")


def _size(flows) -> float:
  """Mean over clips of the mean of each clip's top 5% flow magnitudes:
  the moving region (most of a face does not move; there the flow is
  the noise's)."""
  m = np.linalg.norm(flows[..., :2], axis=-1).reshape(len(flows), -1)
  k = max(1, m.shape[1] // 20)
  return float(np.sort(m, axis=1)[:, -k:].mean())


def main(argv):
  del argv
  c = synthetic_partnet.get_config()
  c.dataset.seed = _SEED.value
  store = datasets.open_store(c, "recognition")
  b = c.partnet
  b.source.subjects = _SUBJECTS.value
  b.emr = False
  apex = _size(partnet_data.source_flows(c, b, store)[0])
  b.emr = True
  half = _size(partnet_data.source_flows(c, b, store)[0])
  print(f"macro onset->apex {apex:.3f} px, onset->halfway (reduced) "
        f"{half:.3f} px")
  print("| alpha | micro onset->apex flow (px) | / reduced macro |")
  print("|---|---|---|")
  best = None
  for a in _ALPHAS.value:
    b.emr = float(a) > 0
    b.evm.alpha = float(a)
    size = _size(partnet_data.target_flows(store, b))
    print(f"| {a} | {size:.3f} | {size / half:.2f} |")
    if float(a) > 0 and (best is None or abs(size - half) < best[1]):
      best = (a, abs(size - half))
  print(f"closest to the reduced macro flows (alpha > 0): alpha {best[0]}")


if __name__ == "__main__":
  app.run(main)
