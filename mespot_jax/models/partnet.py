"""Liu et al.'s part-based recogniser: ResNet18 on the onset->apex flow.

Reading of the paper (Liu et al., "A Neural Micro-Expression Recognizer",
FG 2019; sections II-B to II-E, Fig. 1, 3):

* Input `x_BHWC`: the optical flow from a clip's onset to its apex frame,
  (u, v) in pixels (C = 2), optionally with the optical strain as a third
  channel. The model applies no normalisation of its own: the stem's
  batch norm follows its first convolution.
* Backbone: ResNet18 (He et al.; torchvision's layout: 7x7/2 stem conv,
  batch norm, ReLU, 3x3/2 max-pool, four stages of two basic blocks, 64,
  128, 256, 512 channels times `width / 64`, a 1x1/2 projection where the
  shape changes). From scratch by default; `pretrained` names a `.npz` of
  torchvision's `resnet18` state dict (`scripts/convert_resnet18.py`)
  whose weights initialise the backbone (`load_torchvision_npz`).
* Part heads (`parts=True`): the last feature map (B, h, w, F) is split
  into a top and a bottom half along the rows (rows [0, ceil(h/2)) and
  [floor(h/2), h): with an odd h the middle row belongs to both), each half
  is average-pooled to (B, F), reduced by its own fully connected layer
  (`reduce_features`, ReLU) and classified by its own fully connected
  layer; a third classifier sees the concatenation of the two reduced
  vectors. Outputs `top`, `bottom`, `concat` logits; the loss is
  L_t + L_b + L_c (`methods/partnet.py`). Without parts: one global
  average pool, one reduction and the `concat` classifier only.
* Adversarial domain adaptation (`adversarial=True`): a discriminator of
  two fully connected layers (`disc_features`, ReLU, then one logit:
  macro vs micro) on the concatenated reduced vector, behind a gradient
  reversal layer (`grad_reverse`: identity forward, -lambda times the
  gradient backward; Ganin and Lempitsky). The discriminator minimises its
  loss; through the reversal the encoder maximises it, which is the
  paper's `- lambda L_adv`. `grl_lambda(p)` is Ganin and Lempitsky's
  schedule 2 / (1 + exp(-10 p)) - 1 over training progress p in [0, 1].
* Batch norm as torchvision: epsilon 1e-5, running averages with
  torch's momentum 0.1 (Flax momentum 0.9).
"""
import functools
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.errors import InputError

STAGES = (2, 2, 2, 2)  # ResNet18: basic blocks per stage
BN_MOMENTUM = 0.9      # torch's 0.1
BN_EPS = 1e-5


# --------------------------------------------------------- gradient reversal
@jax.custom_vjp
def grad_reverse(x, lam):
  """Identity forward; backward the gradient times -lam (lam gets none)."""
  del lam
  return x


def _grl_fwd(x, lam):
  return x, lam


def _grl_bwd(lam, g):
  return (jax.tree.map(lambda t: -lam * t, g), jnp.zeros_like(lam))


grad_reverse.defvjp(_grl_fwd, _grl_bwd)


def grl_lambda(progress, max_lambda: float = 1.0):
  """Ganin and Lempitsky's schedule: max_lambda (2 / (1 + exp(-10 p)) - 1).

  Args:
    progress: p, the fraction of training done, in [0, 1].
    max_lambda: the value approached at p = 1.

  Returns:
    lambda, 0 at p = 0, rising to about 0.9999 max_lambda at p = 1.
  """
  p = jnp.clip(jnp.asarray(progress, jnp.float32), 0.0, 1.0)
  return max_lambda * (2.0 / (1.0 + jnp.exp(-10.0 * p)) - 1.0)


