"""证书管理号: format, region digits, uniqueness when registrations are approved at the same time."""

from __future__ import annotations

import threading
import time

import pytest

from app.extensions import db
from app.models import Professional, Region
from app.services import certificate_numbers as numbers
from app.services.registration_review import PROFESSIONAL as PROFESSIONAL_KIND
from app.services.registration_review import review_many
from app.services.scope import Actor
from tests import factories as f


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def test_region_digits():
    assert numbers.region_digits(Region(code="410105", name="金水区", level="county")) == "0105"
    assert numbers.region_digits(Region(code="410300", name="洛阳市", level="city")) == "0300"
    assert numbers.region_digits(Region(code="419001", name="济源市", level="county")) == "9001"
    assert numbers.region_digits(Region(code="ZS", name="省直", level="direct")) == numbers.DIRECT_DIGITS
    assert numbers.region_digits(None) == "0000"
    assert numbers.format_number(Region(code="411602", name="川汇区", level="county"), 42) == "4116020000042"
    with pytest.raises(numbers.SerialsExhausted):
        numbers.format_number(None, 10**7)


def test_registration_approval_assigns_a_13_digit_number(ctx):
    luoyang = f.region("410302", "老城区", "county")
    bureau = f.org("hr", region_obj=luoyang)
    employer = f.org("employer", parent=bureau, region_obj=luoyang)
    admin = f.admin(employer)
    people = [f.professional(employer, f"编号{i}", status="pending", region=luoyang) for i in range(3)]
    actor = Actor(user_id=admin.id, capacity="employer", org_id=employer.id, org_path=employer.path)
    review_many([p.id for p in people], PROFESSIONAL_KIND, "approve", actor)
    got = [db.session.get(Professional, p.id).certificate_no for p in people]
    assert all(numbers.is_valid_number(n) and n.startswith("410302") for n in got)
    serials = [int(n[6:]) for n in got]
    assert len(set(got)) == 3 and serials == sorted(serials) and serials[2] - serials[0] == 2


def test_concurrent_draws_never_collide(app):
    """Two transactions draw a serial at once; the counter row lock makes the second wait."""
    results, errors = [], []
    with app.app_context():
        numbers.sync_counter()
        db.session.commit()

    def draw(delay):
        time.sleep(delay)
        with app.app_context():
            try:
                n = numbers.next_serial()
                time.sleep(0.6)  # still inside the transaction when the other one arrives
                db.session.commit()
                results.append(n)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=draw, args=(d,)) for d in (0, 0.1, 0.2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors and len(results) == 3 and len(set(results)) == 3, (results, errors)
    assert max(results) - min(results) == 2
