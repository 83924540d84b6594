"""The console's plugin list: every discovered plugin gets a row, the system admin toggles it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import PluginSetting
from app.plugins import all_certificate_templates, all_learning_forms, learning_forms
from tests import factories
from tests.helpers import csrf_from, login


@pytest.fixture(scope="module")
def sysadmin(app):
    with app.app_context():
        user = factories.user("插件管理员", is_sysadmin=True)
        db.session.commit()
        return user.id_number


@pytest.fixture
def clean_settings(app):
    with app.app_context():
        db.session.execute(delete(PluginSetting))
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(delete(PluginSetting))
        db.session.commit()


def test_listing_creates_rows_and_admin_disables_a_form(app, sysadmin, clean_settings):
    client = app.test_client()
    login(client, "sysadmin", sysadmin)
    page = client.get("/console/plugin_setting/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for code in all_learning_forms():
        assert code in html
    assert "built-in" in html
    with app.app_context():
        assert db.session.execute(select(PluginSetting.code)).scalars().all().__len__() == len(all_learning_forms()) + len(all_certificate_templates())
        row_id = db.session.execute(select(PluginSetting.id).filter_by(code="patent")).scalar_one()
    assert client.get("/console/plugin_setting/new/").status_code in (302, 403, 404)  # codes come from discovery
    edit = client.get(f"/console/plugin_setting/edit/?id={row_id}")
    assert edit.status_code == 200
    token = csrf_from(edit.get_data(as_text=True))
    # Unchecked box: disabled.
    response = client.post(f"/console/plugin_setting/edit/?id={row_id}", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert "patent" not in learning_forms()
    response = client.post(f"/console/plugin_setting/edit/?id={row_id}", data={"csrf_token": token, "enabled": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert "patent" in learning_forms()
    details = client.get(f"/console/plugin_setting/details/?id={row_id}")
    assert details.status_code == 200 and "patent_type" in details.get_data(as_text=True)