def split_halves(f_BHWF: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Average pools of the top and bottom halves of a feature map.

  Args:
    f_BHWF: (B, h, w, F), h >= 1.

  Returns:
    (top_BF, bottom_BF): means over rows [0, ceil(h/2)) and
    [floor(h/2), h) and all columns (h odd: the middle row in both).
  """
  h = f_BHWF.shape[1]
  top = f_BHWF[:, :(h + 1) // 2].mean(axis=(1, 2))
  bottom = f_BHWF[:, h // 2:].mean(axis=(1, 2))
  return top, bottom


# ------------------------------------------------------------- the backbone
def _bn(name, train):
  return nn.BatchNorm(use_running_average=not train, momentum=BN_MOMENTUM,
                      epsilon=BN_EPS, name=name)


class BasicBlock(nn.Module):
  """Two 3x3 convolutions with a residual (torchvision's `BasicBlock`)."""
  features: int
  strides: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    conv = functools.partial(nn.Conv, use_bias=False, dtype=self.dtype,
                             kernel_init=nn.initializers.kaiming_normal())
    y = conv(self.features, (3, 3), self.strides, padding=((1, 1), (1, 1)),
             name="conv1")(x)
    y = nn.relu(_bn("bn1", train)(y))
    y = conv(self.features, (3, 3), 1, padding=((1, 1), (1, 1)),
             name="conv2")(y)
    y = _bn("bn2", train)(y)
    if self.strides != 1 or x.shape[-1] != self.features:
      x = conv(self.features, (1, 1), self.strides, padding="VALID",
               name="downsample_conv")(x)
      x = _bn("downsample_bn", train)(x)
    return nn.relu(x + y)


class ResNet18(nn.Module):
  """ResNet18 up to its last feature map (no pooling, no `fc`).

  Attributes:
    width: channels of the first stage (64 in ResNet18; smaller for CPU).
    dtype: compute dtype of the convolutions.
  """
  width: int = 64
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_BHWC, train: bool):
    x = nn.Conv(self.width, (7, 7), 2, padding=((3, 3), (3, 3)),
                use_bias=False, dtype=self.dtype,
                kernel_init=nn.initializers.kaiming_normal(),
                name="conv1")(x_BHWC)
    x = nn.relu(_bn("bn1", train)(x))
    x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
    for s, blocks in enumerate(STAGES):
      for b in range(blocks):
        x = BasicBlock(self.width * 2 ** s, 2 if (s > 0 and b == 0) else 1,
                       self.dtype, name=f"layer{s + 1}_{b}")(x, train)
    return x


class PartNet(nn.Module):
  """ResNet18 with part heads and an optional domain discriminator.

  Attributes:
    num_classes: expression classes (3).
    width: ResNet18 first-stage channels (64 = ResNet18).
    parts: top/bottom heads (else one global head).
    adversarial: the discriminator behind the gradient reversal.
    reduce_features: width of each reduction layer.
    disc_features: hidden width of the discriminator.
    dtype: compute dtype of the backbone; heads and logits are float32.
    pretrained: "" (from scratch) or a torchvision resnet18 `.npz`:
      `init` then returns the backbone's variables from it
      (`load_torchvision_npz`).
  """
  num_classes: int
  width: int = 64
  parts: bool = True
  adversarial: bool = True
  reduce_features: int = 256
  disc_features: int = 256
  dtype: Any = jnp.float32
  pretrained: str = ""

  def init(self, *args, **kwargs):
    """`nn.Module.init`, the backbone then loaded from `pretrained`."""
    variables = super().init(*args, **kwargs)
    if self.pretrained:
      variables = load_torchvision_npz(variables, self.pretrained)
    return variables

  @nn.compact
  def __call__(self, inputs, train: bool):
    """Logits of every head.

    Args:
      inputs: {"x": (B, H, W, C) flow, "lam": scalar reversal weight
        (optional, default 0)}, or the flow array alone.
      train: batch statistics (else the running averages).

    Returns:
      {"concat": (B, classes)} and, with parts, "top" and "bottom"; with
      the adversary, "domain": (B,) macro-vs-micro logits. float32.
    """
    if not isinstance(inputs, (dict, flax.core.FrozenDict)):
      inputs = {"x": inputs}
    x = jnp.asarray(inputs["x"], jnp.float32)
    if x.ndim != 4:
      raise ValueError(f"PartNet expects (batch, H, W, C) flows, got "
                       f"{x.shape}")
    lam = jnp.asarray(inputs.get("lam", 0.0), jnp.float32)
    f = ResNet18(self.width, self.dtype, name="backbone")(x, train)
    f = f.astype(jnp.float32)
    if f.shape[1] < 2 and self.parts:
      raise ValueError(f"the last feature map has {f.shape[1]} row(s) for a "
                       f"{x.shape[1]}-px input: the part heads need >= 2 "
                       "(an input of >= 33 px)")
    dense = nn.Dense
    out = {}
    if self.parts:
      top, bottom = split_halves(f)
      z_t = nn.relu(dense(self.reduce_features, name="reduce_top")(top))
      z_b = nn.relu(dense(self.reduce_features, name="reduce_bottom")(bottom))
      out["top"] = dense(self.num_classes, name="cls_top")(z_t)
      out["bottom"] = dense(self.num_classes, name="cls_bottom")(z_b)
      z = jnp.concatenate([z_t, z_b], axis=-1)
    else:
      z = nn.relu(dense(self.reduce_features, name="reduce")(
          f.mean(axis=(1, 2))))
    out["concat"] = dense(self.num_classes, name="cls_concat")(z)
    if self.adversarial:
      h = grad_reverse(z, lam)
      h = nn.relu(dense(self.disc_features, name="disc_hidden")(h))
      out["domain"] = dense(1, name="disc_out")(h)[:, 0]
    return out


# ---------------------------------------------------- torchvision weights
def torch_key(path: tuple[str, ...]) -> str | None:
  """The torchvision `resnet18` state-dict key of a backbone variable.

  Args:
    path: the variable's path below `backbone`, e.g. ("layer1_0", "conv1",
      "kernel") or ("bn1", "mean").

  Returns:
    e.g. "layer1.0.conv1.weight", "bn1.running_mean"; None for a path with
    no counterpart.
  """
  leaf = {"kernel": "weight", "scale": "weight", "bias": "bias",
          "mean": "running_mean", "var": "running_var"}
  if not path or path[-1] not in leaf:
    return None
  mods = []
  for p in path[:-1]:
    if p.startswith("layer") and "_" in p:
      mods.extend(p.split("_"))
    elif p == "downsample_conv":
      mods.extend(["downsample", "0"])
    elif p == "downsample_bn":
      mods.extend(["downsample", "1"])
    else:
      mods.append(p)
  return ".".join(mods + [leaf[path[-1]]])


def convert_array(path: tuple[str, ...], a: np.ndarray,
                  shape: tuple[int, ...]) -> np.ndarray:
  """A torchvision array in the layout of the Flax variable at `path`.

  Convolution kernels go from OIHW to HWIO. The stem's 3 RGB input
  channels are averaged into one and that copied to each of the flow's
  `shape[2]` channels (the cross-modality initialisation of flow networks:
  RGB filters have no flow counterpart; the mean keeps their spatial
  pattern). Everything else is copied.

  Raises:
    InputError: when the shapes do not match (another width or depth).
  """
  a = np.asarray(a, np.float32)
  if path[-1] == "kernel":
    a = np.transpose(a, (2, 3, 1, 0))  # OIHW -> HWIO
    if path[0] == "conv1" and a.shape[2] != shape[2]:
      a = np.repeat(a.mean(axis=2, keepdims=True), shape[2], axis=2)
  if a.shape != tuple(shape):
    raise InputError(f"torchvision weight {torch_key(path)} has shape "
                     f"{a.shape} in our layout, the model needs {tuple(shape)}"
                     "; ImageNet weights need partnet.model.width=64")
  return a


@functools.lru_cache(maxsize=4)
def _read_npz(path: str) -> dict:
  try:
    with np.load(path) as z:
      return {k: np.asarray(z[k]) for k in z.files}
  except (OSError, ValueError) as e:
    raise InputError(f"partnet: cannot read the weights file {path!r} ({e});"
                     " make it with scripts/convert_resnet18.py") from None


def load_torchvision_npz(variables: dict, path: str) -> dict:
  """Backbone variables replaced by a torchvision resnet18 state dict.

  Args:
    variables: {"params": ..., "batch_stats": ...} of a `PartNet` (or of a
      bare `ResNet18`: its variables have no "backbone" level).
    path: `.npz` with torchvision's key names (`scripts/convert_resnet18.py`).

  Returns:
    A copy of `variables` whose backbone kernels, batch-norm scales,
    biases and running statistics come from the file (`convert_array`);
    the heads, and torchvision's `fc`, are left out.

  Raises:
    InputError: a backbone variable missing from the file, or a mismatch.
  """
  arrays = _read_npz(path)
  out = {}
  for col in ("params", "batch_stats"):
    tree = flax.core.unfreeze(variables.get(col, {}))
    flat = flax.traverse_util.flatten_dict(tree)
    for p, v in flat.items():
      sub = p[1:] if p[0] == "backbone" else p
      if "backbone" in tree and p[0] != "backbone":
        continue
      key = torch_key(sub)
      if key is None:
        continue
      if key not in arrays:
        raise InputError(f"{path}: no {key!r} (for {'/'.join(p)}); expected "
                         "torchvision resnet18 key names")
      flat[p] = jnp.asarray(convert_array(sub, arrays[key], v.shape))
    out[col] = flax.traverse_util.unflatten_dict(flat)
  return out
