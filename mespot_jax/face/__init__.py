"""Face detection, landmarks, similarity alignment, ROIs and video tracking.

`FaceDetector` / `LandmarkPredictor` (dlib + Haar fallback, offline models),
`similarity_transform` / `warp_face` / `roi_boxes` (canonical aligned crop),
`VideoAligner` (detect once, track, smooth over a video).
"""

from mespot_jax.face.align import MEAN_SHAPE_68
from mespot_jax.face.align import ROI_NAMES
from mespot_jax.face.align import roi_boxes
from mespot_jax.face.align import similarity_transform
from mespot_jax.face.align import template_68
from mespot_jax.face.align import transform_points
from mespot_jax.face.align import warp_face
from mespot_jax.face.detect import FaceDetector
from mespot_jax.face.detect import LandmarkPredictor
from mespot_jax.face.detect import box_from_landmarks
from mespot_jax.face.track import AlignedFrame
from mespot_jax.face.track import VideoAligner

__all__ = [
    "AlignedFrame", "FaceDetector", "LandmarkPredictor", "MEAN_SHAPE_68",
    "ROI_NAMES", "VideoAligner", "box_from_landmarks", "roi_boxes",
    "similarity_transform", "template_68", "transform_points", "warp_face",
]
