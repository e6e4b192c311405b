"""Pan et al. (2020): the local bilinear CNN (LBCNN) of one video frame.

One frame is the aligned face and its four ROI crops (left brow, right brow,
nose, mouth; `face.align.ROI_NAMES`). Each goes through a shallow
AlexNet-like backbone (the paper's "three convolutional layers and two
down-sampling layers": conv-pool-conv-pool-conv, ReLU), whose last feature
map is bilinearly pooled as in Lin et al.'s B-CNN (`bilinear_pool`: the
outer product of the features with themselves averaged over locations,
signed square root, L2 normalisation). The face's pooled feature (global)
and the four ROIs' (local, concatenated in ROI order) are fused by
concatenation into the paper's two fully connected layers, the last one the
3-class logits: neutral, micro, macro (`CLASSES`).

Choices the paper leaves open (docs/LBCNN.md): the global branch and the
local branch have their own weights; the four ROIs share one local backbone
by default (`share_roi_weights`), so every filter learns from all four
regions (the brows are mirror images of each other) while the ROI's place
in the concatenated feature keeps which region said what; False gives each
ROI its own backbone. Channel counts, kernel sizes, batch norm and dropout
are config fields.

`crop_rois` cuts and resizes the ROI crops on device from per-frame boxes
(`jax.image.scale_and_translate`, antialiased linear), so batches carry the
face and its boxes, not five images.
"""
import functools
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

CLASSES = ("neutral", "micro", "macro")
NUM_ROIS = 4


def bilinear_pool(x_BHWC, eps: float = 1e-12):
  """B-CNN pooling of a feature map (Lin et al. 2015, symmetric form).

  Args:
    x_BHWC: (B, H, W, C) features.
    eps: keeps the square root's gradient and the norm finite at zero.

  Returns:
    (B, C * C) float32: G = mean over the H * W locations of f f^T
    (row-major flattened), then sign(G) sqrt(|G| + eps), then divided by
    its L2 norm.
  """
  b, h, w, c = x_BHWC.shape
  f = x_BHWC.reshape(b, h * w, c).astype(jnp.float32)
  g = jnp.einsum("bnc,bnd->bcd", f, f) / (h * w)
  g = g.reshape(b, c * c)
  g = jnp.sign(g) * jnp.sqrt(jnp.abs(g) + eps)
  norm = jnp.sqrt(jnp.sum(g * g, axis=-1, keepdims=True))
  return g / jnp.maximum(norm, eps)


def crop_rois(x_BHWC, boxes_BR4, size: int):
  """The ROI crops of a batch of faces, each resized to `size` x `size`.

  Args:
    x_BHWC: (B, H, W, C) float faces.
    boxes_BR4: (B, R, 4) [x0, y0, x1, y1] boxes in pixels of `x` (x1, y1
      exclusive: the box covers pixels x0 .. x1 - 1), as the builders
      store them (`face.align.roi_boxes`).
    size: side of the output crops.

  Returns:
    (B, R, size, size, C): box [x0, x1) is stretched onto [0, size)
    (antialiased linear interpolation; at scale 1 and integer offsets the
    crop is the pixels themselves).
  """
  c = x_BHWC.shape[-1]

  def one(img_HWC, box_4):
    box_4 = box_4.astype(jnp.float32)
    sy = size / jnp.maximum(box_4[3] - box_4[1], 1.0)
    sx = size / jnp.maximum(box_4[2] - box_4[0], 1.0)
    return jax.image.scale_and_translate(
        img_HWC, (size, size, c), (0, 1), jnp.stack([sy, sx]),
        jnp.stack([-box_4[1] * sy, -box_4[0] * sx]), method="linear",
        antialias=True)

  return jax.vmap(jax.vmap(one, in_axes=(None, 0)))(x_BHWC, boxes_BR4)


