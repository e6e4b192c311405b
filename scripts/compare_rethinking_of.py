r"""Runs Zhao et al.'s code and our `rethinking_of` on one release; compares.

  python scripts/compare_rethinking_of.py --authors_code=CHECKOUT \
      --authors_python=VENV/bin/python --release=DIR --out=result.json \
      [--videos=15_0101,16_0101,...] [--work=SCRATCH] [--rules_videos=N]

CHECKOUT is a checkout of github:shengjianda/micro-expression-spot (branch
`megc2022`: `main_casme2.main()` holds their challenge values, the ones our
`casme2` release copies); it is read, never changed. VENV is a Python
environment for their code (not a dependency of ours): numpy, scipy,
opencv, dlib, EMD-signal (PyEMD), xlrd, scikit-learn, matplotlib (their
modules import all of these). DIR is a rendering exported in the CAS(ME)^2
layout (`python -m mespot_jax.export_release --layout=cas_me2`), with its
`truth.csv`. `--videos` picks some of its videos (default: all); the
others are left out of both runs (a release folder of symlinks to the
picked video folders and the workbook, under the scratch folder).

Their code, run as a user runs it (`python main_casme2.py`), on a copy in
the scratch folder. What differs from the checkout, and why:

* Paths: `main_casme2.main_casme2` reads the hard-coded
  `C:\sheng\casme2\rawpic` and `CAS(ME)^2code_final.xls`; the copy's two
  string literals are replaced by the release's `rawpic` and workbook (a
  text replacement, each literal found exactly once or the script stops).
  Its `shutil.rmtree('casme2_pkl')` needs the folder to exist: it is made.
  dlib's `shape_predictor_68_face_landmarks.dat`, which their module
  opens from the working directory at import, is copied in (`--landmarks`;
  by default the one of the `face_recognition_models` package).
* File reading: their `read_casme2_label` reads a legacy `.xls` with xlrd,
  which cannot read our `.xlsx`; it is replaced (at run time, in the
  driver) by a reader of `truth.csv` giving the same `{'s15/<folder>':
  [[onset, offset], ...]}`. The labels only feed their own counts, which
  are not used here.
* Recording: `spot_util_casme.draw_roiline19` (their whole spotter: one
  video's file list -> its intervals) is wrapped so that each video's
  result is also written to a JSON file; their `metrics` then adds 1 to
  it (their labels are 1-based, their frames 0-based), as we do below.
  Nothing else is touched: `main()`'s values, their multiprocessing pool
  (one worker per subject), their face crop (dlib), Farneback, PyEMD.
  A worker's exception, which their pool would swallow, is written to
  `<work>/authors/errors.txt` and stops the script.

Type of their intervals: micro when offset - onset <= fps // 2 = 15
frames (`metrics`' `mic_frame`, the MEGC rule), else macro.

Ours, run as a user runs it on the release:

  python -m mespot_jax.main --config=configs/casme2_rethinking_of.py \
      --config.decoder.rethinking.params=released \
      --config.dataset.manual_dir=DIR --workdir=RUN

(the `cas_me2` builder aligns every frame, the method scores, the
`released` decoder fits nothing, so every fold predicts its test subject
with the authors' values), plus `--config.dataset.data_dir` in the scratch
folder (a fresh build of this release), `--config.train.oracle=False`
(the oracle refits tau on the test subject: not ours to compare) and
`--config.train.num_val_subjects=1` (so that three subjects are enough;
`released` uses no validation subject). RUN/predictions.csv holds the
intervals.

`seconds` in the JSON: each run's wall time, null when the stage was
read from `--work` (finished by an earlier call).

The comparison (`compare`), all with `mespot_jax.metrics.intervals`:
per video the intervals of each and of the truth; agreement at IoU >= 0.5
both ways under one_to_one (their intervals as the truth and ours as the
predictions: how many of theirs we reproduce; and the reverse), with the
types as each spotter gave them and type-blind (every interval relabelled
`macro`), with the matched pairs (type-blind); and each spotter's
micro / macro / overall counts and F1 against truth.csv (one_to_one,
IoU >= 0.5). Then, to tell the rules from the front end: `same_signals`,
our scorer's evidence and `released` decoder on their recorded 16 ROI
signals; `per_roi_rules`, their per-ROI steps (low-pass, EMD,
`find_peak`, `expend`, `divide`) against ours on those signals
(`--rules_videos` videos); `roi_signals`, their ROI signals against ours
on the chunks holding a truth interval (correlation, peak ratio);
`front_end`, the share of frames with evidence > 1 from each front end
and the share inside intervals.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.metrics import intervals
from mespot_jax.metrics import io as metrics_io

FPS = 30
MICRO_FRAMES = FPS // 2  # their `metrics`: offset - onset <= fps // 2
IOU = 0.5
PROTOCOL = "one_to_one"
# Their hard-coded paths in `main_casme2.main_casme2` (branch megc2022 and
# main), replaced in the copy.
AUTHORS_ROOT_LITERAL = "'C:\\\\sheng\\\\casme2\\\\rawpic'"
AUTHORS_LABEL_LITERAL = "'CAS(ME)^2code_final.xls'"

DRIVER = r'''
"""Runs `main_casme2.main()` (their entry point) with the patches that
scripts/compare_rethinking_of.py describes; records every video's result."""
import json
import os
import sys
import traceback

