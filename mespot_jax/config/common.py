"""Every shared configuration field, defined once (plain data, no JAX).

Experiment configs (`configs/samm_3dcnn.py`, ...) call `get_config(method)`
and change only what differs. The fields every method shares live here; a
method's own fields live in the block named after it (`config.yap3dcnn.*`),
made by that method's plain-data module `mespot_jax/config/blocks/<name>.py`.
Any field can be overridden on the command line:
`--config.train.num_epochs=3`, `--config.yap3dcnn.model.use_lcn=False`.

Every experiment config answers `get_config("smoke")`
(`--config=configs/<name>.py:smoke`): the same method and settings on the
tiny synthetic dataset for a few steps (`smoke`).
"""
import ml_collections

from mespot_jax.config import blocks


def get_config(method: str = "yap3dcnn") -> ml_collections.ConfigDict:
  """Returns the base configuration of `method` (the paper's SAMM-LV
  settings for the 3D-CNN)."""
  block = blocks.get(method)
  if block.TASK == "str":
    return str_config()
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.method = method
  c[method] = block.default_config()

  # Data: a TFDS builder of the method's task: spotting (`synthetic_lv`,
  # `samm_lv`, `cas_me2`) or recognition (`synthetic_me`, `samm_me`, ...).
  c.dataset = ml_collections.ConfigDict()
  c.dataset.name = "samm_lv"
  c.dataset.config = ""  # builder config name; "" = the builder's default
  c.dataset.data_dir = ""  # "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
  c.dataset.manual_dir = ""  # where the licensed release lies (real data)
  c.dataset.prepare = True  # build the dataset when it is not built yet
  c.dataset.image_size = 0  # resize stored crops to this; 0 = as stored
  # Hold every frame in host memory when it fits under this many GiB,
  # else read frames from the array_record shards on demand.
  c.dataset.in_memory_max_gib = 4.0
  c.dataset.loader_threads = 2
  # Synthetic datasets only: render with this seed instead of the builder
  # config's own (-1): checks results on data nobody tuned on. Built and
  # cached under its own config name, e.g. synthetic_lv/casme2_seed7.
  c.dataset.seed = -1

  c.augment = ml_collections.ConfigDict()
  c.augment.enabled = True
  c.augment.intensity_range = (0.5, 1.5)  # contrast, gamma, gain
  c.augment.flip_prob = 0.5
  c.augment.max_rotation_deg = 10.0

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 16
  c.train.learning_rate = 0.007
  c.train.optimizer = "adam"
  # constant (the papers) | cosine: decay to 5% over num_epochs x steps |
  # plateau: each fold's rate x lr_plateau_factor after lr_plateau_patience
  # epochs without improvement of the early-stopping metric (Keras'
  # ReduceLROnPlateau), never below lr_plateau_min_scale x learning_rate.
  c.train.lr_schedule = "constant"
  c.train.lr_plateau_patience = 5
  c.train.lr_plateau_factor = 0.5
  c.train.lr_plateau_min_scale = 0.01
  c.train.num_epochs = 100
  c.train.steps_per_epoch = 200
  c.train.patience = 5  # early stopping on validation loss (epochs)
  # What early stopping watches on the validation samples: "loss" (the
  # paper), a validation metric of the method (the 3D-CNN's "auc": the mean
  # of the micro and macro ROC AUCs, weighted by its loss.class_weights), or
  # "none": no early stopping, every fold trains all epochs and keeps its
  # last weights.
  c.train.early_stopping_metric = "loss"
  # The oracle: also keep, per fold, the weights of the epoch whose metric
  # on the TEST subject was best, and report the F1 they give with
  # thresholds fitted on the test subject (what leaky code reports). Never
  # the headline; it never feeds back into the honest choices.
  c.train.oracle = True
  c.train.num_val_subjects = 2  # drawn from each fold's training subjects
  c.train.val_samples = 256  # fixed validation samples per fold
  c.train.folds_per_step = 0  # folds in one compiled step; 0 = per backend
  c.train.dropout_rng_impl = "auto"  # rbg on CPU (cheap), default elsewhere
  c.train.checkpoint_every_epochs = 1
  c.train.max_checkpoints = 2
  c.train.log_every_steps = 50
  c.train.test_folds = ()  # subjects to hold out; () = every subject
  c.train.deploy = False  # also train one model on all subjects for scoring

  c.eval = ml_collections.ConfigDict()
  c.eval.score_batch_size = 0  # 0: 32 on CPU, 256 on accelerators
  c.eval.plots = True
  if block.TASK == "spotting":
    _spotting_eval(c.eval)
  else:
    _recognition(c)
  _decoder(c, block)
  return c


