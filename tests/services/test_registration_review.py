"""services/registration_review.py: what a reviewer sees, the search, the history and review_many's
all-or-nothing validation."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditLog, Membership, Organization, Professional
from app.services import registration_review as rr
from app.services.auth import actor_for_membership
from tests import factories as f


@pytest.fixture(autouse=True)
def _outbox(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        city = f.org("hr", "服务测试市人社局")
        county = f.org("hr", "服务测试县人社局", city)
        employer = f.org("employer", "服务测试单位", county)
        other = f.org("employer", "服务测试外单位", county)
        people = [f.professional(employer, n, status="pending") for n in ("服甲", "服乙")]
        foreign = f.professional(other, "服丙", status="pending")
        sub = f.org("employer", "服务测试下级单位", employer, status="pending")
        applicant = f.admin(sub, "申请人", status="pending")
        for o in (employer, county):
            f.admin(o)
        db.session.commit()

        def actor(org):
            m = db.session.query(Membership).filter_by(org_id=org.id, status="approved").first()
            return actor_for_membership(m)

        yield {
            "employer": actor(employer), "county": actor(county), "people": people, "foreign": foreign,
            "sub": sub, "applicant": applicant,
        }


def test_pending_lists_only_rows_addressed_to_the_actor(ctx):
    page = rr.pending("professional", ctx["employer"])
    assert {p.id for p in page.items} == {p.id for p in ctx["people"]}
    assert page.count == 2 and page.page_size == 20
    assert [o.id for o in rr.pending("employer", ctx["employer"]).items] == [ctx["sub"].id]
    # the county is above the employer but is not its reviewer
    assert rr.pending("employer", ctx["county"]).items == []
    with pytest.raises(rr.ReviewRefused):
        rr.pending("professional", ctx["county"])


def test_search_by_name_id_number_credit_code_and_applicant(ctx):
    emp = ctx["employer"]
    assert [p.name for p in rr.pending("professional", emp, "服甲").items] == ["服甲"]
    idn = ctx["people"][1].id_number
    assert rr.matching_ids("professional", emp, idn.lower()) == [ctx["people"][1].id]
    assert rr.matching_ids("employer", emp, ctx["sub"].credit_code) == [ctx["sub"].id]
    assert rr.matching_ids("employer", emp, ctx["applicant"].id_number) == [ctx["sub"].id]
    assert rr.matching_ids("employer", emp, "100%_") == []


def test_review_many_refuses_everything_when_one_id_is_foreign(ctx):
    before = db.session.query(AuditLog).count()
    ids = [p.id for p in ctx["people"]] + [ctx["foreign"].id]
    with pytest.raises(rr.ReviewRefused) as exc:
        rr.review_many(ids, "professional", "approve", ctx["employer"])
    assert exc.value.code == "not_pending"
    db.session.expire_all()
    assert {p.status for p in db.session.query(Professional).filter(Professional.id.in_(ids))} == {"pending"}
    assert db.session.query(AuditLog).count() == before


@pytest.mark.parametrize("ids,trigger,reason,code", [
    ([], "approve", None, "nothing"),
    (["x"], "approve", None, "not_pending"),
    (None, "reject", " ", "reason"),
    (None, "reject", "长" * 1001, "reason_long"),
    (None, "delete", None, "trigger"),
])
def test_review_many_validation(ctx, ids, trigger, reason, code):
    ids = [p.id for p in ctx["people"]] if ids is None else ids
    with pytest.raises(rr.ReviewRefused) as exc:
        rr.review_many(ids, "professional", trigger, ctx["employer"], reason)
    assert exc.value.code == code
    db.session.expire_all()
    assert {p.status for p in ctx["people"]} == {"pending"}


def test_review_many_fires_each_commits_once_and_history_lists_them(ctx):
    emp = ctx["employer"]
    done = rr.review_many([p.id for p in ctx["people"]], "professional", "approve", emp, expected=2)
    assert [p.status for p in done] == ["approved", "approved"]
    assert all(p.certificate_no for p in done)
    rr.review_many([ctx["sub"].id], "employer", "reject", emp, "信用代码不符")
    db.session.expire_all()
    assert db.session.get(Organization, ctx["sub"].id).status == "rejected"
    hist = rr.history("professional", emp)
    assert hist.count == 2 and {h.trigger for h in hist.items} == {"approve"}
    org_hist = rr.history("employer", emp).items
    assert [(h.name, h.trigger, h.comment) for h in org_hist] == [("服务测试下级单位", "reject", "信用代码不符")]
    # reviewed rows cannot be reviewed again
    with pytest.raises(rr.ReviewRefused):
        rr.review_many([done[0].id], "professional", "reject", emp, "再次")


def test_expected_count_mismatch_is_refused(ctx):
    with pytest.raises(rr.ReviewRefused) as exc:
        rr.review_many([p.id for p in ctx["people"]], "professional", "approve", ctx["employer"], expected=3)
    assert exc.value.code == "changed"
