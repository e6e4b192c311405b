"""The recognition task's parts with known answers: clip frames, k-fold,
the clip sampler and its augmentation, calibration, predictions, the
recognition CSV scorer and the audit's label perturbations."""
import collections
import csv

import ml_collections
import numpy as np
import pytest

from mespot_jax import audit
from mespot_jax.data import clip_samples
from mespot_jax.data import folds as folds_lib
from mespot_jax.data import clips as clips_lib
from mespot_jax.data.clip_store import ClipStore, clip_frame_numbers
from mespot_jax.data.clips import ClipMeta
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta
from mespot_jax.errors import InputError
from mespot_jax.metrics import recognition_io


def _store(labels_by_subject, t=3, s=4):
  clips, labels = [], []
  for subj, labs in labels_by_subject.items():
    for j, lab in enumerate(labs):
      i = len(clips)
      clips.append(ClipMeta(i, f"{subj}_{j}", subj, subj, "toy", 30.0, 1, 10,
                            0, 1, 5, 10, True, "", "", lab, ""))
      labels.append(lab)
  rng = np.random.default_rng(0)
  x = rng.integers(0, 256, (len(clips), t, s, s, 1)).astype(np.uint8)
  return ClipStore(clips, x, np.array(labels, np.int32),
                   ("negative", "positive", "surprise"), s, 1, "3class")


def test_clip_frame_numbers_keep_onset_apex_offset():
  np.testing.assert_array_equal(clip_frame_numbers(10, 13, 26, 9),
                                [10, 13, 14, 16, 18, 20, 22, 24, 26])
  np.testing.assert_array_equal(clip_frame_numbers(1, 2, 3, 3), [1, 2, 3])
  short = clip_frame_numbers(5, 6, 7, 9)  # fewer frames than asked: repeats
  assert short[0] == 5 and short[-1] == 7 and 6 in short and len(short) == 9
  with pytest.raises(ValueError):
    clip_frame_numbers(1, 2, 3, 2)


def test_clips_are_a_view_of_the_frame_store_by_intervals():
  # Spotted intervals on a long video (release frames 101..140) as clips:
  # the frames of each are those of the video at its sampled numbers.
  ivs = (Interval("micro", 3, 9, 5, emotion="happiness"),
         Interval("macro", 20, 38, -1, emotion="fear"))
  video = VideoMeta(0, "v", "s1", 30.0, 40, 0, ivs, source="samm",
                    first_frame=101)
  rng = np.random.default_rng(2)
  pixels = rng.integers(0, 256, (40, 8, 8, 1)).astype(np.uint8)
  frames = FrameStore.from_arrays([video], [pixels])
  clips = [clips_lib.clip_meta(video, "3class", index=k, interval=iv)
           for k, iv in enumerate(ivs)]
  assert [(c.onset, c.apex, c.offset, c.apex_annotated) for c in clips] == [
      (103, 105, 109, True), (120, 129, 138, False)]  # unknown: the middle
  assert [c.label_name for c in clips] == ["positive", "negative"]
  store = ClipStore.from_frames(frames, clips, 5, ("negative", "positive",
                                                   "surprise"),
                                video_indices=[0, 0])
  for i, (onset, apex, offset) in enumerate([(3, 5, 9), (20, 29, 38)]):
    np.testing.assert_array_equal(
        store.x[i], pixels[clip_frame_numbers(onset, apex, offset, 5) - 1])
  assert store.labels.tolist() == [1, 0] and store.preprocess.clip_frames == 5
  with pytest.raises(InputError, match="exactly one"):
    clips_lib.clip_meta(video, "3class")


