"""ID numbers and credit codes: checksum, impossible and future birth dates, province code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from stdnum.cn import ric

from app.services.identifiers import is_valid_credit_code, is_valid_id_number, make_credit_code, make_id_number


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_valid_and_checksum():
    good = make_id_number("410105", date(1985, 3, 9), 7)
    assert is_valid_id_number(good) and is_valid_id_number(good.lower())
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not is_valid_id_number(bad)


@pytest.mark.parametrize("body", [
    "41010519990230001",  # 30 February
    "41010519851301001",  # month 13
    "41010518991231001",  # before 1900
    "99010519850101001",  # no such province
])
def test_impossible_numbers_with_a_valid_checksum(body):
    assert not is_valid_id_number(_with_check(body))


def test_future_birth_date():
    tomorrow = date.today() + timedelta(days=1)
    assert not is_valid_id_number(_with_check(f"410105{tomorrow:%Y%m%d}001"))


@pytest.mark.parametrize("value", ["", "4101051985", "41010519850101001Y", "4101051985010100１1"])
def test_malformed(value):
    assert not is_valid_id_number(value)


def test_credit_codes():
    code = make_credit_code("410100", 12345678)
    assert is_valid_credit_code(code)
    assert not is_valid_credit_code(code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert not is_valid_credit_code("123")
