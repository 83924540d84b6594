"""Internal departments (内设部门) as a tree: add child, full path, disable, no cycle, own parents only."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Department
from tests import factories
from tests.helpers import login, token_for


def _setup(app):
    with app.app_context():
        unit = factories.org("employer")
        boss = factories.admin(unit)
        other = factories.org("employer")
        root = Department(org=unit, name="内科")
        db.session.add(root)
        db.session.flush()
        child = Department(org=unit, name="心内科", parent=root)
        off = Department(org=unit, name="停用科", enabled=False)
        foreign = Department(org=other, name="外单位科")
        db.session.add_all([child, off, foreign])
        db.session.commit()
        return {"unit": unit.id, "boss": boss.id_number, "root": root.id, "child": child.id, "off": off.id, "foreign": foreign.id}


def _client(app, idn):
    client = app.test_client()
    assert login(client, "employer", idn).status_code == 302
    return client


def _options(html):
    select = re.search(r'<select[^>]*name="parent".*?</select>', html, re.S)
    return select.group(0) if select else ""


def test_add_child_preselects_parent_and_list_shows_full_path(app):
    ids = _setup(app)
    client = _client(app, ids["boss"])
    token = token_for(client, "/departmentview/list/")
    jump = client.post(f"/departmentview/action/add_child/{ids['child']}", data={"csrf_token": token})
    assert jump.status_code == 302 and f"parent={ids['child']}" in jump.headers["Location"]
    form = client.get(f"/departmentview/add?parent={ids['child']}").get_data(as_text=True)
    options = _options(form)
    assert re.search(rf'<option[^>]*selected[^>]*value="{ids["child"]}"|<option[^>]*value="{ids["child"]}"[^>]*selected', options)
    # The picker offers the unit's own enabled departments only.
    assert f'value="{ids["off"]}"' not in options and f'value="{ids["foreign"]}"' not in options
    assert client.post("/departmentview/add", data={"csrf_token": token, "name": "心电室", "parent": ids["child"], "enabled": "y"}).status_code == 302
    with app.app_context():
        new = db.session.query(Department).filter_by(name="心电室").one()
        assert new.parent_id == ids["child"] and new.org_id == ids["unit"]
    listing = client.get("/departmentview/list/").get_data(as_text=True)
    assert "内科 / 心内科" in listing


def test_cycle_is_refused(app):
    ids = _setup(app)
    client = _client(app, ids["boss"])
    token = token_for(client, "/departmentview/list/")
    client.post(f"/departmentview/edit/{ids['root']}", data={"csrf_token": token, "name": "内科", "parent": ids["child"], "enabled": "y"})
    client.post(f"/departmentview/edit/{ids['root']}", data={"csrf_token": token, "name": "内科", "parent": ids["root"], "enabled": "y"})
    with app.app_context():
        assert db.session.get(Department, ids["root"]).parent_id is None


def test_foreign_or_disabled_parent_is_refused(app):
    ids = _setup(app)
    client = _client(app, ids["boss"])
    token = token_for(client, "/departmentview/list/")
    for parent in (ids["foreign"], ids["off"]):
        response = client.post("/departmentview/add", data={"csrf_token": token, "name": f"越权{parent}", "parent": parent, "enabled": "y"})
        assert response.status_code == 200
    client.post(f"/departmentview/edit/{ids['child']}", data={"csrf_token": token, "name": "心内科", "parent": ids["foreign"], "enabled": "y"})
    with app.app_context():
        assert db.session.query(Department).filter(Department.name.like("越权%")).count() == 0
        assert db.session.get(Department, ids["child"]).parent_id == ids["root"]


def test_disable_and_enable_with_confirmation_action(app):
    ids = _setup(app)
    client = _client(app, ids["boss"])
    token = token_for(client, "/departmentview/list/")
    listing = client.get("/departmentview/list/").get_data(as_text=True)
    assert "disable" in listing
    assert client.post("/departmentview/action_post", data={"csrf_token": token, "action": "disable", "rowid": [ids["child"]]}).status_code == 302
    with app.app_context():
        assert not db.session.get(Department, ids["child"]).enabled
    client.post("/departmentview/action_post", data={"csrf_token": token, "action": "enable", "rowid": [ids["child"]]})
    with app.app_context():
        assert db.session.get(Department, ids["child"]).enabled
    # Another unit's department: not found, unchanged.
    assert client.post("/departmentview/action_post", data={"csrf_token": token, "action": "disable", "rowid": [ids["foreign"]]}).status_code == 404
    with app.app_context():
        assert db.session.get(Department, ids["foreign"]).enabled


def test_department_with_children_cannot_be_deleted(app):
    ids = _setup(app)
    client = _client(app, ids["boss"])
    token = token_for(client, "/departmentview/list/")
    client.post(f"/departmentview/delete/{ids['root']}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Department, ids["root"]) is not None