def test_kfold_is_subject_exclusive_and_stratified():
  rng = np.random.default_rng(1)
  # 10 subjects, classes 0 (common), 1, 2 (rare).
  labels = {f"s{i:02d}": list(rng.choice(3, rng.integers(3, 9),
                                         p=[.6, .25, .15]))
            for i in range(10)}
  folds = folds_lib.make_kfold(labels, 5, 1, seed=0)
  assert len(folds) == 5
  held = [s for f in folds for s in f.test_subjects]
  assert sorted(held) == sorted(labels)  # every subject exactly once
  total = np.bincount(np.concatenate(list(labels.values())), minlength=3)
  for f in folds:
    assert f.test_subject == "+".join(f.test_subjects)
    assert not set(f.val_subjects) & set(f.test_subjects)
    assert set(f.val_subjects) | set(f.train_subjects) | set(
        f.test_subjects) == set(labels)
    counts = np.bincount(np.concatenate([labels[s] for s in f.test_subjects]),
                         minlength=3)
    # Class shares within a few clips of a fifth of the dataset's.
    assert np.all(np.abs(counts - total / 5) <= 4), (counts, total / 5)
  assert folds == folds_lib.make_kfold(labels, 5, 1, seed=0)
  with pytest.raises(InputError):
    folds_lib.make_kfold(labels, 11, 1, seed=0)


def test_loso_fold_test_subjects():
  f = folds_lib.make_folds(["a", "b", "c"], 1, 0)[0]
  assert f.test_subjects == (f.test_subject,)


def test_sampler_balances_and_augments_only_minorities():
  store = _store({"a": [0] * 8 + [1] * 2, "b": [0] * 8 + [2] * 4, "c": [1]})
  fold = folds_lib.Fold(0, "c", (), ("a", "b"))
  sampler = clip_samples.ClipSampler(store, [fold], seed=3)
  batch = sampler.train_batch(0, 300)
  assert batch["x"].shape == (1, 300, 3, 4, 4, 1)
  assert batch["x"].dtype == np.uint8
  counts = collections.Counter(batch["y"][0].tolist())
  assert all(70 <= counts[c] <= 130 for c in range(3)), counts
  # The majority class (0) is never augmented: its clips are copies.
  originals = {store.x[i].tobytes() for i in range(len(store.clips))}
  for x, y in zip(batch["x"][0], batch["y"][0]):
    if y == 0:
      assert x.tobytes() in originals
  augmented = sum(x.tobytes() not in originals for x in batch["x"][0])
  assert augmented > 50
  np.testing.assert_array_equal(batch["x"], sampler.train_batch(0, 300)["x"])
  val = sampler.oracle_batch(8)  # test subject c: one clip, padded? no: b=1
  assert val["w"].tolist() == [[1.0]]


def test_augment_clip_same_on_every_frame():
  rng = np.random.default_rng(0)
  frame = rng.integers(0, 256, (8, 8, 1)).astype(np.uint8)
  clip = np.stack([frame] * 4)
  out = clip_samples.augment_clip(rng, clip, clip_samples.ClipAugment())
  assert not np.array_equal(out, clip)
  for t in range(1, 4):
    np.testing.assert_array_equal(out[t], out[0])


def _method(calibration="none"):
  from mespot_jax.methods.recognition import RecognitionMethod
  config = ml_collections.ConfigDict({
      "eval": {"calibration": calibration}, "decoder": {"name": "label"},
      "toy": {}})

  class Toy(RecognitionMethod):
    name = "toy"
    default_config = classmethod(lambda cls: ml_collections.ConfigDict())
    step_fns = None
  return Toy(config)


def test_fit_prior_and_predict():
  store = _store({"a": [0, 1, 2, 0]})
  scores = {"model": {0: np.array([.6, .3, .1]), 1: np.array([.5, .4, .1]),
                      2: np.array([.5, .1, .4]), 3: np.array([.7, .2, .1])}}
  none = _method().fit(store, None, [0, 1, 2, 3], scores)
  assert {k: r.to_dict() for k, r in none.items()} == {
      "model": {"calibration": "none", "bias": [0.0, 0.0, 0.0]}}
  rows = _method().predict(store, [0, 1, 2, 3], scores, none)["model"]
  assert [r["pred"] for r in rows] == ["negative"] * 4
  prior = _method("prior").fit(store, None, [0, 1, 2, 3], scores)
  bias = np.array(prior["model"].bias)
  mean = np.array([.575, .25, .175])
  np.testing.assert_allclose(bias, -np.log(mean) + np.log(mean).mean())
  rows = _method().predict(store, [0, 1, 2, 3], scores, prior)["model"]
  # p / mean: clip 0 (1.04, 1.2, .57) -> 1, clip 3 (1.22, .8, .57) -> 0.
  assert [r["pred_id"] for r in rows] == [1, 1, 2, 0]
  assert rows[1] == {"index": 1, "clip": "a_1", "label": "positive",
                     "pred": "positive", "subject": "a", "dataset": "toy",
                     "label_id": 1, "pred_id": 1}


