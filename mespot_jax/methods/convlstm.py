"""Shukla, Rai and Verlekar: a shallow ConvLSTM micro-expression recogniser.

The method plug-in (`config.method = "convlstm"`; its fields in
`config.convlstm`): the `ShallowConvLSTM` of `models/convlstm.py`
(ConvLSTM(32, 3x3) scanned over the clip's t = 9 frames, 2x2 max-pool,
Dense(48) + sigmoid, dropout 0.3, logits), softmax cross-entropy, Adam at
1e-4 with batch 16 (set in the experiment configs: `train.*`). Everything
else, from the clip pipeline (onset, apex, offset and frames sampled
between them, 90x90 grey), the folds (5-fold subject-exclusive stratified on
SAMM), minority-class augmentation, to UF1/UAR, is the recognition task's
(`methods.recognition`).

The learning rate is halved when the validation metric plateaus, as in
the paper (Keras' ReduceLROnPlateau, factor 0.5): `train.lr_schedule =
"plateau"` in the configs, per fold, on early stopping's metric
(`train/plateau.py`). The paper gives no patience; the configs use half
the early-stopping patience.
"""
import jax.numpy as jnp

from mespot_jax.config.blocks.convlstm import default_config  # pylint: disable=unused-import
from mespot_jax.methods import recognition
from mespot_jax.models.convlstm import ShallowConvLSTM




class ConvLSTM(recognition.RecognitionMethod):
  """The shallow ConvLSTM recogniser."""
  name = "convlstm"


  @property
  def step_fns(self):
    # One StepFns per class count (the model's output size), so compiled
    # steps are shared by every run of the same shape in a process.
    n = int(self.config.dataset.num_classes)
    return _step_fns(n, tuple(sorted(self.block.model.items())))


_CACHE = {}


def _step_fns(num_classes: int, model_items: tuple):
  key = (num_classes, model_items)
  if key not in _CACHE:
    fields = dict(model_items)
    fields["dtype"] = jnp.dtype(fields.get("dtype", "float32"))
    _CACHE[key] = recognition.clip_step_fns(
        ShallowConvLSTM(num_classes=num_classes, **fields))
  return _CACHE[key]
