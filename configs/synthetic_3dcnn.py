"""The README's main command: Yap et al. 3D-CNN on the synthetic default.

`synthetic_lv` (its default config 2.0.0: 8 subjects x 2 videos x 60 s at
30 fps with CAS(ME)^2's statistics, 112x112 crops) is built on first use
(about 3 minutes). The crops are resized to 48x48 and training is short so
that the whole LOSO run (8 folds, training, scoring every frame of each
fold's validation and held-out videos, the baseline, the report) takes
about 8 minutes on a 2-core CPU. Paper-sized runs:
`--config.dataset.image_size=112 --config.train.num_epochs=100`.

Changes from the paper's CAS(ME)^2 settings, each for the short CPU budget:
batch-norm momentum 0.9 (0.99 lags over a few hundred steps), learning rate
0.005 with a cosine decay over the run, and no early stopping: every fold
trains its 12 short epochs and keeps its last weights
(`train.early_stopping_metric=none`). The paper's patience of 5 epochs
counts full passes over the data; counted in our 30-step epochs it stopped
most folds after about 100 of their 360 steps, and picking the epoch with
the lowest validation loss kept weights from as early as epoch 0: in this
budget the validation loss does not follow the validation AUC, which keeps
rising.
Post-processing, chosen on the development set `synthetic_lv/casme2_dev`
1.2.0 (now `casme2_dev_v1`: other subjects; never on the reported folds;
not yet re-chosen on the 2.0.0 development set): thresholds that maximise the
overall interval F1 of the validation videos (`overall_f1`; the paper's ROC
threshold is `--config.eval.threshold_criterion=youden`), a 0.5 s merge gap
for macro runs (a pair-difference score rises at an expression's onset and
again at its offset, with a dip in between), and macro intervals widened to
the median macro duration of each fold's training subjects (the runs above
a threshold cover only the high middle of an expression).

The `:smoke` variant (`--config=configs/synthetic_3dcnn.py:smoke`) runs
the same settings on the tiny synthetic dataset for a few steps.

Run:
  python -m mespot_jax.main --config=configs/synthetic_3dcnn.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time: 10.4 min on a 2-core CPU; headline: overall F1 (one_to_one) 0.423 on
synthetic_lv/casme2 1.2.0 (now casme2_v1) (mean of run seeds 0, 1, 2;
docs/results/synthetic_3dcnn_rows.json).
On synthetic_lv/casme2 3.0.0 (the current default): overall F1 (one_to_one)
0.226, 10.2 min (run seed 0, one run;
docs/results/synthetic_3dcnn_casme2_3.0.0_rows.json).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The main command's config; `variant="smoke"` for the smoke run."""
  c = common.get_config("yap3dcnn")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  c.dataset.image_size = 48
  y = c.yap3dcnn
  y.model.bn_momentum = 0.9
  y.loss.presence_weight = 0.9
  y.sampler.skip_fps = 30.0
  y.sampler.random_skips = ((3, 9), (16, 50))
  y.sampler.manual_skips = (10, 33)
  c.train.learning_rate = 0.005
  c.train.num_epochs = 12
  c.train.steps_per_epoch = 30
  c.train.lr_schedule = "cosine"
  c.train.early_stopping_metric = "none"
  c.train.num_val_subjects = 1
  c.train.val_samples = 256
  c.eval.threshold_criterion = "overall_f1"
  c.eval.automated.macro.merge_gap = 0.5
  c.eval.automated.macro.widen_to = "train_median"
  return common.smoke(c) if variant == "smoke" else c