def _decoder(c: ml_collections.ConfigDict, block) -> None:
  """`config.decoder`: which decoder turns the scores into predictions
  (`mespot_jax.decoders`; the method's paper decoder by default, any of
  its task's may be named) and the parameters of those that have their
  own (`runs` reads `eval.postprocess`, `eval.threshold_criterion` and
  `eval.<postprocess>`; `label` reads `eval.calibration`)."""
  d = c.decoder = ml_collections.ConfigDict()
  if block.TASK == "spotting":
    d.name = getattr(block, "DECODER", "runs")  # runs|apex|peaks|rethinking|yu
    # apex: apexes by non-maximum suppression (Tran et al.).
    d.apex = ml_collections.ConfigDict()
    d.apex.threshold = "paper"  # paper (per video) | fitted
    d.apex.nms_min_s = 0.0  # suppression radius: half the width, >= this
    d.apex.fallback_width_s = 23 / 30  # width of a type never seen
    # peaks: runs above a per-video threshold (the MEGC2020 baseline).
    d.peaks = ml_collections.ConfigDict()
    d.peaks.threshold_rule = "relative"  # relative | absolute
    d.peaks.extend = 1.0  # intervals start this many reaches (k) earlier
    d.peaks.extend_after = True  # ... and end as many later
    d.peaks.merge_gap_s = 0.0  # runs closer than this are one; 0 = none
    d.peaks.micro_max_s = 0.5  # micro at most this long, macro longer
    d.peaks.micro_wins = False  # drop macro intervals overlapping a micro
    # rethinking: Zhao et al.'s peak and interval rules (MEGC2022); the
    # authors' values at 30 fps, in seconds (docs/RETHINKING_OF.md).
    d.rethinking = ml_collections.ConfigDict()
    d.rethinking.params = "fitted"  # released (the authors') | fitted
    d.rethinking.join_s = 0.1  # points closer than this: one window
    d.rethinking.expand_s = 1.0  # valley search (l_expand)
    d.rethinking.small_expand_s = 1 / 3  # l_small_expend
    d.rethinking.split_s = 2 / 3  # windows this long may split (l_split)
    d.rethinking.bound_ignore_s = 4 / 15  # valley search margin
    d.rethinking.valley_ratio = 0.33  # r1
    d.rethinking.valley_gap = 0.3 / 1.8  # vg, in units of the flow gap
    d.rethinking.peak_ratio = 0.33  # r2
    d.rethinking.peak_inf = 0.7 / 1.8  # pi, in units of the flow gap
    d.rethinking.nms_overlap = 0.34
    d.rethinking.min_len_s = 0.4  # 12 frames at 30 fps
    d.rethinking.max_len_s = 20 / 3  # 200 frames at 30 fps
    d.rethinking.micro_max_s = 0.5  # fps // 2 frames
    # yu: Yu et al.'s peak and interval rules (MEGC2022 first place); the
    # authors' CAS values at 30 fps, in seconds (docs/YU_OF.md).
    d.yu = ml_collections.ConfigDict()
    d.yu.params = "fitted"  # released (the authors') | fitted
    d.yu.join_s = 0.1  # points closer than this: one window
    d.yu.expand_s = 1.0  # valley search (30 frames)
    d.yu.small_expand_s = 1 / 3  # the short search (10 frames)
    d.yu.valley_ratio = 0.33
    d.yu.valley_gap = 0.3 / 2.0  # in units of the brows' flow gap
    d.yu.nms_overlap = 0.2
    d.yu.min_len_s = 0.4  # 12 frames at 30 fps
    d.yu.max_len_s = 20 / 3  # 200 frames at 30 fps; 0 = no limit
    d.yu.follow_gap_s = 0.5  # a long one this soon after another: dropped
    d.yu.follow_min_s = 0.5  # ... when longer than this; gap 0 = off
    d.yu.micro_max_s = 0.5  # longer than this: macro
  else:
    d.name = "label"
  if hasattr(block, "paper_decoder"):
    block.paper_decoder(c)


def _recognition(c: ml_collections.ConfigDict) -> None:
  """Fields of every recognition method."""
  c.dataset.name = "synthetic_me"
  # Frames per clip: onset, apex, offset and the rest sampled uniformly
  # between onset and offset; resized to dataset.image_size.
  c.dataset.clip_frames = 9
  c.dataset.grey = True  # False: three channels
  # Label set mapping each clip's released emotion to a class
  # (`vocab.LABEL_SETS`); "" = the one the dataset was built with.
  c.dataset.label_set = ""
  c.dataset.num_classes = 3  # must match the dataset's label set
  # Folds: "loso" (one per subject) or "kfold": `num_folds` subject-
  # exclusive groups with the dataset's class proportions (Shukla et al.).
  c.train.folds = "loso"
  c.train.num_folds = 5
  # Draw training clips class-balanced; minority-class clips are then
  # augmented at random (flip, brightness, salt-and-pepper noise).
  c.train.balance_classes = True
  c.train.early_stopping_metric = "uf1"
  c.augment.brightness = (0.7, 1.3)
  c.augment.salt_pepper = (0.005, 0.03)
  # "none": argmax of the probabilities; "prior": a per-class bias fitted
  # on the validation clips so their mean prediction is uniform.
  c.eval.calibration = "none"


