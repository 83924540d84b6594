"""The CJK font embedded in every certificate PDF: where it is and whether it is usable.

The font is Noto Serif SC (static TrueType outlines, SIL OFL 1.1), installed once by
``scripts/fonts.sh`` (``make install``) from the npm package ``@expo-google-fonts/noto-serif-sc``
into ``app/plugins/certificate_assets/fonts/`` (not in git). ``flask ce doctor`` runs ``check_font()``.

Why this font (ARCHITECTURE, *Certificates*): without an embedded font Chinese prints as ■;
``STSong-Light`` is not embedded and swaps rare characters; PostScript-outline (OTF/CFF) fonts fail or
take tens of seconds to convert; WQY Zen Hei lacks 𬌗. This one is TrueType (``glyf``) and covers the
rare characters of person names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: Folder of the installed font files (readable by the PDF renderer's resource policy).
FONT_DIR = Path(__file__).resolve().parents[1] / "plugins" / "certificate_assets" / "fonts"
#: CSS family name the renderer declares for the faces below.
FONT_FAMILY = "CertSerifSC"
REGULAR_FILE = "NotoSerifSC-Regular.ttf"
BOLD_FILE = "NotoSerifSC-Bold.ttf"
#: Rare characters of real names that weaker fonts miss (䶮 U+4DAE, CJK Ext. A; 𬌗 U+2C317, Ext. E).
TEST_CHARACTERS = "䶮𬌗"
INSTALL_HINT = "run `make install` (or `bash scripts/fonts.sh`)"


def font_path(bold: bool = False) -> Path:
    """Path of the regular (or bold) certificate font file; it may not exist (see ``check_font``)."""
    return FONT_DIR / (BOLD_FILE if bold else REGULAR_FILE)


def gb2312_level1() -> str:
    """The 3,755 hanzi of GB 2312 level 1 (rows 16–55), in code order."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            if row == 0xD7 and cell > 0xF9:  # row 55 ends at D7F9
                break
            chars.append(bytes((row, cell)).decode("gb2312"))
    return "".join(chars)


@lru_cache(maxsize=4)
def _cmap(path: str, mtime: float) -> frozenset[int]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(path).charToGlyph)


def font_codepoints(path: Path) -> frozenset[int]:
    """Code points mapped by the TrueType font at ``path`` (raises ``TTFError`` if it is not TrueType)."""
    return _cmap(str(path), path.stat().st_mtime)


def check_font(extra_text: str = "") -> list[str]:
    """Problems with the installed certificate font (empty list when it is fine).

    Checks that both faces exist, load as TrueType in reportlab, and map every character of
    ``TEST_CHARACTERS``, of GB 2312 level 1 and of ``extra_text``.
    """
    problems = []
    wanted = set(TEST_CHARACTERS + gb2312_level1() + extra_text) - set(" \t\r\n")
    for bold in (False, True):
        path = font_path(bold)
        if not path.is_file():
            problems.append(f"font file {path} is missing: {INSTALL_HINT}")
            continue
        try:
            codepoints = font_codepoints(path)
        except Exception as exc:  # reportlab's TTFError, truncated files…
            problems.append(f"font file {path} cannot be used as a TrueType font: {exc}")
            continue
        missing = sorted(ch for ch in wanted if ord(ch) not in codepoints)
        if missing:
            shown = "".join(missing[:20]) + ("…" if len(missing) > 20 else "")
            problems.append(f"font file {path} lacks {len(missing)} characters: {shown}")
    return problems


def versions() -> dict[str, str]:
    """Versions of the PDF libraries (for ``flask ce doctor`` and bug reports)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("xhtml2pdf", "reportlab", "pypdf"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
