"""The method interface: a scorer and its task; decoding is apart.

The generic runner (`mespot_jax.experiment.run`), the trainer
(`train.loop.train_folds`), deploy, offline scoring and the leakage audit
know no method by name. A method is a scorer plugged into a task base:

the scorer (what a method module writes)
  `step_fns`, `make_sampler`, `example_input`, `val_metrics`   training
                        (none for a scorer with nothing to train,
                        `trains = False`)
  `train`               every fold trained (default: the generic loop on
                        `make_sampler`'s batches); `trained` says what it
                        chose per fold (epoch, weights, per part)
  `fold_choices`        the scorer's test-time choices from a fold's
                        training and validation subjects (the 3D-CNN's
                        skips; `CHOICES` names them for the audit)
  `score`               scores of held-out units, per kind (the model and
                        any parameter-free reference it brings)
the decoder (`mespot_jax.decoders`, chosen by `config.decoder.name`)
  scores -> predictions; fitted per fold on the fitting units
  (`fit_ids`) into a frozen record the audit compares field by field
the task (`methods.spotting.SpottingMethod`, `methods.recognition.
RecognitionMethod`)
  `make_folds`, `fit` / `predict` (the decoder over the task's units),
  `finish_fold` (a second stage: spot-then-recognise classifies there),
  `fold_row`, `evaluate`, `oracle_metrics`, `write_metrics`,
  `write_report`, `deploy_record`

A method is one module that subclasses a task base and one line in the
registry (`methods/__init__.py`); its config fields live in the config
block named after it (`config.<name>`), built by its `default_config`.
"""
import abc
import dataclasses
import importlib
from typing import Any, ClassVar

import ml_collections

from mespot_jax.data import folds as folds_lib
from mespot_jax.train import loop as loop_lib
from mespot_jax.train.steps import StepFns


@dataclasses.dataclass
class FoldOutput:
  """What the runner keeps of one fold after training.

  Attributes:
    fold: the `Fold`.
    choices: `Method.fold_choices` (the scorer's, made before scoring).
    fitted: {kind: the decoder's record} (fitted on the fitting units).
    scores: {kind: {unit index: scores}} of validation and test units.
    predictions: {kind: [rows]} of the test units.
    val_ids: validation units.
    test_ids: held-out units.
  """
  fold: Any
  choices: dict
  fitted: dict
  scores: dict
  predictions: dict
  val_ids: list
  test_ids: list


