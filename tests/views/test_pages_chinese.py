"""With the demo data, every capacity opens every page of its menu, in Chinese: no English word left."""

from __future__ import annotations

import re

import pytest

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.helpers import login

MENU_RE = re.compile(r'<a tabindex="-1" href="([^"]+)" data-menu="([^"]+)"')
# Words that are fine in a Chinese page: acronyms and technical tokens.
ALLOWED = {"ID", "Excel", "PDF", "URL", "QR", "CE", "English", "JPG", "JPEG", "PNG", "GIF", "BMP", "ISBN", "ISSN", "jpg", "jpeg", "png", "gif", "bmp"}



def visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    text = re.sub(r"(?s)<[^>]+>", " ", html)
    text = re.sub(r"[\w.+-]+@[\w.-]+", " ", text)  # e-mail addresses are data, not UI words
    return re.sub(r"&[a-z]+;|&#\d+;", " ", text)


def english_words(html: str) -> set[str]:
    return {w for w in re.findall(r"\b[A-Za-z]{3,}\b", visible_text(html)) if w not in ALLOWED}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from tests.conftest import demo_app as make_demo_app

    with make_demo_app(tmp_path_factory, "demo_pages") as app:
        yield app


@pytest.mark.parametrize("login_row", DEMO_LOGINS, ids=lambda r: r[0] + "-" + r[1][-4:])
def test_every_menu_page_opens_in_chinese(demo_app, login_row):
    capacity, id_number = login_row[0], login_row[1]
    client = demo_app.test_client()
    assert login(client, capacity, id_number, password=DEMO_PASSWORD).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert not english_words(home), english_words(home)
    links = MENU_RE.findall(home)
    assert links
    for href, name in links:
        if href.startswith("/console"):
            continue
        # FAB's raw user/role pages (English permission tokens) are off: never in a menu.
        assert name.startswith(capacity + "."), (name, href)
        response = client.get(href)
        assert response.status_code == 200, (name, href)
        html = response.get_data(as_text=True)
        assert not english_words(html), (href, sorted(english_words(html)))
        # Every list page also renders its first row's show page.
        show = re.search(r'href="(/[a-z]+view/show/\d+)', html)
        if show:
            page = client.get(show.group(1))
            assert page.status_code == 200, show.group(1)
            assert not english_words(page.get_data(as_text=True)), (show.group(1), sorted(english_words(page.get_data(as_text=True))))
