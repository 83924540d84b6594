"""List-page benchmark on PostgreSQL: our scoped, capped views against plain FAB ``ModelView``s.

    python -m bench.list_views [--persons N] [--requests 30] [--warmup 3] [--explain]

Uses ``DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/ce_bench``; the
database is created when missing), migrates it, syncs the capacity roles, loads the demo data and
generates ``--persons`` professionals (default 1,000,000) unless that many exist already. Then it
logs in through the real login form as a county HR bureau admin and as the province admin and
times ``/professionalview/list/`` and ``/declarationview/list/`` against the same pages served by
plain ``ModelView``s (same scope filter, FAB's uncapped count), registered only in this process.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ce_bench"
PAGES = (("professionals", "/professionalview/list/", "/plainprofessionalview/list/"),
         ("declarations", "/declarationview/list/", "/plaindeclarationview/list/"))
BENCH_ROLE = "BenchPlainLists"


def ensure_database(url: str) -> str:
    """Create the PostgreSQL database of ``url`` when it does not exist; returns the psycopg URL."""
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise SystemExit("the list-view benchmark runs on PostgreSQL only (set DATABASE_URL)")
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).first():
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    return u.render_as_string(hide_password=False)


def _plain_views():
    from flask_appbuilder import ModelView
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.models import Declaration, Professional
    from app.views.base import SCOPE_FILTER
    from app.views.learning import DeclarationView
    from app.views.person import ProfessionalView

    class PlainProfessionalView(ModelView):
        datamodel = SQLAInterface(Professional)
        base_filters = SCOPE_FILTER
        list_columns = list(ProfessionalView.list_columns)
        base_order = ("id", "desc")
        page_size = 20

    class PlainDeclarationView(ModelView):
        datamodel = SQLAInterface(Declaration)
        base_filters = SCOPE_FILTER
        list_columns = list(DeclarationView.list_columns)
        base_order = ("id", "desc")
        page_size = 20

    return PlainProfessionalView, PlainDeclarationView


def build(url: str):
    """The app on ``url``: migrated, capacity roles synced (as ``tests/conftest.py``), plain views added."""
    from flask_migrate import upgrade

    from app import create_app
    from app.services.roles import sync_base_roles

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret",
        "CE_CAPTCHA_TEXT_FACTORY": lambda: "TEST",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    })
    with app.app_context():
        ab = app.appbuilder
        for view in _plain_views():
            ab.add_view_no_menu(view)
        upgrade()
        sm = ab.sm
        for role in (app.config["AUTH_ROLE_ADMIN"], app.config["AUTH_ROLE_PUBLIC"]):
            sm.find_role(role) or sm.add_role(role)
        ab.add_permissions(update_perms=True)
        sync_base_roles(sm)
        role = sm.find_role(BENCH_ROLE) or sm.add_role(BENCH_ROLE)
        for view in ("PlainProfessionalView", "PlainDeclarationView"):
            sm.add_permission_role(role, sm.add_permission_view_menu("can_list", view))
    return app


def prepare_data(app, persons: int) -> dict:
    """Demo data plus generated professionals until there are at least ``persons``."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Professional
    from app.services.demo import load_demo
    from app.services.scale import generate

    with app.app_context():
        load_demo()
        have = db.session.scalar(select(func.count(Professional.id)))
        if have >= persons:
            return {"professionals": have, "generated": 0}
        stats = generate(persons=persons - have)
        print(f"generated: {stats}", flush=True)
        return {"professionals": have + stats["professionals"], "generated": stats["professionals"]}


def _grant_bench_role(app, id_number: str, capacity: str) -> None:
    from app.extensions import db
    from app.models import Membership, User

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(BENCH_ROLE)
        user = db.session.query(User).filter_by(id_number=id_number).one()
        for m in db.session.query(Membership).filter_by(user_id=user.id):
            if m.org.kind == capacity and role not in m.roles:
                m.roles.append(role)
        db.session.commit()


def login(client, capacity: str, id_number: str, password: str) -> None:
    """Log in through the real form (CSRF token, captcha answer 'TEST')."""
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    client.get("/captcha/image.png")
    resp = client.post("/login/", data={"csrf_token": token.group(1) if token else "", "capacity": capacity,
                                        "username": id_number, "password": password, "captcha": "TEST"})
    if resp.status_code != 302:
        raise SystemExit(f"login as {capacity} {id_number} failed ({resp.status_code})")


class QueryLog:
    """Collects (statement, parameters, ms) of the SQL run while enabled."""

    def __init__(self, engine):
        self.rows: list[tuple[str, object, float]] = []
        self.enabled = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.enabled:
            self.rows.append((statement, parameters, (time.perf_counter() - conn.info.pop("bench_t0", 0)) * 1000))


def time_page(client, path: str, n: int, warmup: int) -> tuple[float, float]:
    """Median and p95 in ms of ``n`` GETs of ``path`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        resp = client.get(path)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: HTTP {resp.status_code}")
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        resp = client.get(path)
        samples.append((time.perf_counter() - t) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: HTTP {resp.status_code}")
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95


def profile_page(app, client, qlog: QueryLog, path: str, explain: bool) -> list[str]:
    """The SQL statements of one request with their times; EXPLAIN ANALYZE of those over 5 ms."""
    from app.extensions import db

    qlog.rows.clear()
    qlog.enabled = True
    client.get(path)
    qlog.enabled = False
    out = []
    for statement, params, ms in sorted(qlog.rows, key=lambda r: -r[2])[:4]:
        out.append(f"    {ms:7.1f} ms  {' '.join(statement.split())[:300]}")
        if explain and ms > 5:
            with app.app_context():
                raw = db.engine.raw_connection()
                try:
                    cur = raw.cursor()
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    out.extend("        " + row[0] for row in cur.fetchall())
                finally:
                    raw.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slow statements of each page")
    args = parser.parse_args(argv)

    url = ensure_database(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    app = build(url)
    data = prepare_data(app, args.persons)
    print(f"database: {make_url(url).database}, professionals: {data['professionals']}", flush=True)

    from app.extensions import db
    from app.models.org import HR, PROVINCE
    from app.services.demo import DEMO_LOGINS

    with app.app_context():
        engine = db.engine
    qlog = QueryLog(engine)
    county = next(x for x in DEMO_LOGINS if x[0] == HR and "区" in x[3])
    province = next(x for x in DEMO_LOGINS if x[0] == PROVINCE)
    results = []
    profiles = []
    for label, (capacity, id_number, password, org_name) in (("county", county), ("province", province)):
        _grant_bench_role(app, id_number, capacity)
        client = app.test_client()
        login(client, capacity, id_number, password)
        for page, ours, plain in PAGES:
            o = time_page(client, ours, args.requests, args.warmup)
            p = time_page(client, plain, args.requests, args.warmup)
            results.append((label, org_name, page, o, p))
            profiles.append(f"{label} {page} (ours {ours}):")
            profiles += profile_page(app, client, qlog, ours, args.explain)
            profiles.append(f"{label} {page} (plain {plain}):")
            profiles += profile_page(app, client, qlog, plain, args.explain)

    print()
    print("| scope | page | ours median / p95 (ms) | plain FAB median / p95 (ms) | plain / ours |")
    print("| --- | --- | --- | --- | --- |")
    for label, org_name, page, o, p in results:
        print(f"| {label} ({org_name}) | {page} | {o[0]:.1f} / {o[1]:.1f} | {p[0]:.1f} / {p[1]:.1f} | {p[0] / o[0]:.1f}x |")
    print()
    print("SQL per request (slowest first):")
    print("\n".join(profiles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
