"""Declaration REST API (``/api/v1/declaration/``) with bearer tokens: the professional creates, edits and
submits; the three reviewers approve in turn; rows outside the scope are 404 and stay unchanged; the
body errors come back as 400 JSON; the endpoints are in the OpenAPI spec; session writes need CSRF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Attachment, AuditLog, Declaration
from tests import factories as f
from tests.helpers import login, token_for

YEAR = date.today().year
API = "/api/v1/declaration"


def build_world(app) -> dict:
    """province → city HR → (county HR, other county HR → employer_b, competent → employer); ids and logins."""
    with app.app_context():
        world = f.world()
        out = {}
        for key, value in world.items():
            if key.endswith("_admin") or key == "sysadmin":
                out[key] = value.id_number
            elif key.startswith("person"):
                out[key] = value.id
                out[key + "_login"] = value.id_number
            else:
                out[key] = value.id
        db.session.commit()
        return out


@pytest.fixture
def w(app):
    return build_world(app)


def session_client(app, w, capacity, who):
    """A test client logged in through the real form (captcha included) as ``who`` in ``capacity``."""
    c = app.test_client()
    idn = w[who + "_login"] if who.startswith("person") else w[who]
    assert login(c, capacity, idn).status_code == 302
    return c


def issue_token(client) -> str:
    """POST /api/v1/token/ from the logged-in session (with its CSRF token)."""
    r = client.post("/api/v1/token/", headers={"X-CSRFToken": token_for(client)})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert r.headers["Cache-Control"] == "no-store"
    return body["access_token"]


def bearer(app, w, capacity, who) -> tuple:
    """A fresh client without any session cookie and the Authorization header of ``who``'s token."""
    token = issue_token(session_client(app, w, capacity, who))
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def conference(**extra):
    body = {
        "subject_type": "professional", "form_code": "academic_conference", "year": YEAR,
        "start_date": f"{YEAR}-03-01", "end_date": f"{YEAR}-03-02", "result": "合格",
        "requested_hours": "99", "remark": "全国学术会议",
        "data": {"level": "national", "conference": "全国医学年会", "days": 2, "presented_paper": True},
    }
    body.update(extra)
    return body


def load(app, pk) -> Declaration:
    with app.app_context():
        obj = db.session.get(Declaration, pk)
        db.session.expunge(obj)
        return obj


def add_evidence(app, pk) -> None:
    """Evidence is uploaded on the page (not through JSON): put one attachment row in place."""
    with app.app_context():
        db.session.add(Attachment(declaration_id=pk, filename="proof.png", stored_path="evidence/none.png",
                                  content_type="image/png", size=1))
        db.session.commit()


def create_pending(app, w) -> int:
    c, h = bearer(app, w, "person", "person")
    pk = c.post(API + "/", json=conference(), headers=h).get_json()["id"]
    add_evidence(app, pk)
    assert c.post(f"{API}/{pk}/submit", headers=h).status_code == 200
    return pk


# -- the whole path ------------------------------------------------------------------------------------


def test_professional_creates_edits_submits_and_three_reviewers_approve(app, w):
    c, h = bearer(app, w, "person", "person")

    r = c.post(API + "/", json=conference(), headers=h)
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    pk = body["id"]
    # national 6/day × (2 days + 1 for the paper): the plugin's standard, not the client's 99
    assert Decimal(str(body["result"]["requested_hours"])) == Decimal("18.0")
    assert body["result"]["state"] == "draft" and body["result"]["data"]["conference"] == "全国医学年会"

    # edit: fields left out keep their values; the hours follow the new data
    r = c.put(f"{API}/{pk}", json={"remark": "改过的备注", "data": dict(conference()["data"], presented_paper=False)}, headers=h)
    assert r.status_code == 200, r.get_data(as_text=True)
    d = load(app, pk)
    assert d.remark == "改过的备注" and d.requested_hours == Decimal("12.0") and d.result == "合格"

    # submitting needs evidence (uploaded on the page)
    r = c.post(f"{API}/{pk}/submit", headers=h)
    assert r.status_code == 400 and "evidence" in r.get_json()["errors"]
    add_evidence(app, pk)
    r = c.post(f"{API}/{pk}/submit", headers=h)
    assert r.status_code == 200 and r.get_json()["result"]["state"] == "pending"
    assert load(app, pk).handler_org_id == w["employer"]

    # a submitted declaration can no longer be edited
    r = c.put(f"{API}/{pk}", json={"remark": "再改"}, headers=h)
    assert r.status_code == 400 and r.get_json()["errors"]

    for capacity, who, org in (("employer", "employer_admin", "employer"), ("competent", "competent_admin", "competent"),
                               ("hr", "city_admin", "city")):
        rc, rh = bearer(app, w, capacity, who)
        assert rc.get(f"{API}/{pk}", headers=rh).status_code == 200
        payload = {"recognised_hours": 10, "comment": "论文未在会上宣读"} if org == "city" else {}
        r = rc.post(f"{API}/{pk}/approve", json=payload, headers=rh)
        assert r.status_code == 200, (capacity, r.get_data(as_text=True))
        assert r.get_json()["result"]["state"] == ("approved" if org == "city" else "pending")
    d = load(app, pk)
    assert d.state == "approved" and d.recognised_hours == Decimal("10.0")
    with app.app_context():
        triggers = [a.trigger for a in db.session.query(AuditLog).filter_by(object_type="declaration", object_id=pk)
                    .order_by(AuditLog.id)]
    assert triggers == ["submit", "approve", "approve", "approve"]

    listing = c.get(API + "/", headers=h).get_json()
    assert pk in listing["ids"]


