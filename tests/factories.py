"""Builders of small organisation worlds for tests (unique names and numbers on every call)."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Membership, Organization, Professional, Region, User
from app.services.identifiers import make_credit_code, make_id_number

PASSWORD = "Passw0rd2026"
_HASH = generate_password_hash(PASSWORD)
_seq = itertools.count(1)


def region(code: str = "410105", name: str = "金水区", level: str = "county") -> Region:
    found = db.session.query(Region).filter_by(code=code).one_or_none()
    if found:
        return found
    r = Region(code=code, name=name, level=level)
    db.session.add(r)
    db.session.flush()
    return r


def org(kind: str, name: str | None = None, parent: Organization | None = None, status: str = "approved", **kw) -> Organization:
    n = next(_seq)
    o = Organization(
        kind=kind,
        name=name or f"{kind}-{n}",
        parent=parent,
        status=status,
        credit_code=make_credit_code("410100", 70000000 + n),
        region=kw.pop("region_obj", None) or region(),
        **kw,
    )
    db.session.add(o)
    db.session.flush()
    return o


def user(name: str = "测试", password_hash: str = _HASH, **kw) -> User:
    n = next(_seq)
    idn = kw.pop("id_number", None) or make_id_number("410105", date(1990, 1 + n % 12, 1 + n % 28), n, female=n % 2 == 0)
    u = User(
        username=idn,
        id_number=idn,
        first_name=name[1:] or name,
        last_name=name[:1],
        email=f"{idn}@test.local",
        active=True,
        password=password_hash,
        **kw,
    )
    db.session.add(u)
    db.session.flush()
    return u


def admin(organization: Organization, name: str = "管理员", status: str = "approved", enabled: bool = True) -> User:
    u = user(name)
    db.session.add(Membership(user=u, org=organization, is_super=True, status=status, enabled=enabled))
    db.session.flush()
    return u


def professional(employer: Organization, name: str = "张三", status: str = "approved", **kw) -> Professional:
    u = kw.pop("user_obj", None) or user(name)
    p = Professional(user=u, org=employer, name=name, id_number=u.id_number, gender="male", status=status, **kw)
    db.session.add(p)
    db.session.flush()
    return p


def world():
    """A province → city HR → (competent → employer), county HR → employer tree with one admin each.

    Returns a dict of the organisations and their admins; committed.
    """
    w = {}
    w["province"] = org("province", "测试省人社厅")
    w["city"] = org("hr", "测试市人社局", w["province"])
    w["county"] = org("hr", "测试县人社局", w["city"])
    w["other_county"] = org("hr", "测试另一县人社局", w["city"])
    w["competent"] = org("competent", "测试市卫健委", w["city"])
    w["employer"] = org("employer", "测试医院", w["competent"])
    w["employer_b"] = org("employer", "测试另一县企业", w["other_county"])
    w["ce_base"] = org("ce_base", "测试继续教育基地", w["city"])
    for key in ("province", "city", "county", "other_county", "competent", "employer", "employer_b", "ce_base"):
        w[key + "_admin"] = admin(w[key])
    w["person"] = professional(w["employer"], "李四")
    w["person_b"] = professional(w["employer_b"], "王五")
    w["sysadmin"] = user("系统管理员", is_sysadmin=True)
    db.session.commit()
    return w
