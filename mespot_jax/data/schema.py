"""The one schema of every dataset, spotting and recognition alike.

A long video (`synthetic_lv`, `samm_lv`, ...) and a recognition clip
(`casme_ii`, `samm_me`, ...) are stored the same way: a clip is a short
video with exactly one labelled interval. Two splits, written unshuffled in
array_record files so any frame of any video is one random-access read
away:

- `videos`: one record per video: `video` (name as released), `subject`
  (unique within the dataset: the composite prefixes the source,
  `casme_ii/sub01`), `source_subject` (as released), `source` (source
  dataset), `fps`, `first_frame` (the release's number of its first stored
  frame: 1 for long videos), `num_frames`, `frame_offset` (the index of its
  first record in `frames`), and its labelled intervals as parallel arrays:
  `onset`, `apex`, `offset` (1-based inclusive positions in the video: frame
  n is release frame `first_frame + n - 1`; apex -1 = unknown), `type`,
  `apex_annotated` (False where the apex is the middle frame by policy),
  `emotion` and `au` as released. A clip's class is not stored: it is
  mapped at read time from its emotion (`labels.map_emotion`).
- `frames`: one record per frame in video order then frame order: the
  aligned face crop (zlib-compressed tensor: Image/Video features need
  TensorFlow, which is not installed), its video index and 1-based frame
  number, whether a face was found, the 4 ROI boxes and the 68 landmarks
  in crop coordinates.

`info.metadata` holds `policies` (quirk name -> count), `image_size`,
`channels`, `mask_face` and `aligner` (face tracker counters); a
recognition build adds its default `label_set`, `classes`,
`class_counts` and `subject_counts`.

`Interval` is the Python form of one labelled interval, shared by the
builders, the readers and the methods.
"""
import dataclasses

import numpy as np
import tensorflow_datasets as tfds

VIDEOS = "videos"
FRAMES = "frames"
TYPE_CODES = {"micro": 0, "macro": 1}
TYPE_NAMES = {v: k for k, v in TYPE_CODES.items()}
# Per-interval text fields are stored as one string joined with this.
JOIN = "|"
NUM_ROIS = 4
NUM_LANDMARKS = 68


@dataclasses.dataclass(frozen=True)
class Interval:
  """A labelled expression: 1-based inclusive frames, apex -1 = unknown;
  `apex_annotated` False where a policy chose the apex (the middle)."""
  type: str
  onset: int
  offset: int
  apex: int = -1
  emotion: str = ""
  au: str = ""
  apex_annotated: bool = True


def _video_fields() -> dict:
  ints = lambda: tfds.features.Tensor(shape=(None,), dtype=np.int32)
  return {
      "video": tfds.features.Text(),
      "subject": tfds.features.Text(),
      "source": tfds.features.Text(),
      "source_subject": tfds.features.Text(),
      "fps": tfds.features.Scalar(dtype=np.float32),
      "first_frame": tfds.features.Scalar(dtype=np.int32),
      "num_frames": tfds.features.Scalar(dtype=np.int32),
      "frame_offset": tfds.features.Scalar(dtype=np.int64),
      "onset": ints(),
      "apex": ints(),
      "offset": ints(),
      "type": ints(),
      "apex_annotated": tfds.features.Tensor(shape=(None,), dtype=np.bool_),
      "emotion": tfds.features.Text(),
      "au": tfds.features.Text(),
  }


def _frame_fields(image_size: int, channels: int) -> dict:
  return {
      "frame": tfds.features.Tensor(shape=(image_size, image_size, channels),
                                    dtype=np.uint8, encoding="zlib"),
      "video_index": tfds.features.Scalar(dtype=np.int32),
      "frame_number": tfds.features.Scalar(dtype=np.int32),
      "face_found": tfds.features.Scalar(dtype=np.bool_),
      "rois": tfds.features.Tensor(shape=(NUM_ROIS, 4), dtype=np.int32),
      "landmarks": tfds.features.Tensor(shape=(NUM_LANDMARKS, 2),
                                        dtype=np.float32),
  }


