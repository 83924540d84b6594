"""Masking of personal data for display, exports and logs."""

import re

_ID_RE = re.compile(r"\b(\d{6})(\d{7,8})(\d{3}[\dXx])\b")


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters kept, the rest replaced by ``*`` (short values fully masked)."""
    value = str(value)
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_ids_in_text(text: str) -> str:
    """Replace every 18/15-digit ID number inside free text (used by the log filter)."""
    return _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
