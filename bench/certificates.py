"""Certificates benchmark on PostgreSQL (issue 5): bulk printing and the completion query.

    python -m bench.certificates [--persons N] [--runs 5] [--print-size 1000] [--print-runs 3]
                                 [--skip-print] [--skip-completion] [--explain]

Uses ``DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/ce_bench``; created when
missing), migrates it, syncs the capacity roles, loads the demo data and generates ``--persons``
professionals (``app/services/scale.py``) unless that many exist already (``bench.list_views``).
The year measured is last year.

* **bulk print** (target >= 20 pages/s): ``app.services.certificates.print_for_people`` for the
  ``--print-size`` lowest-id approved professionals (with a certificate number) under the county HR
  bureau of the demo logins, as an admin of that bureau, inside ``app.test_request_context()``. Setup
  (untimed): their hours of the year are upserted to public 30 / professional 60. Measured: (a) the
  first print (every run issues anew: the bench's certificates are deleted before each run, untimed),
  (b) the reprint (certificates exist, same inputs), (c) ``pdf.render_many`` alone on the recorded
  inputs. Each PDF is checked with pypdf (one page per certificate).
* **completion** (target <= 2 s): the year gets hours for every professional with one set-based
  statement (untimed, once; ~60 % pass, ~30 % short, ~10 % none), then ANALYZE. As the province admin
  and as the county HR bureau admin: the real page ``GET /certificates/print/?year=Y`` through a
  client logged in via the login form; the same two statements run directly (``completion_query``
  passed=True LIMIT 20 + ``capped_count``); the full uncapped aggregate (passed / not passed over the
  whole scope). Medians of ``--runs`` after one warm-up. ``--explain`` prints EXPLAIN (ANALYZE,
  BUFFERS) of the slowest statement of each.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.list_views import DEFAULT_URL, QueryLog, build, ensure_database, login, prepare_data, time_page
from bench.review import summarise_sql

PAGE = "/certificates/print/"
MARKER = "bench_certificate_hours"
# Buckets of abs(hashtext(id)) % 100: < 60 passed, < 90 short, else no hours at all.
HOURS_SQL = """
WITH gone AS (
    DELETE FROM hours_ledger l USING professional p
    WHERE l.professional_id = p.id AND l.year = :y AND abs(hashtext(p.id::text)) % 100 >= 90
    RETURNING 1
), put AS (
    INSERT INTO hours_ledger (professional_id, year, subject_type, hours, updated)
    SELECT p.id, :y, s.subject,
           CASE WHEN b.k < 60 THEN CASE s.subject WHEN 'public' THEN 30 + b.k % 15 ELSE 60 + b.k % 25 END
                ELSE CASE s.subject WHEN 'public' THEN b.k % 30 ELSE 20 + b.k % 40 END END,
           now()
    FROM professional p
    CROSS JOIN LATERAL (SELECT abs(hashtext(p.id::text)) % 100 AS k) b
    CROSS JOIN (VALUES ('public'), ('professional')) AS s(subject)
    WHERE b.k < 90
    ON CONFLICT (professional_id, year, subject_type)
    DO UPDATE SET hours = excluded.hours, updated = excluded.updated
    RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM put)
