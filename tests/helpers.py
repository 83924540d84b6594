"""Test helpers: CSRF tokens from pages and the real login form."""

from __future__ import annotations

import re

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no csrf_token on the page"
    return m.group(1) or m.group(2)


def login(client, capacity: str, id_number: str, password: str = PASSWORD, captcha: str = "TEST", follow=False):
    """Log in through the real form (GET form, GET captcha, POST). Returns the POST response."""
    client.post("/logout/", data={"csrf_token": _token(client)}) if _logged_in(client) else None
    page = client.get("/login/")
    token = csrf_from(page.get_data(as_text=True))
    client.get("/captcha/image.png")
    return client.post(
        "/login/",
        data={"csrf_token": token, "capacity": capacity, "username": id_number, "password": password, "captcha": captcha},
        follow_redirects=follow,
    )


def _logged_in(client) -> bool:
    with client.session_transaction() as s:
        return "_user_id" in s


def _token(client) -> str:
    return csrf_from(client.get("/login/").get_data(as_text=True)) if False else _session_token(client)


def _session_token(client) -> str:
    page = client.get("/acting/")
    return csrf_from(page.get_data(as_text=True))


def token_for(client, url: str = "/acting/") -> str:
    """A valid CSRF token for the logged-in client's session."""
    return csrf_from(client.get(url).get_data(as_text=True))