import numpy as np

import main_casme2 as mc
import spot_util_casme as fl

OUT, TRUTH = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)


def read_label(label_path, fps):  # file reading: truth.csv, not the .xls
  del label_path, fps
  with open(TRUTH) as f:
    labels = json.load(f)
  return {k: np.array(v) for k, v in labels.items()}


_draw = fl.draw_roiline19
_proce2 = fl.proce2
SIGNALS = []


def proce2_recorded(flow_uv, position, xuhao, tail_idx, bound_clip, **kw):
  SIGNALS.append((int(tail_idx), np.asarray(flow_uv, np.float64)))
  return _proce2(flow_uv, position, xuhao, tail_idx, bound_clip, **kw)


def draw_recorded(files, *args, **kwargs):
  del SIGNALS[:]
  pred = _draw(files, *args, **kwargs)
  folder = os.path.dirname(files[0])
  name = os.path.basename(folder)
  # Their 16 ROI signals (x, y flow less the tip's, per frame of a 200-
  # frame chunk, in their `proce2` call order) of every chunk.
  np.savez(os.path.join(OUT, name + "_signals.npz"),
           tails=np.array([t for t, _ in SIGNALS[::16]]),
           **{f"uv{k}": np.stack([u for _, u in SIGNALS[16 * k:16 * k + 16]])
              for k in range(len(SIGNALS) // 16)})
  with open(os.path.join(OUT, name + ".json"), "w") as f:
    json.dump({"folder": folder, "frames": len(files),
               "windows": np.asarray(pred).reshape(-1, 2).tolist()}, f)
  return pred


_worker = mc.casme2_worker


def worker_logged(*args, **kwargs):
  try:
    return _worker(*args, **kwargs)
  except BaseException:
    with open("errors.txt", "a") as f:
      f.write(traceback.format_exc())
    raise


worker_logged.__module__, worker_logged.__qualname__ = (
    "main_casme2", "casme2_worker")
worker_logged.__name__ = "casme2_worker"
mc.read_casme2_label = read_label
fl.draw_roiline19 = draw_recorded
fl.proce2 = proce2_recorded
mc.casme2_worker = worker_logged
mc.main()
'''


RULES_DRIVER = r'''
"""Their per-ROI steps (`proce2`'s body: `sim_filter.filt`, `try_emd.
the_emd1`, `find_peak`, `expend`, `divide`) on recorded ROI signals, with
`main()`'s values; written as JSON for scripts/compare_rethinking_of.py."""
import json
import sys

import numpy as np

import main_casme2 as mc
import sim_filter
import spot_util_casme as fl
import try_emd

values = {}
mc.main_casme2 = lambda *a, **k: values.setdefault("args", a)
mc.main()
le, re, mth, ns = values["args"][:4]
kwargs = [le] * 4 + [re] * 4 + [mth] * 6 + [ns] * 2  # proce2's call order
out = []
for path in sys.argv[2:]:
  d = np.load(path)
  for k in range(len(d["tails"])):
    for r, uv in enumerate(d[f"uv{k}"]):
      p = kwargs[r]
      flow_r = fl.uv_2_amplitude(uv)
      low = sim_filter.filt(flow_r[1:-1], p["frequency_inf"],
                            p["frequency_sup"], p["fps"])
      _, ext = try_emd.the_emd1(flow_r[1:-1], low, "", "0")
      peaks = fl.find_peak(low, ext, p["t_peak_relative_inf"],
                           p["t_flow_gap"], p["t_ext_gap"], p["l_expand"])
      peaks = np.asarray(peaks).reshape(-1, 2)
      grown = fl.expend(low, peaks.copy(), p["t_peak_valley_ratio"],
                        p["t_valley_gap"], p["l_expand"], p["l_small_expend"])
      split = fl.divide(low, grown, p["t_peak_ratio"], p["t_peak_inf"],
                        p["l_split"], p["bound_ignore"])
      out.append(dict(signals=path, chunk=k, roi=r, low=low.tolist(),
                      ext=ext.tolist(), peaks=peaks.tolist(),
                      expend=np.asarray(grown).tolist(),
                      divide=np.asarray(split).reshape(-1, 2).tolist()))
with open(sys.argv[1], "w") as f:
  json.dump(out, f)
'''


def rules_check(python: str, work: str, signals: list[str], config) -> dict:
  """Their per-ROI steps against ours, on the same recorded ROI signals
  (so: no face crop, landmarks or flow between them). Per chunk x ROI
  signal: the low-passed signal, the EMD signal, the windows of the peak
  tests (`find_peak`; ours: evidence > 1 joined), `expend` (ours:
  `decoders.rethinking.expand`) and `divide` on their windows, with
  their pixel values (our decoder's valley_gap and peak_inf are in units
  of the brows' flow gap: multiplied back)."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from mespot_jax.decoders import rethinking as dec  # pylint: disable=import-outside-toplevel
  from mespot_jax.flow import roi_features as rf  # pylint: disable=import-outside-toplevel
  from mespot_jax.methods import rethinking_of as rof  # pylint: disable=import-outside-toplevel
  dst = os.path.join(work, "authors")
  with open(os.path.join(dst, "_rules_driver.py"), "w") as f:
    f.write(RULES_DRIVER)
  out = os.path.join(work, "authors_rules.json")
  proc = subprocess.run([python, "_rules_driver.py", out, *signals],
                        cwd=dst, capture_output=True, text=True, check=False)
  if proc.returncode:
    raise SystemExit(f"their rules failed:\n{proc.stderr[-3000:]}")
  with open(out) as f:
    theirs = json.load(f)
  b, p = config.rethinking_of, config.decoder.rethinking
  unit = float(b.flow_gap["left_brow"])
  groups = [g for _, g, *_ in rof.LAYOUT]
  half = FPS  # l_expand
  f = lambda sec: int(round(sec * FPS))
  counts = dict(signals=0, lowpass_max_abs_diff=0.0, emd_max_abs_diff=0.0,
                peak_windows_equal=0, expend_equal=0, divide_equal=0)
  cache = {}
  for e in theirs:
    if e["signals"] not in cache:
      cache[e["signals"]] = np.load(e["signals"])
    uv = cache[e["signals"]][f"uv{e['chunk']}"][e["roi"]]
    mag = np.hypot(uv[:, 0], uv[:, 1])
    low = rf.ideal_lowpass(mag[1:-1], FPS, float(b.lowpass_hz))
    ext = rf.emd_detrend(low)
    t_low, t_ext = np.array(e["low"]), np.array(e["ext"])
    counts["signals"] += 1
    counts["lowpass_max_abs_diff"] = max(counts["lowpass_max_abs_diff"],
                                         float(np.abs(low - t_low).max()))
    counts["emd_max_abs_diff"] = max(counts["emd_max_abs_diff"],
                                     float(np.abs(ext - t_ext).max()))
    s = np.minimum.reduce([
        rof.baseline_term(low) / float(b.peak_relative_inf),
        rf.local_rise(low, half) / float(b.flow_gap[groups[e["roi"]]]),
        rf.local_rise(ext, half) / float(b.ext_gap)])
    peaks = dec.join_points(np.where(s > 1.0)[0], f(p.join_s))
    counts["peak_windows_equal"] += peaks == e["peaks"]
    grown = dec.expand(t_low, [list(w) for w in e["peaks"]],
                       float(p.valley_ratio), float(p.valley_gap) * unit,
                       half, f(p.small_expand_s))
    counts["expend_equal"] += grown == e["expend"]
    split = dec.divide(t_low, [list(w) for w in e["expend"]],
                       float(p.peak_ratio), float(p.peak_inf) * unit,
                       f(p.split_s), f(p.bound_ignore_s))
    counts["divide_equal"] += split == e["divide"]
  return counts


def signal_check(work: str, theirs: dict, truth, config) -> dict:
  """Their 16 ROI signals against ours on the chunks that hold a truth
  interval: our ROI magnitudes (`rethinking_of.roi_motion`, as our scorer
  computes them on the built dataset's crops) of that chunk's frames
  against its first frame, their reference. Per ROI: the median over
  those chunks of the correlation of the two (the reference frame left
  out) and of the ratio of the two's maxima inside the interval."""
  import copy  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  from mespot_jax import methods  # pylint: disable=import-outside-toplevel
  from mespot_jax.data import datasets  # pylint: disable=import-outside-toplevel
  from mespot_jax.flow import roi_features as rf  # pylint: disable=import-outside-toplevel
  from mespot_jax.methods import rethinking_of as rof  # pylint: disable=import-outside-toplevel
  from mespot_jax.methods import training_free as ff  # pylint: disable=import-outside-toplevel
  cfg = copy.deepcopy(config)
  cfg.dataset.manual_dir = os.path.join(work, "release")
  cfg.dataset.data_dir = os.path.join(work, "tfds")
  cfg.dataset.prepare = False
  m = methods.get(cfg)
  store = datasets.open_store(cfg, m.task)
  index = {meta.video: k for k, meta in enumerate(store.videos)}
  b = m.block
  corr = {name: [] for name, *_ in rof.LAYOUT}
  ratio = {name: [] for name, *_ in rof.LAYOUT}
  chunks = 0
  for row in truth:
    d = np.load(theirs[row.video]["signals"])
    hit = [k for k, t in enumerate(d["tails"])
           if t - d[f"uv{k}"].shape[1] <= row.onset - 1 and t >= row.offset]
    if not hit:
      continue
    uv = d[f"uv{hit[0]}"]
    tail = int(d["tails"][hit[0]])
    n = uv.shape[1]
    head = tail - n
    v = index[row.video]
    grey, boxes = m.grey_and_boxes(store.video(v)[head:tail],
                                   store.rois(v)[head:tail])
    size = grey.shape[1]
    lmk = rf.landmarks_in_crop(boxes, size)
    scale = rf.face_scale(lmk)
    mask = rf.eye_mask(lmk, size, float(b.eye_margin) / scale)
    ours = np.zeros((n, len(rof.LAYOUT)))
    for s, flows in ff.video_flows(grey, np.zeros(n, int), np.arange(n),
                                   b.flow, int(b.flow_batch),
                                   b.flow_params.to_dict()):
      ours[s:s + len(flows)] = rof.roi_motion(
          flows, rof.regions(lmk, size), m.percents(),
          float(b.tip_percent), mask, scale)
    their_mag = np.hypot(uv[..., 0], uv[..., 1]).T
    inside = slice(row.onset - 1 - head, row.offset - head)
    chunks += 1
    for r, (name, *_) in enumerate(rof.LAYOUT):
      corr[name].append(float(np.corrcoef(ours[1:, r], their_mag[1:, r])[0, 1]))
      ratio[name].append(float(ours[inside, r].max()
                               / max(their_mag[inside, r].max(), 1e-9)))
  med = lambda x: float(np.nanmedian(x)) if x else None
  return {"chunks": chunks,
          "median_correlation": {k: med(v) for k, v in corr.items()},
          "median_peak_ratio_ours_over_theirs": {k: med(v)
                                                 for k, v in ratio.items()}}


def read_truth(release: str) -> list[dict]:
  """truth.csv rows as dicts (`video`, `folder`, `subject`, `type`,
  `onset`, `apex`, `offset`, `emotion`); frames as ints."""
  with open(os.path.join(release, "truth.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  for r in rows:
    for k in ("onset", "apex", "offset"):
      r[k] = int(r[k])
  return rows


def release_videos(release: str) -> dict[str, str]:
  """`{video id: folder relative to the release}` of every video folder
  on disk (`rawpic/s<N>/<N>_<code><name>`), the id as our builder names
  it (`<N>_<code>`)."""
  out = {}
  rawpic = os.path.join(release, "rawpic")
  for sub in sorted(os.listdir(rawpic)):
    for name in sorted(os.listdir(os.path.join(rawpic, sub))):
      out[name.split("_")[0] + "_" + name.split("_")[1][:4]] = (
          f"rawpic/{sub}/{name}")
  return out


def subset_release(release: str, videos: dict[str, str], dst: str) -> str:
  """A release folder at `dst` with only `videos` (symlinks) and the
  workbook(s)."""
  os.makedirs(dst)
  for name in os.listdir(release):
    if name.lower().endswith((".xlsx", ".xls", ".csv")):
      shutil.copy(os.path.join(release, name), dst)
  for folder in videos.values():
    os.makedirs(os.path.dirname(os.path.join(dst, folder)), exist_ok=True)
    os.symlink(os.path.abspath(os.path.join(release, folder)),
               os.path.join(dst, folder))
  return dst


def authors_rows(video: str, windows) -> list[metrics_io.IntervalRow]:
  """Their `draw_roiline19` windows (0-based [start, end]) as 1-based
  interval rows, typed as their `metrics` types them."""
  rows = []
  for start, end in windows:
    kind = "micro" if end - start <= MICRO_FRAMES else "macro"
    rows.append(metrics_io.IntervalRow(video=video, type=kind,
                                       onset=int(start) + 1,
                                       offset=int(end) + 1))
  return rows


def type_blind(rows):
  """The rows with every type `macro` (agreement regardless of type)."""
  return [metrics_io.IntervalRow(video=r.video, type="macro", onset=r.onset,
                                 offset=r.offset, score=r.score)
          for r in rows]


def _span(r) -> list[int]:
  return [r.onset, r.offset]


def _counts(result: dict, keys=("micro", "macro", "overall")) -> dict:
  return {k: {m: result[k][m] for m in ("tp", "fp", "fn", "precision",
                                        "recall", "f1")} for k in keys}


def compare(videos: list[str], truth, theirs, ours) -> dict:
  """The comparison report.

  Args:
    videos: the video ids compared.
    truth, theirs, ours: interval rows (`video`, `type`, 1-based `onset`,
      `offset`) of the truth and of each spotter, on those videos.

  Returns:
    {"agreement": ..., "f1_vs_truth": ..., "per_video": ...}.
  """
  def of(rows, v):
    return [r for r in rows if r.video == v]

  agreement = {}
  for name, blind in (("typed", False), ("type_blind", True)):
    a = type_blind(theirs) if blind else theirs
    b = type_blind(ours) if blind else ours
    ours_on_theirs = intervals.evaluate(a, b, PROTOCOL, IOU)
    theirs_on_ours = intervals.evaluate(b, a, PROTOCOL, IOU)
    agreement[name] = {
        "theirs": len(a), "ours": len(b),
        "theirs_reproduced_by_ours": ours_on_theirs["overall"]["tp"],
        "ours_reproduced_by_theirs": theirs_on_ours["overall"]["tp"],
        "share_of_theirs_reproduced": ours_on_theirs["overall"]["recall"],
        "share_of_ours_reproduced": theirs_on_ours["overall"]["recall"],
    }
  f1 = {name: _counts(intervals.evaluate(truth, rows, PROTOCOL, IOU))
        for name, rows in (("authors", theirs), ("ours", ours))}
  per_video = {}
  for v in videos:
    t, a, b = of(truth, v), of(theirs, v), of(ours, v)
    # The matched pairs (type-blind): the one_to_one matcher of
    # mespot_jax.metrics, their intervals as the truth.
    _, _, _, pairs = intervals._match_one_to_one(  # pylint: disable=protected-access
        type_blind(a), type_blind(b), IOU)
    per_video[v] = {
        "truth": [[r.type, *_span(r)] for r in t],
        "authors": [[r.type, *_span(r)] for r in a],
        "ours": [[r.type, *_span(r)] for r in b],
        "matched_iou_0.5": [[_span(x), _span(y)] for x, y in pairs],
        "f1_overall": {
            "authors": intervals.evaluate(t, a, PROTOCOL, IOU)["overall"]["f1"],
            "ours": intervals.evaluate(t, b, PROTOCOL, IOU)["overall"]["f1"]},
    }
  return {"agreement": agreement, "f1_vs_truth": f1, "per_video": per_video}


def run_authors(authors_code: str, python: str, release: str,
                folders: dict[str, str], truth, work: str,
                landmarks: str) -> tuple[dict, float]:
  """Their code on `release` (all of its videos); `{video: rows}`, s."""
  out = os.path.join(work, "authors_out")
  names = [os.path.basename(f) for f in folders.values()]
  if all(os.path.exists(os.path.join(out, n + "_signals.npz"))
         for n in names):  # a finished run in --work: read it
    return _read_authors(out, folders), None
  dst = os.path.join(work, "authors")
  shutil.rmtree(dst, ignore_errors=True)
  shutil.rmtree(out, ignore_errors=True)
  shutil.copytree(authors_code, dst, ignore=shutil.ignore_patterns(".git"))
  path = os.path.join(dst, "main_casme2.py")
  with open(path) as f:
    text = f.read()
  workbook = [n for n in os.listdir(release) if n.endswith(".xlsx")][0]
  for literal, value in (
      (AUTHORS_ROOT_LITERAL, os.path.join(os.path.abspath(release), "rawpic")),
      (AUTHORS_LABEL_LITERAL, os.path.join(os.path.abspath(release),
                                           workbook))):
    if text.count(literal) != 1:
      raise SystemExit(f"{path}: {literal} found {text.count(literal)} "
                       "times, expected once (another version of their "
                       "code?)")
    text = text.replace(literal, repr(value))
  with open(path, "w") as f:
    f.write(text)
  os.makedirs(os.path.join(dst, "casme2_pkl"))
  shutil.copy(landmarks, os.path.join(dst,
                                      "shape_predictor_68_face_landmarks.dat"))
  with open(os.path.join(dst, "_compare_driver.py"), "w") as f:
    f.write(DRIVER)
  labels = {}
  for r in truth:
    key = r["folder"].split("/", 1)[1]  # 's15/15_0101synthetic1'
    labels.setdefault(key, []).append([r["onset"], r["offset"]])
  with open(os.path.join(work, "authors_labels.json"), "w") as f:
    json.dump(labels, f)
  t0 = time.time()
  proc = subprocess.run([python, "_compare_driver.py", out,
                         os.path.join(work, "authors_labels.json")],
                        cwd=dst, capture_output=True, text=True, check=False)
  seconds = time.time() - t0
  errors = os.path.join(dst, "errors.txt")
  if os.path.exists(errors):
    raise SystemExit("their code failed:\n" + open(errors).read())
  if proc.returncode:
    raise SystemExit(f"their code failed ({proc.returncode}):\n"
                     f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
  return _read_authors(out, folders), seconds


def _read_authors(out: str, folders: dict[str, str]) -> dict:
  result = {}
  for video, folder in folders.items():
    name = os.path.basename(folder)
    with open(os.path.join(out, name + ".json")) as f:
      d = json.load(f)
    result[video] = dict(rows=authors_rows(video, d["windows"]),
                         frames=d["frames"],
                         signals=os.path.join(out, name + "_signals.npz"))
  return result


def load_config():
  """configs/casme2_rethinking_of.py with `params=released`."""
  import importlib.util  # pylint: disable=import-outside-toplevel
  spec = importlib.util.spec_from_file_location(
      "casme2_rethinking_of",
      os.path.join(ROOT, "configs", "casme2_rethinking_of.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  c = module.get_config()
  c.decoder.rethinking.params = "released"
  return c


def ours_on_their_signals(video: str, signals: str, frames: int,
                          config) -> list:
  """Our scorer's evidence (`rethinking_of.evidence`) and our `released`
  decoder on THEIR 16 ROI signals (chunk by chunk, the frame's score the
  max over chunks, as our scorer does): what is left between these
  intervals and theirs is the rules' porting (one curve instead of per-
  ROI windows, our EMD), not the face crop, landmarks or flow."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from mespot_jax.decoders import rethinking as dec  # pylint: disable=import-outside-toplevel
  from mespot_jax.methods import rethinking_of as rof  # pylint: disable=import-outside-toplevel
  d = np.load(signals)
  curve = np.full(frames, np.nan)
  for k, tail in enumerate(d["tails"]):
    uv = d[f"uv{k}"]  # (16, L, 2)
    mag = np.hypot(uv[..., 0], uv[..., 1]).T
    head = int(tail) - len(mag)
    curve[head:tail] = np.fmax(curve[head:tail],
                               rof.evidence(mag, FPS, config.rethinking_of))
  decoder = dec.Rethinking(config)
  record = decoder.fit([])
  return decoder.decode(np.repeat(curve[:, None], 2, 1), FPS, record,
                        video=video), curve


def coverage(rows, frames: dict[str, int]) -> float:
  """The share of all frames inside some interval of `rows`."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  inside = {v: np.zeros(n, bool) for v, n in frames.items()}
  for r in rows:
    inside[r.video][r.onset - 1:r.offset] = True
  return float(sum(m.sum() for m in inside.values())
               / max(sum(frames.values()), 1))


def run_ours(release: str, work: str) -> tuple[list, float, str]:
  """`python -m mespot_jax.main` with `params=released`; rows, s, cmd."""
  run_dir = os.path.join(work, "ours_run")
  if os.path.exists(os.path.join(run_dir, "predictions.csv")):
    return (metrics_io.read_intervals_csv(
        os.path.join(run_dir, "predictions.csv")), None, _shown(cmd_of(
            release, work, run_dir)))
  cmd = cmd_of(release, work, run_dir)
  t0 = time.time()
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep
             + os.environ.get("PYTHONPATH", ""))
  proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                        text=True, check=False)
  seconds = time.time() - t0
  if proc.returncode:
    raise SystemExit(f"our run failed ({proc.returncode}):\n"
                     f"{proc.stderr[-5000:]}")
  rows = metrics_io.read_intervals_csv(os.path.join(run_dir,
                                                    "predictions.csv"))
  return rows, seconds, _shown(cmd)


def _shown(cmd) -> str:
  return "python " + " ".join(
      c.split("=")[0] + "=..." if c.startswith(("--config.dataset.",
                                                "--workdir")) else c
      for c in cmd[1:])


def cmd_of(release: str, work: str, run_dir: str) -> list:
  return [sys.executable, "-m", "mespot_jax.main",
          "--config=configs/casme2_rethinking_of.py",
          "--config.decoder.rethinking.params=released",
          f"--config.dataset.manual_dir={os.path.abspath(release)}",
          f"--config.dataset.data_dir={os.path.join(work, 'tfds')}",
          "--config.train.oracle=False",
          "--config.train.num_val_subjects=1",
          f"--workdir={run_dir}"]


def default_landmarks() -> str:
  try:
    import face_recognition_models  # pylint: disable=import-outside-toplevel
    return face_recognition_models.pose_predictor_model_location()
  except ImportError:
    return ""


def _define_flags() -> dict:
  """The flags, defined when run as a script (importing this module, as
  its test does, defines none: no clash with other modules' `--out`)."""
  return dict(
      authors_code=flags.DEFINE_string(
          "authors_code", None,
          "Checkout of shengjianda/micro-expression-spot."),
      authors_python=flags.DEFINE_string(
          "authors_python", sys.executable,
          "Python of the environment for their code."),
      release=flags.DEFINE_string(
          "release", None,
          "Exported CAS(ME)^2-layout rendering (with truth.csv)."),
      out=flags.DEFINE_string("out", None, "Comparison JSON to write."),
      videos=flags.DEFINE_list(
          "videos", [], "Video ids to compare (default: all of the "
          "release)."),
      work=flags.DEFINE_string(
          "work", None, "Scratch folder, kept; a stage finished in it "
          "(their run, ours) is read, not rerun (default: a temporary "
          "one, removed)."),
      rules_videos=flags.DEFINE_integer(
          "rules_videos", 1, "Check the per-ROI steps on this many "
          "videos' signals (PyEMD is slow)."),
      landmarks=flags.DEFINE_string(
          "landmarks", None,
          "dlib's 68-point model (default: face_recognition_models')."))


def main(argv, f: dict):
  del argv
  for flag in (f["authors_code"], f["release"], f["out"]):
    if not flag.value:
      raise app.UsageError(f"--{flag.name} is required")
  landmarks = f["landmarks"].value or default_landmarks()
  if not os.path.exists(landmarks):
    raise app.UsageError("--landmarks: dlib's shape_predictor_68 model")
  folders = release_videos(f["release"].value)
  if f["videos"].value:
    missing = sorted(set(f["videos"].value) - set(folders))
    if missing:
      raise app.UsageError(f"--videos: not in the release: {missing}")
    folders = {v: folders[v] for v in f["videos"].value}
  keep = f["work"].value is not None
  work = f["work"].value or tempfile.mkdtemp(
      prefix="compare_rethinking_")
  release = os.path.join(work, "release")
  if not os.path.exists(release):
    subset_release(f["release"].value, folders, release)
  truth_dicts = [r for r in read_truth(f["release"].value)
                 if r["video"] in folders]
  truth = [metrics_io.IntervalRow(video=r["video"], type=r["type"],
                                  onset=r["onset"], offset=r["offset"])
           for r in truth_dicts]
  theirs, t_theirs = run_authors(f["authors_code"].value,
                                 f["authors_python"].value, release,
                                 folders, truth_dicts, work, landmarks)
  ours, t_ours, cmd = run_ours(release, work)
  ours = [r for r in ours if r.video in folders]
  their_rows = [r for v in folders for r in theirs[v]["rows"]]
  report = compare(list(folders), truth, their_rows, ours)
  config = load_config()
  import numpy as np  # pylint: disable=import-outside-toplevel
  same, curves = [], {}
  for v in folders:
    rows, curves[v] = ours_on_their_signals(
        v, theirs[v]["signals"], theirs[v]["frames"], config)
    same += rows
  same_report = compare(list(folders), truth, their_rows, same)
  ours_curves = {v: np.load(os.path.join(work, "ours_run", "scores",
                                         f"{v}.npy"))[:, 0] for v in folders}
  frames = {v: theirs[v]["frames"] for v in folders}

  def above(c):
    n = sum(len(x) for x in c.values())
    return float(sum(np.sum(np.nan_to_num(x) > 1.0) for x in c.values()) / n)

  report["per_roi_rules"] = {
      "what": ("their per-ROI steps and ours on the same recorded ROI "
               "signals (every chunk x ROI of the videos named)"),
      "videos": list(folders)[:f["rules_videos"].value],
      **rules_check(f["authors_python"].value, work,
                    [theirs[v]["signals"]
                     for v in list(folders)[:f["rules_videos"].value]], config)}
  report["roi_signals"] = {
      "what": ("their ROI signals and ours on the chunks holding a truth "
               "interval (each chunk's first frame the reference, as "
               "theirs): median correlation, median ratio of the maxima "
               "inside the interval (ours / theirs)"),
      **signal_check(work, theirs, truth, config)}
  report["front_end"] = {
      "what": ("the share of frames where the evidence exceeds 1 (some ROI "
               "passes the authors' peak tests), from our front end (our "
               "scores) and from theirs (our rules on their signals); the "
               "share of frames inside intervals"),
      "evidence_above_1": {"ours": above(ours_curves),
                           "their_signals": above(curves)},
      "frames_in_intervals": {"truth": coverage(truth, frames),
                              "authors": coverage(their_rows, frames),
                              "ours": coverage(ours, frames),
                              "ours_on_their_signals": coverage(same,
                                                                frames)}}
  report["same_signals"] = {
      "what": ("our evidence and released decoder on the authors' own 16 "
               "ROI signals (their crop, landmarks, Farneback, tip "
               "subtraction): the rules' porting alone"),
      "agreement": same_report["agreement"],
      "f1_vs_truth": {"ours": same_report["f1_vs_truth"]["ours"]},
      "per_video": {v: {k: same_report["per_video"][v][k]
                        for k in ("ours", "matched_iou_0.5")}
                    for v in folders}}
  commit = subprocess.run(["git", "-C", f["authors_code"].value,
                           "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=False)
  report = {
      "release": os.path.basename(os.path.normpath(f["release"].value)),
      "videos": list(folders),
      "protocol": PROTOCOL, "iou": IOU,
      "authors_code": {"commit": commit.stdout.strip() or None,
                       "entry": "main_casme2.main() (their values)",
                       "seconds": t_theirs and round(t_theirs, 1)},
      "ours": {"command": cmd, "seconds": t_ours and round(t_ours, 1)},
      **report}
  with open(f["out"].value, "w") as out:
    json.dump(report, out, indent=1)
  print(json.dumps({k: report[k] for k in ("agreement", "f1_vs_truth")},
                   indent=1))
  print(json.dumps({k: report["same_signals"][k]
                    for k in ("agreement", "f1_vs_truth")}, indent=1))
  if not keep:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
  _FLAGS = _define_flags()
  app.run(lambda argv: main(argv, _FLAGS))
