"""The PyTorch peer of the Yap et al. 3D-CNN, for `model_throughput.py`.

A plain PyTorch transcription of `mespot_jax.models.yap3dcnn.Yap3DCNN` (the
model of docs/YAP3DCNN.md): LCN on every frame (Gaussian,
symmetric borders, per-image floor), per stream three blocks of depthwise
3x3x3 conv (`groups=C`; the first expands the grey channel to 16 maps) +
pointwise 1x1x1 conv + batch norm + ReLU + dropout + 2x2 spatial max-pool,
channels 16/32/64, global average pool, the streams folded into the batch
(shared weights, batch statistics pooled over both, as ours), stream 0's
features first, residual dense 128, 2 logits. Layout NCDHW with D = the 2
frames, stored channels-last (`torch.channels_last_3d`).

`load_flax_variables` copies a Flax variable tree of ours into it, so the
two compute the same function on shared weights (checked before timing and
in tests/test_torch_peer.py). Run as a script, it times the peer in a
process of its own (`main`), as model_throughput.py does. Needs the optional `bench` extra
(`pip install -e .[bench]`: torch 2.13, CPU).
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from mespot_jax.preprocess import lcn as lcn_lib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_util  # pylint: disable=g-import-not-at-top,wrong-import-position


def _symmetric_index(n: int, r: int) -> torch.Tensor:
  """Indices of `abc|cba` padding by r on each side of length n."""
  return torch.cat([torch.arange(r - 1, -1, -1), torch.arange(n),
                    torch.arange(n - 1, n - 1 - r, -1)])


class LCN(nn.Module):
  """`lcn_lib.lcn` over the last two axes of (..., H, W)."""

  def __init__(self, sigma=lcn_lib.DEFAULT_SIGMA,
               kernel_size=lcn_lib.DEFAULT_KERNEL_SIZE, eps=lcn_lib.DEFAULT_EPS):
    super().__init__()
    taps = torch.tensor(lcn_lib.gaussian_kernel_1d(sigma, kernel_size),
                        dtype=torch.float32)
    self.register_buffer("kh", taps.view(1, 1, -1, 1))
    self.register_buffer("kw", taps.view(1, 1, 1, -1))
    self.r = kernel_size // 2
    self.eps = eps

  def blur(self, x_NHW: torch.Tensor) -> torch.Tensor:
    n, h, w = x_NHW.shape
    x = x_NHW.index_select(1, _symmetric_index(h, self.r))
    x = x.index_select(2, _symmetric_index(w, self.r))
    x = F.conv2d(x[:, None], self.kh)
    return F.conv2d(x, self.kw)[:, 0]

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    shape = x.shape
    x = x.reshape(-1, *shape[-2:])
    centred = x - self.blur(x)
    std = torch.sqrt(self.blur(centred * centred))
    c = std.mean(dim=(-2, -1), keepdim=True)
    out = centred / torch.clamp(torch.maximum(std, c), min=self.eps)
    return out.reshape(shape)


class Block(nn.Module):
  """Depthwise + pointwise conv, batch norm, ReLU, dropout, 2x2 max-pool."""

  def __init__(self, cin: int, cm: int, features: int, dropout: float):
    super().__init__()
    self.dw = nn.Conv3d(cin, cm, 3, padding=1, groups=cin)
    self.pw = nn.Conv3d(cm, features, 1)
    # Keras/Flax momentum 0.99 is PyTorch's 0.01.
    self.bn = nn.BatchNorm3d(features, eps=1e-3, momentum=0.01)
    self.drop = nn.Dropout(dropout)
    self.pool = nn.MaxPool3d((1, 2, 2))

  def forward(self, x):
    return self.pool(self.drop(F.relu(self.bn(self.pw(self.dw(x))))))


class Peer(nn.Module):
  """The two-stream 3D-CNN in PyTorch; input (B, 2, 2, H, W, 1) in [0, 1]."""

  def __init__(self, channels=(16, 32, 64), dense_features=128,
               dropout_rate=0.2, use_lcn=True, channels_last=True):
    super().__init__()
    self.lcn = LCN() if use_lcn else None
    self.channels_last = channels_last
    blocks, cin = [], 1
    for i, f in enumerate(channels):
      cm = f if (i == 0 and f % cin == 0) else cin   # expand_first
      blocks.append(Block(cin, cm, f, dropout_rate))
      cin = f
    self.blocks = nn.Sequential(*blocks)
    self.dense_0 = nn.Linear(2 * cin, dense_features)
    self.dense_res = nn.Linear(dense_features, dense_features)
    self.logits = nn.Linear(dense_features, 2)

  def forward(self, x_BSTHWC: torch.Tensor) -> torch.Tensor:
    b, s, t, h, w, _ = x_BSTHWC.shape
    x = x_BSTHWC[..., 0]
    if self.lcn is not None:
      x = self.lcn(x)
    x = x.reshape(b * s, 1, t, h, w)
    if self.channels_last:
      x = x.contiguous(memory_format=torch.channels_last_3d)
    x = self.blocks(x)
    feats = x.mean(dim=(2, 3, 4)).reshape(b, -1)
    hidden = F.relu(self.dense_0(feats))
    hidden = hidden + F.relu(self.dense_res(hidden))
    return self.logits(hidden)


def load_flax_variables(peer: Peer, variables) -> Peer:
  """Copies our Flax variables ({'params', 'batch_stats'}) into `peer`."""
  p = variables["params"]
  stats = variables.get("batch_stats", {})
  t = lambda a: torch.from_numpy(np.array(a, np.float32))
  with torch.no_grad():
    for i, blk in enumerate(peer.blocks):
      name = f"block_{i}"
      bp = p["stream"][name]
      # (kt, kh, kw, 1, Cm) -> (Cm, 1, kt, kh, kw); same grouping order.
      blk.dw.weight.copy_(t(np.transpose(bp["depthwise"]["kernel"],
                                         (4, 3, 0, 1, 2))))
      blk.dw.bias.copy_(t(bp["depthwise"]["bias"]))
      pw = np.asarray(bp["pointwise"]["kernel"])     # (Cm, F)
      blk.pw.weight.copy_(t(pw.T[:, :, None, None, None]))
      blk.pw.bias.copy_(t(bp["pointwise"]["bias"]))
      blk.bn.weight.copy_(t(bp["bn"]["scale"]))
      blk.bn.bias.copy_(t(bp["bn"]["bias"]))
      if name in stats.get("stream", {}):
        blk.bn.running_mean.copy_(t(stats["stream"][name]["bn"]["mean"]))
        blk.bn.running_var.copy_(t(stats["stream"][name]["bn"]["var"]))
    for name in ("dense_0", "dense_res", "logits"):
      lin = getattr(peer, name)
      lin.weight.copy_(t(np.asarray(p[name]["kernel"]).T))
      lin.bias.copy_(t(p[name]["bias"]))
  return peer


def weighted_bce(logits, labels, presence_weight=0.75,
                 class_weights=(0.1, 0.9)):
  """Equation 2 as `mespot_jax.train.losses.yap_weighted_bce` (weighted)."""
  m = torch.tensor(class_weights, dtype=torch.float32)
  pos = -F.logsigmoid(logits)
  neg = -F.logsigmoid(-logits)
  w = presence_weight
  return ((m * (w * labels * pos + (1 - w) * (1 - labels) * neg)).sum(-1)
          ).mean()


def check_equal(variables, x_BSTHWC, ours_logits, atol: float = 1e-4) -> float:
  """Asserts the peer (eval mode) gives our logits; returns max |diff|."""
  peer = load_flax_variables(Peer(), variables).eval()
  with torch.no_grad():
    theirs = peer(torch.from_numpy(np.array(x_BSTHWC, np.float32))).numpy()
  diff = float(np.abs(theirs - np.asarray(ours_logits)).max())
  if not diff <= atol:
    raise AssertionError(f"PyTorch peer differs from ours by {diff} > {atol}")
  return diff


def _median_s(fn, steps: int) -> float:
  return bench_util.median_seconds(fn, steps)


def _data(batch: int, size: int, seed: int):
  g = torch.Generator().manual_seed(seed)
  x = torch.rand((batch, 2, 2, size, size, 1), generator=g)
  y = (torch.rand((batch, 2), generator=g) > 0.7).float()
  return x, y


def bench_train(variables, dropout: float, size: int, batch: int,
                steps: int) -> dict:
  """Eager, channels-last training step (forward, backward, Adam)."""
  peer = load_flax_variables(Peer(dropout_rate=dropout), variables).train()
  opt = torch.optim.Adam(peer.parameters(), lr=1e-3)
  x, y = _data(batch, size, 0)

  def step():
    opt.zero_grad(set_to_none=True)
    loss = weighted_bce(peer(x), y)
    loss.backward()
    opt.step()

  step()  # warm-up
  sec = _median_s(step, steps)
  return {"framework": "torch", "mode": "train", "impl": "eager/chlast",
          "dropout": dropout, "batch": batch, "samples_per_s": batch / sec,
          "step_s": sec, "torch": torch.__version__,
          "threads": torch.get_num_threads()}


def bench_infer(variables, size: int, batch: int, steps: int,
                compiled: bool) -> dict:
  """Inference (running statistics), eager or `torch.compile`d."""
  peer = load_flax_variables(Peer(), variables).eval()
  fn = torch.compile(peer, dynamic=False) if compiled else peer
  x, _ = _data(batch, size, 2)
  with torch.inference_mode():
    t0 = time.perf_counter()
    fn(x)  # warm-up (compiles)
    compile_s = time.perf_counter() - t0
    sec = _median_s(lambda: fn(x), steps)
  return {"framework": "torch", "mode": "infer",
          "impl": "compile/chlast" if compiled else "eager/chlast",
          "dropout": 0.0, "batch": batch, "samples_per_s": batch / sec,
          "step_s": sec, "compile_s": compile_s, "torch": torch.__version__,
          "threads": torch.get_num_threads()}


def _unflatten(npz) -> dict:
  tree = {}
  for key in npz.files:
    node = tree
    *path, leaf = key.split("/")
    for p in path:
      node = node.setdefault(p, {})
    node[leaf] = npz[key]
  return tree


def main(argv) -> None:
  """Times the peer in its own process (model_throughput.py runs it).

  Usage: torch_peer.py VARIABLES.npz OUT.json IMAGE_SIZE TRAIN_BATCH
    INFER_BATCHES(comma) DROPOUTS(comma) STEPS. The npz holds our
  variables ('params/...', 'batch_stats/...') and a check input 'check/x'
  with our logits 'check/logits'.
  """
  path, out, size, train_batch, infer_batches, dropouts, steps = argv[1:8]
  tree = _unflatten(np.load(path))
  variables = {"params": tree["params"],
               "batch_stats": tree.get("batch_stats", {})}
  diff = check_equal(variables, tree["check"]["x"], tree["check"]["logits"])
  size, steps = int(size), int(steps)
  rows = [bench_train(variables, float(r), size, int(train_batch), steps)
          for r in dropouts.split(",")]
  for b in (int(v) for v in infer_batches.split(",")):
    for compiled in (False, True):
      rows.append(bench_infer(variables, size, b, steps, compiled))
  for r in rows:
    r["max_abs_logit_diff"] = diff
  with open(out, "w") as f:
    json.dump(rows, f)


if __name__ == "__main__":
  main(sys.argv)
