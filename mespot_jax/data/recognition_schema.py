"""The shared schema of every recognition dataset (`casme_ii`, `samm_me`, ...).

Two splits, written unshuffled in array_record files so any frame of any
clip is one random-access read away:

- `clips`: one record per clip: `clip` (name as released), `subject`
  (unique within the dataset: the composite prefixes the source,
  `casme_ii/sub01`), `source_subject` (as released), `source` (source
  dataset), `fps`, `first_frame` (release number of its first stored
  frame), `num_frames`, `frame_offset` (index of its first record in
  `frames`), `onset`, `apex`, `offset` (release frame numbers),
  `apex_annotated` (False where the apex is the middle frame by policy),
  `emotion` and `au` as released, and the mapped label: `label` (index into
  `info.metadata["classes"]`, -1 when the emotion is outside the class set)
  and `label_name`.
- `frames`: one record per frame, in clip order then frame order: the
  aligned face crop (zlib tensor), `clip_index`, `frame_number` (release
  numbering), `face_found`, the 4 ROI boxes and the 68 landmarks in crop
  coordinates (the face alignment of the spotting builders).

`info.metadata` holds `policies`, `label_set`, `classes`, `class_counts`,
`image_size`, `channels`, `mask_face` and `aligner`.

Label sets (`LABEL_SETS`) map an emotion as released to a class, per source
dataset, as each builder's README in `data_builders/` lists them.
"""
import numpy as np
import tensorflow_datasets as tfds

from mespot_jax.data import schema

CLIPS = "clips"
FRAMES = "frames"
NUM_ROIS = schema.NUM_ROIS
NUM_LANDMARKS = 68

_NEGATIVE_SAMM = ("anger", "contempt", "disgust", "fear", "sadness")
# label set -> (class names, {source: {emotion (lower case): class}}).
LABEL_SETS = {
    # MEGC2019 composite: negative, positive, surprise.
    "3class": (("negative", "positive", "surprise"), {
        "casme_ii": {"disgust": "negative", "repression": "negative",
                     "happiness": "positive", "surprise": "surprise"},
        "samm": {**{e: "negative" for e in _NEGATIVE_SAMM},
                 "happiness": "positive", "surprise": "surprise"},
        "smic": {"negative": "negative", "positive": "positive",
                 "surprise": "surprise"},
        "ck_plus": {**{e: "negative" for e in _NEGATIVE_SAMM},
                    "happy": "positive", "surprise": "surprise"},
    }),
    # SAMM 5 classes of the ConvLSTM paper (Shukla et al.).
    "samm_5class": (("happiness", "other", "anger", "contempt", "surprise"),
                    {"samm": {e: e for e in ("happiness", "other", "anger",
                                             "contempt", "surprise")}}),
}


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


def _clip_fields() -> dict:
  text, i32 = tfds.features.Text, lambda: tfds.features.Scalar(np.int32)
  return {
      "clip": text(), "subject": text(), "source_subject": text(),
      "source": text(), "fps": tfds.features.Scalar(np.float32),
      "first_frame": i32(), "num_frames": i32(),
      "frame_offset": tfds.features.Scalar(np.int64),
      "onset": i32(), "apex": i32(), "offset": i32(),
      "apex_annotated": tfds.features.Scalar(np.bool_),
      "emotion": text(), "au": text(), "label": i32(), "label_name": text(),
  }


def _frame_fields(image_size: int, channels: int) -> dict:
  return {
      "frame": tfds.features.Tensor(shape=(image_size, image_size, channels),
                                    dtype=np.uint8, encoding="zlib"),
      "clip_index": tfds.features.Scalar(np.int32),
      "frame_number": tfds.features.Scalar(np.int32),
      "face_found": tfds.features.Scalar(np.bool_),
      "rois": tfds.features.Tensor(shape=(NUM_ROIS, 4), dtype=np.int32),
      "landmarks": tfds.features.Tensor(shape=(NUM_LANDMARKS, 2),
                                        dtype=np.float32),
  }


def features(image_size: int, channels: int) -> tfds.features.FeaturesDict:
  """The features of both splits (their union, as in `schema.features`).

  Args:
    image_size: side S of the square aligned crop.
    channels: 1 (grey) or 3 (RGB).

  Returns:
    The FeaturesDict; a `clips` record leaves the frame fields empty and a
    `frames` record the clip fields.
  """
  return tfds.features.FeaturesDict(
      {**_clip_fields(), **_frame_fields(image_size, channels)})


def clip_record(*, clip: str, subject: str, source_subject: str,
                source: str, fps: float, first_frame: int, num_frames: int,
                frame_offset: int, onset: int, apex: int, offset: int,
                apex_annotated: bool, emotion: str, au: str, label: int,
                label_name: str, image_size: int, channels: int) -> dict:
  """Builds one `clips` record (fields as in the module docstring)."""
  i32 = np.int32
  return dict(
      clip=clip, subject=subject, source_subject=source_subject,
      source=source, fps=np.float32(fps), first_frame=i32(first_frame),
      num_frames=i32(num_frames), frame_offset=np.int64(frame_offset),
      onset=i32(onset), apex=i32(apex), offset=i32(offset),
      apex_annotated=bool(apex_annotated), emotion=emotion, au=au,
      label=i32(label), label_name=label_name,
      **empty_frame(image_size, channels))


def frame_record(crop: np.ndarray, clip_index: int, frame_number: int,
                 face_found: bool, rois: np.ndarray,
                 landmarks: np.ndarray) -> dict:
  """Builds one `frames` record (crop `(S, S, C)` uint8, release number)."""
  return dict(frame=crop, clip_index=np.int32(clip_index),
              frame_number=np.int32(frame_number),
              face_found=bool(face_found),
              rois=np.asarray(rois, np.int32).reshape(NUM_ROIS, 4),
              landmarks=np.asarray(landmarks, np.float32).reshape(
                  NUM_LANDMARKS, 2),
              **empty_clip())


def empty_clip() -> dict:
  """Empty clip fields for a `frames` record."""
  z = np.int32(0)
  return dict(clip="", subject="", source_subject="", source="",
              fps=np.float32(0), first_frame=z, num_frames=z,
              frame_offset=np.int64(0), onset=z, apex=z, offset=z,
              apex_annotated=False, emotion="", au="", label=np.int32(-1),
              label_name="")


def empty_frame(image_size: int, channels: int) -> dict:
  """Empty frame fields for a `clips` record."""
  return dict(frame=np.zeros((image_size, image_size, channels), np.uint8),
              clip_index=np.int32(-1), frame_number=np.int32(0),
              face_found=False, rois=np.zeros((NUM_ROIS, 4), np.int32),
              landmarks=np.zeros((NUM_LANDMARKS, 2), np.float32))
