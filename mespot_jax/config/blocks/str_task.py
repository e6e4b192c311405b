"""The config block of spot-then-recognise (`mespot_jax.methods.
spot_then_recognise`): plain data.

`config.str` names the spotter (a spotting method, whose block, decoder,
`train` and `eval` fields are the config's own, as in that method's
spotting config) and the recogniser (a recognition method, whose block
sits beside it) and holds what the recogniser trains with: the label set
mapping each true micro-expression's emotion to a class, the frames per
clip, the calibration of its `label` decoder, its training sizes and its
augmentation. The folds are the spotter's (leave-one-subject-out over the
long videos); the clips are cut from the same long-video frames
(docs/STR.md).
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "spot-then-recognise: a spotter, then a recogniser of what it spots"
TASK = "str"
VAL_METRICS = ()
SPOTTERS = ("yap3dcnn", "lbcnn", "tran_lstm", "mdmd", "flow_roi",
            "rethinking_of", "yu_of")
# ConvLSTM only: PartNet's clips are optical flow with their own
# preprocessing (`methods.partnet_data`), not yet cut from long videos.
RECOGNISERS = ("convlstm",)


def default_config(spotter: str = "mdmd",
                   recogniser: str = "convlstm") -> ml_collections.ConfigDict:
  """The block `config.str`."""
  b = ml_collections.ConfigDict()
  b.spotter = spotter
  b.recogniser = recogniser
  b.label_set = "3class"  # `vocab.LABEL_SETS`; the interval emotions mapped
  b.clip_frames = 9  # onset, apex, offset and frames between
  b.calibration = "none"  # the recogniser's `label` decoder
  # The recogniser's training (the spotter's is `config.train`); folds,
  # validation subjects, seed and scoring batch are the config's.
  t = b.train = ml_collections.ConfigDict()
  t.batch_size = 16
  t.learning_rate = 1e-3
  t.optimizer = "adam"
  t.lr_schedule = "constant"
  t.num_epochs = 40
  t.steps_per_epoch = 20
  t.patience = 10
  t.early_stopping_metric = "loss"
  t.val_samples = 256
  t.balance_classes = True
  a = b.augment = ml_collections.ConfigDict()
  a.enabled = True
  a.brightness = (0.7, 1.3)
  a.salt_pepper = (0.005, 0.03)
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the recogniser's training in place (`:smoke`)."""
  t = block.train
  t.batch_size, t.num_epochs, t.steps_per_epoch = 4, 3, 3
  t.patience, t.val_samples = 2, 8


def parts(config) -> tuple[str, str]:
  """The blocks besides `config.str` a config holds: spotter, recogniser."""
  return str(config.str.spotter), str(config.str.recogniser)


CHOICES = {
    "spotter": SPOTTERS,
    "recogniser": RECOGNISERS,
    "label_set": tuple(vocab.LABEL_SETS),
    "calibration": vocab.CALIBRATIONS,
    "train.optimizer": vocab.OPTIMIZERS,
    "train.lr_schedule": vocab.LR_SCHEDULES,
    "train.early_stopping_metric": ("loss", "none", "uf1", "uar",
                                    "accuracy"),
}
