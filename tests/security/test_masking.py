"""Masked ID numbers stay masked: an actor without ``can_view_full_id`` (an employer admin) cannot
restore a masked number from the birth date beside it, nor confirm its digits one by one with
partial filters (FAB search form, ``_flt_*`` URL filters, REST ``q`` filters); the exact full number
still finds the person. The system administrator (full IDs) keeps every filter."""

from __future__ import annotations

import io
from datetime import date

import prison
import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Professional
from tests import factories
from tests.helpers import login

BIRTH = date(1987, 6, 15)


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        employer = factories.org("employer", "掩码测试单位", factories.org("hr", "掩码测试人社局"))
        admin = factories.admin(employer)
        person = factories.professional(employer, "掩码甲")
        person.birth_date = BIRTH
        other = factories.professional(employer, "掩码乙")
        sysadmin = factories.user("掩码系统管理员", is_sysadmin=True)
        db.session.commit()
        return {
            "admin": admin.id_number, "sysadmin": sysadmin.id_number, "pid": person.id,
            "idn": person.id_number, "other": other.id,
        }


@pytest.fixture
def employer_client(app, people):
    client = app.test_client()
    assert login(client, "employer", people["admin"]).status_code == 302
    return client


def _listed(client, people, query: str) -> bool:
    html = client.get(f"/professionalview/list/?{query}").get_data(as_text=True)
    return f'/show/{people["pid"]}"' in html


def test_partial_id_filters_in_the_url_reveal_nothing(employer_client, people):
    idn = people["idn"]
    wrong = str((int(idn[6]) + 1) % 10)
    assert _listed(employer_client, people, "")
    # Every filter index of the ID-number column: a right and a wrong partial guess answer alike
    # (nothing), and only "equal" (index 0) with the whole number finds the person.
    for index in range(10):
        for right in (idn[:7], idn[:10], idn[6:14], idn[-4:], idn[:14]):
            guessed = _listed(employer_client, people, f"_flt_{index}_id_number={right}")
            missed = _listed(employer_client, people, f"_flt_{index}_id_number={right[:-1] + wrong}")
            assert guessed is False and missed is False, (index, right)
    assert _listed(employer_client, people, f"_flt_0_id_number={idn}")
    assert not _listed(employer_client, people, f"_flt_0_id_number={idn[:-1]}")
    # Birth-date filters tell nothing either (the right and a wrong date answer alike).
    for index in range(6):
        assert _listed(employer_client, people, f"_flt_{index}_birth_date={BIRTH.isoformat()}") == _listed(
            employer_client, people, f"_flt_{index}_birth_date=1960-01-01"
        )


def test_partial_id_filters_in_rest_reveal_nothing(employer_client, people):
    idn = people["idn"]

    def found(filters):
        q = prison.dumps({"filters": filters, "page_size": 100})
        r = employer_client.get(f"/api/v1/professional/?q={q}")
        assert r.status_code in (200, 400)
        return people["pid"] in (r.get_json().get("ids") or []) if r.status_code == 200 else None

    right, wrong = idn[:10], idn[:9] + str((int(idn[9]) + 1) % 10)
    for opr in ("sw", "ct", "ew", "nsw", "nct", "new", "neq", "in", "nin"):
        answers = [
            found([{"col": "id_number", "opr": opr, "value": [v] if opr in ("in", "nin") else v}]) for v in (right, wrong)
        ]
        assert answers[0] == answers[1], opr
        if opr in ("sw", "ct"):
            assert not answers[0], opr  # no match, not "all rows"
    for opr in ("gt", "lt", "eq"):
        assert found([{"col": "birth_date", "opr": opr, "value": "1980-01-01"}]) == found(
            [{"col": "birth_date", "opr": opr, "value": "1995-01-01"}]
        ), opr
    assert not found([{"col": "id_number", "opr": "eq", "value": idn[:-1]}])
    assert found([{"col": "id_number", "opr": "eq", "value": idn}])


def test_no_birth_date_beside_a_masked_number(employer_client, people):
    shown = employer_client.get(f"/professionalview/show/{people['pid']}").get_data(as_text=True)
    assert people["idn"] not in shown and people["idn"][:6] + "********" + people["idn"][-4:] in shown
    assert BIRTH.isoformat() not in shown
    api = employer_client.get(f"/api/v1/professional/{people['pid']}").get_json()["result"]
    assert api["birth_date"] is None and api["id_number"] != people["idn"]
    export = employer_client.get("/professionalview/export/")
    cells = [str(c.value) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows() for c in row]
    assert not any(BIRTH.isoformat() in c or people["idn"] in c for c in cells)


def _offered(html: str) -> list[str]:
    """The filters the list page's search form offers for the ID-number column (its JSON)."""
    import json
    import re

    for blob in re.findall(r"^\s*(\{.*\}),?\s*$", html, re.M):
        try:
            data = json.loads(blob)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("id_number"), list):
            return data["id_number"]
    return []


def test_search_form_offers_exact_match_only(employer_client, app, people):
    offered = _offered(employer_client.get("/professionalview/list/").get_data(as_text=True))
    assert len(offered) == 1
    client = app.test_client()
    assert login(client, "sysadmin", people["sysadmin"]).status_code == 302
    full = _offered(client.get("/professionalview/list/").get_data(as_text=True))
    assert len(full) > 1 and full[0] == offered[0]  # index 0 is "equal" for everybody


def test_system_administrator_keeps_partial_search_and_birth_dates(app, people):
    client = app.test_client()
    assert login(client, "sysadmin", people["sysadmin"]).status_code == 302
    assert _listed(client, people, f"_flt_1_id_number={people['idn'][:10]}")  # index 1: starts with
    shown = client.get(f"/professionalview/show/{people['pid']}").get_data(as_text=True)
    assert people["idn"] in shown and BIRTH.isoformat() in shown
    with app.app_context():
        assert db.session.get(Professional, people["pid"]).birth_date == BIRTH


def test_registration_review_detail_shows_no_birth_date_beside_a_masked_number(app, people):
    with app.app_context():
        employer = db.session.get(Professional, people["pid"]).org
        pending = factories.professional(employer, "掩码待审", status="pending")
        pending.birth_date = date(1979, 3, 8)
        db.session.commit()
        pk = pending.id
    client = app.test_client()
    assert login(client, "employer", people["admin"]).status_code == 302
    page = client.get(f"/review/registrations/professional/{pk}")
    assert page.status_code == 200
    assert "1979-03-08" not in page.get_data(as_text=True)