def features(image_size: int, channels: int) -> tfds.features.FeaturesDict:
  """The features of both splits.

  TFDS gives a dataset one feature spec for all its splits, so the spec is
  the union of the `videos` fields and the `frames` fields (their names do
  not collide); a `videos` record leaves the frame fields empty
  (`empty_frame`, a zero crop that zlib shrinks to a few bytes) and a
  `frames` record leaves the video fields empty (`empty_video`).

  Args:
    image_size: side S of the square aligned crop.
    channels: 1 (grey) or 3 (RGB).

  Returns:
    The FeaturesDict.
  """
  return tfds.features.FeaturesDict(
      {**_video_fields(), **_frame_fields(image_size, channels)})


def video_record(video: str, subject: str, fps: float, num_frames: int,
                 frame_offset: int, intervals, image_size: int,
                 channels: int, *, source: str = "",
                 source_subject: str = "", first_frame: int = 1) -> dict:
  """Builds one `videos` record.

  Args:
    video: video id.
    subject: subject id.
    fps: frame rate.
    num_frames: number of frames.
    frame_offset: global index of the video's first frame in `frames`.
    intervals: `Interval`s (1-based inclusive frames).
    image_size: crop side (for the empty frame fields).
    channels: crop channels.
    source: source dataset.
    source_subject: subject id as released (default: `subject`).
    first_frame: release number of the video's first frame.

  Returns:
    The record dict.
  """
  arr = lambda xs: np.asarray(list(xs), np.int32).reshape(-1)
  return dict(
      video=video, subject=subject, source=source,
      source_subject=source_subject or subject, fps=np.float32(fps),
      first_frame=np.int32(first_frame), num_frames=np.int32(num_frames),
      frame_offset=np.int64(frame_offset),
      onset=arr(iv.onset for iv in intervals),
      apex=arr(iv.apex for iv in intervals),
      offset=arr(iv.offset for iv in intervals),
      type=arr(TYPE_CODES[iv.type] for iv in intervals),
      apex_annotated=np.asarray([bool(iv.apex_annotated) for iv in intervals],
                                np.bool_).reshape(-1),
      emotion=JOIN.join(iv.emotion for iv in intervals),
      au=JOIN.join(iv.au for iv in intervals),
      **empty_frame(image_size, channels))


def frame_record(crop: np.ndarray, video_index: int, frame_number: int,
                 face_found: bool, rois: np.ndarray,
                 landmarks: np.ndarray) -> dict:
  """Builds one `frames` record (crop `(S, S, C)` uint8, 1-based number,
  landmarks `(68, 2)` in crop coordinates)."""
  return dict(frame=crop, video_index=np.int32(video_index),
              frame_number=np.int32(frame_number),
              face_found=bool(face_found),
              rois=np.asarray(rois, np.int32).reshape(NUM_ROIS, 4),
              landmarks=np.asarray(landmarks, np.float32).reshape(
                  NUM_LANDMARKS, 2),
              **empty_video())


def empty_video() -> dict:
  """Empty video fields for a `frames` record."""
  empty = np.zeros((0,), np.int32)
  return dict(video="", subject="", source="", source_subject="",
              fps=np.float32(0), first_frame=np.int32(0),
              num_frames=np.int32(0), frame_offset=np.int64(0), onset=empty,
              apex=empty, offset=empty, type=empty,
              apex_annotated=np.zeros((0,), np.bool_), emotion="", au="")


def empty_frame(image_size: int, channels: int) -> dict:
  """Empty frame fields for a `videos` record."""
  return dict(frame=np.zeros((image_size, image_size, channels), np.uint8),
              video_index=np.int32(-1), frame_number=np.int32(0),
              face_found=False, rois=np.zeros((NUM_ROIS, 4), np.int32),
              landmarks=np.zeros((NUM_LANDMARKS, 2), np.float32))
