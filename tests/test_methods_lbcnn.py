"""The LBCNN method: frame classes, sampling, scoring, duration rules.

A store whose pixels encode (subject, class) shows that training draws
only training subjects' frames, one class per third of the draws, with the
right labels; mirrored faces carry mirrored, swapped ROI boxes (worked by
hand). Scoring gives probabilities on every frame with a face (NaN on the
others), the same through the offline stream as through the store and at
any batch size. Post-processing reads the method's block: a micro run
longer than 0.5 s is dropped, a shorter one kept, and the macro
probability alone decides macro intervals.
"""
import jax
import numpy as np
import pytest

from mespot_jax.config import common
from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.decoders import runs
from mespot_jax.data import folds as folds_lib
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.samples import AugmentConfig
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta
from mespot_jax.methods import lbcnn
from mespot_jax.train import state as state_lib

synthetic_lbcnn = load_config("synthetic_lbcnn")

SIZE, T = 16, 60


def _coded_store(num_subjects=4):
  """Frame pixels = 40 * subject + 10 * class + 5; a micro interval at
  frames 11-16, a macro one at 31-50 and a micro inside it at 41-44."""
  metas, arrays, faces = [], [], []
  ivs = (Interval("micro", 11, 16), Interval("macro", 31, 50),
         Interval("micro", 41, 44))
  for s in range(num_subjects):
    cls = np.zeros(T, int)
    cls[10:16], cls[30:50], cls[40:44] = 1, 2, 1
    arr = np.repeat((40 * s + 10 * cls + 5).astype(np.uint8), SIZE * SIZE)
    arrays.append(arr.reshape(T, SIZE, SIZE, 1))
    face = np.ones(T, bool)
    face[0:5] = False  # no face: never drawn, never scored
    faces.append(face)
    metas.append(VideoMeta(s, f"v{s}", f"s{s}", 30.0, T, s * T, ivs))
  return FrameStore.from_arrays(metas, arrays, face_found=faces)


def test_frame_classes_known_answer():
  labels = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.uint8)
  np.testing.assert_array_equal(lbcnn.frame_classes(labels), [0, 1, 2, 1])


def test_sampler_draws_training_frames_uniformly_per_class():
  store = _coded_store()
  fold = folds_lib.make_folds(["s0", "s1", "s2", "s3"], 1, 0)[0]
  sampler = lbcnn.FrameSampler(store, [fold], class_probs=(1 / 3,) * 3,
                               augment=AugmentConfig(enabled=False), seed=0)
  b = sampler.train_batch(0, 600)
  assert b["x"].shape == (1, 600, SIZE, SIZE, 1) and b["y"].dtype == np.int32
  v = b["x"][0, :, 0, 0, 0].astype(int) - 5
  subject, cls = v // 40, (v % 40) // 10
  np.testing.assert_array_equal(cls, b["y"][0])  # labels match the frames
  train = {int(s[1:]) for s in fold.train_subjects}
  assert set(subject) <= train
  counts = np.bincount(cls, minlength=3)
  assert np.all(np.abs(counts - 200) < 45), counts
  # The same step draws the same batch (resumable), another step another.
  np.testing.assert_array_equal(sampler.train_batch(0, 600)["y"], b["y"])
  assert (sampler.train_batch(1, 600)["y"] != b["y"]).any()
  val = sampler.val_batch(50)
  vs = (val["x"][0, :, 0, 0, 0].astype(int) - 5) // 40
  assert set(vs) == {int(s[1:]) for s in fold.val_subjects}


def test_mirrored_face_carries_mirrored_swapped_boxes():
  store = _coded_store()
  sampler = lbcnn.FrameSampler(
      store, [], class_probs=(1, 0, 0), seed=0,
      augment=AugmentConfig(flip_prob=1.0, max_rotation_deg=0.0))
  frame = np.zeros((SIZE, SIZE, 1), np.uint8)
  frame[2:5, 1:4] = 255  # the left-brow box [1, 2, 4, 5)
  boxes = np.array([[1, 2, 4, 5], [10, 2, 15, 5], [6, 6, 10, 11],
                    [4, 12, 12, 15]], np.float32)
  out, moved = sampler._geometric(np.random.default_rng(0), frame, boxes)  # pylint: disable=protected-access
  # x -> 15 - x: [x0, x1) becomes [16 - x1, 16 - x0); the brows swap.
  np.testing.assert_allclose(moved, [[1, 2, 6, 5], [12, 2, 15, 5],
                                     [6, 6, 10, 11], [4, 12, 12, 15]])
  ys, xs = np.nonzero(out[..., 0] > 128)
  assert (xs.min(), xs.max() + 1) == (12, 15) and (ys.min(), ys.max()) == (2, 4)


