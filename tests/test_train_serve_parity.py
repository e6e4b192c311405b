"""Train/serve parity: one video gives the model the same inputs in training
and in offline scoring.

A short synthetic long video (`mespot_jax.synthetic.render`, the
`synthetic_lv/tiny` recipe cut to a few frames) is written as a PNG frame
folder, the input a real release holds. It then goes down both paths:

* training: a release builder (`release_builder.ReleaseBuilder`, as
  `samm_lv` and `cas_me2` read their frame folders) aligns and stores it,
  and `FrameStore` serves its crops and ROI boxes at the model's size;
* serving: `mespot_jax.score`'s stream (`stream_scoring.open_video`, then
  `score_frames` with the deploy record's preprocessing spec) hands a stub
  method the crops (and ROI boxes) the model would score.

Every frame with a face must give the model the same pixels and boxes.
Before `face.preprocess` they did not: a build reads a frame folder in grey
(`cv2.IMREAD_GRAYSCALE`) while scoring read it in colour and converted,
which differs by one grey level in about half the pixels of a PNG (more
in a JPEG); through the landmarks, the alignment and the mask, the model's
crops then differed in many pixels (`test_colour_read_frames_would_differ`).
"""
import json
import os
import types

import cv2
from etils import epath
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mespot_jax import deploy, stream_scoring
from mespot_jax.data import annotations, release_builder, source
from mespot_jax.data import spotting_builder, video_io
from mespot_jax.data.frames import FrameStore
from mespot_jax.face import preprocess
from mespot_jax.score import score_frames
from mespot_jax.synthetic import render

FPS = 30.0
FRAMES = 16
# The tiny config's video 1 (s02_1), cut to FRAMES frames.
PARAMS = render.VideoParams(
    seed=0, subject=1, video=0, fps=FPS, num_frames=FRAMES,
    frame_hw=(150, 200), face_size=95, macro_s=(0.6, 1.0, 1.5),
    micro_s=(0.27, 0.35, 0.45))


class ParityLv(release_builder.ReleaseBuilder, skip_registration=True):
  """One frame folder (the manual dir) as a spotting dataset."""

  VERSION = tfds.core.Version("1.0.0")
  FPS = FPS
  # No README or citation beside it (TFDS would look in a package).
  pkg_dir_path = epath.Path(os.path.dirname(os.path.abspath(__file__)))
  MANUAL_DOWNLOAD_INSTRUCTIONS = "A folder of numbered PNG frames."
  BUILDER_CONFIGS = [
      spotting_builder.SpottingBuilderConfig(
          name="grey_masked", image_size=32, grey=True, mask_face=True),
      spotting_builder.SpottingBuilderConfig(
          name="rgb", image_size=24, grey=False, mask_face=False),
  ]

  def parse_release(self, manual_dir):
    video = annotations.VideoAnnotation(
        video="v1", subject="s1", frames_dir=manual_dir, num_frames=FRAMES,
        intervals=[])
    return annotations.Release(workbook="", videos=[video],
                               policies=annotations.new_policies())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
  """The rendered video as a lossless PNG frame folder."""
  path = tmp_path_factory.mktemp("parity_frames")
  n = 0
  for n, frame in enumerate(render.iter_video_frames(PARAMS), start=1):
    assert cv2.imwrite(str(path / f"img{n}.png"),
                       cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  assert n == FRAMES
  return str(path)


def _train_side(folder, tmp_path, config, image_size, in_memory):
  """(store, video index) of the folder built by `ParityLv/config`."""
  builder = ParityLv(config=config, data_dir=str(tmp_path / "tfds"),
                     workers=1)
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=folder))
  src = source.SpottingSource(builder)
  return FrameStore.from_source(src, image_size=image_size,
                                in_memory_max_gib=4.0 if in_memory else 0.0)


