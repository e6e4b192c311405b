"""The decoders: scores -> predictions, chosen by `config.decoder.name`.

    decoder = decoders.get(config, scorer_info)
    record = decoder.fit(fitting_units, known_units)   # frozen, JSON
    rows = decoder.decode(scores, fps, record, video)

`base` says what a decoder is. Spotting: `runs` (thresholded smoothed
runs, Yap et al.), `apex` (apexes by non-maximum suppression, Tran et
al.), `peaks` (runs above a per-video threshold, the MEGC2020 flow
baseline), `rethinking` (Zhao et al.'s peak and interval rules, the
MEGC2022 flow spotter), `yu` (Yu et al.'s rules, the MEGC2022 winner's).
Recognition: `label` (argmax with a fitted bias). Each is one module and
one line here.
"""
import importlib

from mespot_jax.decoders.base import Decoder, Record, ScorerInfo, Unit  # pylint: disable=unused-import
from mespot_jax.errors import InputError

DECODERS = {
    "runs": "mespot_jax.decoders.runs:Runs",
    "apex": "mespot_jax.decoders.apex:Apex",
    "peaks": "mespot_jax.decoders.peaks:Peaks",
    "rethinking": "mespot_jax.decoders.rethinking:Rethinking",
    "yu": "mespot_jax.decoders.yu:Yu",
    "label": "mespot_jax.decoders.label:Label",
}


def get_class(name: str) -> type[Decoder]:
  if name not in DECODERS:
    raise InputError(f"config decoder.name={name!r} is not a decoder; "
                     f"expected one of {sorted(DECODERS)}")
  entry = DECODERS[name]
  if isinstance(entry, str):
    module, cls = entry.split(":")
    entry = DECODERS[name] = getattr(importlib.import_module(module), cls)
  return entry


def get(config, scorer: ScorerInfo | None = None) -> Decoder:
  """The decoder `config.decoder.name` of an experiment config."""
  return get_class(str(config.decoder.name))(config, scorer)
