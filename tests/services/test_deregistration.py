"""Deregistration services: applications, the refusals (nothing written), batch review and scope."""

from __future__ import annotations

import os

import pytest

from app.extensions import db
from app.models import AuditLog, ChangeRequest, Declaration, Deregistration, Membership, Transfer
from app.services import deregistration as svc
from app.services.scope import Actor
from app.services.uploads import upload_path
from tests import factories as f
from tests.images import PHP, image_bytes, upload


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield app
        db.session.rollback()


def _admin_actor(org, super_=True):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    m.is_super = super_
    db.session.flush()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def _person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def _tree():
    province = f.org("province")
    city = f.org("hr", parent=province)
    county = f.org("hr", parent=city)
    employer = f.org("employer", parent=county)
    person = f.professional(employer, "注销乙")
    db.session.commit()
    return {"province": province, "city": city, "county": county, "employer": employer, "person": person}


def _count(model=Deregistration):
    return db.session.query(model).count()


def _proof():
    return upload(image_bytes("PNG"), "proof.png")


def _files(app):
    root = app.config["UPLOAD_FOLDER"]
    return sorted(os.path.join(d, n) for d, _s, names in os.walk(root) for n in names) if os.path.isdir(root) else []


# -------------------------------------------------------------------- person


def test_person_applies(ctx):
    t = _tree()
    obj = svc.apply_person(_person_actor(t["person"]), "retired", " 已于2026年退休 ")
    assert obj.id and obj.kind == "person" and obj.state == "pending"
    assert obj.handler_org_id == t["employer"].id and obj.org_id == t["employer"].id
    assert obj.reason.endswith("已于2026年退休") and obj.reason != "已于2026年退休"
    assert db.session.query(AuditLog).filter_by(object_type="deregistration", object_id=obj.id).count() == 1


def test_person_apply_validation_writes_nothing(ctx):
    t = _tree()
    before = (_count(), _count(AuditLog))
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_person(_person_actor(t["person"]), "fired", "  ")
    assert set(e.value.errors) == {"cause", "reason"}
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_person(_person_actor(t["person"]), "retired", "x" * 501)
    assert set(e.value.errors) == {"reason"}
    with pytest.raises(svc.DeregistrationInvalid) as e:  # an admin is not a professional
        svc.apply_person(_admin_actor(t["employer"]), "retired", "退休")
    assert set(e.value.errors) == {"actor"}
    assert (_count(), _count(AuditLog)) == before


def test_person_duplicate_open_request_refused(ctx):
    t = _tree()
    actor = _person_actor(t["person"])
    svc.apply_person(actor, "retired", "退休")
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_person(actor, "deceased", "去世")
    assert set(e.value.errors) == {"open_request"}
    assert db.session.query(Deregistration).filter_by(professional_id=t["person"].id).count() == 1


@pytest.mark.parametrize("item", ["declaration", "transfer", "change"])
def test_person_with_pending_items_refused(ctx, item):
    t = _tree()
    p, emp = t["person"], t["employer"]
    if item == "declaration":
        row = Declaration(professional=p, org=emp, subject_type="public", form_code="other", year=2026, requested_hours=8, state="pending", route=[emp.id], handler_org_id=emp.id, data={})
    elif item == "transfer":
        row = Transfer(professional=p, from_org=emp, to_org=f.org("employer", parent=t["county"]), state="pending")
    else:
        row = ChangeRequest(kind="person_info", professional=p, org=emp, handler_org=emp, state="pending", route=[])
    db.session.add(row)
    db.session.commit()
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_person(_person_actor(p), "retired", "退休")
    assert set(e.value.errors) == {"pending"}
    assert str(e.value.errors["pending"])
    assert db.session.query(Deregistration).filter_by(professional_id=p.id).count() == 0
    # Decided items no longer block.
    row.state = "approved"
    db.session.commit()
    assert svc.apply_person(_person_actor(p), "retired", "退休").state == "pending"


def test_person_without_hr_bureau_refused(ctx):
    employer = f.org("employer")
    person = f.professional(employer, "无人社")
    db.session.commit()
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_person(_person_actor(person), "retired", "退休")
    assert set(e.value.errors) == {"route"}