"""


def _median(samples):
    return statistics.median(samples) if samples else float("nan")


def _fmt(samples, unit="ms", scale=1000.0):
    """'median (min–max, n)' of seconds, in ms by default."""
    vals = sorted(s * scale for s in samples)
    return f"{_median(vals):,.0f} {unit} ({vals[0]:,.0f}–{vals[-1]:,.0f}, n={len(vals)})"


def actor_of(app, capacity: str, id_number: str):
    """The ``Actor`` of the demo login ``id_number`` acting as ``capacity`` (its membership's org)."""
    from app.extensions import db
    from app.models import Membership, User
    from app.services.scope import Actor

    with app.app_context():
        user = db.session.query(User).filter_by(id_number=id_number).one()
        m = next(m for m in db.session.query(Membership).filter_by(user_id=user.id) if m.org.kind == capacity)
        return Actor(user_id=user.id, capacity=capacity, org_id=m.org_id, org_path=m.org.path, membership_id=m.id)


def explain(engine, statement: str, params) -> list[str]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        return ["        " + row[0] for row in cur.fetchall()]
    finally:
        raw.close()


def captured(qlog: QueryLog, fn):
    """Run ``fn`` with the SQL log on; returns (result, rows sorted slowest first)."""
    qlog.rows.clear()
    qlog.enabled = True
    try:
        result = fn()
    finally:
        qlog.enabled = False
    return result, sorted(qlog.rows, key=lambda r: -r[2])


# ---------------------------------------------------------------- bulk print


def pick_people(engine, org_path: str, n: int) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT p.id FROM professional p JOIN organization o ON o.id = p.org_id "
            "WHERE o.path LIKE :pat AND p.status = 'approved' AND p.certificate_no IS NOT NULL "
            "ORDER BY p.id LIMIT :n"), {"pat": org_path + "%", "n": n}).scalars())


def bench_print(app, engine, qlog: QueryLog, actor, year: int, size: int, runs: int) -> dict:
    from pypdf import PdfReader

    from app.extensions import db
    from app.services import certificates, pdf

    ids = pick_people(engine, actor.org_path, size)
    if len(ids) < size:
        print(f"note: only {len(ids)} approved professionals with a certificate number in scope", flush=True)
    with engine.begin() as conn:  # untimed: every one of them passed ``year``
        conn.execute(text(
            "INSERT INTO hours_ledger (professional_id, year, subject_type, hours, updated) "
            "SELECT i, :y, s, CASE s WHEN 'public' THEN 30 ELSE 60 END, now() "
            "FROM unnest(CAST(:ids AS integer[])) AS i CROSS JOIN (VALUES ('public'), ('professional')) v(s) "
            "ON CONFLICT (professional_id, year, subject_type) DO UPDATE SET hours = excluded.hours"),
            {"y": year, "ids": ids})

    def clear():
        with engine.begin() as conn:
            return conn.execute(text(
                "DELETE FROM certificate WHERE professional_id = ANY(:ids) AND year_from = :y AND year_to = :y "
                "AND layout = 'annual'"), {"ids": ids, "y": year}).rowcount

    def pages(data: bytes) -> int:
        return len(PdfReader(io.BytesIO(data)).pages)

    out = {"people": len(ids), "first": [], "reprint": [], "render": [], "sizes": set(), "pages": set(),
           "first_cpu": [], "reprint_cpu": [], "render_cpu": []}
    cleared = clear()
    if cleared:
        print(f"  deleted {cleared} certificates left by an earlier run", flush=True)
    with app.test_request_context():
        def one(label):
            db.session.remove()
            qlog.rows.clear()
            qlog.enabled = not out[label]  # the SQL of the first run of each kind
            t, c = time.perf_counter(), time.process_time()
            try:
                certs, data = certificates.print_for_people(actor, ids, year)
            finally:
                qlog.enabled = False
            dt = time.perf_counter() - t
            if not out[label]:
                out[label + "_sql"] = summarise_sql(qlog.rows)
            out[label].append(dt)
            out[label + "_cpu"].append(time.process_time() - c)
            out["sizes"].add(len(data))
            out["pages"].add(pages(data))
            print(f"  {label} print: {dt:.1f} s = {len(ids) / dt:.1f} pages/s ({out[label + '_cpu'][-1]:.1f} s CPU "
                  f"of this process), {len(data):,} bytes", flush=True)
            return certs, data

        for _ in range(runs):
            clear()
            certs, first = one("first")
            issued = db.session.scalar(text(
                "SELECT count(*) FROM certificate WHERE professional_id = ANY(:ids) AND year_from = :y"),
                {"ids": ids, "y": year})
            if issued != len(ids):
                raise SystemExit(f"first print issued {issued} certificates for {len(ids)} people")
        codes = sorted(c.verification_code for c in certs)
        for _ in range(runs):
            certs, data = one("reprint")
            if sorted(c.verification_code for c in certs) != codes:
                raise SystemExit("reprint issued new certificates")
            if data != first:
                out["reprint_differs"] = True
        items = [(certificates._template(c), c.inputs) for c in certs]
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            data = pdf.render_many(items)
            out["render"].append(time.perf_counter() - t)
            out["render_cpu"].append(time.process_time() - c)
            out["pages"].add(pages(data))
            print(f"  render_many alone: {out['render'][-1]:.1f} s ({out['render_cpu'][-1]:.1f} s CPU)", flush=True)
        n_certs = db.session.scalar(text("SELECT count(*) FROM certificate WHERE professional_id = ANY(:ids)"),
                                    {"ids": ids})
        out["certificates_after"] = n_certs
    return out


