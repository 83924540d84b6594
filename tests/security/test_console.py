"""The Flask-Admin console: system administrators only, CSRF-protected."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import UnitNature
from tests import factories
from tests.helpers import csrf_from, login


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        w = factories.world()
        return {"person": w["person"].id_number, "province": w["province_admin"].id_number, "sysadmin": w["sysadmin"].id_number}


def _console_routes(app):
    """(method, url) of every console route (GET where allowed, else POST)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console") and "static" not in rule.endpoint:
            method = "GET" if "GET" in rule.methods else "POST"
            out.append((method, rule.rule.replace("<", "").replace(">", "")))
    assert out
    return sorted(out)


def test_anonymous_is_sent_to_login(app):
    client = app.test_client()
    for method, url in _console_routes(app):
        response = client.open(url, method=method)
        assert response.status_code in (302, 400, 403, 404), url
        if response.status_code == 302:
            assert "/login/" in response.headers["Location"]


@pytest.mark.parametrize("who,capacity", [("person", "person"), ("province", "province")])
def test_other_capacities_get_403(app, people, who, capacity):
    client = app.test_client()
    login(client, capacity, people[who])
    for method, url in _console_routes(app):
        assert client.open(url, method=method).status_code in (400, 403, 404), url
    assert client.post("/console/unit_nature/new/", data={"code": "x", "name": "x"}).status_code in (400, 403)


def test_sysadmin_edits_base_data_with_csrf(app, people):
    client = app.test_client()
    login(client, "sysadmin", people["sysadmin"])
    assert client.get("/console/").status_code == 200
    page = client.get("/console/unit_nature/new/")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    # Without the token: refused, nothing written.
    assert client.post("/console/unit_nature/new/", data={"code": "csrf1", "name": "无令牌"}).status_code == 400
    response = client.post("/console/unit_nature/new/", data={"csrf_token": token, "code": "demo-x", "name": "测试性质", "enabled": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(UnitNature).filter_by(code="demo-x").count() == 1
        assert db.session.query(UnitNature).filter_by(code="csrf1").count() == 0
    assert client.get("/console/region/").status_code == 200
    assert client.get("/console/annual_requirement/").status_code == 200


def test_csv_export_escapes_formulas(app, people):
    import csv
    import io

    from app.console import escape_csv_cell

    payloads = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    with app.app_context():
        for i, name in enumerate(payloads):
            db.session.add(UnitNature(code=f"csvinj{i}", name=name, enabled=True))
        db.session.add(UnitNature(code="csvplain", name="普通-性质", enabled=True))
        db.session.commit()
    client = app.test_client()
    login(client, "sysadmin", people["sysadmin"])
    response = client.get("/console/unit_nature/export/csv/")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    names = {row[0]: row[1] for row in rows[1:]}
    for i, name in enumerate(payloads):
        assert names[f"csvinj{i}"] == "'" + name
    assert names["csvplain"] == "普通-性质"  # ordinary text is untouched
    assert escape_csv_cell(-2) == -2 and escape_csv_cell(None) is None
    # Other capacities cannot export at all.
    other = app.test_client()
    login(other, "province", people["province"])
    assert other.get("/console/unit_nature/export/csv/").status_code == 403
