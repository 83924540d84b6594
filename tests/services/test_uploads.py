"""Uploaded images: checked by content, re-encoded, stored under the upload folder only."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from app.services import uploads
from app.services.uploads import UploadInvalid, check_image, delete_upload, store_image, upload_path
from tests import images


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


def _files(app):
    root = app.config["UPLOAD_FOLDER"]
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs) if os.path.isdir(root) else []


@pytest.mark.parametrize("fmt,filename,ext", [
    ("PNG", "a.png", "png"), ("JPEG", "a.jpg", "jpg"), ("JPEG", "A.JPEG", "jpg"), ("BMP", "a.bmp", "png"), ("GIF", "a.gif", "png"),
])
def test_accepted_formats_are_reencoded(ctx, fmt, filename, ext):
    img = check_image(images.upload(images.image_bytes(fmt), filename))
    assert img.ext == ext and (img.width, img.height) == (40, 30)
    assert Image.open(io.BytesIO(img.data)).format == ("JPEG" if ext == "jpg" else "PNG")


def test_exif_and_appended_payload_are_stripped(ctx):
    raw = images.jpeg_with_exif() + images.PHP
    assert b"SecretCamera" in raw
    img = check_image(images.upload(raw, "photo.jpg"))
    assert b"SecretCamera" not in img.data and b"<?php" not in img.data
    assert not Image.open(io.BytesIO(img.data)).getexif()


def test_palette_gif_is_converted(ctx):
    img = check_image(images.upload(images.palette_gif(), "p.gif"))
    im = Image.open(io.BytesIO(img.data))
    assert im.format == "PNG" and im.mode == "RGBA"


@pytest.mark.parametrize("data,filename,code", [
    (images.PHP, "shell.jpg", "content"),
    (images.HTML, "page.png", "content"),
    (images.image_bytes("PNG"), "scan.php", "type"),
    (images.image_bytes("PNG"), "noext", "type"),
    (images.image_bytes("PNG"), "../../etc/evil.png", "name"),
    (images.image_bytes("PNG"), "..\\evil.png", "name"),
    (images.image_bytes("JPEG"), "mislabelled.png", "type_ok"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "content"),
    (images.image_bytes("PNG")[:60], "truncated.png", "content"),
    (b"", "empty.png", "missing"),
])
def test_refused_uploads(ctx, data, filename, code):
    if code == "type_ok":  # a JPEG named .png: the content decides, it is stored as what it is
        assert check_image(images.upload(data, filename)).ext == "jpg"
        return
    with pytest.raises(UploadInvalid) as e:
        check_image(images.upload(data, filename))
    assert e.value.code == code and str(e.value)


def test_missing_file(ctx):
    with pytest.raises(UploadInvalid) as e:
        check_image(None)
    assert e.value.code == "missing"


def test_size_limit(ctx, monkeypatch):
    ctx.config["CE_UPLOAD_MAX_BYTES"] = 1000
    try:
        with pytest.raises(UploadInvalid) as e:
            check_image(images.upload(images.image_bytes("BMP", size=(100, 100)), "big.bmp"))
        assert e.value.code == "size" and "MB" in str(e.value)
    finally:
        ctx.config["CE_UPLOAD_MAX_BYTES"] = uploads.DEFAULT_MAX_BYTES


def test_decompression_bomb_refused(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "CE_UPLOAD_MAX_PIXELS", 1000)
    with pytest.raises(UploadInvalid) as e:
        check_image(images.upload(images.image_bytes("PNG", size=(100, 100)), "bomb.png"))
    assert e.value.code == "pixels"


def test_store_and_delete(ctx):
    rel = store_image(check_image(images.upload(images.image_bytes("PNG"))), "org_certificate")
    full = upload_path(rel)
    assert os.path.isfile(full) and full.startswith(os.path.realpath(ctx.config["UPLOAD_FOLDER"]))
    assert "static" not in full
    delete_upload(rel)
    assert not os.path.exists(full)


def test_upload_path_refuses_traversal(ctx):
    with pytest.raises(ValueError):
        upload_path("../../etc/passwd")
    with pytest.raises(ValueError):
        store_image(check_image(images.upload(images.image_bytes("PNG"))), "../x")