def test_review_path_and_refusals(ctx):
    t = _tree()
    obj = svc.apply_person(_person_actor(t["person"]), "deceased", "本人已去世，家属申请")
    employer, hr = _admin_actor(t["employer"]), _admin_actor(t["county"])
    # HR cannot act before the employer; a stranger never can; nothing changes.
    for actor in (hr, _admin_actor(f.org("employer", parent=t["county"]))):
        with pytest.raises(svc.DeregistrationInvalid) as e:
            svc.review(actor, [obj.id], "approve")
        assert set(e.value.errors) == {"ids"}
    assert obj.handler_org_id == t["employer"].id
    assert [o.id for o in svc.inbox_query(employer)] == [obj.id]
    assert svc.inbox_query(hr).count() == 0
    svc.review(employer, [obj.id], "approve")
    assert obj.handler_org_id == t["county"].id and obj.state == "pending"
    assert svc.inbox_query(employer).count() == 0 and [o.id for o in svc.inbox_query(hr)] == [obj.id]
    assert [o.id for o in svc.handled_query(employer)] == [obj.id]
    with pytest.raises(svc.DeregistrationError) as e2:  # the person cannot withdraw any more
        svc.withdraw(_person_actor(t["person"]), obj.id)
    assert e2.value.code == "too_late"
    svc.review(hr, [obj.id], "approve")
    db.session.expire_all()
    assert obj.state == "approved" and obj.professional.status == "deregistered"


def test_reject_without_reason_refused(ctx):
    t = _tree()
    obj = svc.apply_person(_person_actor(t["person"]), "retired", "退休")
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.review(_admin_actor(t["employer"]), [obj.id], "reject", "")
    assert set(e.value.errors) == {"reason"}
    assert obj.state == "pending"


def test_batch_review_is_all_or_nothing(ctx):
    t = _tree()
    a = svc.apply_person(_person_actor(t["person"]), "retired", "退休")
    other_person = f.professional(t["employer"], "注销丙")
    b = svc.apply_person(_person_actor(other_person), "retired", "退休")
    far = _tree()
    c = svc.apply_person(_person_actor(far["person"]), "retired", "退休")  # addressed to another employer
    actor = _admin_actor(t["employer"])
    with pytest.raises(svc.DeregistrationInvalid):
        svc.review(actor, [a.id, b.id, c.id], "reject", "批量驳回")
    db.session.expire_all()
    assert {o.state for o in (a, b, c)} == {"pending"}
    with pytest.raises(svc.DeregistrationInvalid):
        svc.review(actor, ["x"], "approve")
    with pytest.raises(svc.DeregistrationInvalid):
        svc.review(actor, [], "approve")
    done = svc.review(actor, [a.id, b.id], "reject", "批量驳回")
    assert {o.state for o in done} == {"rejected"}


def test_final_approval_rechecks_pending_items(ctx):
    t = _tree()
    p, emp = t["person"], t["employer"]
    obj = svc.apply_person(_person_actor(p), "retired", "退休")
    svc.review(_admin_actor(emp), [obj.id], "approve")
    db.session.add(Declaration(professional=p, org=emp, subject_type="public", form_code="other", year=2026, requested_hours=8, state="pending", route=[emp.id], handler_org_id=emp.id, data={}))
    db.session.commit()
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.review(_admin_actor(t["county"]), [obj.id], "approve")
    assert any(k.startswith("pending:") for k in e.value.errors)
    db.session.expire_all()
    assert obj.state == "pending" and p.status == "approved"


def test_visible_request(ctx):
    t = _tree()
    obj = svc.apply_person(_person_actor(t["person"]), "retired", "退休")
    other = f.professional(t["employer"], "旁人")
    assert svc.visible_request(_person_actor(t["person"]), obj.id) is obj
    assert svc.visible_request(_person_actor(other), obj.id) is None
    assert svc.visible_request(_admin_actor(t["employer"]), obj.id) is obj
    assert svc.visible_request(_admin_actor(t["city"]), obj.id) is obj
    assert svc.visible_request(_admin_actor(f.org("hr", parent=t["city"])), obj.id) is None
    assert svc.visible_request(_admin_actor(t["employer"]), "nope") is None


# -------------------------------------------------------------------- organisation


def test_org_applies_and_parent_approves(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["employer"])
    actor = _admin_actor(unit)
    obj = svc.apply_org(actor, "deregister", "单位撤销", proof=_proof())
    assert obj.state == "pending" and obj.handler_org_id == t["employer"].id
    assert obj.proof_file.startswith("dereg_proof/") and os.path.isfile(upload_path(obj.proof_file))
    assert [o.id for o in svc.org_requests(actor)] == [obj.id]
    svc.review(_admin_actor(t["employer"]), [obj.id], "approve")
    db.session.expire_all()
    assert unit.status == "deregistered"
    assert all(not m.enabled for m in db.session.query(Membership).filter_by(org_id=unit.id))


