"""Evaluation metrics: interval spotting protocols, frame scores, recognition.

Submodules (import them directly; this package imports nothing heavy):
  `io`: interval CSV reading and writing (`IntervalRow`).
  `intervals`: IoU and the spotting protocols `megc2020`,
    `megc2020_pairs`, `one_to_one`, `str`.
  `frame`: per-frame F1 and ROC AUC.
  `recognition`: confusion matrix, UF1 and UAR.
"""
