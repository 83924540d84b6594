"""Masking of personal data for display, exports and logs."""

import re

# ID numbers inside free text: 18 characters (17 digits and a digit or X) or the old 15 digits, bounded
# by non-digits only: in an access log the number follows "%2C", "_" or letters, where \b finds no edge.
_ID_RE = re.compile(r"(?<![0-9])([0-9]{6})([0-9]{8}|[0-9]{5})([0-9]{3}[0-9Xx]|[0-9]{4})(?![0-9])")


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters kept, the rest replaced by ``*`` (short values fully masked)."""
    value = str(value)
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_ids_in_text(text: str) -> str:
    """``text`` with every 18/15-character ID number reduced to its first 6 and last 4 (the log filter)."""
    return _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
