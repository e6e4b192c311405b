"""What every decoder is: scores of held-out units -> predictions.

A scorer (a method's model, or a training-free curve) gives every unit a
score array: a long video (T, 2) frame scores [micro, macro], a clip (C,)
class probabilities. A decoder turns those into predictions (intervals,
labels). What it needs to choose (thresholds, interval widths, a
calibration bias) it fits on units whose truth may be read: `fit` takes
the fold's fitting units (its validation subjects; every known subject
for a scorer with nothing to train) and returns a `Record`, a frozen
dataclass of plain JSON values. The record is all `decode` reads besides
the scores, it is what a deploy model stores, and it is what the leakage
audit compares field by field when the test subject's labels change.

Any decoder of a task works with any scorer of that task: the config
names it (`config.decoder.name`), each method's paper decoder is its
default. A decoder learns of its scorer only through `ScorerInfo`.
"""
import abc
import dataclasses
from typing import Any, ClassVar, Sequence

from mespot_jax import io_utils


@dataclasses.dataclass(frozen=True)
class Unit:
  """One unit (a video or a clip) as a decoder sees it.

  Attributes:
    scores: the unit's scores; None for a unit known by its truth only
      (the fold's training subjects: interval durations).
    fps: frame rate.
    video: name, for the rows.
    subject: subject, for the rows.
    intervals: the true intervals (`data.schema.Interval`; fitting only).
    labels: (T, 2) frame labels of a video, or the class of a clip
      (fitting only).
  """
  scores: Any
  fps: float = 0.0
  video: str = ""
  subject: str = ""
  intervals: tuple = ()
  labels: Any = None


@dataclasses.dataclass(frozen=True)
class ScorerInfo:
  """What a decoder knows of the scorer whose scores it decodes.

  Attributes:
    types: the score columns that mean something (a scorer trained on
      micro-expressions only scores no macro column); a decoder predicts
      nothing of the others.
    reach: {type: seconds} how far before and after its frame a score
      reads (a flow spotter comparing frame i with i - k and i + k: k);
      0 for a score of the frame alone.
  """
  types: tuple = ("micro", "macro")
  reach: dict = dataclasses.field(
      default_factory=lambda: {"micro": 0.0, "macro": 0.0})


@dataclasses.dataclass(frozen=True)
class Record:
  """Base of the fitted records: frozen, plain values, JSON both ways."""

  def to_dict(self) -> dict:
    return {f.name: io_utils.json_safe(getattr(self, f.name))
            for f in dataclasses.fields(self)}

  @classmethod
  def from_dict(cls, d: dict) -> "Record":
    names = {f.name for f in dataclasses.fields(cls)}
    missing = names - set(d)
    if missing:
      raise ValueError(f"{cls.__name__}: missing field(s) {sorted(missing)}")
    return cls(**{k: d[k] for k in names})


class Decoder(abc.ABC):
  """A decoder of one task (module docstring).

  Attributes:
    name: its name in `config.decoder.name`.
    task: "spotting" or "recognition".
    record_type: the `Record` subclass `fit` returns.
    config: the experiment config (its parameters' home: each decoder's
      docstring says which fields it reads).
    scorer: the `ScorerInfo` of the scores it decodes.
  """
  name: ClassVar[str] = ""
  task: ClassVar[str] = ""
  record_type: ClassVar[type] = Record

  def __init__(self, config, scorer: ScorerInfo | None = None):
    self.config = config
    self.scorer = scorer or ScorerInfo()

  @abc.abstractmethod
  def fit(self, units: Sequence[Unit], known: Sequence[Unit] = (),
          criterion: str | None = None, absolute: bool = False) -> Record:
    """The record fitted on `units` (scored, with their truth).

    Args:
      units: the fitting units.
      known: every unit of the fold's training and validation subjects,
        by their truth (durations); never the test subject's.
      criterion: the oracle's criterion (it fits on the test units,
        leaky by design); None: the config's.
      absolute: offline scoring's absolute mode (spotting): scores are
        normalised with the fitting units' raw range.
    """

  @abc.abstractmethod
  def decode(self, scores, fps: float, record: Record, video: str = "",
             subject: str = "") -> list:
    """The predictions of one unit's scores."""

  def load(self, d: dict) -> Record:
    """A record from its `to_dict()` (a deploy record)."""
    return self.record_type.from_dict(d)