def str_config(spotter: str = "mdmd",
               recogniser: str = "convlstm") -> ml_collections.ConfigDict:
  """A spot-then-recognise config (docs/STR.md): the spotter's config
  (its block, decoder, `train` and spotting `eval`) with `method = "str"`,
  the recogniser's block beside it and `config.str` (which names both
  and holds the recogniser's training); protocols `one_to_one` and `str`.
  The oracle is off: it has no STR row yet."""
  c = get_config(spotter)
  c.method = "str"
  c[recogniser] = blocks.get(recogniser).default_config()
  c.str = blocks.get("str").default_config(spotter, recogniser)
  c.eval.protocols = ("one_to_one", "str")
  c.train.oracle = False
  return c


# The tiny synthetic dataset of each task (`smoke`).
SMOKE_DATASETS = {"spotting": ("synthetic_lv", "tiny"),
                  "recognition": ("synthetic_me", "tiny"),
                  "str": ("synthetic_lv", "tiny")}


def _spotting_eval(e: ml_collections.ConfigDict) -> None:
  """Evaluation and post-processing fields of every spotting method."""
  e.protocols = ("megc2020", "one_to_one")
  e.iou_threshold = 0.5
  e.postprocess = "automated"  # automated | manual
  e.threshold_criterion = "youden"  # youden | f1 | interval_f1 | overall_f1
  # Post-processing parameters per method and type (mespot_jax.spotting.
  # postprocess documents each key); durations in seconds. `widen_to`:
  # "none", or "train_median" to widen intervals shorter than the median
  # duration of that type in the fold's training subjects to that duration
  # (the post-processor's `min_width`, set per fold).
  defaults = post_defaults()
  e.automated = ml_collections.ConfigDict(defaults["automated"])
  e.manual = ml_collections.ConfigDict(defaults["manual"])


def post_defaults(normalise: str = "minmax",
                  micro_max_len: float = 0.8) -> dict:
  """The post-processing parameters per post-processor and type, defined
  once: `eval.automated` / `eval.manual` of every spotting config, and
  (probabilities thresholded as they are, micro runs at most 0.5 s) the
  LBCNN's (`blocks.lbcnn.paper_decoder`)."""
  common = {"normalise": normalise, "widen_to": "none", "threshold": 0.5}
  return {
      "automated": {
          "micro": {**common, "order": 3, "cutoff_hz": 5.0, "merge_gap": 0.0,
                    "min_len": 0.05, "max_len": micro_max_len},
          "macro": {**common, "order": 3, "cutoff_hz": 2.0, "merge_gap": 0.1,
                    "min_len": 0.3, "max_len": 8.0}},
      "manual": {
          "micro": {**common, "window_s": 0.2, "polyorder": 2,
                    "merge_gap": 0.2, "min_len": 0.05,
                    "max_len": micro_max_len},
          "macro": {**common, "window_s": 0.5, "polyorder": 2,
                    "merge_gap": 0.2, "min_len": 0.3, "max_len": 8.0}},
  }


def smoke(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """A config's `:smoke` variant: the same method and settings on the tiny
  synthetic dataset of the method's task (`SMOKE_DATASETS`), with a tiny
  model and a few steps (about a minute on a 2-core CPU)."""
  task = blocks.get(c.method).TASK
  c.dataset.name, c.dataset.config = SMOKE_DATASETS[task]
  c.dataset.manual_dir = ""
  c.dataset.image_size = 0
  if task == "recognition":  # the tiny clip set has three classes
    c.dataset.label_set = ""
    c.dataset.num_classes = 3
    c.train.num_folds = min(c.train.num_folds, 2)  # 4 subjects
  return shrink(c)


def shrink(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Sizes only (the method block's `smoke` hook, batch, steps, epochs,
  validation samples, plots off): the dataset, the sampler, the loss, the
  post-processing and every threshold rule stay the config's. `smoke`
  applies it after switching to the tiny dataset; the real-config tests
  apply it to a real dataset's config on its builder's dummy release."""
  c.dataset.loader_threads = 1
  for name in blocks.parts(c):
    blocks.get(name).smoke(c[name])
  c.train.batch_size = 4
  c.train.num_epochs = 3
  c.train.steps_per_epoch = 3
  c.train.patience = 2
  c.train.num_val_subjects = 1
  c.train.val_samples = 8
  c.eval.score_batch_size = 32
  c.eval.plots = False
  return c


def variants(variant: str, allowed: tuple[str, ...]) -> set[str]:
  """The comma-separated variants of `--config=FILE:a,b`, checked."""
  names = {v.strip() for v in variant.split(",") if v.strip()}
  unknown = names - set(allowed)
  if unknown:
    raise ValueError(f"unknown config variant(s) {sorted(unknown)}; this "
                     f"config offers {sorted(allowed)}")
  return names


def lock(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Locks the field set so a misspelt override fails loudly."""
  config.lock()
  return config