class Backbone(nn.Module):
  """conv-pool-conv-pool-conv, ReLU after each conv (AlexNet, shallower).

  Attributes:
    features: channels of the three convolutions.
    kernels: their square kernel sides.
    strides: their strides.
    pool_window, pool_stride: the two max-pools (AlexNet: 3, 2).
    use_batchnorm: batch norm after each convolution.
    bn_momentum: its running-average momentum.
    dtype: compute dtype.
  """
  features: Sequence[int] = (32, 64, 64)
  kernels: Sequence[int] = (5, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  pool_window: int = 3
  pool_stride: int = 2
  use_batchnorm: bool = True
  bn_momentum: float = 0.9
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_BHWC, train: bool):
    x = x_BHWC.astype(self.dtype)
    for i, (f, k, s) in enumerate(zip(self.features, self.kernels,
                                      self.strides)):
      x = nn.Conv(f, (k, k), strides=(s, s), padding="SAME",
                  use_bias=not self.use_batchnorm, dtype=self.dtype,
                  name=f"conv{i}")(x)
      if self.use_batchnorm:
        x = nn.BatchNorm(use_running_average=not train,
                         momentum=self.bn_momentum, dtype=self.dtype,
                         name=f"bn{i}")(x)
      x = nn.relu(x)
      if i < 2:
        w, p = self.pool_window, self.pool_stride
        x = nn.max_pool(x, (w, w), (p, p), padding="SAME")
    return x


class LBCNN(nn.Module):
  """Global face branch + local ROI branch, bilinear pooled, fused.

  `__call__(x, train)` with `x = {"face": (B, H, W, C), "rois": (B, 4, R,
  R, C)}` float in [0, 1] returns logits (B, 3) over `CLASSES`.

  Attributes:
    features, kernels, strides, pool_window, pool_stride, use_batchnorm,
      bn_momentum: of every `Backbone`.
    hidden: width of the first fully connected layer.
    dropout_rate: dropout before each fully connected layer.
    share_roi_weights: one local backbone for the four ROIs (True) or one
      per ROI.
    num_classes: outputs (3: neutral, micro, macro).
    dtype: compute dtype (pooling and logits are float32).
  """
  features: Sequence[int] = (32, 64, 64)
  kernels: Sequence[int] = (5, 3, 3)
  strides: Sequence[int] = (1, 1, 1)
  pool_window: int = 3
  pool_stride: int = 2
  use_batchnorm: bool = True
  bn_momentum: float = 0.9
  hidden: int = 256
  dropout_rate: float = 0.5
  share_roi_weights: bool = True
  num_classes: int = len(CLASSES)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    backbone = functools.partial(
        Backbone, features=tuple(self.features), kernels=tuple(self.kernels),
        strides=tuple(self.strides), pool_window=self.pool_window,
        pool_stride=self.pool_stride, use_batchnorm=self.use_batchnorm,
        bn_momentum=self.bn_momentum, dtype=self.dtype)
    face_BHWC, rois_BRhwC = x["face"], x["rois"]
    b, r = rois_BRhwC.shape[:2]
    glob = bilinear_pool(backbone(name="global")(face_BHWC, train))
    if self.share_roi_weights:
      feats = backbone(name="local")(
          rois_BRhwC.reshape((b * r,) + rois_BRhwC.shape[2:]), train)
      local = bilinear_pool(feats).reshape(b, -1)
    else:
      local = jnp.concatenate(
          [bilinear_pool(backbone(name=f"local{k}")(rois_BRhwC[:, k], train))
           for k in range(r)], axis=-1)
    z = jnp.concatenate([glob, local], axis=-1)
    z = nn.Dropout(self.dropout_rate, deterministic=not train)(z)
    z = nn.relu(nn.Dense(self.hidden, dtype=self.dtype, name="fc1")(z))
    z = nn.Dropout(self.dropout_rate, deterministic=not train)(z)
    return nn.Dense(self.num_classes, dtype=jnp.float32, name="fc2")(z)
