"""Liu et al.'s part-based recogniser on the MEGC2019 composite (3 classes).

CASME II + SAMM + SMIC-HS clips (`megc2019_composite`, licensed:
`--config.dataset.manual_dir=DIR`), 68 subjects, leave-one-subject-out as
the challenge prescribes (all folds in vmapped chunks on an accelerator),
UF1 and UAR from counts summed over all folds, also per source dataset.
The macro source is CK+ (`ck_plus`, licensed:
`--config.partnet.source.manual_dir=DIR`) in the same three classes. The
full model of the paper's last Table I row: ResNet18 (width 64) on
112x112 TV-L1 onset->apex flows, part heads, EMR, the adversary. ImageNet
initialisation as the paper: convert torchvision's resnet18 weights with
`scripts/convert_resnet18.py` and pass
`--config.partnet.model.pretrained=FILE.npz` (nothing is downloaded; from
scratch without it). The paper gives no optimiser settings: Adam at 1e-4,
batch 32. Epochs are chosen on validation subjects only; the oracle block
shows what each fold's test-F1 epoch picking (the original code) reports.

Variants: the ablations of `synthetic_partnet.py` (`no_parts`, `no_emr`,
`no_adversary` = "Part + EMR", `no_source`) and `smoke`.

Run:
  python -m mespot_jax.main --config=configs/megc2019_partnet.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common
from mespot_jax.config import load_sibling

synthetic_partnet = load_sibling(__file__, "synthetic_partnet")


def get_config(variant: str = ""):
  """The config; `variant` as the module docstring lists."""
  chosen = common.variants(variant, synthetic_partnet.VARIANTS[1:])
  c = common.get_config("partnet")
  c.dataset.name = "megc2019_composite"
  c.dataset.config = ""
  c.dataset.num_classes = 3
  c.dataset.image_size = 112
  c.dataset.clip_frames = 9
  c.partnet.source.name = "ck_plus"
  c.partnet.source.config = "112_grey"
  c.train.folds = "loso"
  c.train.learning_rate = 1e-4
  c.train.batch_size = 32
  c.train.num_epochs = 30
  c.train.steps_per_epoch = 20
  c.train.early_stopping_metric = "uf1"
  c.train.patience = 8
  c.train.num_val_subjects = 3
  synthetic_partnet.ablate(c, chosen)
  return common.smoke(c) if "smoke" in chosen else c
