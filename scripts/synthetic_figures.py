"""Draws one figure per `synthetic_lv` config into docs/figures/.

  python scripts/synthetic_figures.py [--out=docs/figures] [--configs=a,b]

Each figure shows a full source frame of one video (at the apex of a
micro-expression when the video has one, the face box of the renderer
drawn on it) and that video's timeline: the labelled intervals (macro,
micro), the blinks (eye closure) and the head motion (displacement of the
face centre from its median, in % of the face width, and the rotation).
The video shown is the one with the most intervals among those that hold
a micro-expression. Only the plans and one
frame are rendered, so all figures take a few seconds; nothing is built.
"""
import os

from absl import app
from absl import flags
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax import io_utils  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.synthetic import render  # pylint: disable=g-import-not-at-top,wrong-import-position

_OUT = flags.DEFINE_string("out", "docs/figures", "Output folder.")
_CONFIGS = flags.DEFINE_list("configs", None, "Configs (default: all "
                             "listed).")


def draw(config: str, path: str) -> str:
  """Draws the figure of one config into `path` (PNG); returns a caption."""
  b = syn.Builder(data_dir="/nonexistent", config=config)
  params = b.video_params()
  plans = [render.plan_video(p) for _, _, p in params]
  k = max(range(len(plans)), key=lambda i: (
      any(e.type == "micro" for e in plans[i].events), len(plans[i].events)))
  video, _, p = params[k]
  plan = plans[k]
  micros = [e for e in plan.events if e.type == "micro"]
  shown = micros[0].apex if micros else (
      plan.events[0].apex if plan.events else 1)
  frame = render.Renderer(p).frame(shown)
  t_s = np.arange(1, p.num_frames + 1) / p.fps
  fig = plt.figure(figsize=(11, 3.6), dpi=80)
  grid = fig.add_gridspec(3, 2, width_ratios=(1, 2.6), hspace=0.15)
  ax = fig.add_subplot(grid[:, 0])
  ax.imshow(frame, cmap="gray" if frame.ndim == 2 else None, vmin=0,
            vmax=255)
  ax.set_title(f"{config}: {video}, frame {shown}"
               + (" (micro apex)" if micros else ""), fontsize=9)
  ax.axis("off")
  lab = fig.add_subplot(grid[0, 1])
  for e in plan.events:
    colour = "tab:red" if e.type == "micro" else "tab:blue"
    lab.axvspan(e.onset / p.fps, e.offset / p.fps,
                ymin=0.55 if e.type == "micro" else 0.05,
                ymax=0.95 if e.type == "micro" else 0.45, color=colour)
  lab.set_yticks([0.25, 0.75], ["macro", "micro"], fontsize=8)
  lab.set_ylim(0, 1)
  lab.set_title(f"{len(plan.events)} intervals "
                f"({len(micros)} micro), {p.num_frames} frames at "
                f"{p.fps:g} fps", fontsize=9)
  blink = fig.add_subplot(grid[1, 1], sharex=lab)
  blink.plot(t_s, plan.blink_T, color="k", lw=0.7)
  blink.set_ylabel("blink", fontsize=8)
  blink.set_ylim(-0.05, 1.05)
  head = fig.add_subplot(grid[2, 1], sharex=lab)
  centre = plan.pose_T4[:, :2] - np.median(plan.pose_T4[:, :2], 0)
  head.plot(t_s, 100 * np.linalg.norm(centre, axis=1) / p.face_size,
            color="tab:green", lw=0.7, label="shift, % face width")
  head.plot(t_s, np.abs(plan.pose_T4[:, 2]), color="tab:purple", lw=0.7,
            label="|rotation|, degrees")
  head.legend(fontsize=7, loc="upper right", frameon=False)
  head.set_xlabel("seconds", fontsize=8)
  head.set_xlim(0, t_s[-1])
  for a in (lab, blink):
    plt.setp(a.get_xticklabels(), visible=False)
  for a in (lab, blink, head):
    a.tick_params(labelsize=7)
  with io_utils.atomic_path(path, suffix=".png") as tmp:
    fig.savefig(tmp, format="png", bbox_inches="tight")
  plt.close(fig)
  return f"{config}: video {video}, {len(plan.events)} intervals"


def main(argv):
  del argv
  configs = _CONFIGS.value or [c.name for c in syn.Builder.BUILDER_CONFIGS]
  os.makedirs(_OUT.value, exist_ok=True)
  for config in configs:
    path = os.path.join(_OUT.value, f"synthetic_lv_{config}.png")
    print(draw(config, path), "->", path)


if __name__ == "__main__":
  app.run(main)