class Method(abc.ABC):
  """A registered method. Subclasses set the class attributes.

  Attributes:
    name: registry name, also the name of its config block.
    task: "spotting" or "recognition".
    metric_modes: validation metrics of `val_metrics` -> "min" or "max".
    oracle_metric: the metric the oracle picks its epoch by when no early
      stopping metric is configured.
    CHOICES: names of the scorer's per-fold choices (`fold_choices`
      keys) the audit compares (besides every field of the decoder's
      records).
    trains: False for a method with nothing to train (a training-free
      spotter): it defines no `step_fns`, `make_sampler` or
      `example_input`; the runner asks for no sampler
      (`train.loop.sampler_of`) and `train_folds` hands each fold empty
      variables.
    config: the experiment config; `block` is `config[name]`.
  """
  name: ClassVar[str] = ""
  task: ClassVar[str] = ""
  metric_modes: ClassVar[dict] = {}
  oracle_metric: ClassVar[str] = "loss"
  CHOICES: ClassVar[tuple[str, ...]] = ()
  trains: ClassVar[bool] = True

  def __init__(self, config: ml_collections.ConfigDict):
    self.config = config
    self.block = config[self.name]

  # ---------------------------------------------------------- configuration
  @classmethod
  def block_module(cls):
    """The plain-data config module (`mespot_jax/config/blocks/<name>.py`)
    of this method, or of the nearest built-in method it subclasses; None
    for a method registered without one."""
    from mespot_jax.config import blocks  # pylint: disable=g-import-not-at-top
    for c in cls.__mro__:
      if getattr(c, "name", "") in blocks.NAMES:
        return importlib.import_module(
            f"mespot_jax.config.blocks.{blocks.module_name(c.name)}")
    return None

  @classmethod
  def default_config(cls) -> ml_collections.ConfigDict:
    """The method's own config block (`config.<name>`), from its
    `block_module` (a method registered without one overrides this)."""
    module = cls.block_module()
    if module is None:
      raise NotImplementedError(f"method {cls.name!r} has no config block "
                                "module; override default_config")
    return module.default_config()

  @classmethod
  def smoke(cls, block: ml_collections.ConfigDict) -> None:
    """Shrinks the block in place for a config's `:smoke` variant."""
    module = cls.block_module()
    if module is not None:
      module.smoke(block)

  # ------------------------------------------------------------------ folds
  def make_folds(self, store) -> list:
    """Leave-one-subject-out folds (`train.num_val_subjects` validation
    subjects drawn from each fold's training subjects; `train.test_folds`
    limits the held-out subjects)."""
    t = self.config.train
    subjects = sorted({v.subject for v in store.videos})
    return folds_lib.make_folds(subjects, t.num_val_subjects,
                                self.config.seed, tuple(t.test_folds))

  def fit_ids(self, store, fold) -> list:
    """The units a fold's decoder is fitted on: its validation subjects'
    (scores of units the model never trained on); every known (training
    and validation) subject's for a scorer with nothing to train."""
    if self.trains:
      return store.video_indices(fold.val_subjects)
    return folds_lib.known_video_indices(store, fold)

  # --------------------------------------------------------------- training
  def train(self, store, folds, workdir, writer=None):
    """Trains every fold (`train.loop.train_folds` on `make_sampler`'s
    batches, checkpoints under `workdir`); returns its `TrainResult`. A
    method made of others (spot-then-recognise) trains each of them."""
    return loop_lib.train_folds(self.config, self,
                                loop_lib.sampler_of(self, store, folds),
                                folds, workdir, writer)

  def trained(self, result, k: int) -> dict:
    """What `train` chose for the k-th fold of its `result`, per separately
    trained part: {part: `train.loop.FoldTraining`}; one part, "", for a
    method trained as one (the leakage audit names a part's choices
    `epoch[part]`, ...)."""
    return {"": loop_lib.fold_training(result, k)}

  @property
  def step_fns(self) -> StepFns:
    """Model, inputs, loss and activation for the generic steps (a method
    with nothing to train, `trains` False, has none)."""
    raise NotImplementedError(f"{self.name} has no training part")

  def make_sampler(self, store, folds):
    """Batches of the folds: `train_dataset(batch_size, num_steps)` (a grain
    MapDataset of fold-stacked batches), `val_batch(n)` (validation
    subjects), `oracle_batch(n)` (test subjects, for the oracle only) and
    `store`; `data.sampler.FoldSampler` gives all of it from a per-example
    `draw`. Never asked of a method with nothing to train."""
    raise NotImplementedError(f"{self.name} has no training part")

  def example_input(self, store) -> Any:
    """A model input of batch 1 (shapes and dtypes only)."""
    raise NotImplementedError(f"{self.name} has no training part")

  def val_metrics(self, scores_KB, batch) -> dict:
    """Validation metrics per fold besides the loss: {name: (K,)}."""
    del scores_KB, batch
    return {}

  # ------------------------------------------------------- per-fold choices
  @abc.abstractmethod
  def fold_choices(self, store, fold) -> dict:
    """The scorer's test-time choices from the fold's training and
    validation subjects."""

  @abc.abstractmethod
  def score(self, variables, store, indices, choices) -> dict:
    """{kind: {index: scores}} for the units `indices` of `store`."""

  # ----------------------------------------------------------------- decoding
  @abc.abstractmethod
  def fit(self, store, fold, indices, scores, criterion=None) -> dict:
    """{kind: decoder record} fitted on the units `indices`."""

  def oracle_fit(self, store, fold, indices, scores) -> dict:
    """`fit` as leaky code does it on the TEST units, maximising the
    reported metric (the oracle only)."""
    return self.fit(store, fold, indices, scores)

  @abc.abstractmethod
  def predict(self, store, indices, scores, fitted) -> dict:
    """{kind: [prediction rows]} of the units `indices`."""

  def finish_fold(self, variables, store, out: FoldOutput) -> FoldOutput:
    """A second stage on a fold's decoded predictions with its variables
    (spot-then-recognise: the spotted intervals classified); none by
    default."""
    del variables, store
    return out

  # ------------------------------------------------------------ evaluation
  @abc.abstractmethod
  def fold_row(self, store, out: FoldOutput) -> dict:
    """The fold's choices and scores as the report lists them."""

  @abc.abstractmethod
  def evaluate(self, store, outputs: list[FoldOutput]) -> dict:
    """Metrics of every fold's predictions against the truth."""

  @abc.abstractmethod
  def oracle_metrics(self, store, outputs: list[FoldOutput]) -> dict:
    """The headline metrics of oracle outputs (epoch and fitted choices
    picked on the test subject)."""

  def write_metrics(self, workdir, metrics, writer=None) -> None:
    """metrics.json, TensorBoard scalars and the printed summary (the
    spotting report by default)."""
    from mespot_jax.report import report as report_lib  # pylint: disable=g-import-not-at-top
    report_lib.write_report(workdir, metrics, writer)

  @abc.abstractmethod
  def write_report(self, workdir, metrics, store, outputs, writer=None):
    """Report files of a run besides metrics.json (CSVs, plots)."""

  def save_scores(self, workdir, store, out: FoldOutput) -> None:
    """Saves a fold's raw scores under `workdir` (optional)."""

  # ------------------------------------------------------------------ deploy
  def deploy_record(self, store) -> dict:
    """What scoring needs to know of the training data (JSON)."""
    del store
    return {}
