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
PAGES = (("professionals", "professional"), ("declarations", "declaration"))
# ours; plain FAB with our scalar search columns (only the count differs); plain FAB with its defaults
# (relation filters render every related row into the search form).
VARIANTS = (("ours", "/{m}view/list/"), ("plain_scalar", "/plainscalar{m}view/list/"), ("plain", "/plain{m}view/list/"))
PLAIN_VIEWS = ("PlainProfessionalView", "PlainDeclarationView", "PlainScalarProfessionalView",
               "PlainScalarDeclarationView")
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

    class PlainScalarProfessionalView(PlainProfessionalView):
        search_columns = list(ProfessionalView.search_columns)

    class PlainScalarDeclarationView(PlainDeclarationView):
        search_columns = list(DeclarationView.search_columns)

    return PlainProfessionalView, PlainDeclarationView, PlainScalarProfessionalView, PlainScalarDeclarationView


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
        for view in PLAIN_VIEWS:
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


def time_page(client, path: str, n: int, warmup: int, budget: float) -> tuple[float, float, int]:
    """Median and p95 in ms of ``n`` GETs of ``path`` after ``warmup`` untimed ones, and the sample count.

    A page slower than the time budget (seconds) gets one warm-up and as many samples as fit, at least 3.
    """
    started = time.perf_counter()
    for _ in range(warmup):
        resp = client.get(path)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: HTTP {resp.status_code}")
        if time.perf_counter() - started > budget / 10:
            break
    samples = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        resp = client.get(path)
        samples.append((time.perf_counter() - t) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: HTTP {resp.status_code}")
        if len(samples) >= 3 and time.perf_counter() - started > budget:
            break
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95, len(samples)


def profile_page(app, client, qlog: QueryLog, path: str, explain: bool) -> list[str]:
    """SQL of one request: statement count, SQL time, the slowest ones (EXPLAIN ANALYZE those > 5 ms)."""
    from app.extensions import db

    qlog.rows.clear()
    qlog.enabled = True
    t = time.perf_counter()
    client.get(path)
    total = (time.perf_counter() - t) * 1000
    qlog.enabled = False
    sql_ms = sum(r[2] for r in qlog.rows)
    out = [f"  {path}: {total:.0f} ms, {len(qlog.rows)} statements, {sql_ms:.0f} ms in SQL"]
    for statement, params, ms in sorted(qlog.rows, key=lambda r: -r[2])[:3]:
        out.append(f"    {ms:7.1f} ms  {' '.join(statement.split())[:160]}")
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


def cache_permissions(app) -> None:
    """Experiment (this process only): answer FAB's per-item ``has_access`` from one query per request.

    FAB runs one EXISTS query per permission check (menus, list buttons); this loads the (permission,
    view) pairs of the acting roles once per request into ``g`` instead.
    """
    from flask import g
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu, assoc_permissionview_role

    sm_class = type(app.appbuilder.sm)

    def exist_permission_on_roles(self, view_name, permission_name, role_ids):
        key = tuple(sorted(role_ids))
        cache = g.setdefault("bench_perm_cache", {})
        if key not in cache:
            rows = (
                self.session.query(Permission.name, ViewMenu.name)
                .select_from(PermissionView)
                .join(assoc_permissionview_role, PermissionView.id == assoc_permissionview_role.c.permission_view_id)
                .join(Role, Role.id == assoc_permissionview_role.c.role_id)
                .join(Permission, Permission.id == PermissionView.permission_id)
                .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
                .filter(Role.id.in_(key))
            )
            cache[key] = set(rows)
        return (permission_name, view_name) in cache[key]

    sm_class.exist_permission_on_roles = exist_permission_on_roles


def union_handler_scope() -> None:
    """Experiment (this process only): ``org in subtree OR handler = me`` as a UNION of two index scans.

    PostgreSQL cannot combine a hashed IN-subplan with an OR into index scans, so the OR form scans the
    whole table when the scope holds fewer rows than the count cap.
    """
    from sqlalchemy import select, union

    from app.services import scope

    original = scope.scope_clause

    def scope_clause(model, actor):
        spec = getattr(model, "__scope__", None) or {}
        if (actor is None or actor.is_global or actor.is_person or actor.org_path is None or "handler" not in spec
                or "org2" in spec or spec.get("shared") or "." in spec["org"]):
            return original(model, actor)
        ids = scope.subtree_ids(actor)
        return model.id.in_(union(
            select(model.id).where(getattr(model, spec["org"]).in_(ids)),
            select(model.id).where(getattr(model, spec["handler"]) == actor.org_id),
        ))

    scope.scope_clause = scope_clause


def run(app, args, qlog) -> tuple[list, list]:
    from app.models.org import HR, PROVINCE
    from app.services.demo import DEMO_LOGINS

    county = next(x for x in DEMO_LOGINS if x[0] == HR and "区" in x[3])
    province = next(x for x in DEMO_LOGINS if x[0] == PROVINCE)
    variants = [v for v in VARIANTS if v[0] in args.variants.split(",")]
    results, profiles = [], []
    for label, (capacity, id_number, password, org_name) in (("county", county), ("province", province)):
        _grant_bench_role(app, id_number, capacity)
        client = app.test_client()
        login(client, capacity, id_number, password)
        for page, model in PAGES:
            row = {}
            for name, pattern in variants:
                path = pattern.format(m=model)
                row[name] = time_page(client, path, args.requests, args.warmup, args.budget)
                profiles.append(f"{label} {page} {name}:")
                profiles += profile_page(app, client, qlog, path, args.explain)
            results.append((label, org_name, page, row))
    return results, profiles


def table(results, variants) -> list[str]:
    """Markdown table: medians / p95 (samples) per variant and the plain / ours ratios."""
    names = [v[0] for v in VARIANTS if v[0] in variants]
    head = "| scope | page | " + " | ".join(f"{n} median / p95 ms (n)" for n in names)
    ratios = [n for n in names if n != "ours" and "ours" in names]
    head += "".join(f" | {n} / ours" for n in ratios) + " |"
    lines = [head, "|" + " --- |" * (2 + len(names) + len(ratios))]
    for label, org_name, page, row in results:
        cells = [f"{row[n][0]:.0f} / {row[n][1]:.0f} ({row[n][2]})" for n in names]
        cells += [f"{row[n][0] / row['ours'][0]:.1f}x" for n in ratios]
        lines.append(f"| {label} ({org_name}) | {page} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of samples per page at most (min 3)")
    parser.add_argument("--variants", default="ours,plain_scalar,plain")
    parser.add_argument("--cache-permissions", action="store_true",
                        help="experiment: one permission query per request instead of one per check")
    parser.add_argument("--union-scope", action="store_true",
                        help="experiment: the handler OR of the scope predicate as a UNION")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slow statements of each page")
    args = parser.parse_args(argv)

    url = ensure_database(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    app = build(url)
    data = prepare_data(app, args.persons)
    print(f"database: {make_url(url).database}, professionals: {data['professionals']}", flush=True)
    if args.cache_permissions:
        cache_permissions(app)
    if args.union_scope:
        union_handler_scope()

    from app.extensions import db

    with app.app_context():
        qlog = QueryLog(db.engine)
    results, profiles = run(app, args, qlog)
    print()
    print("\n".join(table(results, args.variants.split(","))))
    print()
    print("One request per page (SQL log):")
    print("\n".join(profiles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