# ---------------------------------------------------------------- completion


def ensure_hours(engine, year: int) -> dict:
    """Give every professional hours of ``year`` (once per year and size; marker table)."""
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKER} (year integer PRIMARY KEY, professionals integer)"))
        persons = conn.execute(text("SELECT count(*) FROM professional")).scalar()
        done = conn.execute(text(f"SELECT professionals FROM {MARKER} WHERE year = :y"), {"y": year}).scalar()
    if done == persons:
        return {"hours": "already set", "professionals": persons}
    t = time.perf_counter()
    with engine.begin() as conn:
        deleted, upserted = conn.execute(text(HOURS_SQL), {"y": year}).one()
        conn.execute(text(f"DELETE FROM {MARKER} WHERE year = :y"), {"y": year})
        conn.execute(text(f"INSERT INTO {MARKER} VALUES (:y, :n)"), {"y": year, "n": persons})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) hours_ledger"))
    secs = time.perf_counter() - t
    print(f"hours of {year}: {upserted:,} ledger rows upserted, {deleted:,} deleted, {secs:.0f} s (with VACUUM)",
          flush=True)
    return {"hours": f"set ({upserted:,} rows, {secs:.0f} s)", "professionals": persons}


def bench_completion(app, engine, qlog: QueryLog, label: str, login_row, year: int, runs: int, explain_it: bool):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Professional
    from app.services.completion import completion_query
    from app.services.lists import capped_count

    capacity, id_number, password, org_name = login_row
    actor = actor_of(app, capacity, id_number)
    res = {"label": label, "org": org_name, "explain": []}

    client = app.test_client()
    login(client, capacity, id_number, password)
    path = f"{PAGE}?year={year}"
    med, p95, n = time_page(client, path, runs, 1, 600.0)
    res["page"] = (med, p95, n)
    _, rows = captured(qlog, lambda: client.get(path))
    res["page_sql"] = (len(rows), sum(r[2] for r in rows), rows[:2])
    print(f"  {label} page GET {path}: median {med:.0f} ms, p95 {p95:.0f} ms (n={n}); "
          f"{len(rows)} statements, {res['page_sql'][1]:.0f} ms SQL", flush=True)

    with app.test_request_context():
        def page_and_count():
            stmt = completion_query(actor, year, passed=True)
            rows = db.session.execute(stmt.limit(20)).all()
            count = capped_count(stmt.with_only_columns(Professional.id))
            return len(rows), count

        def aggregate():
            inner = completion_query(actor, year, passed=None).subquery()
            return dict(db.session.execute(
                select(inner.c.passed, func.count()).group_by(inner.c.passed)).all())

        for name, fn in (("service", page_and_count), ("aggregate", aggregate)):
            fn()  # warm-up
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                value = fn()
                samples.append(time.perf_counter() - t)
                db.session.rollback()
            res[name] = samples
            res[name + "_value"] = value
            print(f"  {label} {name}: {_fmt(samples)} -> {value}", flush=True)
            if explain_it:
                _, rows = captured(qlog, fn)
                db.session.rollback()
                statement, params, ms = rows[0]
                res["explain"].append(f"    {label} {name}, slowest statement ({ms:.0f} ms): "
                                      f"{' '.join(statement.split())[:300]}")
                res["explain"] += explain(engine, statement, params)
    res["scope_approved"] = sum(res["aggregate_value"].values())
    res["passed"] = res["aggregate_value"].get(True, 0)
    return res


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per completion measurement")
    parser.add_argument("--print-size", type=int, default=1000)
    parser.add_argument("--print-runs", type=int, default=3, help="runs of each print measurement")
    parser.add_argument("--skip-print", action="store_true")
    parser.add_argument("--skip-completion", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the slowest statements")
    args = parser.parse_args(argv)

    url = ensure_database(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    app = build(url)
    data = prepare_data(app, args.persons)
    year = date.today().year - 1

    from app.extensions import db
    from app.models.org import HR, PROVINCE
    from app.services.demo import DEMO_LOGINS

    with app.app_context():
        engine = db.engine
        qlog = QueryLog(engine)
    county = next(x for x in DEMO_LOGINS if x[0] == HR and "区" in x[3])
    province = next(x for x in DEMO_LOGINS if x[0] == PROVINCE)
    print(f"database: {make_url(url).database}, professionals: {data['professionals']:,}, year: {year}, "
          f"{os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)

    report = []
    if not args.skip_completion:  # first, so the print sees the same ledger on every invocation
        hours = ensure_hours(engine, year)
        print(f"completion of {year}: {hours}", flush=True)
    if not args.skip_print:
        actor = actor_of(app, county[0], county[1])
        print(f"bulk print of {args.print_size} as {county[3]} ({args.print_runs} runs each)", flush=True)
        p = bench_print(app, engine, qlog, actor, year, args.print_size, args.print_runs)
        n = p["people"]
        report += [
            f"Bulk print of {n:,} certificates of {year} ({county[3]}, one process, "
            f"{args.print_runs} runs each; pages per PDF {sorted(p['pages'])}, "
            f"PDF size {', '.join(f'{s:,}' for s in sorted(p['sizes']))} bytes):",
            "",
            "| measurement | median s (min–max) | pages/s (median) | CPU s of the process (median) "
            "| pages per CPU-second | target >= 20 pages/s |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for key, name in (("first", "(a) first print: issue + render_many"), ("reprint", "(b) reprint"),
                          ("render", "(c) render_many alone")):
            s = sorted(p[key])
            rate = n / _median(s)
            cpu = _median(p[key + "_cpu"])
            report.append(f"| {name} | {_median(s):.1f} ({s[0]:.1f}–{s[-1]:.1f}) | {rate:.1f} | {cpu:.1f} | "
                          f"{n / cpu:.1f} | {'met' if rate >= 20 else 'NOT met'} |")
        for key in ("first", "reprint"):
            report.append(f"SQL of one {key} print (its first run):")
            report += p[key + "_sql"]
        if p.get("reprint_differs"):
            report.append("note: the reprint PDF differs from the first print's bytes")
        report.append("")

    if not args.skip_completion:
        results = [bench_completion(app, engine, qlog, label, row, year, args.runs, args.explain)
                   for label, row in (("province", province), ("county", county))]
        report += [
            f"Completion of {year} ({data['professionals']:,} professionals; medians of {args.runs} after 1 warm-up;"
            " ms (min–max)):",
            "",
            "| scope | approved in scope / passed | page GET median / p95 | service: LIMIT 20 + capped count "
            "| full aggregate (uncapped) | target <= 2 s |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in results:
            worst = max(r["page"][0], _median(r["service"]) * 1000, _median(r["aggregate"]) * 1000)
            report.append(
                f"| {r['label']} ({r['org']}) | {r['scope_approved']:,} / {r['passed']:,} | "
                f"{r['page'][0]:,.0f} / {r['page'][1]:,.0f} ms (n={r['page'][2]}) | {_fmt(r['service'])} | "
                f"{_fmt(r['aggregate'])} | {'met' if worst <= 2000 else 'NOT met'} |")
        report.append("")
        for r in results:
            count, sql_ms, top = r["page_sql"]
            report.append(f"{r['label']} page: {count} statements, {sql_ms:.0f} ms in SQL; slowest:")
            report += [f"    {ms:7.1f} ms  {' '.join(s.split())[:150]}" for s, _p, ms in top]
        if args.explain:
            report.append("")
            for r in results:
                report += r["explain"]

    print()
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
