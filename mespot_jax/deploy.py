"""A deployable model of any method: trained on every subject, scored offline.

`train_deploy_model` trains one fold (`folds.deploy_fold`: every subject
trains except a few validation subjects kept for early stopping and for
fitting), saves the kept variables with orbax under `workdir/deploy/model`
and writes `workdir/deploy/deploy.json`, which names the method and holds
everything `mespot_jax.score` needs without the training data. What the
record holds depends on the method's task (`TASKS`):

* spotting: the scorer's test-time choices (`fold_choices`: e.g. the
  3D-CNN's skips) made from the training subjects, the decoder (`decoder`:
  its name and its record fitted on the validation videos' scores,
  `record`, and in offline scoring's absolute mode, `record_absolute`),
  the face preprocessing spec (`preprocess`: `face.preprocess.
  FacePreprocess`, the spec the training `FrameStore` prepared crops
  with), training frame rates, and the experiment config (which rebuilds
  the scorer). `load_deployment` gives a `Deployment`.
* recognition: `task: "recognition"`, what rebuilds the model
  (`model_config`: the method's block, the class count and the scoring
  batch; not the experiment config), the decoder (`decoder`: its name,
  the class names and its record fitted on the validation clips per kind,
  `records`) and the preprocessing spec (`preprocess`: clip frames, image
  size, grey, alignment size and grey, mask, tracker smoothing).
  `load_deployment` gives a `ClipDeployment`.

`check_deployable` says before any training whether a run can make one
(`experiment.run` calls it with `train.deploy=True`).

Layout of `workdir/deploy/`:
  checkpoints/   orbax CheckpointManager of the training loop (resumed)
  model/         orbax StandardCheckpointer: {"params", "batch_stats"}
  deploy.json    the record above
"""
import dataclasses
import json
import logging
import os
import shutil

import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from mespot_jax import methods
from mespot_jax.data import folds as folds_lib
from mespot_jax.data.clip_store import ClipPreprocess
from mespot_jax.errors import InputError
from mespot_jax.face.preprocess import FacePreprocess
from mespot_jax.io_utils import atomic_write
from mespot_jax.io_utils import json_safe
from mespot_jax.train import loop as loop_lib

DEPLOY_DIR = "deploy"
DEPLOY_JSON = "deploy.json"
MODEL_DIR = "model"
FORMAT_VERSION = 3  # 3: decoder records (2: fitted choices)


@dataclasses.dataclass
class Deployment:
  """A loaded deploy model and what scoring needs to know.

  Attributes:
    config: the experiment config it was trained with.
    method: the `Method` (from `config.method`): the scorer.
    variables: {"params", "batch_stats"} host arrays.
    choices: the scorer's test-time choices (`fold_choices`: skips, ...),
      made from the training subjects.
    decoder: the `decoders.Decoder` (`config.decoder.name`).
    record: its record fitted on the validation subjects, in the config's
      normalisation (per video: the paper's).
    record_absolute: the same in the absolute mode (each type normalised
      by the validation videos' raw score range).
    train_fps: frame rates of the training videos.
    info: the whole deploy.json record.
    preprocess: the `FacePreprocess` that makes an aligned frame the
      model's input (`record_preprocess`): alignment size and grey, mask,
      tracker window, the model's crop size and grey.
  """
  config: ml_collections.ConfigDict
  method: object
  variables: dict
  choices: dict
  decoder: object
  record: object
  record_absolute: object
  train_fps: list
  info: dict
  preprocess: FacePreprocess


def deploy_dir(workdir: str) -> str:
  return os.path.join(workdir, DEPLOY_DIR)


def _as_tuples(x):
  """JSON lists back to tuples, so the config matches the original's types."""
  if isinstance(x, dict):
    return {k: _as_tuples(v) for k, v in x.items()}
  if isinstance(x, list):
    return tuple(_as_tuples(v) for v in x)
  return x


