"""The vocabularies of the toolkit, each defined once (no JAX here).

The config check (`mespot_jax.config.check`) and the code that acts on a
value read the same tuple, so a value the check lets through is one the
code knows, and the allowed values an error lists are the code's own.
"""
import dataclasses

# Expression types of the spotting task, in the column order of every
# (T, 2) score or label array.
TYPES = ("micro", "macro")

# Spotting datasets (long videos) and recognition datasets (clips), by
# TFDS builder name.
SPOTTING_DATASETS = ("synthetic_lv", "samm_lv", "cas_me2", "cas_me3")
# `cas_me3` is both: its `clips_*` builder configs hold recognition clips.
RECOGNITION_DATASETS = ("synthetic_me", "casme_ii", "samm_me", "smic_e",
                        "ck_plus", "megc2019_composite", "cas_me3")
# Spot-then-recognise reads long videos: the spotting datasets.
DATASETS = {"spotting": SPOTTING_DATASETS,
            "recognition": RECOGNITION_DATASETS,
            "str": SPOTTING_DATASETS}
# Synthetic datasets (rendered at any seed) and their default builder config.
SYNTHETIC_DEFAULT_CONFIG = {"synthetic_lv": "casme2",
                            "synthetic_me": "default"}
SYNTHETIC_DATASETS = tuple(SYNTHETIC_DEFAULT_CONFIG)

OPTIMIZERS = ("adam", "sgd", "adamw")
LR_SCHEDULES = ("constant", "cosine", "plateau")
DROPOUT_RNG_IMPLS = ("auto", "default", "threefry2x32", "rbg",
                     "unsafe_rbg")
DTYPES = ("float32", "bfloat16", "float16")

# Spotting decoders: post-processors, thresholds, normalisation, widths.
POSTPROCESSORS = ("automated", "manual")
THRESHOLD_CRITERIA = ("youden", "f1", "interval_f1", "overall_f1")
NORMALISE = ("minmax", "none", "fixed", "train_range")
WIDEN_TO = ("none", "train_median")
PROTOCOLS = ("megc2020", "megc2020_pairs", "one_to_one", "str",
             "apex_in_interval")

# Recognition: label sets (class names in label order; which emotion of
# which source maps to which class is `mespot_jax.data.labels`), folds and
# decoders.
LABEL_SETS = {
    "3class": ("negative", "positive", "surprise"),  # MEGC2019 composite
    "samm_5class": ("happiness", "other", "anger", "contempt",
                    "surprise"),  # SAMM, Shukla et al.
}
RECOGNITION_FOLDS = ("loso", "kfold")
CALIBRATIONS = ("none", "prior")

# Optical flow and the training-free spotters' threshold rules.
FLOW_BACKENDS = ("farneback", "tvl1")
THRESHOLD_RULES = ("relative", "absolute")
# Decoders per task (`config.decoder.name`, mespot_jax.decoders).
DECODERS = {"spotting": ("runs", "apex", "peaks", "rethinking", "yu"),
            "recognition": ("label",)}
# decoder.rethinking.params, decoder.yu.params: the authors' values, or fitted per fold.
RELEASED_PARAMS = ("released", "fitted")
APEX_THRESHOLDS = ("paper", "fitted")


@dataclasses.dataclass(frozen=True)
class Subset:
  """A field whose value is a non-empty tuple drawn from `allowed`."""
  allowed: tuple

  def __iter__(self):
    return iter(self.allowed)

