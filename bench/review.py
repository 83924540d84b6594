"""Review benchmark on PostgreSQL: the 学时学分审批 inbox and a bulk approval of 10,000 declarations.

    python -m bench.review [--persons N] [--declarations-per-person 5] [--requests 20] [--warmup 3]
                           [--approve-size 10000] [--approve-runs 20] [--explain]

Uses ``DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/ce_bench``; created
when missing), migrates it, syncs the capacity roles, loads the demo data and generates ``--persons``
professionals with ``--declarations-per-person`` declarations each (``app/services/scale.py``: routes,
steps, handlers, states and years as the review workflow leaves them) unless that many professionals
exist already. Then, logged in through the real login form:

* **inbox**: ``GET /hours/review/`` (current year, professionals' tab) as a county HR bureau admin and
  as the province admin, ``--requests`` timed requests after ``--warmup`` untimed ones, median / p95;
* **bulk approval**: as the province admin (the final reviewer of the 省直 units, the largest inbox),
  the ``--approve-size`` oldest ids of its current-year inbox are posted as the inbox form does
  ("approve selected" → confirmation page) and then confirmed (``confirmed=1``): that second POST runs
  ``app.services.declarations.review`` (row locks, the workflow per row, audit rows, hours ledger, one
  commit). After each run the benchmark checks the audit rows and the ledger, then restores the
  declarations, deletes the new audit rows and restores the ledger rows (untimed), so every run
  approves the same rows from the same state.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.list_views import DEFAULT_URL, QueryLog, build, ensure_database, login, profile_page, time_page

INBOX = "/hours/review/"
POST = "/hours/review/review"


def prepare_data(app, persons: int, per_person: int) -> dict:
    """Demo data plus generated professionals (and their declarations) until there are ``persons``."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Declaration, Professional
    from app.services.demo import load_demo
    from app.services.scale import generate

    with app.app_context():
        load_demo()
        have = db.session.scalar(select(func.count(Professional.id)))
        if have < persons:
            stats = generate(persons=persons - have, declarations_per_person=per_person)
            print(f"generated: {stats}", flush=True)
        return {
            "professionals": db.session.scalar(select(func.count(Professional.id))),
            "declarations": db.session.scalar(select(func.count(Declaration.id))),
        }


def _ms(samples: list[float]) -> tuple[float, float, int]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95, len(samples)


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if not m:
        raise SystemExit("no CSRF token on the inbox page")
    return m.group(1)


def inbox_facts(conn, org_id: int, year: int) -> dict:
    """Sizes of the organisation's inbox (uncapped, for the report)."""
    row = conn.execute(text(
        "SELECT count(*) FILTER (WHERE year = :y), count(*) FROM declaration "
        "WHERE handler_org_id = :o AND state = 'pending'"), {"o": org_id, "y": year}).one()
    subtree = conn.execute(text(
        "SELECT count(*) FROM declaration d JOIN organization o ON o.id = d.org_id "
        "WHERE o.path LIKE (SELECT path FROM organization WHERE id = :o) || '%'"), {"o": org_id}).scalar()
    return {"pending_this_year": row[0], "pending_all_years": row[1], "declarations_in_subtree": subtree}


