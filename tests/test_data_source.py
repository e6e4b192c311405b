"""Tests of `SpottingBuilder` and `SpottingSource` on synthetic_lv/tiny."""
import os

import numpy as np
import pytest

from mespot_jax import errors
from mespot_jax.data import source
from mespot_jax.data import spotting_builder
from mespot_jax.face import align, track
from mespot_jax.synthetic import render


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  src = source.SpottingSource.prepare("synthetic_lv", data_dir, "tiny",
                                      workers=1)
  return data_dir, src


def test_open_unbuilt_dataset_says_how_to_build(tmp_path):
  with pytest.raises(errors.InputError, match="download_and_prepare"):
    source.SpottingSource.open("synthetic_lv", str(tmp_path), "tiny")
  with pytest.raises(errors.InputError, match="unknown dataset"):
    source.SpottingSource.open("no_such_set", str(tmp_path))


def test_videos_metadata_matches_the_rendered_truth(built):
  _, src = built
  assert [v.video for v in src.videos] == ["s01_1", "s02_1", "s03_1"]
  assert src.subjects == ["s01", "s02", "s03"]
  assert (src.image_size, src.channels) == (32, 1)
  builder = src.builder
  for v, (name, subject, p) in zip(src.videos, builder.video_params()):
    assert (v.video, v.subject, v.num_frames) == (name, subject, p.num_frames)
    assert v.frame_offset == v.index * 90
    truth = render.plan_video(p).events
    assert [(i.type, i.onset, i.apex, i.offset, i.au, i.emotion)
            for i in v.intervals] == [
                (e.type, e.onset, e.apex, e.offset, e.au, e.emotion)
                for e in truth]
  assert src.policies == {"no_face_frames": 0}
  assert src.face_found(0).shape == (90,) and src.face_found(0).all()


def test_random_access_returns_the_rendered_and_aligned_frame(built):
  _, src = built
  _, _, p = src.builder.video_params()[1]
  aligner = track.VideoAligner(size=32, grey=True)
  assert src.mask_face  # the builder's default, as OpenFace's output
  expected = [align.mask_crop(a.crop, a.landmarks)
              for a in aligner.align_stream(render.iter_video_frames(p))]
  got = src.frames(1, [1, 45, 90])
  for k, n in enumerate([1, 45, 90]):
    np.testing.assert_array_equal(got[k], expected[n - 1])
  video = src.load_video(1)
  assert video.shape == (90, 32, 32, 1)
  np.testing.assert_array_equal(video, np.stack(expected))
  assert src.rois(1).shape == (90, 4, 4)
  with pytest.raises(errors.InputError, match="out of range"):
    src.frames(1, [91])


def test_mismatched_record_raises(built):
  _, src = built
  v = src.videos[1]
  src.videos[1] = source.VideoMeta(v.index, v.video, v.subject, v.fps,
                                   v.num_frames, v.frame_offset + 1,
                                   v.intervals)
  try:
    with pytest.raises(errors.InputError, match="inconsistent"):
      src.frames(1, [3])
  finally:
    src.videos[1] = v


def test_cache_is_reused_and_restart_redoes_only_missing(built):
  data_dir, src = built
  cache = src.builder.cache_dir
  files = sorted(os.listdir(cache))
  assert files == ["s01_1.npz", "s02_1.npz", "s03_1.npz"]
  mtimes = {f: os.path.getmtime(os.path.join(cache, f)) for f in files}
  os.remove(os.path.join(cache, "s02_1.npz"))
  builder = type(src.builder)(data_dir=data_dir, config="tiny", workers=1)
  specs = builder._list_videos(None)  # pylint: disable=protected-access
  out = builder._align_all(specs)  # pylint: disable=protected-access
  assert os.path.getmtime(os.path.join(cache, "s01_1.npz")) == mtimes[
      "s01_1.npz"]
  assert out["s02_1"]["num_frames"] == 90
  crops = np.stack(list(spotting_builder.iter_cache_crops(
      out["s02_1"]["path"], chunk=7)))
  # The cache keeps the unmasked crops; records are masked on writing.
  with np.load(out["s02_1"]["path"]) as z:
    landmarks = z["landmarks"]
  masked = np.stack([align.mask_crop(c, l) for c, l in zip(crops, landmarks)])
  np.testing.assert_array_equal(masked, src.load_video(1))
  assert not [f for f in os.listdir(cache) if not f.endswith(".npz")]


def test_labels_past_the_last_frame_are_rejected_by_default(built):
  _, src = built
  spec = spotting_builder.VideoSpec(
      video="x", subject="s", fps=30.0,
      intervals=[source.Interval("macro", 80, 95, 85)], frames_fn=list)
  with pytest.raises(errors.InputError, match="outside frames 1..90"):
    src.builder._check_intervals(spec, 90)  # pylint: disable=protected-access
