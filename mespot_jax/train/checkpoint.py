"""Orbax checkpoints of the fold-stacked state, with JSON metadata.

A checkpoint holds the stacked train state, each fold's best variables so
far, and a JSON record of the loop (epoch, early-stopping state, the data
iterator state). Training always resumes from the latest one in the workdir.
"""
import os

import jax
import orbax.checkpoint as ocp


class Checkpointer:
  """Saves and restores `{"state", "best"}` plus JSON `meta` per epoch."""

  def __init__(self, directory: str, max_to_keep: int = 2):
    self.directory = os.path.abspath(directory)
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep,
                                             create=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, tree, meta: dict) -> None:
    self._manager.save(step, args=ocp.args.Composite(
        tree=ocp.args.StandardSave(tree), meta=ocp.args.JsonSave(meta)))
    # Asynchronous: the write overlaps the next epoch; the manager waits for
    # it before the next save, and `close` waits for the last one.

  def restore(self, step: int, target):
    """Restores (tree, meta); `target` gives structure, dtypes, shardings."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    out = self._manager.restore(step, args=ocp.args.Composite(
        tree=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
    return out["tree"], out["meta"]

  def restore_meta(self, step: int) -> dict:
    out = self._manager.restore(step, args=ocp.args.Composite(
        meta=ocp.args.JsonRestore()))
    return out["meta"]

  def close(self):
    self._manager.wait_until_finished()
    self._manager.close()
