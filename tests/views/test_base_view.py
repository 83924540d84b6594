"""The shared base view: capped counts, Chinese yes/no, export cells as text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.extensions import db
from tests import factories
from tests.helpers import login


def test_count_is_capped_and_shown_with_plus(app):
    with app.app_context():
        employer = factories.org("employer", "计数测试单位", factories.org("hr", "计数测试人社局"))
        admin = factories.admin(employer)
        for i in range(4):
            factories.professional(employer, f"计数{i}")
        db.session.commit()
        admin_id = admin.id_number
    client = app.test_client()
    login(client, "employer", admin_id)
    old = app.config["CE_COUNT_CAP"]
    app.config["CE_COUNT_CAP"] = 2
    try:
        html = client.get("/professionalview/list/").get_data(as_text=True)
    finally:
        app.config["CE_COUNT_CAP"] = old
    assert "2+" in html
    assert "4" not in html.split("记录数")[1][:60]
    html = client.get("/professionalview/list/").get_data(as_text=True)
    assert "记录数" in html and "4" in html.split("记录数")[1][:60]


def test_export_writes_user_text_as_text_not_formulas(app):
    with app.app_context():
        employer = factories.org("employer", "导出测试单位", factories.org("hr", "导出测试人社局"))
        admin = factories.admin(employer)
        factories.professional(employer, "=HYPERLINK(\"http://x\")")
        db.session.commit()
        admin_id = admin.id_number
    client = app.test_client()
    login(client, "employer", admin_id)
    response = client.get("/professionalview/export/")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_export_writes_one_audit_row_in_the_same_request(app):
    import json

    from app.models import AuditLog

    with app.app_context():
        employer = factories.org("employer", "导出审计单位", factories.org("hr", "导出审计人社局"))
        admin = factories.admin(employer)
        for i in range(3):
            factories.professional(employer, f"导出审计{i}")
        db.session.commit()
        admin_id, admin_user, employer_id = admin.id_number, admin.id, employer.id
        before = db.session.query(AuditLog).filter_by(trigger="export").count()
    client = app.test_client()
    login(client, "employer", admin_id)
    response = client.get("/professionalview/export/?_flt_0_name=导出审计1")
    assert response.status_code == 200
    with app.app_context():
        rows = db.session.query(AuditLog).filter_by(trigger="export").order_by(AuditLog.id).all()
        assert len(rows) == before + 1
        row = rows[-1]
        assert (row.object_type, row.actor_user_id, row.actor_org_id) == ("Professional", admin_user, employer_id)
        comment = json.loads(row.comment)
        assert comment["rows"] == 1 and comment["filters"] == {"_flt_0_name": ["导出审计1"]}
