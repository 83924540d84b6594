"""PDF rendering of certificates with xhtml2pdf (see ARCHITECTURE, *Certificates*).

* ``render_certificate(template, context) -> bytes``: one certificate.
* ``render_many([(template, context), ...]) -> bytes``: one PDF, one page per certificate, for bulk
  printing: consecutive certificates of the same template go into one xhtml2pdf document (the font is
  parsed and embedded once), which is what makes it fast.

Guarantees:

* **Deterministic**: the same template and context give byte-identical PDFs (reportlab's
  ``invariant`` mode: fixed creation date and document ID), so the sha256 stored at issue time
  matches a reprint.
* **Font**: the renderer declares the family ``CertSerifSC`` (Noto Serif SC, TrueType, embedded as
  a subset; ``app.services.fonts``) for normal and bold; templates use ``font-family: CertSerifSC``.
  ``FontMissingError`` when the font is not installed (rather than printing ■).
* **Resources**: rendered under ``ResourceAccessPolicy.server`` confined to the template's
  ``assets_dir`` (plus the font folder), no remote fetches at all. Templates must escape user text
  (Jinja autoescape) and keep it out of ``<pdf:…>`` tags and style attributes.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import threading
from pathlib import Path as FsPath
from typing import Any, Iterable, Mapping, Sequence

from reportlab import rl_config
from reportlab.graphics.barcode import getCodes, registerWidget
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Group, Path
from reportlab.graphics.shapes import Rect as SRect
from reportlab.pdfbase import ttfonts
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.default import DEFAULT_CSS

from ..plugins.base import CertificateTemplate
from .fonts import FONT_DIR, FONT_FAMILY, INSTALL_HINT, font_path

log = logging.getLogger(__name__)

#: Seconds one certificate may take, and the floor for a whole document (the policy's render limit).
SECONDS_PER_PAGE = 2.0
MIN_RENDER_SECONDS = 60.0
#: What a bulk document may hold at most (the policy's source-size limit is raised to fit it).
MAX_PAGES = 5000

_STYLE_RE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.I | re.S)
_BODY_RE = re.compile(r"<body\b[^>]*>(.*)</body\s*>", re.I | re.S)
_lock = threading.Lock()


class FontMissingError(RuntimeError):
    """The certificate font is not installed (``make install`` / ``scripts/fonts.sh``)."""


class RenderError(RuntimeError):
    """xhtml2pdf reported errors while converting a certificate."""


class FastQrWidget(QrCodeWidget):
    """reportlab's QR widget (what ``<pdf:barcode type="qr">`` draws), encoded once and drawn as ONE path.

    The stock widget encodes the value again on every ``draw()`` and draws one rectangle node per run
    of dark modules (~300 per code): about half of the time of a certificate page. Same symbol, same
    attributes; registered under the code name "QR" by ``_install_qr_widget()``.
    """

    codeName = "QR"

    def draw(self):
        key = (self.value, self.barWidth, self.barHeight, self.barBorder, self.barLevel, self.x, self.y)
        cached = getattr(self, "_fast_qr", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        self.qr.make()
        modules = self.qr.modules
        count = self.qr.getModuleCount()
        side = float(min(self.barWidth, self.barHeight))
        box = side / (count + self.barBorder * 2.0)
        left = self.x + (self.barWidth - side) / 2.0
        top = self.y + (side - self.barHeight) / 2.0 + self.barHeight
        path = Path(fillColor=self.barFillColor, strokeColor=None, strokeWidth=0)
        for r, row in enumerate(modules):
            y = top - (r + self.barBorder + 1) * box
            c = 0
            for dark, run in itertools.groupby(row):
                n = len(list(run))
                if dark:
                    x = left + (c + self.barBorder) * box
                    path.moveTo(x, y)
                    path.lineTo(x + n * box, y)
                    path.lineTo(x + n * box, y + box)
                    path.lineTo(x, y + box)
                    path.closePath()
                c += n
        group = Group(SRect(self.x, self.y, self.barWidth, self.barHeight, fillColor=None, strokeColor=None), path)
        self._fast_qr = (key, group)
        return group


def _install_qr_widget() -> None:
    """Make ``FastQrWidget`` the "QR" barcode (again after a reportlab ``rl_config._reset()``)."""
    if getCodes().get("QR") is not FastQrWidget:
        registerWidget(FastQrWidget)


def _to_unicode_cmap(fontname, subset):
    """reportlab's ``makeToUnicodeCMap`` with characters beyond the BMP written as UTF-16 surrogate
    pairs, as the PDF reference requires: reportlab 5.1 writes ``<2C317>`` for 𬌗, which viewers and
    pypdf reject, so the character printed right but could not be copied, searched or extracted.
    Identical output for BMP characters."""
    cmap = _REPORTLAB_TO_UNICODE_CMAP(fontname, subset)
    if all(v <= 0xFFFF for v in subset):
        return cmap
    lines = cmap.split("\n")
    start = lines.index(f"{len(subset)} beginbfchar") + 1
    lines[start : start + len(subset)] = [f"<{i:02X}> <{chr(v).encode('utf-16-be').hex().upper()}>" for i, v in enumerate(subset)]
    return "\n".join(lines)


_REPORTLAB_TO_UNICODE_CMAP = getattr(ttfonts.makeToUnicodeCMap, "__wrapped_original__", ttfonts.makeToUnicodeCMap)
_to_unicode_cmap.__wrapped_original__ = _REPORTLAB_TO_UNICODE_CMAP
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _font_css() -> str:
    regular, bold = font_path(False), font_path(True)
    for path in (regular, bold):
        if not path.is_file():
            raise FontMissingError(f"certificate font {path} is missing: {INSTALL_HINT}")
    return (
        f'@font-face {{ font-family: {FONT_FAMILY}; src: url("{regular.as_uri()}"); }}\n'
        f'@font-face {{ font-family: {FONT_FAMILY}; src: url("{bold.as_uri()}"); font-weight: bold; }}\n'
    )


def _page_css(template: CertificateTemplate) -> str:
    size = re.sub(r"[^A-Za-z0-9 .]", "", str(template.paper_size or "A4")) or "A4"
    return f"@page {{ size: {size}; margin: 12mm; }}\nhtml, body {{ font-family: {FONT_FAMILY}; -pdf-word-wrap: CJK; }}\n"


def _policy(template: CertificateTemplate, pages: int) -> ResourceAccessPolicy:
    base = FsPath(template.assets_dir).resolve() if template.assets_dir else None
    return ResourceAccessPolicy.server(
        base_dir=base,
        extra_roots=(FONT_DIR.resolve(),),
        allow_remote=False,
        max_render_seconds=max(MIN_RENDER_SECONDS, SECONDS_PER_PAGE * pages),
        max_document_bytes=max(10 * 1024 * 1024, 64 * 1024 * pages),
    )


def _convert(html: str, template: CertificateTemplate, pages: int) -> bytes:
    """One xhtml2pdf conversion in invariant mode; raises on reported errors."""
    if pages > MAX_PAGES:
        raise ValueError(f"at most {MAX_PAGES} certificates per document")
    default_css = DEFAULT_CSS + _font_css() + _page_css(template)
    out = io.BytesIO()
    base = FsPath(template.assets_dir).resolve() if template.assets_dir else FONT_DIR.resolve()
    with _lock:
        _install_qr_widget()
        # reportlab reads rl_config.invariant (fixed date and document ID) when a canvas is created;
        # xhtml2pdf renders one document at a time per process anyway, so switching it for the
        # duration of a render is safe.
        previous = rl_config.invariant
        rl_config.invariant = 1
        try:
            status = pisa.pisaDocument(
                html,
                dest=out,
                path=str(base / "certificate.html"),
                default_css=default_css,
                encoding="utf-8",
                resource_policy=_policy(template, pages),
            )
        finally:
            rl_config.invariant = previous
    if status.err:
        raise RenderError(f"certificate template {template.code}: xhtml2pdf reported {status.err} error(s)")
    return out.getvalue()


def render_html(template: CertificateTemplate, context: Mapping[str, Any]) -> str:
    """The HTML of ``template`` for ``context`` (a complete document), for previews and debugging."""
    html = template.render(context)
    if not isinstance(html, str):
        raise TypeError(f"certificate template {template.code}: render() must return a str")
    return html


def render_certificate(template: CertificateTemplate, context: Mapping[str, Any]) -> bytes:
    """The PDF (one certificate) of ``template`` for ``context``.

    Deterministic: the same inputs give the same bytes. Raises ``FontMissingError`` when the font is not
    installed and ``RenderError`` when xhtml2pdf reports an error.
    """
    return _convert(render_html(template, context), template, 1)


def _split(html: str) -> tuple[str, str]:
    """``(styles, body)`` of a complete HTML document (the whole text is the body if it has none)."""
    styles = "\n".join(_STYLE_RE.findall(html))
    match = _BODY_RE.search(html)
    return styles, (match.group(1) if match else _STYLE_RE.sub("", html))


def _combined(template: CertificateTemplate, contexts: Sequence[Mapping[str, Any]]) -> str:
    """One HTML document with the certificates of ``contexts``, one per page (styles of the first)."""
    styles, bodies = "", []
    for i, context in enumerate(contexts):
        doc_styles, body = _split(render_html(template, context))
        if i == 0:
            styles = doc_styles
        bodies.append(body)
    joined = "\n<pdf:nextpage></pdf:nextpage>\n".join(bodies)
    return f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><style>{styles}</style></head>\n<body>{joined}</body></html>'


def _runs(items: Iterable[tuple[CertificateTemplate, Mapping[str, Any]]]):
    run_template, run = None, []
    for template, context in items:
        if run and template is not run_template:
            yield run_template, run
            run = []
        run_template = template
        run.append(context)
    if run:
        yield run_template, run


def render_many(items: Sequence[tuple[CertificateTemplate, Mapping[str, Any]]]) -> bytes:
    """ONE PDF with one page per ``(template, context)`` of ``items``, in order (bulk printing).

    Each run of consecutive items with the same template is one xhtml2pdf document (its template's
    styles, the bodies separated by page breaks); several runs are joined with pypdf. A template whose
    certificate does not fit on one page gives more pages. Deterministic like ``render_certificate``.
    ``ValueError`` for an empty list.
    """
    runs = list(_runs(items))
    if not runs:
        raise ValueError("render_many needs at least one certificate")
    pdfs = [_convert(_combined(template, contexts), template, len(contexts)) for template, contexts in runs]
    if len(pdfs) == 1:
        return pdfs[0]
    return _concatenate(pdfs)


def _concatenate(pdfs: list[bytes]) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        writer.append(io.BytesIO(data))
    # a fixed document ID keeps the result deterministic
    writer.add_metadata({"/Producer": "ce-platform"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
