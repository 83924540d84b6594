"""Application factory: ``create_app()`` wires the extensions, views, console, plugins and CLI."""

from __future__ import annotations

import logging
import os

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import SecurityError

from flask_appbuilder import AppBuilder

from .extensions import csrf, db, migrate
from .services.masking import mask_ids_in_text


def _postgres_options(app: Flask) -> None:
    """PostgreSQL sessions without JIT: our queries are short and planned as expensive only over a
    million rows, where compiling took longer than running (measured on the completion aggregate:
    1.5-2.5 s of JIT for a 1.1 s query, bench/RESULTS.md)."""
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides ``config.py`` (tests pass the database URL here)."""
    app = Flask(__name__, instance_path=os.environ.get("CE_INSTANCE_DIR") or None, instance_relative_config=False)
    app.config.from_object("config")
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    from .settings import apply_environment

    apply_environment(app)  # no constant SECRET_KEY; production refuses to start without key and address
    _postgres_options(app)

    from . import models  # noqa: F401  (register every table)
    from .services import org_tree  # noqa: F401  (path maintenance listeners)

    db.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    _install_log_filter(app)

    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        _register_views(appbuilder)
        from . import console

        console.init_app(app, db)
    from . import headers

    headers.init_app(app)
    _register_template_helpers(app)
    from .views.password import enforce_password_change

    app.before_request(enforce_password_change)
    _register_error_pages(app)

    from . import cli

    cli.init_app(app)
    return app


def _register_views(ab) -> None:
    from .views import registry

    registry.init_views(ab)


def _register_template_helpers(app: Flask) -> None:
    from .acting import current_actor
    from .capacities import LABELS
    from .models import Organization

    def ce_org_name(org_id):
        org = db.session.get(Organization, org_id)
        return org.name if org else ""

    app.jinja_env.globals.update(
        ce_actor=current_actor,
        ce_capacity_label=lambda c: LABELS.get(c, c),
        ce_org_name=ce_org_name,
    )


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("File too large"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}
ERROR_MESSAGES = {
    400: _l("The request could not be processed. Please go back and try again."),
    403: _l("You do not have permission to open this page."),
    404: _l("The page or record does not exist, or is outside your scope."),
    405: _l("This action is not allowed this way."),
    413: _l("The uploaded file is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. The error has been logged."),
}


def _register_error_pages(app: Flask) -> None:
    """Generic error pages: no stack traces, no internals; JSON for the REST API."""

    def handler(exc):
        from flask import g
        from flask_login import current_user

        if not hasattr(g, "user"):
            # Errors raised before FAB's before_request (e.g. CSRF) still render the navbar.
            g.user = current_user
        if isinstance(exc, SecurityError):
            # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either.
            return str(ERROR_TITLES[400]), 400, {"Content-Type": "text/plain; charset=utf-8"}
        code = getattr(exc, "code", 500) or 500
        if code == 500:
            app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return {"message": str(ERROR_TITLES.get(code, ERROR_TITLES[500]))}, code
        description = getattr(exc, "description", None) if code == 400 else None
        return (
            render_template(
                "ce/error.html",
                appbuilder=app.appbuilder,
                code=code,
                title=ERROR_TITLES.get(code, ERROR_TITLES[500]),
                message=description or ERROR_MESSAGES.get(code, ERROR_MESSAGES[500]),
            ),
            code,
        )

    for code in ERROR_TITLES:
        app.register_error_handler(code, handler)


def mask_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask ID numbers in the message (with its arguments: an access log's request line and query),
    the exception traceback and the stack of ``record``; idempotent."""
    if getattr(record, "_ce_masked", False):
        return record
    record._ce_masked = True
    try:
        message = record.getMessage()
    except Exception:  # pragma: no cover - malformed record: leave it to the handler's error path
        return record
    masked = mask_ids_in_text(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        # Formatters reuse the cached text; handlers that format exc_info themselves get no traceback.
        record.exc_text = mask_ids_in_text(record.exc_text)
        record.exc_info = None
    if record.stack_info:
        record.stack_info = mask_ids_in_text(record.stack_info)
    return record


class _MaskIdFilter(logging.Filter):
    """Masks ID numbers in every log record: no full ID number in any log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_log_record(record)
        return True


def _install_log_filter(app: Flask) -> None:
    """Mask every log record at its creation (any logger, propagated or not, any handler added
    later: gunicorn's access and error logs, werkzeug's request lines), and keep the filter on the
    known loggers and handlers for records made without the factory (``logging.makeLogRecord``)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_ce_masking", False):

        def masking_factory(*args, **kwargs):
            return mask_log_record(factory(*args, **kwargs))

        masking_factory._ce_masking = True
        logging.setLogRecordFactory(masking_factory)
    flt = _MaskIdFilter()
    for name in ("", "werkzeug", "flask_appbuilder", "gunicorn.access", "gunicorn.error", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskIdFilter) for f in logger.filters):
            logger.addFilter(flt)
    for h in logging.getLogger().handlers:
        if not any(isinstance(f, _MaskIdFilter) for f in h.filters):
            h.addFilter(flt)
