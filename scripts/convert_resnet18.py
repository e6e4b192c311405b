r"""Converts a torchvision resnet18 state dict into the `.npz` partnet reads.

Usage (on a machine with torch; nothing is downloaded):

  python scripts/convert_resnet18.py --src=resnet18-f37072fd.pth \
      --out=resnet18_imagenet.npz

`--src` is a file you supply: a `torch.save`d state dict of
`torchvision.models.resnet18` (the ImageNet weights file torchvision
caches, or `torch.save(model.state_dict(), path)`). The `.npz` keeps
torchvision's key names and layouts (OIHW kernels); the layout change
(OIHW -> HWIO, the stem's 3 RGB channels averaged and copied to the flow
channels) happens when partnet loads it (`models.partnet.
load_torchvision_npz`), so this script only unpacks tensors and needs
torch, while partnet does not. Then train with
`--config.partnet.model.pretrained=resnet18_imagenet.npz`
(`partnet.model.width` must be 64).
"""
import argparse

import numpy as np


def state_dict_to_arrays(state_dict) -> dict:
  """{key: float32 numpy array}; integer counters (`num_batches_tracked`)
  are dropped."""
  out = {}
  for k, v in state_dict.items():
    a = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
    if k.endswith("num_batches_tracked"):
      continue
    out[k] = a.astype(np.float32)
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--src", required=True,
                      help="torch state dict (.pth) of torchvision resnet18")
  parser.add_argument("--out", required=True, help="output .npz")
  args = parser.parse_args()
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise SystemExit("convert_resnet18 needs torch to read a .pth; run it "
                     "where torch is installed and copy the .npz") from None
  sd = torch.load(args.src, map_location="cpu")
  if isinstance(sd, dict) and "state_dict" in sd:
    sd = sd["state_dict"]
  arrays = state_dict_to_arrays(sd)
  if "conv1.weight" not in arrays or "layer4.1.bn2.running_var" not in arrays:
    raise SystemExit(f"{args.src}: not a torchvision resnet18 state dict "
                     "(no conv1.weight / layer4.1.bn2.running_var)")
  np.savez(args.out, **arrays)
  print(f"wrote {len(arrays)} arrays to {args.out}")


if __name__ == "__main__":
  main()
