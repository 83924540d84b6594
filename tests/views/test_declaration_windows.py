"""补报 screen: an HR bureau opens a past year for one professional; errors stay next to their fields."""

from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.models import DeclarationWindow
from tests import factories as f
from tests.helpers import csrf_from, login

TODAY = dt.date.today()
URL = "/declarationwindowview/add"


def _world(app):
    with app.app_context():
        province = f.org("province")
        county = f.org("hr", parent=province)
        employer = f.org("employer", parent=county)
        person = f.professional(employer, "补报乙")
        hr_admin = f.admin(county)
        employer_admin = f.admin(employer)
        db.session.commit()
        return person.id, person.id_number, hr_admin.id_number, employer_admin.id_number


def _post(client, data):
    token = csrf_from(client.get(URL).get_data(as_text=True))
    return client.post(URL, data=dict(data, csrf_token=token))


def test_hr_opens_a_window_and_errors_keep_the_input(app):
    person_id, person_idn, hr_idn, _ = _world(app)
    client = app.test_client()
    login(client, "hr", hr_idn)
    bad = _post(client, {"id_number": person_idn, "year": str(TODAY.year), "until": TODAY.isoformat(), "reason": "因病未能按时申报"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "因病未能按时申报" in html
    assert f"{dt.date(2013, 1, 1).year}" in html  # the year message names the allowed range
    with app.app_context():
        assert db.session.query(DeclarationWindow).filter_by(professional_id=person_id).count() == 0
    ok = _post(client, {"id_number": person_idn, "year": str(TODAY.year - 1), "until": TODAY.isoformat(), "reason": "因病未能按时申报"})
    assert ok.status_code == 302
    with app.app_context():
        (window,) = db.session.query(DeclarationWindow).filter_by(professional_id=person_id).all()
        assert window.year == TODAY.year - 1 and window.opened_by_org_id is not None
    listing = client.get("/declarationwindowview/list/").get_data(as_text=True)
    assert "补报乙" in listing


def test_employer_cannot_open_windows(app):
    _, _, _, employer_idn = _world(app)
    client = app.test_client()
    login(client, "employer", employer_idn)
    assert client.get(URL).status_code == 403
    assert client.get("/declarationwindowview/list/").status_code == 403