def test_create_errors_are_400_json_by_field(app, w):
    c, h = bearer(app, w, "person", "person")
    r = c.post(API + "/", json=conference(year=YEAR - 5, data={"level": "national", "days": 0}), headers=h)
    assert r.status_code == 400
    body = r.get_json()
    assert body["message"] and {"year", "days", "conference"} <= set(body["errors"])
    assert c.post(API + "/", data="not json", headers=dict(h, **{"Content-Type": "application/json"})).status_code == 400
    with app.app_context():
        assert db.session.query(Declaration).filter_by(professional_id=w["person"]).count() == 0


def test_reject_needs_a_comment(app, w):
    pk = create_pending(app, w)
    c, h = bearer(app, w, "employer", "employer_admin")
    r = c.post(f"{API}/{pk}/reject", json={}, headers=h)
    assert r.status_code == 400 and "comment" in r.get_json()["errors"]
    assert load(app, pk).state == "pending"
    r = c.post(f"{API}/{pk}/reject", json={"comment": "证明材料不全"}, headers=h)
    assert r.status_code == 200 and load(app, pk).state == "rejected"


# -- scope ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity,who", [("hr", "other_county_admin"), ("employer", "employer_b_admin"),
                                          ("hr", "county_admin")])
def test_reviewer_outside_scope_gets_404_and_nothing_changes(app, w, capacity, who):
    pk = create_pending(app, w)
    before = load(app, pk)
    c, h = bearer(app, w, capacity, who)
    assert c.get(f"{API}/{pk}", headers=h).status_code == 404
    for action, payload in (("approve", {}), ("reject", {"comment": "越权"})):
        r = c.post(f"{API}/{pk}/{action}", json=payload, headers=h)
        assert r.status_code == 404, r.get_data(as_text=True)
        assert "errors" not in r.get_json()
    assert pk not in c.get(API + "/?q=(page_size:100)", headers=h).get_json()["ids"]
    after = load(app, pk)
    assert (after.state, after.step, after.handler_org_id) == (before.state, before.step, before.handler_org_id)


def test_reviewer_in_scope_but_not_the_handler_is_refused(app, w):
    pk = create_pending(app, w)
    c, h = bearer(app, w, "hr", "city_admin")
    assert c.get(f"{API}/{pk}", headers=h).status_code == 200
    r = c.post(f"{API}/{pk}/approve", json={}, headers=h)
    assert r.status_code == 400 and "ids" in r.get_json()["errors"]
    assert load(app, pk).handler_org_id == w["employer"]


def test_professional_cannot_touch_someone_elses_declaration(app, w):
    pk = create_pending(app, w)
    c, h = bearer(app, w, "person", "person_b")
    assert c.get(f"{API}/{pk}", headers=h).status_code == 404
    assert c.put(f"{API}/{pk}", json={"remark": "x"}, headers=h).status_code == 404
    assert c.post(f"{API}/{pk}/submit", headers=h).status_code == 404
    # a professional holds no review permission at all
    assert c.post(f"{API}/{pk}/approve", json={}, headers=h).status_code == 403


def test_reviewers_cannot_create_edit_or_submit(app, w):
    pk = create_pending(app, w)
    c, h = bearer(app, w, "employer", "employer_admin")
    assert c.post(API + "/", json=conference(), headers=h).status_code == 403
    assert c.put(f"{API}/{pk}", json={"remark": "x"}, headers=h).status_code == 403
    assert c.post(f"{API}/{pk}/submit", headers=h).status_code == 403
    assert c.delete(f"{API}/{pk}", headers=h).status_code == 405


# -- OpenAPI and CSRF ----------------------------------------------------------------------------------


def test_openapi_spec_lists_the_declaration_endpoints(app, w):
    c, h = bearer(app, w, "person", "person")
    r = c.get("/api/v1/_openapi", headers=h)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    spec = r.get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths[f"{API}/"])
    assert {"get", "put"} <= set(paths[f"{API}/{{pk}}"]) and "delete" not in paths[f"{API}/{{pk}}"]
    for action in ("submit", "approve", "reject"):
        assert "post" in paths[f"{API}/{{pk}}/{action}"], action
    assert "post" in paths["/api/v1/token/"]
    post = paths[f"{API}/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeclarationWrite")
    assert {"DeclarationWrite", "DeclarationReview"} <= set(spec["components"]["schemas"])
    assert not any(p.startswith("/api/v1/security") for p in paths)


def test_session_writes_need_the_csrf_token(app, w):
    c = session_client(app, w, "person", "person")
    assert c.post(API + "/", json=conference()).status_code == 400
    with app.app_context():
        assert db.session.query(Declaration).filter_by(professional_id=w["person"]).count() == 0
    r = c.post(API + "/", json=conference(), headers={"X-CSRFToken": token_for(c)})
    assert r.status_code == 201
    pk = r.get_json()["id"]
    add_evidence(app, pk)
    assert c.post(f"{API}/{pk}/submit").status_code == 400
    assert load(app, pk).state == "draft"
    reviewer = session_client(app, w, "employer", "employer_admin")
    assert c.post(f"{API}/{pk}/submit", headers={"X-CSRFToken": token_for(c)}).status_code == 200
    assert reviewer.post(f"{API}/{pk}/approve", json={}).status_code == 400
    assert load(app, pk).step == 0
    # every other REST API too (FAB exempts API blueprints from CSRF; ours put the check back)
    employer = session_client(app, w, "employer", "employer_admin")
    r = employer.post("/api/v1/department/", json={"name": "无令牌科室", "org": w["employer"]})
    assert r.status_code == 400
    r = employer.post("/api/v1/department/", json={"name": "有令牌科室", "org": w["employer"]},
                      headers={"X-CSRFToken": token_for(employer)})
    assert r.status_code == 201
