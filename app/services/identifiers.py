"""National ID numbers (身份证号) and unified social credit codes: validation and generation."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric, uscc

# GB/T 2260 province-level codes.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character ID number with a valid checksum, a real birth date (1900 to today) and
    a province code.

    ``stdnum``'s own ``is_valid`` also checks the county code against the birth year, which rejects
    real people born before their county's code was assigned (e.g. 410102 exists since 1983), and
    raises ``KeyError`` for city-level codes; so only its checksum and date checks are used here.
    """
    number = ric.compact(value or "")
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[-1] != ric.calc_check_digit(number):
        return False
    try:
        born = ric.get_birth_date(number)
    except ric.ValidationError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return number[:2] in PROVINCE_CODES


def make_id_number(region_code: str, birth: date, sequence: int, female: bool = False) -> str:
    """A checksum-valid 18-character ID number (demo and test data only).

    ``sequence`` picks the 3-digit order code; its parity is forced to the gender (odd = male).
    """
    seq = sequence % 500 * 2 + (0 if female else 1)
    body = f"{region_code[:6]}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def is_valid_credit_code(value: str) -> bool:
    """True for an 18-character unified social credit code with a valid checksum."""
    return uscc.is_valid(value or "")


def make_credit_code(region_code: str, serial: int, kind: str = "11") -> str:
    """A checksum-valid unified social credit code (demo and test data only).

    ``kind`` is the registration authority + type (``11`` government agency, ``12`` public
    institution, ``91`` enterprise); the organisation code part is derived from ``serial``.
    """
    org_code = f"{serial:08d}"
    # The 9th character of the organisation code is its own check digit (GB 11714).
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(org_code, weights))
    check = 11 - total % 11
    org_check = {10: "X", 11: "0"}.get(check, str(check))
    body = f"{kind}{region_code[:6]}{org_code}{org_check}"
    return body + uscc.calc_check_digit(body)
