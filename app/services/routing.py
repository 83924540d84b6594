"""Review routes of hours declarations (学时审核流程, SPEC §5).

A route is the ordered list of reviewer organisation ids, computed from the organisation tree:

* the employer unit, then each parent employer (上级单位) whose review right is open
  (``Organization.review_closed`` False; a closed one is skipped);
* then the competent department(s) above (skipped for accountants, 会计);
* then the nearest HR bureau, which decides finally (备案); the province HR department when no HR
  bureau lies above.

A declaration made by an organisation for its people starts at the next level above that
organisation. The route is stored on the declaration when it is submitted.
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Organization, Professional
from ..models.org import COMPETENT, EMPLOYER, HR, PROVINCE


class NoRoute(LookupError):
    """No final reviewer (HR bureau or province) could be found above the organisation."""

    message = _l("No HR bureau was found above the organisation; the declaration cannot be routed.")

    def __str__(self):
        return str(self.message)


def _chain(org: Organization) -> list[Organization]:
    """``org`` and every organisation above it, nearest first, loaded with one query from its path."""
    ids = [int(x) for x in (org.path or "").strip("/").split("/") if x]
    if org.id not in ids:
        # Path not maintained yet (unflushed tree): walk the relationships instead.
        out, seen, node = [], set(), org
        while node is not None and node.id not in seen:
            out.append(node)
            seen.add(node.id)
            node = node.parent
        return out
    rows = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(ids)))}
    return [rows[i] for i in reversed(ids) if i in rows]


def _province_id() -> Optional[int]:
    return db.session.scalar(select(Organization.id).where(Organization.kind == PROVINCE).order_by(Organization.id))


def route_for(
    professional: Professional,
    declared_by_org: Optional[Organization] = None,
    subject_type: Optional[str] = None,
) -> list[int]:
    """The ordered reviewer organisation ids of a declaration of ``professional``.

    Guarantees: the list is never empty and ends with the final reviewer (the nearest HR bureau above
    the starting point, else the province HR department); employers whose review right is closed are
    not in it; accountants' routes contain no competent department; with ``declared_by_org`` the route
    starts strictly above that organisation (it never reviews its own declaration). ``subject_type`` is
    accepted for rules by subject (none differ today). Raises ``NoRoute`` when no final reviewer exists.
    """
    if declared_by_org is not None:
        chain = _chain(declared_by_org)[1:]
    else:
        employer = professional.org or db.session.get(Organization, professional.org_id)
        chain = _chain(employer) if employer is not None else []
    skip_competent = bool(professional.is_accountant)
    route: list[int] = []
    for node in chain:
        if node.kind in (HR, PROVINCE):
            route.append(node.id)
            return route
        if node.kind == EMPLOYER and not node.review_closed:
            route.append(node.id)
        elif node.kind == COMPETENT and not skip_competent:
            route.append(node.id)
        # CE bases and closed employers are passed over.
    province = _province_id()
    if province is None:
        raise NoRoute()
    route.append(province)
    return route


def final_reviewer_id(route: list[int]) -> Optional[int]:
    """The organisation that decides finally on ``route`` (its last step)."""
    return route[-1] if route else None