def save_variables(path: str, variables) -> None:
  """Saves model variables with orbax, replacing what was there."""
  path = os.path.abspath(path)
  tmp = path + ".tmp"
  if os.path.exists(tmp):
    shutil.rmtree(tmp)
  with ocp.StandardCheckpointer() as ckptr:
    ckptr.save(tmp, variables)
    ckptr.wait_until_finished()
  # Orbax finalises the folder itself; the rename keeps an older model in
  # place until the new one is complete.
  if os.path.exists(path):
    shutil.rmtree(path)
  os.replace(tmp, path)


def load_variables(path: str):
  """Restores variables saved by `save_variables` (host numpy arrays)."""
  with ocp.StandardCheckpointer() as ckptr:
    restored = ckptr.restore(os.path.abspath(path))
  return {k: _to_numpy(v) for k, v in restored.items()}


def _to_numpy(tree):
  if isinstance(tree, dict):
    return {k: _to_numpy(v) for k, v in tree.items()}
  return np.asarray(tree)


@dataclasses.dataclass
class ClipDeployment:
  """A loaded recognition deploy model and how it prepares a clip.

  Attributes:
    method: the `RecognitionMethod` (from the record's `model_config`).
    variables: {"params", "batch_stats"} host arrays.
    classes: class names, in the model's output order.
    decoder: the `decoders.Decoder` (`label`).
    records: {kind: its record}, fitted on the validation clips.
    preprocess: the `clip_store.ClipPreprocess` of the training clips.
    train_fps: frame rates of the training clips.
    info: the whole deploy.json record.
  """
  method: object
  variables: dict
  classes: tuple
  decoder: object
  records: dict
  preprocess: ClipPreprocess
  train_fps: list
  info: dict


def _check_subjects(config, store) -> None:
  subjects = sorted({v.subject for v in store.videos})
  if len(subjects) < config.train.num_val_subjects + 1:
    raise InputError(
        f"{len(subjects)} subject(s) cannot train a deploy model with "
        f"{config.train.num_val_subjects} validation subject(s); lower "
        "train.num_val_subjects")


def _check_spotting(config, method, store) -> None:
  """A spotting deploy model is scored through the method's
  `score_stream`; one without it could not score a video."""
  del config, store
  from mespot_jax.methods import spotting  # pylint: disable=g-import-not-at-top
  if type(method).score_stream is spotting.SpottingMethod.score_stream:
    raise InputError(
        f"train.deploy=True: {method.name} cannot score a video offline (it "
        "has no score_stream); set train.deploy=False")


def _check_recognition(config, method, store) -> None:
  del config
  method.check_deploy(store)


def _spotting_record(config, method, store, fold, variables) -> dict:
  choices = method.fold_choices(store, fold)
  fit_ids = method.fit_ids(store, fold)
  scores = {"model": method.score(variables, store, fit_ids,
                                  choices)["model"]}
  record = method.fit(store, fold, fit_ids, scores)["model"]
  # The absolute mode of offline scoring: every type normalised with the
  # fitting videos' raw score range, its thresholds fitted that way.
  absolute = method.fit(store, fold, fit_ids, scores,
                        absolute=True)["model"]
  return {"config": json_safe(config.to_dict()),
          "choices": json_safe(choices),
          "decoder": {"name": method.decoder.name,
                      "record": record.to_dict(),
                      "record_absolute": absolute.to_dict()},
          **method.deploy_record(store)}


def _recognition_record(config, method, store, fold, variables) -> dict:
  del config
  choices = method.fold_choices(store, fold)
  fit_ids = method.fit_ids(store, fold)
  scores = method.score(variables, store, fit_ids, choices)
  fitted = method.fit(store, fold, fit_ids, scores)
  return {"task": "recognition",
          "model_config": json_safe(method.deploy_config()),
          "decoder": {"name": method.decoder.name,
                      "classes": list(store.classes),
                      "records": {k: r.to_dict() for k, r in fitted.items()},
                      "val_clips": len(fit_ids)},
          **json_safe(method.deploy_record(store))}


# task -> (check before training, the task's part of deploy.json).
TASKS = {"spotting": (_check_spotting, _spotting_record),
         "recognition": (_check_recognition, _recognition_record)}


