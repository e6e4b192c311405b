"""Spotting: per-frame scores -> expression intervals.

* `postprocess`: the `automated` (Butterworth) and `manual` (Savitzky-Golay +
  merging) post-processors, by name from `postprocess.POSTPROCESSORS`.
* `threshold`: ROC-based thresholds fitted on training / validation frames.
* `skips`: the k-th frame and random frame skips of Table 3 (Yap et al.).
* `baseline`: the parameter-free frame-difference spotter.
"""