@pytest.fixture(scope="module")
def scored():
  config = synthetic_lbcnn.get_config("smoke")
  method = methods.get(config)
  store = _coded_store(3)
  fns = method.step_fns
  init = state_lib.init_stacked(fns.model, state_lib.make_optimizer(
      "adam", 1e-3), method.example_input(store), [0], 0, None)
  variables = jax.tree.map(lambda a: np.asarray(a[0]),
                           state_lib.variables_of(init))
  fold = folds_lib.make_folds(["s0", "s1", "s2"], 1, 0)[0]
  choices = method.fold_choices(store, fold)
  return method, store, variables, choices


def test_scores_are_probabilities_and_faceless_frames_get_none(scored):
  method, store, variables, choices = scored
  out = method.score(variables, store, [0, 1], choices)["model"]
  s = out[0]
  assert s.shape == (T, 2)
  assert np.isnan(s[:5]).all() and np.isfinite(s[5:]).all()
  assert (s[5:] >= 0).all() and (s[5:].sum(1) <= 1 + 1e-6).all()


def test_stream_matches_store_at_any_batch_size(scored):
  method, store, variables, choices = scored
  ref = method.score_videos(variables, store, [1], choices)["model"][1]
  pairs = list(zip(store.video(1), store.rois(1)))
  for bs in (7, 32):
    got = method.score_stream(variables, iter(pairs), 30.0, choices, bs)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_paper_decoder_thresholds_probabilities_and_drops_long_micro_runs(
    scored):
  method = scored[0]
  post = runs.post_params(method.config)
  assert method.decoder.name == "runs"
  assert post["micro"]["max_len"] == 0.5  # the paper decoder's table
  assert post["macro"]["normalise"] == (
      method.config.eval.automated.macro.normalise)
  paper = common.get_config("lbcnn").eval.automated  # probabilities as such
  assert paper.micro.normalise == paper.macro.normalise == "none"
  fps, s = 30.0, np.full((300, 2), 0.05, np.float32)
  s[30:39, 0] = 0.9  # a 0.3 s micro run
  s[100:124, 0] = 0.9  # 0.8 s: longer than a micro-expression
  s[200:260, 1] = 0.9  # a 2 s macro run
  record = runs.RunsRecord("automated", post, [0.5, 0.5],
                           {"micro": None, "macro": None})
  rows = method.decoder.decode(s, fps, record, "v")
  micro = [(r.onset, r.offset) for r in rows if r.type == "micro"]
  macro = [(r.onset, r.offset) for r in rows if r.type == "macro"]
  assert len(micro) == 1 and 28 <= micro[0][0] <= 32, rows
  assert len(macro) == 1 and 195 <= macro[0][0] <= 205, rows


def test_val_metrics_known_answer(scored):
  method = scored[0]
  y = np.array([[0, 0, 1, 2], [0, 1, 1, 2]])
  probs = np.eye(3)[np.array([[0, 1, 1, 2], [0, 0, 1, 2]])]
  got = method.val_metrics(probs, {"y": y})
  # Fold 0: recalls 1/2, 1, 1 -> UAR 5/6; fold 1: 1, 1/2, 1 -> 5/6.
  np.testing.assert_allclose(got["uar"], [5 / 6, 5 / 6])


def test_store_boxes_scale_with_the_crop_size():
  metas = [VideoMeta(0, "v", "s", 30.0, 2, 0, ())]
  arr = np.zeros((2, 32, 32, 1), np.uint8)
  rois = np.array([[[2, 4, 10, 12]] * 4, [[0, 0, 32, 32]] * 4], np.int32)
  store = FrameStore.from_arrays(metas, [arr], image_size=16, rois=[rois])
  np.testing.assert_allclose(store.rois(0)[0, 0], [1, 2, 5, 6])
  np.testing.assert_allclose(store.rois(0)[1, 3], [0, 0, 16, 16])


def test_template_boxes_are_the_canonical_faces_in_every_frame(scored):
  method, store, variables, choices = scored
  want = lbcnn.template_boxes(SIZE)
  got = lbcnn.video_boxes(store, 0, "template")
  assert got.shape == (T, 4, 4) and (got == want).all()
  sampler = lbcnn.FrameSampler(store, folds_lib.make_folds(
      ["s0", "s1", "s2"], 1, 0)[:1], class_probs=(1 / 3,) * 3, seed=0,
                               augment=AugmentConfig(enabled=False),
                               roi_boxes="template")
  assert (sampler.train_batch(0, 5)["rois"] == want).all()
  # Scoring with template boxes ignores the boxes a stream brings.
  method.block.roi_boxes = "template"
  try:
    ref = method.score_videos(variables, store, [1], choices)["model"][1]
    odd = [(f, np.zeros((4, 4), np.float32) + 3) for f in store.video(1)]
    got = method.score_stream(variables, iter(odd), 30.0, choices, 16)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
  finally:
    method.block.roi_boxes = "frame"
  with pytest.raises(ValueError, match="roi_boxes"):
    lbcnn.video_boxes(store, 0, "median")
