"""App-level guarantees: migrations match the models, generic error pages, English switchable."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from app.extensions import db


def test_migrations_match_the_models(app):
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Model.metadata)
    # SQLite cannot report server-side index options; only real differences count.
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_index", "add_index") and d[1].name == "ix_organization_path_pattern")] == []


def test_not_found_is_a_generic_chinese_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "页面不存在" in html or "不存在" in html
    assert "Traceback" not in html


def test_server_error_shows_no_internals(fresh_app, caplog):
    import logging

    app = fresh_app()
    logging.getLogger().addHandler(caplog.handler)  # the migration's logging.fileConfig replaced the root handlers

    @app.route("/_boom_for_test")
    def boom():  # pragma: no cover - raises
        raise RuntimeError("secret internals 410105199001020011")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/_boom_for_test")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html and "Traceback" not in html
    # The traceback is logged, with the ID number masked (message and exception text).
    assert "unhandled error on /_boom_for_test" in caplog.text and "RuntimeError" in caplog.text
    assert "410105199001020011" not in caplog.text and "410105********0011" in caplog.text


def test_english_is_switchable(client):
    assert "用户类型" in client.get("/login/").get_data(as_text=True)
    client.get("/lang/en")
    assert "User type" in client.get("/login/").get_data(as_text=True)