def _write(path, header, rows):
  with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(rows)


def test_recognition_csv_known_answer(tmp_path):
  gt, pred = tmp_path / "gt.csv", tmp_path / "pred.csv"
  _write(gt, ["clip", "label", "subject"],
         [["c1", "neg", "s1"], ["c2", "neg", "s1"], ["c3", "pos", "s2"],
          ["c4", "sur", "s2"]])
  # predictions in another order, with the runner's extra columns
  _write(pred, ["clip", "label", "pred", "subject", "dataset"],
         [["c4", "sur", "sur", "s2", "x"], ["c1", "neg", "neg", "s1", "x"],
          ["c2", "neg", "pos", "s1", "x"], ["c3", "pos", "pos", "s2", "x"]])
  res = recognition_io.evaluate_files(str(gt), str(pred))
  # neg: TP1 FN1 -> F1 2/3, recall 1/2; pos: TP1 FP1 -> 2/3, 1; sur: 1, 1.
  assert res["uf1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
  assert res["uar"] == pytest.approx((0.5 + 1 + 1) / 3)
  assert res["accuracy"] == pytest.approx(0.75)
  assert res["classes"] == ["neg", "pos", "sur"]
  _write(pred, ["clip", "label"], [["c1", "neg"]])
  with pytest.raises(InputError, match="no prediction"):
    recognition_io.evaluate_files(str(gt), str(pred))


def test_perturb_clips():
  store = _store({"a": [0, 1, 2], "b": [2, 2]})
  shifted = audit.perturb_clips(store, ("a",), "shift")
  assert shifted.labels.tolist() == [1, 2, 0, 2, 2]
  dropped = audit.perturb_clips(store, ("a",), "drop")
  assert dropped.video_indices(["a", "b"]) == [3, 4]
  permuted = audit.perturb_clips(store, ("a",), "permute")
  assert permuted.labels.tolist() == [2, 0, 1, 2, 2]
  assert store.labels.tolist() == [0, 1, 2, 2, 2]  # untouched


def test_evaluate_sums_counts_over_folds_and_splits_datasets():
  from mespot_jax.methods import base
  store = _store({"a": [0, 1], "b": [2, 0]})
  row = lambda i, y, p, d: {"index": i, "clip": str(i), "label": "",
                            "pred": "", "subject": "", "dataset": d,
                            "label_id": y, "pred_id": p}
  outs = [base.FoldOutput(None, {}, {}, {}, {"model": rows}, [], [])
          for rows in ([row(0, 0, 0, "x"), row(1, 1, 0, "x")],
                       [row(2, 2, 2, "y"), row(3, 0, 0, "y")])]
  m = _method()
  m.config.train = {"folds": "loso"}
  res = m.evaluate(store, outs)
  # Summed: class 0 TP2 FP1; class 1 FN1; class 2 TP1.
  assert res["model"]["confusion"] == [[2, 0, 0], [1, 0, 0], [0, 0, 1]]
  assert res["model"]["uf1"] == pytest.approx((0.8 + 0 + 1) / 3)
  assert res["model"]["accuracy"] == pytest.approx(0.75)
  per = res["model"]["per_dataset"]
  assert per["x"]["accuracy"] == 0.5 and per["y"]["accuracy"] == 1.0
  assert per["y"]["per_class_f1"]["positive"] is None  # absent in y
