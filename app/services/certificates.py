"""E-certificates (电子证书): issue for passed years, reprint, bulk print for admins, verify, revoke.

A certificate is issued for one passed year (layout "annual") or a range whose every year passed
(layout "merged", 合并打印). Its ``inputs`` are the whole rendering context, so a reprint renders
the same document; ``pdf_sha256`` is the hash of that single-certificate PDF (for certificates first
issued by a bulk print it is recorded the first time the certificate is printed alone). Issuing again
with unchanged data reprints the existing certificate; when the data changed (more hours, another
employer) a new certificate is issued and the old one is marked superseded. When approved hours
behind a certificate are annulled, ``revoke_covering`` marks it revoked; the public verification
page then says so.

The certificate is issued by the HR bureau of the person's region (证书管理办法 第十二条): the
city-level bureau (the highest HR bureau above the employer); province-direct units: the province.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Certificate, Organization, Professional
from ..models.common import utcnow
from ..models.org import HR, PROVINCE
from ..plugins import get_certificate_template, template_for
from . import pdf
from .audit_trail import record_event
from .completion import merge_refusal, year_results
from .masking import mask_id_number
from .public_urls import public_url
from .requirements import rules_for_year
from .scope import Actor, scope_clause, visible

ANNUAL = "annual"
MERGED = "merged"
MAX_BULK = 1000
GENDERS = {"male": "男", "female": "女"}
# Keys of ``inputs`` that identify one issue rather than the certificate's content.
ISSUE_KEYS = ("verification_code", "verify_url", "issue_date")

MESSAGES = {
    "not_passed": _l("The year %(year)s is not passed; no certificate can be printed for it."),
    "range": _l("Choose a valid range of years."),
    "not_found": _l("The professional was not found in your scope."),
    "none": _l("Select at least one professional."),
    "too_many": _l("At most %(n)s certificates can be printed at once."),
    "no_number": _l("This professional has no certificate number yet."),
    "superseded": _l("Superseded by a newer certificate"),
    "annulled": _l("Hours of %(year)s were annulled"),
}


class CertificateRefused(Exception):
    """A certificate cannot be issued or printed. ``str(e)`` is the translated reason."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self):
        return str(self.message)


@dataclass
class Verification:
    """What the public verification page shows: validity and masked personal data."""

    certificate: Certificate
    valid: bool
    name: str
    id_number: str
    years: list
    reason: str = ""


# ---------------------------------------------------------------- context


def issuer_of(professional: Professional) -> Organization:
    """The issuing authority: the highest HR bureau above the employer, else the province."""
    org = professional.org or db.session.get(Organization, professional.org_id)
    chain = []
    node = org
    while node is not None:
        chain.append(node)
        node = node.parent
    bureaus = [o for o in chain if o.kind == HR]
    if bureaus:
        return bureaus[-1]
    province = next((o for o in chain if o.kind == PROVINCE), None)
    if province is not None:
        return province
    return db.session.scalars(select(Organization).where(Organization.kind == PROVINCE).limit(1)).first() or org


