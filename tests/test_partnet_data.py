"""The part-based recogniser's data with known answers: the apex among the
stored frames, flipped flows, TV-L1 flows of a known shift, the macro
reduction, EMR enlarging the flow, and the two-domain sampler."""
import ml_collections
import numpy as np
import pytest
from scipy import ndimage

from mespot_jax.data import folds as folds_lib
from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipMeta
from mespot_jax.methods import partnet as method_lib
from mespot_jax.methods import partnet_data as D
from mespot_jax.models.partnet import grl_lambda


def _texture(size, seed=0):
  rng = np.random.default_rng(seed)
  return ndimage.gaussian_filter(rng.random((size, size)), 2.0)


def _block(**kw):
  b = method_lib.default_config()
  b.emr = kw.pop("emr", False)
  for k, v in kw.items():
    b[k] = v
  return b


def _shift_store(shifts, size=40, t=5):
  """Clips onset 1, apex 3, offset 5: frame k moves by shift * env(k)."""
  clips, xs = [], []
  env = np.array([0.0, 0.5, 1.0, 0.5, 0.0])
  base = _texture(size + 16)
  for i, (dx, dy) in enumerate(shifts):
    frames = []
    for e in env:
      f = ndimage.shift(base, (dy * e, dx * e), order=3, mode="reflect")
      frames.append(f[8:-8, 8:-8])
    f = np.clip(np.stack(frames), 0, 1)
    xs.append(np.round(f * 255).astype(np.uint8)[..., None])
    clips.append(ClipMeta(i, f"c{i}", f"s{i % 2}", "", "toy", 30.0, 1, 5, 0,
                          1, 3, 5, True, "", "", i % 3, ""))
  return ClipStore(clips, np.stack(xs), np.arange(len(shifts)) % 3,
                   ("negative", "positive", "surprise"), size, 1, "3class")


def test_apex_positions():
  store = _shift_store([(1, 0)])
  assert D.apex_positions(store).tolist() == [2]


def test_flip_flow_hand_worked():
  x = np.zeros((2, 3, 2), np.float32)
  x[0, 0] = (1.0, 2.0)  # top-left pixel: u = 1, v = 2
  out = D.flip_flow(x)
  np.testing.assert_array_equal(out[0, 2], (-1.0, 2.0))  # now top-right
  assert np.count_nonzero(out) == 2


def test_target_flow_is_the_onset_to_apex_shift():
  # frame1(y + v, x + u) = frame0(y, x): content moving right by 1.5 px
  # and down by 1 gives u = 1.5, v = 1.
  store = _shift_store([(1.5, 1.0), (-1.0, 0.5)])
  fl = D.target_flows(store, _block())
  assert fl.shape == (2, 40, 40, 2)
  inner = fl[:, 8:-8, 8:-8]
  np.testing.assert_allclose(inner[0].mean((0, 1)), (1.5, 1.0), atol=0.15)
  np.testing.assert_allclose(inner[1].mean((0, 1)), (-1.0, 0.5), atol=0.15)
  # Strain as a third channel: a translation has ~no strain.
  st = D.target_flows(store, _block(strain=True))
  assert st.shape == (2, 40, 40, 3) and np.abs(st[:, 8:-8, 8:-8, 2]).mean() < 0.1


def test_emr_magnifies_the_micro_motion():
  store = _shift_store([(0.4, 0.0)])
  plain = D.target_flows(store, _block())[0, 8:-8, 8:-8, 0].mean()
  b = _block(emr=True)
  b.evm.alpha = 3.0
  b.evm.levels = 3
  b.evm.band = (0.5, 2.0)  # 5 frames: below 2.5 cycles per clip
  magnified = D.target_flows(store, b)[0, 8:-8, 8:-8, 0].mean()
  assert plain == pytest.approx(0.4, abs=0.1)
  # EVM moves the band-passed part of the motion (1 + alpha) times: the
  # flow grows well beyond the plain one (the unamplified finest band and
  # the pass band keep it under 4x).
  assert 1.8 * plain < magnified < 4.0 * plain


def test_sampler_mixes_domains():
  store = _shift_store([(1, 0)] * 6)
  x = np.arange(6, dtype=np.float32)[:, None, None, None] * np.ones(
      (6, 4, 4, 2), np.float32)
  xs = -np.ones((9, 4, 4, 2), np.float32)
  ys = np.array([0, 1, 2] * 3, np.int32)
  fold = folds_lib.Fold(0, "s1", (), ("s0",))
  s = D.PartSampler(store, [fold], x, xs, ys, fraction=0.25, balance=True,
                    flip=False, seed=0)
  s.train_dataset(8, 11)
  b = s.train_batch(0, 8)
  assert b["x"].shape == (1, 8, 4, 4, 2)
  assert b["d"].tolist() == [[0] * 6 + [1] * 2]
  # Target examples come from the training subject s0 only (clips 0, 2, 4).
  assert set(b["x"][0, :6, 0, 0, 0].tolist()) <= {0.0, 2.0, 4.0}
  assert (b["x"][0, 6:] == -1).all()
  assert "lam" not in b  # the step computes it from its step count
  val = s.val_batch(8)
  assert set(val) == {"x", "y", "w"}  # target only, no domain
  # Without a source every example is a target clip.
  none = D.PartSampler(store, [fold], x, xs[:0], ys[:0], fraction=0.5,
                       balance=True, flip=True, seed=0)
  assert none.train_batch(0, 8)["d"].sum() == 0


def test_macro_reduction_uses_the_halfway_frame(monkeypatch):
  onset = np.zeros((1, 40, 40), np.uint8)
  base = np.round(_texture(56) * 255).astype(np.uint8)
  frame = lambda dx: np.round(np.clip(ndimage.shift(
      base.astype(float), (0, dx), order=3, mode="reflect"), 0, 255)
                              ).astype(np.uint8)[8:-8, 8:-8][None]
  onset[0] = frame(0.0)[0]
  half, apex = frame(1.0), frame(2.0)
  monkeypatch.setattr(D, "_source_frames",
                      lambda *a: (onset, half, apex, np.array([1])))
  config = ml_collections.ConfigDict({"dataset": {"seed": 123}})
  store = _shift_store([(1, 0)])
  for emr, want in ((True, 1.0), (False, 2.0)):
    b = _block(emr=emr)
    b.source.name = "ck_plus"
    b.source.config = f"test_{emr}"  # its own memo entry
    fl, labels = D.source_flows(config, b, store)
    assert labels.tolist() == [1]
    assert fl[0, 8:-8, 8:-8, 0].mean() == pytest.approx(want, abs=0.15)


def test_the_reversal_weight_comes_from_the_step_count():
  # The generic training step hands the inputs function the fold's step
  # count; partnet turns it into Ganin and Lempitsky's lambda over the
  # run's steps (known values: 0 at the first step, grl_lambda(0.5) half
  # way, grl_lambda(1) at the last), scaled by adv_weight.
  inputs = method_lib._make_inputs(11, 2.0)  # pylint: disable=protected-access
  x = np.zeros((1, 4, 4, 2), np.float32)
  lam = [float(inputs({"x": x, "step": np.int32(s)}, True)["lam"])
         for s in (0, 5, 10)]
  assert lam[0] == 0.0
  assert lam[1] == pytest.approx(2.0 * float(grl_lambda(0.5)), rel=1e-6)
  assert lam[2] == pytest.approx(2.0 * float(grl_lambda(1.0)), rel=1e-6)
  assert "lam" not in inputs({"x": x}, False)  # evaluation: no step
