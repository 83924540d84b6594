"""The built-in certificate templates: the Henan continuing-education e-certificate, per year
(``henan_annual``) and merged over a range of years on one page (``henan_merged``), as in the seed
guide 专业技术人员获取和打印电子证书指南 (按年度打印样式 / 合并打印样式).

The certificate is an official Chinese document, so its labels are Chinese in the HTML. Templates are
Jinja files in ``certificate_assets/`` rendered with autoescape on. ``HtmlCertificateTemplate`` is the
reusable base for plugins: subclass it (or the two classes here), change ``heading``,
``subheading``, ``notes`` or ``template_name``, and set ``assets_dir`` to a folder of your own
templates (looked up before the built-in ones, so ``{% extends "base.html" %}`` keeps working).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Mapping

from flask_babel import lazy_gettext as _l
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from .base import ANNUAL, MERGED, CertificateTemplate

#: Folder of the built-in certificate templates (and the installed font, under ``fonts/``).
ASSETS_DIR = Path(__file__).resolve().parent / "certificate_assets"

#: The keys of the context every template receives (built by the certificates service).
CONTEXT_KEYS = frozenset(
    {
        "name", "gender", "id_number", "employer", "certificate_no", "industry_code", "layout",
        "year_from", "year_to", "years", "issuer", "issue_date", "verification_code", "verify_url",
    }
)


#: above this many year rows the page uses tighter spacing so that up to 16 years fit on one page.
TIGHT_ABOVE_YEARS = 5


@lru_cache(maxsize=32)
def _environment(folders: tuple[str, ...]) -> Environment:
    loader = ChoiceLoader([FileSystemLoader(folder) for folder in folders])
    # autoescape on for every template, whatever its file name; undefined names are errors.
    return Environment(loader=loader, autoescape=True, undefined=StrictUndefined, auto_reload=False)


def _hours(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        return Decimal("0")


def chinese_date(value: Any) -> str:
    """``2026-11-23`` (or a date) → ``2026年11月23日``; anything else unchanged as text."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return f"{value.year}年{value.month}月{value.day}日"


class HtmlCertificateTemplate(CertificateTemplate):
    """A certificate template rendered from a Jinja file (autoescape on). Not registered itself (no code)."""

    #: the Jinja file, looked up in ``assets_dir`` first and then in the built-in folder.
    template_name: ClassVar[str] = ""
    #: title line of the certificate.
    heading: ClassVar[str] = "河南省专业技术人员继续教育证书"
    #: optional second title line (e.g. an industry).
    subheading: ClassVar[str] = ""
    #: extra lines printed under the hours table.
    notes: ClassVar[tuple[str, ...]] = ()
    assets_dir = str(ASSETS_DIR)

    def template_folders(self) -> tuple[str, ...]:
        """Folders searched for ``template_name``: the template's own ``assets_dir``, then the built-in one."""
        folders = [str(self.assets_dir)] if self.assets_dir else []
        if str(ASSETS_DIR) not in folders:
            folders.append(str(ASSETS_DIR))
        return tuple(folders)

    def kind_line(self, context: Mapping[str, Any]) -> str:
        """The line under the title naming the year(s)."""
        year_from, year_to = context["year_from"], context["year_to"]
        if self.layout == MERGED and year_from != year_to:
            return f"（{year_from}—{year_to}年度 合并打印）"
        return f"（{year_from}年度）"

    def template_context(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """What the Jinja file sees: ``context`` plus ``heading``, ``subheading``, ``notes``,
        ``kind_line``, ``issue_date_cn``, ``sums`` (the column totals over ``years``) and ``tight``
        (the CSS class "tight" when there are more than ``TIGHT_ABOVE_YEARS`` year rows, else "")."""
        years = list(context.get("years") or [])
        sums = {
            key: str(sum((_hours(row.get(key)) for row in years), Decimal("0")).quantize(Decimal("0.1")))
            for key in ("public", "professional", "total")
        }
        values = {key: context.get(key) for key in CONTEXT_KEYS}
        values.update(
            {
                key: "" if values[key] is None else values[key]
                for key in ("name", "gender", "id_number", "employer", "certificate_no", "issuer", "verification_code", "verify_url")
            }
        )
        values.update(
            years=years,
            sums=sums,
            heading=self.heading,
            subheading=self.subheading,
            notes=list(self.notes),
            kind_line=self.kind_line(context),
            issue_date_cn=chinese_date(context.get("issue_date", "")),
            # CSS class for a certificate with many year rows (tighter spacing, still one page)
            tight="tight" if len(years) > TIGHT_ABOVE_YEARS else "",
        )
        return values

    def render(self, context: Mapping[str, Any]) -> str:
        """The certificate as an HTML document (see ``template_context`` for the variables)."""
        env = _environment(self.template_folders())
        return env.get_template(self.template_name).render(**self.template_context(context))


class HenanAnnual(HtmlCertificateTemplate):
    """河南省专业技术人员继续教育证书, one year (按年度打印样式)."""

    code = "henan_annual"
    name = _l("Henan e-certificate (one year)")
    layout = ANNUAL
    template_name = "henan_annual.html"


class HenanMerged(HtmlCertificateTemplate):
    """河南省专业技术人员继续教育证书, several years on one page (合并打印样式)."""

    code = "henan_merged"
    name = _l("Henan e-certificate (merged years)")
    layout = MERGED
    template_name = "henan_merged.html"


ce_plugins = [HenanAnnual, HenanMerged]
