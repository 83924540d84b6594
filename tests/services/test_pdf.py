"""Certificate PDFs (app/services/pdf.py): text, embedded CJK font, rare characters, hostile input,
determinism, bulk rendering. No database needed."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.plugins import get_certificate_template
from app.services import fonts, pdf
from app.services.fonts import TEST_CHARACTERS, check_font, font_codepoints, font_path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"



@pytest.fixture(autouse=True)
def _font_installed():
    """The font comes with `make install` (scripts/fonts.sh); without it these tests fail, loudly."""
    problems = check_font()
    if problems:
        pytest.fail("certificate font not installed: run `make install` (scripts/fonts.sh): " + "; ".join(problems))


def annual_context(**overrides):
    context = {
        "name": "王䶮𬌗",
        "gender": "男",
        "id_number": "41010519800101123X",
        "employer": "郑州市第一人民医院",
        "certificate_no": "4101050000123",
        "industry_code": None,
        "layout": "annual",
        "year_from": 2024,
        "year_to": 2024,
        "years": [{"year": 2024, "public": "30.0", "professional": "60.0", "total": "90.0"}],
        "issuer": "郑州市人力资源和社会保障局",
        "issue_date": "2026-11-23",
        "verification_code": "Ab3dEf6hIj9kLm2nOp5qRs",
        "verify_url": "https://ce.example.gov.cn/verify/Ab3dEf6hIj9kLm2nOp5qRs",
    }
    context.update(overrides)
    return context


def merged_context(**overrides):
    years = [
        {"year": 2016, "public": "24.0", "professional": "66.0", "total": "90.0"},
        {"year": 2017, "public": "30.0", "professional": "62.5", "total": "92.5"},
        {"year": 2018, "public": "31.0", "professional": "60.0", "total": "91.0"},
    ]
    context = annual_context(layout="merged", year_from=2016, year_to=2018, years=years, issuer="河南省人力资源和社会保障厅")
    context.update(overrides)
    return context


def annual():
    return get_certificate_template("henan_annual")


def merged():
    return get_certificate_template("henan_merged")


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def squeeze(text: str) -> str:
    return "".join(text.split())


def fonts_of(data: bytes) -> list:
    """Every font dictionary used by the pages (also inside form XObjects), resolved."""
    reader = PdfReader(io.BytesIO(data))
    found, seen = [], set()

    def walk(resources):
        if not resources:
            return
        resources = resources.get_object()
        for ref in (resources.get("/Font") or {}).values():
            key = getattr(ref, "idnum", None) or id(ref)
            if key not in seen:
                seen.add(key)
                found.append(ref.get_object())
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return found


def descriptor_of(font):
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    return font.get("/FontDescriptor").get_object() if font.get("/FontDescriptor") else None


def to_unicode_chars(data: bytes) -> str:
    """The characters mapped by the fonts' ToUnicode CMaps (bfchar/bfrange targets, UTF-16BE)."""
    import re

    out = []
    for font in fonts_of(data):
        cmap = font.get("/ToUnicode")
        if cmap is None:
            continue
        stream = cmap.get_object().get_data().decode("latin-1")
        for hexstr in re.findall(r"<([0-9A-Fa-f]{4,})>\s*(?:\n|$)", stream):
            if len(hexstr) >= 4 and len(hexstr) % 4 == 0:
                try:
                    out.append(bytes.fromhex(hexstr).decode("utf-16-be"))
                except UnicodeDecodeError:
                    pass
        for hexstr in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,})>", stream):
            try:
                out.append(bytes.fromhex(hexstr).decode("utf-16-be"))
            except UnicodeDecodeError:
                pass
    return "".join(out)


# ---------------------------------------------------------------------------------------------


def test_annual_certificate_prints_the_person_and_the_hours():
    data = pdf.render_certificate(annual(), annual_context())
    assert data.startswith(b"%PDF-")
    (page,) = text_of(data)
    flat = squeeze(page)
    for expected in (
        "河南省专业技术人员继续教育证书", "王䶮𬌗", "男", "41010519800101123X", "郑州市第一人民医院",
        "4101050000123", "2024", "30.0", "60.0", "90.0", "郑州市人力资源和社会保障局", "2026年11月23日",
        "Ab3dEf6hIj9kLm2nOp5qRs", "扫描二维码或访问", "验证证书真伪",
    ):
        assert expected in flat, expected
    for label in ("姓名", "性别", "身份证号", "工作单位", "证书管理号", "公需科目", "专业科目", "合计", "发证机关", "发证日期"):
        assert label in flat.replace("\u3000", ""), label
    assert "https://ce.example.gov.cn/verify/Ab3dEf6hIj9kLm2nOp5qRs" in flat


