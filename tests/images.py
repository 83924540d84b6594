"""Image files for upload tests, made with Pillow in memory."""

from __future__ import annotations

import io

from PIL import Image
from werkzeug.datastructures import FileStorage

PHP = b"<?php system($_GET['c']); ?>\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


def image_bytes(fmt: str = "PNG", size=(40, 30), mode: str = "RGB", **save) -> bytes:
    im = Image.new(mode, size, 3 if mode == "P" else (200, 30, 30))
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x8825] = {2: (34.0, 45.0, 0.0)}  # GPS latitude
    return image_bytes("JPEG", exif=exif.tobytes())


def palette_gif() -> bytes:
    im = Image.new("P", (16, 16))
    im.putpalette([i % 256 for i in range(768)])
    out = io.BytesIO()
    im.save(out, "GIF", transparency=0)
    return out.getvalue()


def upload(data: bytes, filename: str = "scan.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)
