"""年度学时要求 screen of the province HR department: add with validation next to the field (a duplicate
year / level / scope and out-of-range hours are refused and write nothing); HR bureaus only read."""

from __future__ import annotations

from app.extensions import db
from app.models import AnnualRequirement
from tests import factories as f
from tests.helpers import csrf_from, login

ADD = "/annualrequirementview/add"


def _count():
    return db.session.query(AnnualRequirement).count()


def test_province_adds_requirements_with_validation(app):
    with app.app_context():
        province = f.org("province", "要求省人社厅")
        bureau = f.org("hr", "要求市人社局", province)
        admin, hr_admin = f.admin(province), f.admin(bureau)
        db.session.commit()
        ids = admin.id_number, hr_admin.id_number
        before = _count()
    c = app.test_client()
    assert login(c, "province", ids[0]).status_code == 302
    page = c.get(ADD)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    base = {"csrf_token": token, "title_level": "all", "region_scope": "all", "public_min": "30",
            "professional_min": "60", "total_min": "90"}
    duplicate = c.post(ADD, data=dict(base, year="2018"))
    assert duplicate.status_code == 200 and "已存在" in duplicate.get_data(as_text=True)
    negative = c.post(ADD, data=dict(base, year="2097", public_min="-1"))
    assert negative.status_code == 200 and "0到999" in negative.get_data(as_text=True)
    with app.app_context():
        assert _count() == before
    ok = c.post(ADD, data=dict(base, year="2097", public_counts_as_professional="y"))
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.query(AnnualRequirement).filter_by(year=2097).one()
        assert row.public_counts_as_professional is True
        db.session.delete(row)
        db.session.commit()
    reader = app.test_client()
    assert login(reader, "hr", ids[1]).status_code == 302
    assert reader.get("/annualrequirementview/list/").status_code == 200
    assert reader.get(ADD).status_code in (302, 403)