def check_deployable(config, method, store=None) -> None:
  """Raises InputError (one line) when this run cannot make a deploy model.

  Cheap; `experiment.run` calls it before training when `train.deploy` is
  set, so a run is refused up front rather than after every fold trained.

  Args:
    config: the experiment config.
    method: its `Method`.
    store: its data, when opened (the subject count is checked).
  """
  if method.task not in TASKS:
    raise InputError(
        f"train.deploy=True: {method.name} is a {method.task} method and "
        f"deploy models exist for {', '.join(sorted(TASKS))} methods only; "
        "set train.deploy=False")
  if store is not None:
    _check_subjects(config, store)
  TASKS[method.task][0](config, method, store)


def train_deploy_model(config, workdir: str, store, method=None) -> dict:
  """Trains, fits and saves a model on all subjects for scoring.

  Args:
    config: the experiment config (as for `experiment.run`).
    workdir: run directory; everything goes to `workdir/deploy/`, which is
      resumed from its own checkpoints.
    store: the data of the whole dataset.
    method: the `Method` (default: `methods.get(config)`).

  Returns:
    The deploy.json record.
  """
  method = method or methods.get(config)
  check_deployable(config, method, store)
  out_dir = deploy_dir(workdir)
  os.makedirs(out_dir, exist_ok=True)
  subjects = sorted({v.subject for v in store.videos})
  fold = folds_lib.deploy_fold(subjects, config.train.num_val_subjects,
                               config.seed)
  logging.info("deploy model: training on %s, validation %s",
               [str(s) for s in fold.train_subjects],
               [str(s) for s in fold.val_subjects])
  result = loop_lib.train_folds(config, method,
                                loop_lib.sampler_of(method, store, [fold]), [fold],
                                out_dir)
  variables = result.best_variables[0]
  record = TASKS[method.task][1](config, method, store, fold, variables)

  save_variables(os.path.join(out_dir, MODEL_DIR), variables)
  info = {
      "format_version": FORMAT_VERSION,
      "method": method.name,
      "model_dir": MODEL_DIR,
      **record,
      "train_subjects": [str(s) for s in fold.train_subjects],
      "val_subjects": [str(s) for s in fold.val_subjects],
      "best_epoch": int(result.best_epoch[0]),
      "best_val_loss": float(result.best_val_loss[0]),
  }
  with atomic_write(os.path.join(out_dir, DEPLOY_JSON)) as f:
    json.dump(info, f, indent=2)
  dec = info["decoder"]
  fitted = dec.get("record") or dec["records"].get("model", {})
  logging.info("deploy model of %s written to %s (decoder %s: %s)",
               method.name, out_dir, dec["name"],
               ", ".join(f"{k} {v}" for k, v in fitted.items()))
  return info


def find_deploy_dir(workdir: str) -> str:
  """The folder holding deploy.json: `workdir/deploy`, or `workdir` itself
  when it is that folder. Cheap (reads nothing): callers check it before
  anything slow.

  Raises:
    InputError: no such directory, or no deploy model in it.
  """
  if not os.path.isdir(workdir):
    raise InputError(f"{workdir}: no such run directory")
  for folder in (deploy_dir(workdir), workdir):
    if os.path.isfile(os.path.join(folder, DEPLOY_JSON)):
      return folder
  parent = os.path.dirname(os.path.abspath(workdir))
  if (os.path.basename(os.path.normpath(workdir)) == DEPLOY_DIR
      and os.path.isdir(os.path.join(workdir, "checkpoints"))):
    raise InputError(
        f"{workdir}: this deploy folder has no {DEPLOY_JSON} (its training "
        "was interrupted?); re-run python -m mespot_jax.main --config=<config>"
        f" --workdir={parent} --config.train.deploy=True, which resumes it")
  raise InputError(
      f"{workdir}: no deploy model ({os.path.join(DEPLOY_DIR, DEPLOY_JSON)}"
      " is missing); pass the run directory that holds deploy/, or train one"
      " with python -m mespot_jax.main --config=<config> "
      f"--workdir={workdir} --config.train.deploy=True")


