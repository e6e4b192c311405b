"""Liu et al.'s part-based recogniser on the synthetic recognition set.

`synthetic_me` (its default config: 8 subjects x 15 clips, 3 classes) as
the micro-expression target, the CK+-like synthetic set
(`synthetic.macro.ckplus_like`: 8 subjects x 12 posed sequences at the
renderer's macro amplitudes) as the macro source; leave-one-subject-out,
early stopping on validation subjects drawn from each fold's training
subjects, UF1/UAR from counts summed over the folds. The full model: part
heads, EMR and the adversary (the last row of the paper's Table I).

Sized for this 2-core CPU (docs/PARTNET.md): 48x48 flows (the part heads
see a 2x2 feature map) and a ResNet18 of width 16 instead of 64. The
paper gives no optimiser settings; Adam at 1e-3. Variants:

- `:paper`: ResNet18 at width 64 on the crops as stored (64x64).
- `:no_parts`, `:no_emr`, `:no_adversary` (the paper's "Part + EMR"
  row), `:no_source` (target only: no source, no adversary): ablations.
- `:smoke`: the same settings on `synthetic_me/tiny` for a few steps.

Variants combine: `--config=configs/synthetic_partnet.py:no_parts,no_emr`.

Run:
  python -m mespot_jax.main --config=configs/synthetic_partnet.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time: 3.0 min on a 2-core CPU; headline: UF1 0.942 on synthetic_me/default
(mean of run seeds 0, 1, 2; docs/results/synthetic_partnet_rows.json).
"""
from mespot_jax.config import common

VARIANTS = ("paper", "no_parts", "no_emr", "no_adversary", "no_source",
            "smoke")


def ablate(c, chosen) -> None:
  """Applies the ablation variants in `chosen` to `c.partnet`."""
  if "no_parts" in chosen:
    c.partnet.parts = False
  if "no_emr" in chosen:
    c.partnet.emr = False
  if "no_adversary" in chosen or "no_source" in chosen:
    c.partnet.adversarial = False
  if "no_source" in chosen:
    c.partnet.source.name = "none"


def get_config(variant: str = ""):
  """The config; variants as the module docstring lists."""
  chosen = common.variants(variant, VARIANTS)
  c = common.get_config("partnet")
  c.dataset.name = "synthetic_me"
  c.dataset.config = "default"
  c.dataset.image_size = 48
  c.dataset.clip_frames = 9
  c.partnet.model.width = 16
  c.partnet.model.reduce_features = 64
  c.partnet.model.disc_features = 64
  c.partnet.source.name = "synthetic_ckplus_like"
  c.partnet.source.subjects = 8
  c.partnet.source.clips_per_subject = 12
  # EMR's alpha: the one whose magnified micro flows match the reduced
  # macro flows in size best on the development rendering (dataset seed
  # 1; scripts/partnet_emr_match.py, docs/PARTNET.md). No model was run.
  c.partnet.evm.alpha = 1.0
  c.train.folds = "loso"
  c.train.optimizer = "adam"
  c.train.learning_rate = 1e-3
  c.train.batch_size = 32
  c.train.num_epochs = 20
  c.train.steps_per_epoch = 10
  c.train.early_stopping_metric = "uf1"
  c.train.patience = 6
  c.train.num_val_subjects = 2
  if "paper" in chosen:
    c.dataset.image_size = 0  # as stored: 64x64
    c.partnet.model.width = 64
    c.partnet.model.reduce_features = 256
    c.partnet.model.disc_features = 256
  ablate(c, chosen)
  return common.smoke(c) if "smoke" in chosen else c