class Snapshot:
    """The declarations ``ids``, the audit high-water mark and the ledger rows they touch, in temp
    tables of one connection, to undo an approval run."""

    def __init__(self, engine, ids: list[int]):
        self.engine = engine
        self.ids = ids

    def take(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_decl, bench_keys, bench_ledger"))
            conn.execute(text(
                "CREATE UNLOGGED TABLE bench_decl AS SELECT id, state, step, handler_org_id, recognised_hours, "
                "decided_at FROM declaration WHERE id = ANY(:ids)"), {"ids": self.ids})
            conn.execute(text(
                "CREATE UNLOGGED TABLE bench_keys AS SELECT DISTINCT professional_id, year, subject_type "
                "FROM declaration WHERE id = ANY(:ids)"), {"ids": self.ids})
            conn.execute(text(
                "CREATE UNLOGGED TABLE bench_ledger AS SELECT l.id, l.hours, l.updated FROM hours_ledger l "
                "JOIN bench_keys k USING (professional_id, year, subject_type)"))
            self.audit_max = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar()
            self.ledger_sum = conn.execute(text(
                "SELECT COALESCE(SUM(l.hours), 0) FROM hours_ledger l "
                "JOIN bench_keys k USING (professional_id, year, subject_type)")).scalar()

    def check(self) -> dict:
        """What the run wrote: states, audit rows, ledger increase against the approved hours."""
        with self.engine.connect() as conn:
            states = dict(conn.execute(text(
                "SELECT state, count(*) FROM declaration WHERE id = ANY(:ids) GROUP BY state"), {"ids": self.ids}).all())
            audit = conn.execute(text(
                "SELECT count(*) FROM audit_log WHERE id > :m AND object_type = 'declaration' AND trigger = 'approve' "
                "AND object_id = ANY(:ids)"), {"m": self.audit_max, "ids": self.ids}).scalar()
            ledger = conn.execute(text(
                "SELECT COALESCE(SUM(l.hours), 0) FROM hours_ledger l "
                "JOIN bench_keys k USING (professional_id, year, subject_type)")).scalar() - self.ledger_sum
            approved_hours = conn.execute(text(
                "SELECT COALESCE(SUM(recognised_hours), 0) FROM declaration WHERE id = ANY(:ids) "
                "AND state = 'approved'"), {"ids": self.ids}).scalar()
        return {"states": states, "audit_rows": audit, "ledger_increase": ledger, "approved_hours": approved_hours}

    def restore(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(
                "UPDATE declaration d SET state = s.state, step = s.step, handler_org_id = s.handler_org_id, "
                "recognised_hours = s.recognised_hours, decided_at = s.decided_at FROM bench_decl s WHERE d.id = s.id"))
            conn.execute(text("DELETE FROM audit_log WHERE id > :m"), {"m": self.audit_max})
            # The ids were pending when the snapshot was taken: none had a posting.
            conn.execute(text("DELETE FROM hours_posting WHERE declaration_id = ANY(:ids)"), {"ids": self.ids})
            conn.execute(text(
                "DELETE FROM hours_ledger l USING bench_keys k WHERE l.professional_id = k.professional_id "
                "AND l.year = k.year AND l.subject_type = k.subject_type "
                "AND NOT EXISTS (SELECT 1 FROM bench_ledger b WHERE b.id = l.id)"))
            conn.execute(text("UPDATE hours_ledger l SET hours = b.hours, updated = b.updated FROM bench_ledger b "
                              "WHERE l.id = b.id"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) declaration, audit_log, hours_ledger"))

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_decl, bench_keys, bench_ledger"))


def bench_approval(app, client, qlog: QueryLog, org_id: int, year: int, size: int, runs: int, explain: bool):
    """Time the confirmation page and the confirmed POST approving ``size`` selected declarations."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    with engine.connect() as conn:
        ids = list(conn.execute(text(
            "SELECT id FROM declaration WHERE handler_org_id = :o AND state = 'pending' AND year = :y "
            "AND declared_by_org_id IS NULL ORDER BY id LIMIT :n"), {"o": org_id, "y": year, "n": size}).scalars())
    if len(ids) < size:
        print(f"note: only {len(ids)} pending declarations for org {org_id} in {year}", flush=True)
    page = client.get(INBOX).get_data(as_text=True)
    token = _csrf(page)
    str_ids = [str(i) for i in ids]
    snap = Snapshot(engine, ids)
    snap.take()
    confirm_ms, approve_ms, checks, sql = [], [], [], []
    comment = "批量审核通过（基准测试）"
    try:
        for run in range(runs):
            t = time.perf_counter()
            resp = client.post(POST, data={"csrf_token": token, "action": "approve", "ids": str_ids, "kind": "professional",
                                           "year": str(year), "q": "", "back": INBOX})
            confirm_ms.append((time.perf_counter() - t) * 1000)
            body = resp.get_data(as_text=True)
            if resp.status_code != 200 or 'name="confirmed"' not in body:
                raise SystemExit(f"confirmation page expected, got HTTP {resp.status_code}")
            data = {"csrf_token": _csrf(body), "trigger": "approve", "scope": "selected", "kind": "professional",
                    "year": str(year), "q": "", "back": INBOX, "confirmed": "1", "ids": str_ids, "comment": comment}
            qlog.rows.clear()
            qlog.enabled = run == 0
            t = time.perf_counter()
            resp = client.post(POST, data=data)
            approve_ms.append((time.perf_counter() - t) * 1000)
            qlog.enabled = False
            if run == 0:
                sql = summarise_sql(qlog.rows)
            if resp.status_code != 302:
                raise SystemExit(f"approval: HTTP {resp.status_code}")
            check = snap.check()
            want = {"approved": len(ids)}
            if check["audit_rows"] != len(ids) or check["ledger_increase"] != check["approved_hours"] or (
                    sum(check["states"].values()) != len(ids)):
                raise SystemExit(f"approval run {run}: unexpected result {check}")
            if check["states"] != want:
                print(f"  run {run}: states {check['states']} (non-final steps advance)", flush=True)
            checks.append(check)
            snap.restore()
            print(f"  run {run + 1}/{runs}: confirm {confirm_ms[-1]:.0f} ms, approve {approve_ms[-1]:.0f} ms", flush=True)
    finally:
        snap.drop()
    return {"ids": len(ids), "confirm": _ms(confirm_ms), "approve": _ms(approve_ms), "check": checks[0] if checks else {},
            "sql": sql}


def summarise_sql(rows) -> list[str]:
    """Statement count and time by kind of statement (first words), slowest kinds first."""
    groups: dict[str, list[float]] = {}
    for statement, _params, ms in rows:
        words = " ".join(statement.split())
        key = words[:70]
        groups.setdefault(key, []).append(ms)
    total = sum(r[2] for r in rows)
    out = [f"  {len(rows)} statements, {total:.0f} ms in SQL"]
    for key, vals in sorted(groups.items(), key=lambda kv: -sum(kv[1]))[:8]:
        out.append(f"    {len(vals):5d} x {sum(vals):8.1f} ms  {key}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--declarations-per-person", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of inbox samples per page at most (min 3)")
    parser.add_argument("--approve-size", type=int, default=10_000)
    parser.add_argument("--approve-runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slow statements of each inbox")
    args = parser.parse_args(argv)

    url = ensure_database(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    app = build(url)
    data = prepare_data(app, args.persons, args.declarations_per_person)
    print(f"database: {make_url(url).database}, professionals: {data['professionals']}, "
          f"declarations: {data['declarations']}", flush=True)

    from app.extensions import db
    from app.models import Membership, User
    from app.models.org import HR, PROVINCE
    from app.services.demo import DEMO_LOGINS

    with app.app_context():
        qlog = QueryLog(db.engine)
        engine = db.engine
    year = date.today().year
    county = next(x for x in DEMO_LOGINS if x[0] == HR and "区" in x[3])
    province = next(x for x in DEMO_LOGINS if x[0] == PROVINCE)
    lines = ["| scope | inbox (pending this year / all years, declarations in subtree) | median / p95 ms (n) |",
             "| --- | --- | --- |"]
    profiles = []
    clients = {}
    for label, (capacity, id_number, password, org_name) in (("county", county), ("province", province)):
        with app.app_context():
            user = db.session.query(User).filter_by(id_number=id_number).one()
            org_id = next(m.org_id for m in db.session.query(Membership).filter_by(user_id=user.id)
                          if m.org.kind == capacity)
        with engine.connect() as conn:
            facts = inbox_facts(conn, org_id, year)
        client = app.test_client()
        login(client, capacity, id_number, password)
        clients[label] = (client, org_id, org_name)
        median, p95, n = time_page(client, INBOX, args.requests, args.warmup, args.budget)
        lines.append(f"| {label} ({org_name}) | {facts['pending_this_year']:,} / {facts['pending_all_years']:,}, "
                     f"{facts['declarations_in_subtree']:,} | {median:.0f} / {p95:.0f} ({n}) |")
        profiles.append(f"{label} inbox:")
        profiles += profile_page(app, client, qlog, INBOX, args.explain)
        print(lines[-1], flush=True)

    approval = None
    if args.approve_runs > 0:
        client, org_id, org_name = clients["province"]
        print(f"bulk approval of {args.approve_size} as {org_name} ({args.approve_runs} runs)", flush=True)
        approval = bench_approval(app, client, qlog, org_id, year, args.approve_size, args.approve_runs, args.explain)

    print()
    print("\n".join(lines))
    print()
    print("\n".join(profiles))
    if approval:
        c, a = approval["confirm"], approval["approve"]
        print()
        print(f"Bulk approval of {approval['ids']:,} selected declarations (province admin):")
        print(f"  confirmation page POST: median {c[0]:.0f} ms, p95 {c[1]:.0f} ms ({c[2]} runs)")
        print(f"  confirmed approval POST: median {a[0]:.0f} ms, p95 {a[1]:.0f} ms ({a[2]} runs)")
        print(f"  first run wrote: {approval['check']}")
        print("  SQL of the first confirmed approval:")
        print("\n".join(approval["sql"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