def test_merged_certificate_has_one_row_per_year_on_one_page():
    data = pdf.render_certificate(merged(), merged_context())
    pages = text_of(data)
    assert len(pages) == 1
    flat = squeeze(pages[0])
    assert "2016—2018" in flat and "河南省人力资源和社会保障厅" in flat
    for row in ("2016" "24.0" "66.0" "90.0", "2017" "30.0" "62.5" "92.5", "2018" "31.0" "60.0" "91.0"):
        assert row in flat, row
    assert "合计" "85.0" "188.5" "273.5" in flat  # the column sums


def test_merged_certificate_of_many_years_still_fits_one_page():
    years = [{"year": y, "public": "30.0", "professional": "60.0", "total": "90.0"} for y in range(2013, 2028)]  # 15 years
    data = pdf.render_certificate(merged(), merged_context(years=years, year_from=2013, year_to=2027))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def shown_text_by_font(data: bytes) -> dict[str, str]:
    """BaseFont → the text the pages show in it (pypdf's text visitor)."""
    shown: dict[str, str] = {}
    for page in PdfReader(io.BytesIO(data)).pages:

        def visit(text, cm, tm, font_dict, font_size):
            if font_dict is not None and text.strip():
                key = str(font_dict.get("/BaseFont"))
                shown[key] = shown.get(key, "") + text

        page.extract_text(visitor_text=visit)
    return shown


def test_every_font_is_embedded_truetype_and_no_cjk_font_is_left_out():
    data = pdf.render_certificate(merged(), merged_context())
    found = fonts_of(data)
    embedded = set()
    for font in found:
        base = str(font.get("/BaseFont"))
        assert font.get("/Subtype") != "/Type3", base
        assert "STSong" not in base and "/Encoding" not in font or "Uni" not in str(font.get("/Encoding")), base
        descriptor = descriptor_of(font)
        if descriptor is not None and "/FontFile2" in descriptor:
            embedded.add(base)
        else:
            # reportlab/xhtml2pdf set Helvetica on empty fragments; it must never show a character.
            assert base == "/Helvetica", f"{base} is not embedded TrueType"
    assert embedded and all("NotoSerifSC" in base for base in embedded), embedded
    shown = shown_text_by_font(data)
    assert shown and set(shown) <= embedded, {k: v[:40] for k, v in shown.items()}


def test_rare_characters_come_out_in_text_and_in_the_embedded_font():
    name = "䶮𬌗"
    data = pdf.render_certificate(annual(), annual_context(name=name, employer="龑𬌗口腔医院"))
    flat = squeeze(text_of(data)[0])
    assert name in flat
    mapped = to_unicode_chars(data)
    for char in TEST_CHARACTERS:
        assert char in mapped, f"{char} (U+{ord(char):04X}) missing from ToUnicode"
        assert ord(char) in font_codepoints(font_path()), f"the font has no glyph for {char}"
    assert "■" not in flat


HOSTILE = [
    '<img src="http://127.0.0.1:{port}/x">',
    '<img src="/etc/passwd">',
    "<font color=red>x</font>",
    '<pdf:barcode value="x" type="qr"></pdf:barcode>',
    '<link rel="stylesheet" href="http://127.0.0.1:{port}/s.css">',
    '"><style>@import url(http://127.0.0.1:{port}/i.css);</style>',
]


@pytest.fixture
def trap_server():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_text_prints_literally_and_fetches_nothing(trap_server, monkeypatch):
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    port, hits = trap_server
    asked = []
    original_path, original_url = ResourceAccessPolicy.check_path, ResourceAccessPolicy.check_url

    def check_path(self, path):
        asked.append(str(path))
        return original_path(self, path)

    def check_url(self, url):
        asked.append(str(url))
        return original_url(self, url)

    monkeypatch.setattr(ResourceAccessPolicy, "check_path", check_path)
    monkeypatch.setattr(ResourceAccessPolicy, "check_url", check_url)

    values = [v.format(port=port) for v in HOSTILE]
    context = annual_context(name=values[0], employer=values[1], issuer=values[2], gender=values[3], id_number=values[4], certificate_no=values[5])
    html = pdf.render_html(annual(), context)
    assert "<img" not in html.split("<body>", 1)[1] and "&lt;img" in html
    data = pdf.render_certificate(annual(), context)
    flat = squeeze(text_of(data)[0])
    for value in values:
        assert squeeze(value) in flat, value
    assert hits == []
    assert not [a for a in asked if "passwd" in a or "127.0.0.1" in a], asked
    # the only resources asked for are the font files
    assert all("NotoSerifSC-" in a for a in asked), asked