def test_org_merge_target_rules(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["county"])
    child = f.org("employer", parent=unit, status="rejected")
    target = f.org("employer", parent=t["county"])
    pending_target = f.org("employer", parent=t["county"], status="pending")
    actor = _admin_actor(unit)
    for bad in (None, "", "abc", unit.id, child.id, pending_target.id, t["county"].id, 999999):
        with pytest.raises(svc.DeregistrationInvalid) as e:
            svc.apply_org(actor, "merge", "合并", merge_into_id=bad, proof=_proof())
        assert set(e.value.errors) == {"merge_into"}, bad
    found = svc.merge_targets(actor, target.name)
    assert [i["id"] for i in found["items"]] == [target.id]
    ids = {i["id"] for i in svc.merge_targets(actor, "")["items"]}
    assert unit.id not in ids and pending_target.id not in ids and t["county"].id not in ids
    obj = svc.apply_org(actor, "merge", "合并", merge_into_id=str(target.id), proof=_proof())
    assert obj.merge_into_org_id == target.id


def test_org_refusals_write_nothing(ctx):
    t = _tree()
    files = _files(ctx)
    before = (_count(), _count(AuditLog))
    employer_actor = _admin_actor(t["employer"])
    # The employer still has a professional.
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(employer_actor, "deregister", "撤销", proof=_proof())
    assert set(e.value.errors) == {"professionals"}
    # The county still has sub-units (and people below are not its own).
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(t["county"]), "deregister", "撤销", proof=_proof())
    assert set(e.value.errors) == {"subunits"}
    # Bad input: kind, reason, proof file (a PHP file named .png).
    unit = f.org("employer", parent=t["county"])
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(unit), "close", " ", proof=upload(PHP, "proof.png"))
    assert set(e.value.errors) == {"request_kind", "reason", "proof_file"}
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(unit), "deregister", "撤销", proof=None)
    assert set(e.value.errors) == {"proof_file"}
    # An ordinary admin is not the super admin.
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(unit, super_=False), "deregister", "撤销", proof=_proof())
    assert set(e.value.errors) == {"actor"}
    # The root has no superior.
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(f.org("province")), "deregister", "撤销", proof=_proof())
    assert "route" in e.value.errors
    assert (_count(), _count(AuditLog)) == before
    assert _files(ctx) == files


@pytest.mark.parametrize("item", ["registration", "org_registration", "declaration", "transfer_in", "change", "person_dereg"])
def test_org_with_pending_items_refused(ctx, item):
    t = _tree()
    unit = f.org("employer", parent=t["county"])
    if item == "registration":
        f.professional(unit, "待审人员", status="pending")
    elif item == "org_registration":
        f.org("employer", parent=unit, status="pending")
    elif item == "declaration":  # declared by the unit for someone elsewhere
        db.session.add(Declaration(professional=t["person"], org=t["employer"], declared_by_org=unit, subject_type="public", form_code="other", year=2026, requested_hours=8, state="pending", route=[], data={}))
    elif item == "transfer_in":
        db.session.add(Transfer(professional=t["person"], from_org=t["employer"], to_org=unit, state="pending"))
    elif item == "change":
        db.session.add(ChangeRequest(kind="org_info", org=unit, handler_org=t["county"], state="pending", route=[]))
    else:  # a request of someone at another unit, waiting for this unit? no: one of its own (departed) person
        gone = f.professional(unit, "已注销", status="deregistered")
        db.session.add(Deregistration(kind="person", professional=gone, org=unit, reason="x", state="pending", handler_org_id=unit.id))
    db.session.commit()
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(_admin_actor(unit), "deregister", "撤销", proof=_proof())
    assert set(e.value.errors) == {"pending"}
    assert db.session.query(Deregistration).filter_by(kind="org", org_id=unit.id).count() == 0


def test_org_duplicate_open_request_refused(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["county"])
    actor = _admin_actor(unit)
    svc.apply_org(actor, "deregister", "撤销", proof=_proof())
    with pytest.raises(svc.DeregistrationInvalid) as e:
        svc.apply_org(actor, "deregister", "再次撤销", proof=_proof())
    assert set(e.value.errors) == {"open_request"}
    assert db.session.query(Deregistration).filter_by(kind="org", org_id=unit.id).count() == 1


def test_deregistered_people_do_not_block(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["county"])
    f.professional(unit, "已注销二", status="deregistered")
    f.professional(unit, "被驳回", status="rejected")
    f.org("employer", parent=unit, status="deregistered")
    db.session.commit()
    assert svc.org_blockers(unit) == {}