def read_record(workdir: str) -> tuple[str, dict]:
  """(deploy folder, deploy.json record) of a run; reads nothing else, so
  a caller can check its inputs against the record before loading the
  model.

  Raises:
    InputError: no workdir, no deploy model in it, an unreadable record.
  """
  folder = find_deploy_dir(workdir)
  path = os.path.join(folder, DEPLOY_JSON)
  try:
    with open(path, encoding="utf-8") as f:
      info = json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise InputError(f"{path}: cannot read the deploy record ({e})") from None
  if not isinstance(info, dict):
    raise InputError(f"{path}: not a deploy record (expected a JSON object)")
  return folder, info


def record_preprocess(info: dict) -> FacePreprocess:
  """The face preprocessing of a spotting deploy record (`preprocess`).

  Raises:
    InputError: the record has none.
  """
  try:
    return FacePreprocess.from_dict(info["preprocess"])
  except (KeyError, TypeError, ValueError) as e:
    raise InputError(f"deploy record without its face preprocessing "
                     f"({type(e).__name__}: {e}); re-run main with "
                     "--config.train.deploy=True") from None


def record_task(info: dict) -> str:
  """The task of a deploy record (records before recognition deploys
  existed are all spotting ones)."""
  return str(info.get("task", "spotting"))


def load_deployment(workdir: str):
  """Loads the deploy model of a run directory.

  Args:
    workdir: a run directory trained with `--config.train.deploy=True`, or
      its `deploy/` folder.

  Returns:
    A `Deployment` (spotting) or a `ClipDeployment` (recognition).

  Raises:
    InputError: no workdir, or no deploy model in it.
  """
  folder, info = read_record(workdir)
  path = os.path.join(folder, DEPLOY_JSON)
  model_path = os.path.join(folder, info.get("model_dir", MODEL_DIR))
  if not os.path.isdir(model_path):
    raise InputError(f"{model_path}: deploy model variables are missing; "
                     "re-run main with --config.train.deploy=True")
  if info.get("format_version") != FORMAT_VERSION:
    raise InputError(
        f"{path}: deploy record format {info.get('format_version')}, this "
        f"version reads {FORMAT_VERSION}; re-run main with "
        "--config.train.deploy=True")
  task = record_task(info)
  if task == "recognition":
    return _load_clip_deployment(path, model_path, info)
  if task != "spotting":
    raise InputError(f"{path}: deploy record of task {task!r}; this version "
                     f"reads {', '.join(sorted(TASKS))}")
  try:
    config = ml_collections.ConfigDict(_as_tuples(info["config"]))
    method = methods.get(config)
    decoder = method.decoder
    record = decoder.load(info["decoder"]["record"])
    record_absolute = decoder.load(info["decoder"]["record_absolute"])
  except (KeyError, TypeError, ValueError) as e:
    raise InputError(f"{path}: incomplete spotting deploy record "
                     f"({type(e).__name__}: {e}); re-run main with "
                     "--config.train.deploy=True") from None
  return Deployment(
      config=config, method=method, variables=load_variables(model_path),
      choices=info["choices"], decoder=decoder, record=record,
      record_absolute=record_absolute,
      train_fps=list(info["train_fps"]), info=info,
      preprocess=record_preprocess(info))


def _load_clip_deployment(path: str, model_path: str,
                          info: dict) -> ClipDeployment:
  try:
    config = ml_collections.ConfigDict(_as_tuples(info["model_config"]))
    method = methods.get(config)
    decoder = method.decoder
    preprocess = ClipPreprocess.from_dict(info["preprocess"])
    classes = tuple(info["decoder"]["classes"])
    records = {k: decoder.load(r)
               for k, r in info["decoder"]["records"].items()}
  except (KeyError, TypeError, ValueError) as e:
    raise InputError(f"{path}: incomplete recognition deploy record "
                     f"({type(e).__name__}: {e}); re-run main with "
                     "--config.train.deploy=True") from None
  return ClipDeployment(
      method=method, variables=load_variables(model_path),
      classes=classes, decoder=decoder, records=records,
      preprocess=preprocess,
      train_fps=list(info.get("train_fps", [])), info=info)