class _RecordingMethod:
  """Stands in for a deploy model's method that reads ROI boxes (as the
  LBCNN and flow_roi do): keeps every (crop, boxes) pair it is given."""

  stream_rois = True

  def __init__(self):
    self.items = []

  def score_stream(self, variables, crops, fps, choices, batch_size):
    del variables, fps, choices, batch_size
    self.items = [(np.array(c), np.array(b)) for c, b in crops]
    return np.zeros((len(self.items), 2), np.float32)

  def invalid_frames(self, face_found_T, fps, choices):
    del fps, choices
    return np.stack([~face_found_T, ~face_found_T], axis=1)


def _serve_side(folder, spec, frames=None):
  """(crops, boxes, face_found) `score`'s stream gives the model."""
  method = _RecordingMethod()
  dep = types.SimpleNamespace(preprocess=spec, method=method, choices={},
                              variables={})
  reader = frames if frames is not None else stream_scoring.open_video(
      folder, spec)
  scored = score_frames(dep, reader, FPS, batch_size=4, progress=False)
  assert scored.frames == len(method.items) == FRAMES
  crops = np.stack([c for c, _ in method.items])
  boxes = np.stack([b for _, b in method.items])
  return crops, boxes, scored.face_found_T


@pytest.mark.parametrize("config,image_size,in_memory", [
    ("grey_masked", 16, True),  # stored 32, resized, masked
    ("grey_masked", 16, False),  # the same read on demand from the shards
    ("rgb", 0, True),  # colour crops at the stored size, no mask
])
def test_store_and_stream_give_the_same_model_inputs(folder, tmp_path, config,
                                                     image_size, in_memory):
  store = _train_side(folder, tmp_path, config, image_size, in_memory)
  # What the deploy record keeps, through its JSON.
  record = json.loads(json.dumps({"preprocess": store.preprocess.to_dict()}))
  spec = deploy.record_preprocess(record)
  assert spec == store.preprocess
  size = image_size or store.stored_size
  assert (spec.image_size, spec.channels) == (size, 1 if config != "rgb"
                                               else 3)

  crops, boxes, face = _serve_side(folder, spec)
  np.testing.assert_array_equal(face, store.face_found(0))
  assert face.sum() >= FRAMES - 2, "the synthetic face should be found"
  trained = store.get(0, np.arange(1, FRAMES + 1))
  assert crops.shape == trained.shape == (FRAMES, size, size, spec.channels)
  np.testing.assert_array_equal(crops[face], trained[face])
  np.testing.assert_array_equal(boxes[face], store.rois(0)[face])
  assert boxes.dtype == store.rois(0).dtype == np.float32
  # The whole video, too (frames without a face keep a stand-in crop).
  np.testing.assert_array_equal(store.video(0)[face], crops[face])


def test_colour_read_frames_would_differ(folder, tmp_path):
  """The bug the parity test caught: reading the folder in colour (as
  `score` did) gives other grey pixels than the build's grey read."""
  store = _train_side(folder, tmp_path, "grey_masked", 0, True)
  spec = store.preprocess
  crops, _, face = _serve_side(folder, spec,
                               frames=video_io.FrameReader(folder))
  trained = store.video(0)
  assert face.any()
  # One grey level on half the pixels of a frame moves the landmarks a
  # little, and with them the alignment and the mask's edge.
  assert (crops[face] != trained[face]).mean() > 0.01


def test_model_rois_scale_the_stored_boxes():
  spec = preprocess.FacePreprocess(align_size=32, align_grey=True,
                                   mask_face=False, image_size=16, grey=True)
  boxes = np.array([[[2, 4, 10, 9]] * 4], np.int32)
  np.testing.assert_array_equal(preprocess.model_rois(boxes, spec),
                                [[[1, 2, 5, 4.5]] * 4])


def test_a_deploy_record_without_its_spec_is_refused():
  with pytest.raises(deploy.InputError, match="face preprocessing"):
    deploy.record_preprocess({"image_size": 16, "grey": True})
