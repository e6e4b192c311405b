"""Labels: per-frame labels from intervals, and a clip's class.

`frame_labels` turns a video's intervals into per-frame presence of each
expression type (spotting). A recognition clip's class is not stored: it is
mapped at read time from the emotion as released (`map_emotion`), through a
label set (`LABEL_SETS`: class names and, per source dataset, emotion ->
class, as the builders' READMEs list them), so one built dataset serves any
label set.
"""
import numpy as np

from mespot_jax.config import vocab

TYPES = vocab.TYPES


def frame_labels(num_frames: int, intervals) -> np.ndarray:
  """Multi-label presence of each expression type per frame.

  Args:
    num_frames: frames in the video.
    intervals: objects with `type` ("micro"/"macro"), `onset`, `offset`
      (1-based inclusive frame numbers).

  Returns:
    labels_T2: uint8, column 0 micro, column 1 macro.
  """
  labels_T2 = np.zeros((num_frames, 2), np.uint8)
  for iv in intervals:
    col = TYPES.index(iv.type)
    lo = max(int(iv.onset), 1) - 1
    hi = min(int(iv.offset), num_frames)
    labels_T2[lo:hi, col] = 1
  return labels_T2


_NEGATIVE_SAMM = ("anger", "contempt", "disgust", "fear", "sadness")
# label set -> (class names, {source: {emotion (lower case): class}}).
LABEL_SETS = {
    # MEGC2019 composite: negative, positive, surprise.
    "3class": (vocab.LABEL_SETS["3class"], {
        "casme_ii": {"disgust": "negative", "repression": "negative",
                     "happiness": "positive", "surprise": "surprise"},
        "samm": {**{e: "negative" for e in _NEGATIVE_SAMM},
                 "happiness": "positive", "surprise": "surprise"},
        "smic": {"negative": "negative", "positive": "positive",
                 "surprise": "surprise"},
        "ck_plus": {**{e: "negative" for e in _NEGATIVE_SAMM},
                    "happy": "positive", "surprise": "surprise"},
        # CAS(ME)^3 (spellings of both the ME and MaE tables; `others`
        # stays outside the three classes).
        "cas_me3": {**{e: "negative" for e in (
            "anger", "disgust", "fear", "sad", "sadness")},
                    "happy": "positive", "happiness": "positive",
                    "surprise": "surprise"},
        # Synthetic clips are released with their class as the emotion.
        "synthetic_me": {e: e for e in ("negative", "positive", "surprise")},
        # ... and so are the synthetic long videos' intervals (STR).
        "synthetic_lv": {e: e for e in ("negative", "positive",
                                        "surprise")},
    }),
    # SAMM 5 classes of the ConvLSTM paper (Shukla et al.).
    "samm_5class": (vocab.LABEL_SETS["samm_5class"],
                    {s: {e: e for e in vocab.LABEL_SETS["samm_5class"]}
                     for s in ("samm", "synthetic_me")}),
}
assert tuple(LABEL_SETS) == tuple(vocab.LABEL_SETS)


def classes(label_set: str) -> tuple[str, ...]:
  """The class names of a label set, in label order."""
  return LABEL_SETS[label_set][0]


def map_emotion(label_set: str, source: str, emotion: str) -> int:
  """The label of an emotion as released, or -1 outside the class set.

  Args:
    label_set: a key of `LABEL_SETS`.
    source: the source dataset (`smic_hs`, `smic_vis`, `smic_nir` use the
      `smic` table).
    emotion: as released (case and surrounding spaces ignored).

  Returns:
    The class index, or -1.
  """
  names, tables = LABEL_SETS[label_set]
  table = tables.get(source.split("_")[0] if source.startswith("smic")
                     else source, {})
  name = table.get(emotion.strip().lower())
  return names.index(name) if name else -1