def test_the_policy_refuses_what_a_template_itself_would_fetch(trap_server, tmp_path):
    """Even a template (not user text) cannot reach the network or files outside its folder."""
    from app.plugins import CertificateTemplate

    port, hits = trap_server
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not an image")

    class Greedy(CertificateTemplate):
        code = "greedy"
        name = "Greedy"
        assets_dir = str(tmp_path / "assets")

        def render(self, context):
            return (
                f'<html><body><p>x</p><img src="http://127.0.0.1:{port}/a.png">'
                f'<img src="{secret}"><img src="file:///etc/passwd"></body></html>'
            )

    (tmp_path / "assets").mkdir()
    data = pdf.render_certificate(Greedy(), annual_context())
    assert data.startswith(b"%PDF-")
    assert hits == []


def test_output_is_deterministic_in_and_across_processes():
    context = merged_context()
    first = pdf.render_certificate(merged(), context)
    second = pdf.render_certificate(merged(), dict(context))
    assert first == second
    other = pdf.render_certificate(merged(), merged_context(name="李四"))
    assert other != first
    script = (
        "import hashlib, json, sys\n"
        "from app.plugins import get_certificate_template\n"
        "from app.services.pdf import render_certificate\n"
        "ctx = json.loads(sys.stdin.read())\n"
        "sys.stdout.write(hashlib.sha256(render_certificate(get_certificate_template('henan_merged'), ctx)).hexdigest())\n"
    )
    import json

    result = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(context), capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    assert result.stdout.strip() == hashlib.sha256(first).hexdigest()


def test_render_many_gives_one_page_per_certificate_in_order():
    items = [(annual(), annual_context(name=f"张{i}", certificate_no=f"41010500000{i:02d}")) for i in range(6)]
    data = pdf.render_many(items)
    pages = text_of(data)
    assert len(pages) == 6
    for i, page in enumerate(pages):
        assert f"张{i}" in squeeze(page) and f"41010500000{i:02d}" in squeeze(page)
    assert pdf.render_many(items) == data


def test_render_many_with_several_templates_keeps_the_order():
    items = [
        (annual(), annual_context(name="甲")),
        (merged(), merged_context(name="乙")),
        (annual(), annual_context(name="丙")),
    ]
    data = pdf.render_many(items)
    pages = [squeeze(p) for p in text_of(data)]
    assert len(pages) == 3
    assert "甲" in pages[0] and "乙" in pages[1] and "2016—2018" in pages[1] and "丙" in pages[2]
    assert all("NotoSerifSC" in base for base in shown_text_by_font(data))
    with pytest.raises(ValueError):
        pdf.render_many([])


def test_a_missing_font_is_an_error_not_boxes(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "FONT_DIR", tmp_path)
    monkeypatch.setattr(pdf, "font_path", lambda bold=False: tmp_path / ("b.ttf" if bold else "r.ttf"))
    with pytest.raises(pdf.FontMissingError):
        pdf.render_certificate(annual(), annual_context())


def test_check_font_reports_problems(monkeypatch, tmp_path):
    assert check_font() == []
    monkeypatch.setattr(fonts, "FONT_DIR", tmp_path)
    problems = check_font()
    assert len(problems) == 2 and all("missing" in p for p in problems)
    (tmp_path / fonts.REGULAR_FILE).write_bytes(b"not a font")
    assert any("cannot be used" in p for p in check_font())
    assert len(fonts.gb2312_level1()) == 3755


def test_doctor_command(app):
    result = app.test_cli_runner().invoke(args=["ce", "doctor"])
    assert result.exit_code == 0, result.output
    assert "xhtml2pdf: 0.2.28" in result.output and "reportlab: 5.1.0" in result.output
    assert "certificate font OK" in result.output


def test_png_preview_for_a_human(tmp_path):
    """Leaves PNGs of both layouts in tests/e2e/artifacts/ (when poppler's pdftoppm is installed)."""
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm is missing: .ci/run installs it (apt-get install poppler-utils)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stem, data in (
        ("certificate_annual", pdf.render_certificate(annual(), annual_context())),
        ("certificate_merged", pdf.render_certificate(merged(), merged_context())),
    ):
        source = tmp_path / f"{stem}.pdf"
        source.write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(source), str(ARTIFACTS / stem)], check=True, timeout=60)
        assert (ARTIFACTS / f"{stem}.png").stat().st_size > 1000
