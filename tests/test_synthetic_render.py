"""Tests of the synthetic video renderer (determinism, identities, truth)."""
import numpy as np
import pytest

from mespot_jax.synthetic import expressions
from mespot_jax.synthetic import render


def _params(**kw):
  base = dict(seed=3, subject=0, video=0, fps=30.0, num_frames=300,
              frame_hw=(150, 200), face_size=95)
  base.update(kw)
  return render.VideoParams(**base)


def test_same_seed_gives_identical_frames():
  a, b = render.Renderer(_params()), render.Renderer(_params())
  for n in (1, 57, 300):
    np.testing.assert_array_equal(a.frame(n), b.frame(n))
  assert a.plan.events == b.plan.events
  other = render.Renderer(_params(seed=4))
  assert other.plan.events != a.plan.events


def test_frames_do_not_depend_on_render_order():
  r = render.Renderer(_params(num_frames=40))
  streamed = list(r)
  assert len(streamed) == 40
  np.testing.assert_array_equal(streamed[33], r.frame(34))


def test_subjects_have_distinct_identities():
  styles = [render.subject_style(3, s, False) for s in range(4)]
  for i in range(4):
    for j in range(i + 1, 4):
      diff = np.abs(styles[i].patch.astype(float) - styles[j].patch).mean()
      assert diff > 5.0, (i, j, diff)
      # Face geometry differs too, not only colour.
      moved = np.abs(styles[i].landmarks - styles[j].landmarks).max()
      assert moved > 1.0, (i, j, moved)


def test_envelope_onset_apex_offset():
  env = expressions.envelope(10, 14, 20, np.arange(1, 31))
  assert env[9] == 0 and env[13] == 1 and env[19] == pytest.approx(0)
  assert np.all(env[:9] == 0) and np.all(env[20:] == 0)
  assert np.all(np.diff(env[9:14]) > 0) and np.all(np.diff(env[13:20]) < 0)


def test_events_follow_config_durations():
  p = _params(num_frames=1200)  # 40 s
  events = render.plan_video(p).events
  macros = [e for e in events if e.type == "macro"]
  micros = [e for e in events if e.type == "micro"]
  assert len(macros) >= 4 and len(micros) >= 2
  for e in micros:
    assert 0.27 * 30 - 1 <= e.offset - e.onset + 1 <= 0.5 * 30 + 1
    assert e.onset < e.apex < e.offset
  for e in macros:
    assert e.offset - e.onset + 1 > 0.5 * 30
  for a in macros:  # macros never overlap each other
    for b in macros:
      assert a is b or a.offset < b.onset or b.offset < a.onset


def test_planted_expressions_move_pixels_macro_more_than_micro():
  """Without nuisance, only the expressions change the frames."""
  r = render.Renderer(_params(num_frames=900, nuisance=False))
  events = r.plan.events
  busy = np.zeros(r.p.num_frames + 2, bool)
  for e in events:
    busy[e.onset:e.offset + 1] = True
  neutral = [n for n in range(1, r.p.num_frames + 1) if not busy[n]][:2]
  np.testing.assert_array_equal(r.frame(neutral[0]), r.frame(neutral[1]))
  base = r.frame(neutral[0]).astype(float)

  def change(e):
    return np.abs(r.frame(e.apex).astype(float) - base).mean()

  def field(e):
    return np.abs(r.expression_field(e.apex)).max()

  macro = [e for e in events if e.type == "macro"]
  micro = [e for e in events if e.type == "micro"]
  assert macro and micro
  for e in macro + micro:
    assert change(e) > 0.01
    assert field(e) > 0
    others = [o for o in events
              if o is not e and o.onset <= e.onset <= o.offset]
    if not others:  # the envelope starts at 0 on the onset frame
      assert np.all(r.expression_field(e.onset) == 0)
  iod = expressions.inter_ocular(r.style.landmarks)
  assert min(field(e) for e in macro) > max(field(e) for e in micro)
  assert min(field(e) for e in macro) / iod > 0.04
  assert max(field(e) for e in micro) / iod < 0.05
  assert (np.mean([change(e) for e in macro])
          > np.mean([change(e) for e in micro]))


def test_nuisance_moves_the_head_between_neutral_frames():
  r = render.Renderer(_params(num_frames=300))
  assert np.ptp(r.plan.pose_T4[:, 0]) > 1.0
  assert r.plan.blink_T.max() == pytest.approx(1.0, abs=0.05)
  assert not np.array_equal(r.frame(1), r.frame(2))  # sensor noise


def test_expression_is_local():
  r = render.Renderer(_params(num_frames=900, nuisance=False))
  e = next(e for e in r.plan.events if e.kind in ("brow_raise",
                                                  "lip_corner_pull",
                                                  "lip_corner_depress",
                                                  "brow_lower"))
  mag = np.linalg.norm(r.expression_field(e.apex), axis=-1)
  lms = r.style.landmarks
  far = lms[8] if expressions.REGION[e.kind] == "brow" else lms[19]
  assert mag[int(far[1]), int(far[0])] < 0.05 * mag.max()


def test_first_eight_subjects_are_eight_people_and_faces_are_found():
  """LOSO meets a new face: eight subjects, eight photographs."""
  from mespot_jax import face  # pylint: disable=g-import-not-at-top
  detector = face.FaceDetector()
  for seed in (0, 5):
    people = [render.person_of(seed, s) for s in range(8)]
    assert sorted(people) == sorted(render.FACES)
    assert render.person_of(seed, 8) == people[0]  # then they cycle
  assert ([render.person_of(0, s) for s in range(8)]
          != [render.person_of(5, s) for s in range(8)])
  for s in range(8):
    r = render.Renderer(_params(seed=0, subject=s, num_frames=10,
                                frame_hw=(180, 240), face_size=110))
    boxes = detector.detect(r.frame(5))
    assert len(boxes) == 1, (render.person_of(0, s), boxes)
    # The face is where the renderer put it (pose centre within 0.2 face).
    centre = (boxes[0][:2] + boxes[0][2:]) / 2
    assert np.abs(centre - r.plan.pose_T4[4, :2]).max() < 0.25 * 110


def test_face_patches_carry_their_source_and_licence():
  index = render._face_index()  # pylint: disable=protected-access
  assert set(index) == set(render.FACES)
  people = {v["person"] for v in index.values()}
  assert len(people) == len(render.FACES)
  for name, v in index.items():
    assert v["package"] and v["package_licence"] and v["path"], name
    patch, lms = render.source_face(name)
    assert patch.shape == (200, 200, 3) and lms.shape == (68, 2)
    assert np.all((lms > 0) & (lms < 200)), name
