"""Uploaded images (certificate scans, proof files, evidence).

An upload is checked by its content, never by its name: the first bytes must be those of a JPEG,
PNG, GIF or BMP file and Pillow must decode the whole picture. It is then re-encoded from its pixels
(JPEG stays JPEG, everything else becomes PNG), which drops EXIF and any bytes appended after the
image. Files are written under ``UPLOAD_FOLDER`` (outside any static folder) with random names and
are only ever served by views that check the reader's scope (``app/views/uploads.py``).

Use in two steps so that nothing is written when anything else is invalid::

    img = check_image(request.files.get("scan"))   # raises UploadInvalid, writes nothing
    ...validate the rest...
    rel = store_image(img, "org_certificate")       # then write the row; on failure delete_upload(rel)
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

EXTENSIONS = ("jpg", "jpeg", "png", "gif", "bmp")
# First bytes of each accepted format -> Pillow's format name.
SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Refuse decompression bombs: a small file that claims a huge picture. The default of
# ``CE_UPLOAD_MAX_PIXELS``: 25 megapixels holds an A3 page scanned at 300 dpi (17.4 MP; A4 is 8.7 MP)
# and a 24-megapixel camera photo, while decoding and re-encoding it stays under a second and about
# 100 MB (a 6300 x 6300 PNG of 38 KB cost ~3.8 s and 250 MB). Checked on the header, before decoding.
MAX_PIXELS = 25_000_000
CATEGORIES = ("org_certificate", "dereg_proof", "evidence", "reduction_evidence")

MESSAGES = {
    "missing": _l("Choose a file to upload."),
    "name": _l("Invalid file name."),
    "type": _l("Only JPG, JPEG, PNG, GIF or BMP images are accepted."),
    "content": _l("The file is not a valid image."),
    "size": _l("The file is larger than %(mb)s MB."),
    "pixels": _l(
        "The image has more than %(mp)s megapixels. Scan or save it at a lower resolution (300 dpi is enough)."
    ),
}


class UploadInvalid(Exception):
    """The upload was refused; ``code`` is stable, ``str(e)`` is the translated message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self):
        return str(MESSAGES[self.code]) % self.params if self.params else str(MESSAGES[self.code])


@dataclass(frozen=True)
class CheckedImage:
    """A validated, re-encoded image held in memory: ``data`` is safe to write and serve."""

    data: bytes
    ext: str
    mimetype: str
    width: int
    height: int


def max_bytes() -> int:
    return int(current_app.config.get("CE_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    """Largest accepted width x height (``CE_UPLOAD_MAX_PIXELS``)."""
    return int(current_app.config.get("CE_UPLOAD_MAX_PIXELS") or MAX_PIXELS)


def _too_many_pixels(limit: int) -> UploadInvalid:
    return UploadInvalid("pixels", mp=f"{limit / 1_000_000:g}")


def _sniff(head: bytes) -> str | None:
    for magic, fmt in SIGNATURES:
        if head.startswith(magic):
            return fmt
    return None


def _check_name(filename: str) -> str:
    if any(c in filename for c in ("/", "\\", "\x00")) or ".." in filename:
        raise UploadInvalid("name")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EXTENSIONS:
        raise UploadInvalid("type")
    return ext


def check_image(storage) -> CheckedImage:
    """Validate an uploaded file (a werkzeug ``FileStorage``) and re-encode it in memory.

    Guarantees: the name has an image extension and no path parts; the content starts with the
    signature of an accepted format, matches what Pillow decodes, is at most ``CE_UPLOAD_MAX_BYTES``
    and at most ``CE_UPLOAD_MAX_PIXELS`` pixels (read from the header: a larger picture is refused
    before any pixel is decoded); the returned bytes were produced from the decoded pixels only.
    Raises ``UploadInvalid``; never writes anything.
    """
    if storage is None or not getattr(storage, "filename", ""):
        raise UploadInvalid("missing")
    _check_name(storage.filename)
    limit = max_bytes()
    raw = storage.stream.read(limit + 1)
    if not raw:
        raise UploadInvalid("missing")
    if len(raw) > limit:
        raise UploadInvalid("size", mb=round(limit / 1024 / 1024, 1))
    fmt = _sniff(raw[:16])
    if fmt is None:
        raise UploadInvalid("content")
    pixels = max_pixels()
    try:
        # Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, process-wide, left at its default) may
        # fire inside Image.open for far larger pictures: its warning becomes an error here, and both
        # give the same message. Our limit is checked on the header right after, before load().
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                if im.format != fmt:
                    raise UploadInvalid("content")
                width, height = im.size
                if width * height > pixels:
                    raise _too_many_pixels(pixels)
                im.load()
                return _reencode(im, fmt)
    except UploadInvalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(pixels) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise UploadInvalid("content") from None


def _reencode(im: Image.Image, fmt: str) -> CheckedImage:
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels = im.convert("RGB") if im.mode not in ("RGB", "L") else im.copy()
        pixels.save(out, "JPEG", quality=90, optimize=True)
        ext, mimetype = "jpg", "image/jpeg"
    else:
        has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        pixels = im.convert("RGBA" if has_alpha else "RGB")
        pixels.save(out, "PNG", optimize=True)
        ext, mimetype = "png", "image/png"
    return CheckedImage(out.getvalue(), ext, mimetype, im.width, im.height)


def _root() -> str:
    return os.path.realpath(current_app.config["UPLOAD_FOLDER"])


def upload_path(rel_path: str) -> str:
    """Absolute path of a stored upload; raises ``ValueError`` if ``rel_path`` leaves the folder."""
    root = _root()
    full = os.path.realpath(os.path.join(root, rel_path or ""))
    if not full.startswith(root + os.sep):
        raise ValueError("upload path outside the upload folder")
    return full


def store_image(img: CheckedImage, category: str) -> str:
    """Write a checked image under ``UPLOAD_FOLDER/<category>/<year>/<random>.<ext>``; returns that
    relative path (what models store)."""
    if category not in CATEGORIES:
        raise ValueError(category)
    rel = f"{category}/{date.today().year}/{uuid.uuid4().hex}.{img.ext}"
    full = upload_path(rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "xb") as f:
        f.write(img.data)
    return rel


def delete_upload(rel_path: str | None) -> None:
    """Remove a stored upload (used when the transaction that referenced it failed); never raises."""
    if not rel_path:
        return
    try:
        os.remove(upload_path(rel_path))
    except (OSError, ValueError):
        current_app.logger.warning("could not delete upload %s", rel_path)


def mimetype_of(rel_path: str) -> str:
    return "image/jpeg" if rel_path.endswith(".jpg") else "image/png"
