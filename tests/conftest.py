"""Test fixtures. The database is SQLite (a temp file) unless TEST_DATABASE_URL names PostgreSQL.

* ``app``: one migrated database for the session with the capacity roles synced; tests build the
  organisations they need with ``tests.factories`` (unique names), so they never depend on each other.
* ``fresh_app``: a factory giving an app on a new, empty, migrated database (demo/scale tests).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app


def _compile_catalogs() -> None:
    """Compile translations/*.po to .mo (they are build products, git-ignored) before any app starts."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = os.path.join(os.path.dirname(os.path.dirname(__file__)), "translations")
    for locale in os.listdir(root) if os.path.isdir(root) else []:
        po = os.path.join(root, locale, "LC_MESSAGES", "messages.po")
        if not os.path.exists(po):
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=locale)
        with open(po[:-3] + ".mo", "wb") as f:
            write_mo(f, catalog)


_compile_catalogs()


def _pg_url(url: str, dbname: str) -> str:
    return make_url(url).set(database=dbname).render_as_string(hide_password=False)


def _recreate_pg_database(base_url: str, dbname: str) -> str:
    admin = create_engine(_pg_url(base_url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    admin.dispose()
    return _pg_url(base_url, dbname)


def _database_url(tmp_dir, name: str) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
        return _recreate_pg_database(base, name)
    return "sqlite:///" + os.path.join(str(tmp_dir), name + ".db")


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-of-at-least-32-bytes-for-hs256",
    "CE_CAPTCHA_TEXT_FACTORY": lambda: "TEST",
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": None,
}


def build_app(db_url: str, instance_dir, **extra):
    """An app on ``db_url``, migrated and with the capacity roles synced."""
    from flask_migrate import upgrade

    from app.services.roles import sync_base_roles

    config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=db_url, UPLOAD_FOLDER=str(instance_dir / "uploads"))
    config.update(extra)
    app = create_app(config)
    with app.app_context():
        upgrade()
        sm = app.appbuilder.sm
        for role in (app.config["AUTH_ROLE_ADMIN"], app.config["AUTH_ROLE_PUBLIC"]):
            sm.find_role(role) or sm.add_role(role)
        app.appbuilder.add_permissions(update_perms=True)
        sync_base_roles(sm)
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ce")
    name = f"test_ce_main_{os.getpid()}"  # one database per test process: parallel runs never collide
    application = build_app(_database_url(tmp, name), tmp)
    yield application
    with application.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    _drop_pg_database(name)


@pytest.fixture
def fresh_app(tmp_path_factory):
    """Factory: ``fresh_app()`` returns an app on a brand-new empty database."""
    made = []

    def _make(**extra):
        tmp = tmp_path_factory.mktemp("fresh")
        name = "test_ce_fresh_" + uuid.uuid4().hex[:8]
        application = build_app(_database_url(tmp, name), tmp, **extra)
        made.append((application, name))
        return application

    yield _make
    for application, name in made:
        with application.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        _drop_pg_database(name)


def _drop_pg_database(name: str) -> None:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    admin = create_engine(_pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def demo_app(tmp_path_factory, prefix: str):
    """An app on its own database loaded with the demo data; the database is dropped afterwards."""
    from app.services.demo import load_demo

    tmp = tmp_path_factory.mktemp(prefix)
    name = f"test_ce_{prefix}_{os.getpid()}"
    application = build_app(_database_url(tmp, name), tmp)
    with application.app_context():
        load_demo()
    try:
        yield application
    finally:
        with application.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        _drop_pg_database(name)


@pytest.fixture
def client(app):
    return app.test_client()
