"""Declaration service: validation and saving, evidence, declaring for people, bulk review, the ledger,
and the concurrent-approval case on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AnnualRequirement, Attachment, AuditLog, Declaration, Membership, TitleLevel
from app.services import declarations as svc
from app.services.declarations import (
    E,
    DeclarationInvalid,
    declare_for,
    delete_draft,
    hours_context,
    ledger_hours,
    review,
    revoke,
    save_declaration,
    submit,
)
from app.services.scope import Actor
from app.services.uploads import upload_path
from app.workflows.declaration import DeclarationError
from tests import factories as f
from tests.images import PHP, image_bytes, upload

YEAR = dt.date.today().year


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def admin_actor(org):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def tree(accountant=False):
    province = f.org("province")
    county = f.org("hr", parent=province)
    competent = f.org("competent", parent=county)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "申报甲", is_accountant=accountant)
    return {
        "province": province, "county": county, "competent": competent, "employer": employer, "person": person,
        "me": person_actor(person), "emp": admin_actor(employer), "comp": admin_actor(competent),
        "hr": admin_actor(county),
    }


def conference(**over):
    values = {
        "subject_type": "professional",
        "form_code": "academic_conference",
        "year": YEAR,
        "start_date": f"{YEAR}-03-01",
        "end_date": f"{YEAR}-03-02",
        "result": "合格",
        "requested_hours": "99",
        "remark": "",
        "data": {"level": "national", "conference": "全国学术年会", "days": 2, "presented_paper": True},
    }
    values.update(over)
    return values


def pngs(n):
    return [upload(image_bytes(), f"证明{i}.png") for i in range(n)]


def invalid(call, *args, **kw) -> dict:
    with pytest.raises(DeclarationInvalid) as exc:
        call(*args, **kw)
    return exc.value.errors


def test_save_draft_then_submit_hours_from_the_plugin(ctx):
    t = tree()
    obj = save_declaration(t["me"], conference(), pngs(2))
    assert obj.state == "draft" and obj.requested_hours == Decimal("18.0")  # 6/day × (2 + 1), not 99
    assert obj.data["conference"] == "全国学术年会" and obj.org_id == t["employer"].id
    files = db.session.query(Attachment).filter_by(declaration_id=obj.id).all()
    assert len(files) == 2 and {a.filename for a in files} == {"证明0.png", "证明1.png"}
    assert all(os.path.exists(upload_path(a.stored_path)) for a in files)
    obj = save_declaration(t["me"], conference(data={"level": "provincial", "conference": "省年会", "days": 1}),
                           pngs(1), declaration_id=obj.id, submit=True)
    assert obj.state == "pending" and obj.requested_hours == Decimal("4.0")
    assert obj.handler_org_id == t["employer"].id and len(obj.attachments) == 3
    assert [r.trigger for r in svc.history(obj)] == ["submit"]
    errors = invalid(save_declaration, t["me"], conference(), [], declaration_id=obj.id)
    assert "declaration" in errors  # no edit once submitted


def test_validation_errors_are_collected_and_nothing_is_written(ctx):
    t = tree()
    before = db.session.query(Declaration).count()
    errors = invalid(
        save_declaration, t["me"],
        conference(year=YEAR - 1, remark="长" * 1001, start_date=f"{YEAR}-05-02", end_date=f"{YEAR}-05-01",
                   data={"level": "galactic", "conference": "", "days": 0}),
        [],
    )
    assert {"year", "remark", "end_date", "level", "conference", "days"} <= set(errors)
    assert all(isinstance(v, str) and v for v in errors.values())
    assert db.session.query(Declaration).count() == before


def test_subject_type_must_be_allowed_by_the_form(ctx):
    t = tree()
    errors = invalid(save_declaration, t["me"], conference(subject_type="public"), [])
    assert "subject_type" in errors  # academic conferences are professional only
    assert "form_code" in invalid(save_declaration, t["me"], conference(form_code="nope"), [])
    assert "subject_type" in invalid(save_declaration, t["me"], conference(subject_type="other"), [])


def test_accountant_is_forced_to_public_with_any_form(ctx):
    t = tree(accountant=True)
    obj = save_declaration(t["me"], conference(subject_type="professional"), pngs(1), submit=True)
    assert obj.subject_type == "public"
    assert obj.route == [t["employer"].id, t["county"].id]  # competent department skipped


def test_hours_set_by_the_organiser_are_required_from_the_client(ctx):
    t = tree()
    values = conference(form_code="other", requested_hours="", data={"description": "单位组织的学习"})
    assert "requested_hours" in invalid(save_declaration, t["me"], values, [])
    for bad in ("0", "-1", "1000", "1.25", "abc"):
        assert "requested_hours" in invalid(save_declaration, t["me"], dict(values, requested_hours=bad), [])
    obj = save_declaration(t["me"], dict(values, requested_hours="12.5"), [])
    assert obj.requested_hours == Decimal("12.5")


def test_evidence_limits_and_bad_files_store_nothing(ctx, app):
    t = tree()
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "evidence")

    def stored():
        return sum(len(files) for _, _, files in os.walk(folder)) if os.path.isdir(folder) else 0

    n = stored()
    assert "evidence" in invalid(save_declaration, t["me"], conference(), pngs(6))
    errors = invalid(save_declaration, t["me"], conference(), pngs(2) + [upload(PHP, "shell.png")])
    assert "shell.png" in errors["evidence"]
    assert stored() == n and db.session.query(Declaration).filter_by(professional_id=t["person"].id).count() == 0
    obj = save_declaration(t["me"], conference(), pngs(4))
    assert "evidence" in invalid(save_declaration, t["me"], conference(), pngs(2), declaration_id=obj.id)
    obj = save_declaration(t["me"], conference(), pngs(1), declaration_id=obj.id)
    assert len(obj.attachments) == 5 and stored() == n + 5
    # submitting needs evidence
    assert "evidence" in invalid(save_declaration, t["me"], conference(), [], submit=True)


def test_failed_transaction_removes_the_stored_files(ctx, app, monkeypatch):
    t = tree()
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "evidence")
    n = sum(len(files) for _, _, files in os.walk(folder)) if os.path.isdir(folder) else 0

    def boom(*a, **kw):
        raise RuntimeError("database down")

    monkeypatch.setattr(svc, "fire", boom)
    with pytest.raises(RuntimeError):
        save_declaration(t["me"], conference(), pngs(2), submit=True)
    assert (sum(len(files) for _, _, files in os.walk(folder)) if os.path.isdir(folder) else 0) == n


def test_own_declarations_only_and_draft_commands(ctx, app):
    t = tree()
    other = f.professional(t["employer"], "申报乙")
    obj = save_declaration(t["me"], conference(), pngs(1))
    path = upload_path(obj.attachments[0].stored_path)
    for call in (submit, revoke, delete_draft):
        assert "declaration" in invalid(call, person_actor(other), obj.id)
        assert "declaration" in invalid(call, t["emp"], obj.id)
    assert "declaration" in invalid(save_declaration, person_actor(other), conference(), [], declaration_id=obj.id)
    assert "actor" in invalid(save_declaration, t["emp"], conference(), [])
    submit(t["me"], obj.id)
    assert obj.state == "pending"
    assert "declaration" in invalid(delete_draft, t["me"], obj.id)
    revoke(t["me"], obj.id)
    assert obj.state == "draft"
    submit(t["me"], obj.id)
    review(t["emp"], [obj.id], "approve")
    with pytest.raises(DeclarationError):
        revoke(t["me"], obj.id)
    draft = save_declaration(t["me"], conference(), pngs(1))
    path = upload_path(draft.attachments[0].stored_path)
    pk = draft.id
    delete_draft(t["me"], pk)
    assert db.session.get(Declaration, pk) is None and not os.path.exists(path)
    assert db.session.query(Attachment).filter_by(declaration_id=pk).count() == 0


def test_hours_context_uses_annual_requirements(ctx):
    t = tree()
    year = 2091
    assert hours_context(t["person"], year).professional_required == Decimal("60.0")
    level = db.session.query(TitleLevel).filter_by(code="senior").one_or_none()
    if level is None:
        level = TitleLevel(code="senior", name="高级", rank=3)
        db.session.add(level)
    db.session.add_all([
        AnnualRequirement(year=year, title_level="all", region_scope="all", public_min=24, professional_min=66, total_min=90),
        AnnualRequirement(year=year, title_level="senior", region_scope="all", public_min=26, professional_min=64, total_min=90),
    ])
    db.session.flush()
    assert hours_context(t["person"], year).public_required == Decimal("24.0")
    t["person"].title_level = level
    ctx_ = hours_context(t["person"], year)
    assert (ctx_.public_required, ctx_.professional_required) == (Decimal("26.0"), Decimal("64.0"))


# ---------------------------------------------------------------- declare for people


def test_declare_for_people_starts_above_the_declaring_org(ctx):
    t = tree()
    second = f.professional(t["employer"], "申报丙")
    rows = declare_for(t["emp"], [t["person"].id, second.id], conference())
    assert [r.professional_id for r in rows] == [t["person"].id, second.id]
    for r in rows:
        assert r.state == "pending" and r.declared_by_org_id == t["employer"].id
        assert r.route == [t["competent"].id, t["county"].id] and r.requested_hours == Decimal("18.0")
    comp_rows = declare_for(t["comp"], [t["person"].id], conference())
    assert comp_rows[0].route == [t["county"].id]


def test_declare_for_refuses_a_mix_and_people_out_of_scope(ctx):
    t = tree()
    accountant = f.professional(t["employer"], "会计乙", is_accountant=True)
    before = db.session.query(Declaration).count()
    errors = invalid(declare_for, t["emp"], [t["person"].id, accountant.id], conference())
    assert errors == {"people": str(E["people_mix"])}
    stranger_org = f.org("employer", parent=t["county"])
    stranger = f.professional(stranger_org, "外单位")
    assert "people" in invalid(declare_for, t["emp"], [t["person"].id, stranger.id], conference())
    assert "people" in invalid(declare_for, t["emp"], [], conference())
    assert "actor" in invalid(declare_for, t["me"], [t["person"].id], conference())
    assert "actor" in invalid(declare_for, t["hr"], [t["person"].id], conference())
    assert db.session.query(Declaration).count() == before
    rows = declare_for(t["emp"], [accountant.id], conference())
    assert rows[0].subject_type == "public" and rows[0].route == [t["county"].id]


# ---------------------------------------------------------------- review


def test_bulk_review_refused_when_one_id_is_foreign_nothing_changes(ctx):
    t = tree()
    mine = [save_declaration(t["me"], conference(), pngs(1), submit=True) for _ in range(3)]
    other = tree()
    foreign = save_declaration(other["me"], conference(), pngs(1), submit=True)
    n_audit = db.session.query(AuditLog).filter_by(object_type="declaration").count()
    ids = [d.id for d in mine] + [foreign.id]
    errors = invalid(review, t["emp"], ids, "approve")
    assert "ids" in errors and "1" in errors["ids"]
    assert "ids" in invalid(review, t["emp"], [mine[0].id, "x"], "approve")
    assert "ids" in invalid(review, t["comp"], [mine[0].id], "approve")  # not its turn yet
    assert "ids" in invalid(review, t["me"], [mine[0].id], "approve")
    assert "ids" in invalid(review, t["emp"], [], "approve")
    assert "trigger" in invalid(review, t["emp"], [mine[0].id], "revoke")
    assert "comment" in invalid(review, t["emp"], [d.id for d in mine], "reject", comment="")
    errors = invalid(review, t["emp"], [d.id for d in mine], "approve", recognised_hours={mine[1].id: Decimal("5")})
    assert f"recognised_hours:{mine[1].id}" in errors
    db.session.expire_all()
    assert all(d.state == "pending" and d.step == 0 and d.handler_org_id == t["employer"].id for d in mine)
    assert db.session.query(AuditLog).filter_by(object_type="declaration").count() == n_audit


def test_bulk_review_moves_all_then_final_posts_the_ledger_once(ctx):
    t = tree()
    rows = [save_declaration(t["me"], conference(), pngs(1), submit=True) for _ in range(3)]
    ids = [d.id for d in rows]
    out = review(t["emp"], ids, "approve", comment="同意")
    assert [d.id for d in out] == ids and all(d.handler_org_id == t["competent"].id for d in out)
    assert ledger_hours(t["person"].id, YEAR)["professional"] == Decimal("0.0")
    review(t["comp"], ids, "approve", recognised_hours={ids[0]: Decimal("10")}, comment="核减")
    assert ledger_hours(t["person"].id, YEAR)["professional"] == Decimal("0.0")
    review(t["hr"], ids, "approve")
    db.session.expire_all()
    assert [db.session.get(Declaration, i).state for i in ids] == ["approved"] * 3
    assert db.session.get(Declaration, ids[0]).recognised_hours == Decimal("10.0")
    assert ledger_hours(t["person"].id, YEAR) == {"public": Decimal("0.0"), "professional": Decimal("46.0")}
    hist = svc.history(db.session.get(Declaration, ids[0]))
    assert [(h.trigger, h.to_state, h.actor_org_id) for h in hist] == [
        ("submit", "pending", None), ("approve", "pending", t["employer"].id),
        ("approve", "pending", t["competent"].id), ("approve", "approved", t["county"].id),
    ]
    assert hist[1].comment == "同意" and hist[1].created is not None
    assert "ids" in invalid(review, t["hr"], ids, "approve")  # already decided


def test_reject_in_bulk(ctx):
    t = tree()
    rows = [save_declaration(t["me"], conference(), pngs(1), submit=True) for _ in range(2)]
    review(t["emp"], [d.id for d in rows], "reject", comment="材料不全")
    assert all(d.state == "rejected" for d in rows)
    assert ledger_hours(t["person"].id, YEAR)["professional"] == Decimal("0.0")


def test_visible_declaration(ctx):
    t = tree()
    obj = save_declaration(t["me"], conference(), pngs(1), submit=True)
    assert svc.visible_declaration(t["me"], obj.id) is obj
    assert svc.visible_declaration(t["hr"], obj.id) is obj
    other = tree()
    assert svc.visible_declaration(other["me"], obj.id) is None
    assert svc.visible_declaration(other["emp"], obj.id) is None


# ---------------------------------------------------------------- concurrency (PostgreSQL)


def test_two_reviewers_approving_at_once_count_once(app, monkeypatch):
    """Two admins of the final reviewer approve the same declaration at the same moment: the row lock
    makes the second wait, re-check and refuse; one transition, the hours counted once."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises writers anyway")
    with app.app_context(), app.test_request_context():
        t = tree()
        hr2 = admin_actor(t["county"])
        obj = save_declaration(t["me"], conference(), pngs(1), submit=True)
        review(t["emp"], [obj.id], "approve")
        review(t["comp"], [obj.id], "approve")
        pk, person_id = obj.id, t["person"].id
        hr1 = t["hr"]
        db.session.commit()

    real_fire = svc.fire

    def slow_fire(*a, **kw):  # holds the lock long enough for the other reviewer to arrive
        time.sleep(1.0)
        return real_fire(*a, **kw)

    monkeypatch.setattr(svc, "fire", slow_fire)
    results = {}

    def run(name, actor, delay):
        time.sleep(delay)
        with app.app_context(), app.test_request_context():
            try:
                review(actor, [pk], "approve")
                results[name] = "ok"
            except DeclarationInvalid as exc:
                results[name] = exc.errors
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("a", hr1, 0)), threading.Thread(target=run, args=("b", hr2, 0.3))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert results["a"] == "ok" and "ids" in results["b"], results
    with app.app_context():
        obj = db.session.get(Declaration, pk)
        assert obj.state == "approved"
        approvals = db.session.query(AuditLog).filter_by(object_type="declaration", object_id=pk, trigger="approve")
        assert approvals.count() == 3
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("18.0")
        db.session.remove()