def mask_name(name: str) -> str:
    """Keep the first character, star the rest (张** / 欧阳*)."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _verify_url(code: str) -> str:
    """The public verification link of ``code`` (QR code and printed link): always on the configured
    public address, never on the Host of the request that issued it (a client chooses that header)."""
    return public_url(f"/verify/{code}")


def _content(professional: Professional, results, layout: str) -> dict:
    org = professional.org
    issuer = issuer_of(professional)
    years = sorted(results, key=lambda r: r.year)
    industry = getattr(org, "industry", None) if org is not None else None
    return {
        "name": professional.name,
        "gender": GENDERS.get(professional.gender or "", ""),
        "id_number": professional.id_number,
        "employer": org.name if org is not None else "",
        "certificate_no": professional.certificate_no or "",
        "industry_code": industry.code if industry is not None else None,
        "layout": layout,
        "year_from": years[0].year,
        "year_to": years[-1].year,
        "years": [
            {"year": r.year, "public": str(r.public), "professional": str(r.professional), "total": str(r.total)}
            for r in years
        ],
        "issuer": issuer.name,
        "issuer_org_id": issuer.id,
    }


def _same_content(inputs: dict, content: dict) -> bool:
    return {k: v for k, v in inputs.items() if k not in ISSUE_KEYS} == content


# ---------------------------------------------------------------- issue and print


def _checked_results(professional: Professional, year_from: int, year_to: int, layout: str, rules=None):
    if year_from > year_to or year_from < 1990 or year_to > dt.date.today().year:
        raise CertificateRefused("range", MESSAGES["range"])
    if layout == ANNUAL and year_from != year_to:
        raise CertificateRefused("range", MESSAGES["range"])
    if not professional.certificate_no:
        raise CertificateRefused("no_number", MESSAGES["no_number"])
    results = year_results(professional, year_from, year_to, rules=rules)
    if layout == MERGED:
        reason = merge_refusal(results)
        if reason:
            raise CertificateRefused("not_passed", reason)
    elif not results[0].passed:
        raise CertificateRefused("not_passed", str(MESSAGES["not_passed"]) % {"year": year_from})
    return results


def issue(professional: Professional, year_from: int, year_to: int, layout: str = ANNUAL,
          with_pdf: bool = True, rules: Optional[dict] = None) -> Certificate:
    """The certificate of ``professional`` for the years, issued now or reprinted.

    Guarantees: refuses (``CertificateRefused``, nothing written) unless every year passed and the
    person has a certificate number; returns the existing valid certificate when its content is
    unchanged (same code, same PDF); otherwise marks that one superseded and issues a new one with a
    fresh unguessable code. With ``with_pdf`` the single-certificate PDF hash is recorded. Flushes; the
    caller commits. ``rules`` (year → requirement rows) may be shared across a bulk print."""
    results = _checked_results(professional, year_from, year_to, layout, rules)
    content = _content(professional, results, layout)
    current = db.session.scalars(
        select(Certificate).where(
            Certificate.professional_id == professional.id, Certificate.layout == layout,
            Certificate.year_from == year_from, Certificate.year_to == year_to, Certificate.revoked.is_(False),
        ).order_by(Certificate.id.desc())
    ).first()
    if current is not None and _same_content(current.inputs or {}, content):
        if with_pdf and not current.pdf_sha256:
            current.pdf_sha256 = hashlib.sha256(render(current)).hexdigest()
        return current
    if current is not None:
        _revoke(current, MESSAGES["superseded"])
    template = template_for(layout, content)
    code = secrets.token_urlsafe(16)
    inputs = dict(content, verification_code=code, verify_url=_verify_url(code),
                  issue_date=dt.date.today().isoformat())
    cert = Certificate(
        professional_id=professional.id, template_code=template.code, layout=layout, year_from=year_from,
        year_to=year_to, verification_code=code, inputs=inputs, issuer_org_id=content["issuer_org_id"],
    )
    db.session.add(cert)
    db.session.flush()
    if with_pdf:
        cert.pdf_sha256 = hashlib.sha256(render(cert)).hexdigest()
    return cert


def _template(cert: Certificate):
    template = get_certificate_template(cert.template_code)
    if template is None:  # the plugin was removed: fall back to the built-in of the layout
        template = template_for(cert.layout, cert.inputs or {})
    return template


def render(cert: Certificate) -> bytes:
    """The single-certificate PDF of ``cert`` from its recorded inputs (byte-identical on reprint)."""
    return pdf.render_certificate(_template(cert), cert.inputs)


def _render_recording_hash(cert: Certificate) -> bytes:
    """The single-certificate PDF of ``cert``, rendered once; records its hash when not yet known."""
    data = render(cert)
    if not cert.pdf_sha256:
        cert.pdf_sha256 = hashlib.sha256(data).hexdigest()
    return data


# Audit triggers of a print (one row per certificate printed, written with the print's commit).
PRINT_SINGLE = "print"
PRINT_MERGED = "print_merged"
PRINT_BULK = "print_bulk"


def _audit_print(actor: Actor, cert: Certificate, trigger: str, comment: str = "") -> None:
    years = str(cert.year_from) if cert.year_from == cert.year_to else f"{cert.year_from}-{cert.year_to}"
    record_event(
        trigger, object_type="certificate", object_id=cert.id, actor=actor,
        comment=f"professional {cert.professional_id}, {years}" + (f", {comment}" if comment else ""),
    )


def print_own(actor: Actor, year_from: int, year_to: int, layout: str) -> tuple[Certificate, bytes]:
    """The professional's own certificate (issued or reprinted) and its PDF; commits with one audit
    row (``print`` or ``print_merged``)."""
    professional = db.session.get(Professional, actor.person_id) if actor and actor.is_person else None
    if professional is None:
        raise CertificateRefused("not_found", MESSAGES["not_found"])
    cert = issue(professional, year_from, year_to, layout, with_pdf=False)
    data = _render_recording_hash(cert)
    _audit_print(actor, cert, PRINT_MERGED if layout == MERGED else PRINT_SINGLE)
    db.session.commit()
    return cert, data


def _in_scope(actor: Actor, ids: Iterable) -> list[Professional]:
    clean = []
    for raw in ids:
        try:
            clean.append(int(raw))
        except (TypeError, ValueError):
            raise CertificateRefused("not_found", MESSAGES["not_found"]) from None
    clean = list(dict.fromkeys(clean))
    if not clean:
        raise CertificateRefused("none", MESSAGES["none"])
    if len(clean) > MAX_BULK:
        raise CertificateRefused("too_many", str(MESSAGES["too_many"]) % {"n": MAX_BULK})
    if actor is None or actor.is_person:
        raise CertificateRefused("not_found", MESSAGES["not_found"])
    # One query for the whole selection, limited by the one scope predicate.
    found = {
        p.id: p
        for p in db.session.scalars(
            select(Professional)
            .where(Professional.id.in_(clean), scope_clause(Professional, actor))
            .options(selectinload(Professional.org), selectinload(Professional.region))
        )
    }
    if len(found) != len(clean):
        raise CertificateRefused("not_found", MESSAGES["not_found"])
    return [found[pk] for pk in clean]


def print_for_people(actor: Actor, ids: Iterable, year: int) -> tuple[list[Certificate], bytes]:
    """One PDF with the ``year`` certificate of each professional ``ids`` (one page each), for an
    admin whose scope holds them all. All or nothing: any id outside the scope, or a person whose year
    is not passed, refuses the whole print and writes nothing. Commits the issued certificates with one
    ``print_bulk`` audit row per certificate."""
    people = _in_scope(actor, ids)
    certs = []
    rules = {year: rules_for_year(year)}
    try:
        for professional in people:
            try:
                certs.append(issue(professional, year, year, ANNUAL, with_pdf=False, rules=rules))
            except CertificateRefused as exc:
                raise CertificateRefused(exc.code, f"{professional.name}：{exc}") from None
    except CertificateRefused:
        db.session.rollback()
        raise
    if len(certs) == 1:
        data = _render_recording_hash(certs[0])
    else:
        data = pdf.render_many([(_template(c), c.inputs) for c in certs])
    for cert in certs:
        _audit_print(actor, cert, PRINT_BULK, f"{len(certs)} in one print")
    db.session.commit()
    return certs, data


# ---------------------------------------------------------------- verify and revoke


def verify(code: str) -> Optional[Verification]:
    """What the public page shows for ``code``: None when unknown; masked name and ID number."""
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    cert = db.session.scalars(select(Certificate).where(Certificate.verification_code == code)).first()
    if cert is None:
        return None
    inputs = cert.inputs or {}
    return Verification(
        certificate=cert,
        valid=not cert.revoked,
        name=mask_name(inputs.get("name", "")),
        id_number=mask_id_number(inputs.get("id_number", "")),
        years=inputs.get("years", []),
        reason=cert.revoked_reason or "",
    )


def _revoke(cert: Certificate, reason) -> None:
    cert.revoked = True
    cert.revoked_at = utcnow()
    cert.revoked_reason = str(reason)[:255]


def revoke_covering(professional_id: int, year: int) -> int:
    """Mark revoked every valid certificate of the person whose years include ``year`` (hours behind
    it were annulled); returns how many. Flushes; the caller commits."""
    rows = db.session.scalars(
        select(Certificate).where(
            Certificate.professional_id == professional_id, Certificate.revoked.is_(False),
            Certificate.year_from <= year, Certificate.year_to >= year,
        )
    ).all()
    for cert in rows:
        _revoke(cert, str(MESSAGES["annulled"]) % {"year": year})
    db.session.flush()
    return len(rows)


def visible_certificate(actor: Actor, pk) -> Optional[Certificate]:
    """The certificate ``pk`` if ``actor`` may see it (its own, or the person in the actor's scope)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not visible(db.session, Certificate, actor, pk):
        return None
    return db.session.get(Certificate, pk)
