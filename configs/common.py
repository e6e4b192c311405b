"""Every shared configuration field, defined once.

Experiment configs (`configs/samm_3dcnn.py`, ...) import `get_config()` from
here and change only what differs. Any field can be overridden on the command
line: `--config.train.num_epochs=3`.
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
  """Returns the base configuration (the paper's SAMM-LV settings)."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.task = "spotting"

  # Data: a TFDS spotting builder (`synthetic_lv`, `samm_lv`, `cas_me2`).
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

  # Model: looked up by name in mespot_jax.models.MODELS.
  c.model = ml_collections.ConfigDict()
  c.model.name = "yap3dcnn"
  c.model.channels = (16, 32, 64)
  c.model.dense_features = 128
  c.model.dropout_rate = 0.2
  c.model.use_batchnorm = True
  c.model.use_lcn = True
  c.model.depthwise_impl = "auto"  # grouped | shifted | fused | auto
  c.model.bn_momentum = 0.99  # Keras' default, as the paper's code

  # Loss: mespot_jax.train.losses.LOSSES (equation 2 of Yap et al.).
  c.loss = ml_collections.ConfigDict()
  c.loss.name = "yap_weighted_bce"
  c.loss.class_weights = (0.1, 0.9)  # M_i: micro, macro
  c.loss.presence_weight = 0.75  # W: 0.75 SAMM-LV, 0.9 CAS(ME)^2
  c.loss.weighted = True  # False: plain BCE (Table 7 ablation)

  # Samples: reference frame t with partners t + skip per stream (Table 3).
  c.sampler = ml_collections.ConfigDict()
  c.sampler.name = "two_stream_pairs"
  # Random training/validation skips in frames at `skip_fps`; rescaled to
  # each video's own frame rate, so a config works at any fps.
  c.sampler.skip_fps = 200.0
  c.sampler.random_skips = ((25, 75), (200, 400))
  c.sampler.test_skip = "kth"  # kth (from the training subjects) | manual
  c.sampler.manual_skips = (30, 310)
  c.sampler.kth_default_seconds = (0.2, 1.0)  # when a fold has no interval
  # Probability of drawing a neutral, a micro and a macro reference frame.
  c.sampler.class_probs = (0.5, 0.25, 0.25)

  c.augment = ml_collections.ConfigDict()
  c.augment.enabled = True
  c.augment.intensity_range = (0.5, 1.5)  # contrast, gamma, gain
  c.augment.flip_prob = 0.5
  c.augment.max_rotation_deg = 10.0

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 16
  c.train.learning_rate = 0.007
  c.train.optimizer = "adam"
  # constant (the papers) | cosine: decay to 5% over num_epochs x steps
  c.train.lr_schedule = "constant"
  c.train.num_epochs = 100
  c.train.steps_per_epoch = 200
  c.train.patience = 5  # early stopping on validation loss (epochs)
  # What early stopping watches on the validation samples: "loss" (the
  # paper) or "auc" (the mean of the micro and macro ROC AUCs, weighted by
  # loss.class_weights: blind to the calibration drift that makes the
  # weighted loss noisy over short training), or "none": no early stopping,
  # every fold trains all epochs and keeps its last weights.
  c.train.early_stopping_metric = "loss"
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
  c.eval.protocols = ("megc2020", "one_to_one")
  c.eval.iou_threshold = 0.5
  c.eval.postprocess = "automated"  # automated | manual
  c.eval.threshold_criterion = "youden"  # youden | f1 | interval_f1 | overall_f1
  c.eval.score_batch_size = 0  # 0: 32 on CPU, 256 on accelerators
  c.eval.baseline = True  # frame-difference baseline, same post-processing
  c.eval.plots = True
  # Post-processing parameters per method and type (mespot_jax.spotting.
  # postprocess documents each key); durations in seconds. `widen_to`:
  # "none", or "train_median" to widen intervals shorter than the median
  # duration of that type in the fold's training subjects to that duration
  # (the post-processor's `min_width`, set per fold).
  c.eval.automated = ml_collections.ConfigDict({
      "micro": {"normalise": "minmax", "order": 3, "cutoff_hz": 5.0,
                "merge_gap": 0.0, "min_len": 0.05, "max_len": 0.8,
                "widen_to": "none", "threshold": 0.5},
      "macro": {"normalise": "minmax", "order": 3, "cutoff_hz": 2.0,
                "merge_gap": 0.1, "min_len": 0.3, "max_len": 8.0,
                "widen_to": "none", "threshold": 0.5},
  })
  c.eval.manual = ml_collections.ConfigDict({
      "micro": {"normalise": "minmax", "window_s": 0.2, "polyorder": 2,
                "merge_gap": 0.2, "min_len": 0.05, "max_len": 0.8,
                "widen_to": "none", "threshold": 0.5},
      "macro": {"normalise": "minmax", "window_s": 0.5, "polyorder": 2,
                "merge_gap": 0.2, "min_len": 0.3, "max_len": 8.0,
                "widen_to": "none", "threshold": 0.5},
  })
  return c


def lock(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Locks the field set so a misspelt override fails loudly."""
  config.lock()
  return config
