"""Scale data (``flask ce scale``): many organisations, professionals and declarations, fast.

Rows are written set-based on one raw DBAPI connection in one transaction: ``COPY … FROM STDIN``
on PostgreSQL, chunked ``executemany`` on SQLite. Ids are allocated here (``max(id) + k``) so the
materialised ``Organization.path`` of every new organisation is computed without the ORM listener;
PostgreSQL sequences are moved past the new ids afterwards.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import Organization
from ..models.org import CE_BASE, COMPETENT, EMPLOYER, HR, PROVINCE
from ..workflows.declaration import POSTING_FROM_DECLARATION
from .demo import (
    DEMO_PASSWORD,
    DIRECT_CODE,
    GIVEN_NAMES,
    SURNAMES,
    ensure_reference_data,
    ensure_regions,
)
from .certificate_numbers import format_number, sync_counter
from .identifiers import make_credit_code, make_id_number

SCALE_EMAIL_DOMAIN = "scale.ce.local"
PEOPLE_PER_EMPLOYER = 30
CHUNK = 50_000
# Generated birth dates: 1965-01-01 + 0 … BIRTH_DAYS-1 days (demo people are born after 1985).
BIRTH_START = date(1965, 1, 1)
BIRTH_DAYS = (date(1985, 1, 1) - BIRTH_START).days
CERT_SERIAL_BASE = 1_000_000
CREDIT_SERIAL_BASE = 50_000_000
TABLES = ("organization", "ab_user", "professional", "declaration", "hours_ledger")
# Every PROVINCE_EMPLOYER_EVERY-th employer is a 省直 unit (under a provincial competent department or
# directly under the province HR department, which then reviews finally).
PROVINCE_EMPLOYER_EVERY = 10
# One declaration in CE_BASE_EVERY is declared by a CE base for its trainee (route: above the base).
CE_BASE_EVERY = 20

USER_COLS = (
    "id", "first_name", "last_name", "username", "password", "active", "email", "login_count", "fail_login_count",
    "created_on", "changed_on", "id_type", "id_number", "mobile", "must_change_password", "is_sysadmin",
)
PROF_COLS = (
    "id", "user_id", "org_id", "region_id", "name", "id_number", "gender", "birth_date", "ethnicity_id",
    "major_id", "title_series_id", "title_level_id", "is_accountant", "certificate_no", "status", "created",
)
DECL_COLS = (
    "id", "professional_id", "org_id", "subject_type", "form_code", "year", "data", "start_date", "end_date",
    "result", "requested_hours", "recognised_hours", "state", "route", "step", "handler_org_id", "created",
    "submitted_at", "decided_at", "declared_by_org_id",
)
ORG_COLS = (
    "id", "kind", "name", "credit_code", "region_id", "parent_id", "path", "status", "level_id", "nature_id",
    "industry_id", "review_closed", "created",
)

COMPETENT_DEPTS = (("教育局", "education"), ("卫生健康委员会", "health"), ("农业农村局", "agriculture"))
PROVINCE_DEPTS = (("河南省教育厅", "education"), ("河南省卫生健康委员会", "health"), ("河南省农业农村厅", "agriculture"))
EMPLOYER_TEMPLATES = (
    ("{r}第{n}人民医院", "institution", "health"),
    ("{r}第{n}中学", "institution", "education"),
    ("{r}第{n}实验小学", "institution", "education"),
    ("{r}农业技术推广站第{n}分站", "institution", "agriculture"),
    ("河南{r}{n}号建设工程有限公司", "enterprise", "engineering"),
)
DECL_FORMS = (("public", "training_class", 30), ("professional", "paper", 44),
              ("professional", "academic_conference", 12), ("professional", "training", 24))


def scale_id_number(index: int, county_codes: list[str]) -> tuple[str, date, bool]:
    """The ID number, birth date and gender of generated person ``index``.

    Injective in ``index`` for ``index < len(county_codes) * BIRTH_DAYS * 1000``: the index picks
    the county (first 6 digits), the birth date and the 3-digit order code, in that order.
    """
    r = len(county_codes)
    q, region = divmod(index, r)
    order, day = divmod(q, BIRTH_DAYS)
    if order >= 1000:
        raise ValueError("too many generated people for the ID-number space")
    female = order % 2 == 0
    birth = BIRTH_START + timedelta(days=day)
    return make_id_number(county_codes[region], birth, order // 2, female), birth, female


def review_state(m: int, year: int, route_len: int) -> tuple[int, str, int]:
    """Year, state and step of generated declaration ``m`` (``year`` = the current year).

    Of every five declarations one is two years old, two are from last year and two from this year.
    Past years: 90 % approved, 5 % rejected, 5 % still pending. This year: 20 % draft, 55 % pending,
    20 % approved, 5 % rejected. Pending ones wait at every step of their route in turn; approved ones
    passed the last step; rejected ones were rejected at some step.
    """
    offset = (2, 1, 1, 0, 0)[m % 5]
    bucket = (m // 5) % 20
    if offset:
        state = "rejected" if bucket == 0 else "pending" if bucket == 1 else "approved"
    else:
        state = "draft" if bucket < 4 else "pending" if bucket < 15 else "approved" if bucket < 19 else "rejected"
    if state == "approved":
        step = route_len - 1
    elif state in ("pending", "rejected"):
        step = (m // 100) % route_len
    else:
        step = 0
    return year - offset, state, step


class _Region(NamedTuple):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


class _Writer:
    """Set-based inserts on one raw connection: COPY on PostgreSQL, chunked executemany elsewhere."""

    def __init__(self, raw, dialect: str):
        self.raw = raw
        self.pg = dialect == "postgresql"

    def write(self, table: str, cols: tuple, rows) -> int:
        n = 0
        cur = self.raw.cursor()
        try:
            if self.pg:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        n += 1
            else:
                sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                batch = []
                for row in rows:
                    batch.append(tuple(_sqlite_value(v) for v in row))
                    if len(batch) >= 5000:
                        cur.executemany(sql, batch)
                        n += len(batch)
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
                    n += len(batch)
        finally:
            cur.close()
        return n


def _sqlite_value(v):
    # The stored formats SQLAlchemy itself uses on SQLite.
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def _max_id(session, table: str) -> int:
    return session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()


def generate(persons: int, declarations_per_person: int = 1) -> dict:
    """Add ``persons`` approved professionals (with users) and their declarations, plus an org tree.

    Guarantees: works on an empty database and on top of the demo data or an earlier run; every new
    organisation hangs under the province HR department (one city HR bureau per city, one bureau per
    county, three competent departments per bureau, about one employer per 30 people, a quarter of
    them without a competent department) with ``path`` = parent's path + own id; ID numbers are
    checksum-valid and unique (also against existing users), as are usernames, e-mails, certificate
    numbers and credit codes; every generated user has the password ``DEMO_PASSWORD``. One
    transaction: on failure nothing is written. Returns counts and elapsed seconds.
    """
    if persons < 0 or declarations_per_person < 0:
        raise ValueError("persons and declarations_per_person must not be negative")
    t0 = time.perf_counter()
    session = db.session
    dialect = db.engine.dialect.name

    # --- base data and the root (ORM, small) ---------------------------------------------------
    regions = ensure_regions(session)
    ref = ensure_reference_data(session)
    province = session.scalars(select(Organization).where(Organization.kind == PROVINCE).order_by(Organization.id)).first()
    if province is None:
        province = Organization(kind=PROVINCE, name="河南省人力资源和社会保障厅", region_id=regions["41"].id,
                                credit_code=make_credit_code("410000", 1, "11"), status="approved", review_closed=False)
        session.add(province)
        session.flush()
    # Plain snapshots: nothing below touches an ORM object after the commit (no lazy reloads, no
    # transaction left open while the raw connection writes).
    regions = {r.code: _Region(r.id, r.code, r.name, r.level, r.parent_id) for r in regions.values()}
    ref = {table: {code: row.id for code, row in rows.items()} for table, rows in ref.items()}
    province = (province.id, province.path)
    session.commit()

    cities = sorted((r for r in regions.values() if r.level == "city" and r.code != "419000"), key=lambda r: r.code)
    jiyuan = regions.get("419001")
    city_units = cities + ([jiyuan] if jiyuan is not None else [])
    counties = sorted(
        (r for r in regions.values() if r.level == "county" and r.code[4] != "7" and r.code != "419001"),
        key=lambda r: r.code,
    )
    county_codes = [r.code for r in sorted(regions.values(), key=lambda r: r.code) if r.level == "county"]

    # Existing HR bureaus by region (the shallowest one wins), to reuse the demo's.
    bureaus: dict[int, tuple[int, str]] = {}
    for oid, region_id, path in session.execute(
        select(Organization.id, Organization.region_id, Organization.path)
        .where(Organization.kind == HR, Organization.status == "approved")
        .order_by(func.length(Organization.path), Organization.id)
    ):
        bureaus.setdefault(region_id, (oid, path))
    used_credit = set(session.scalars(select(Organization.credit_code).where(Organization.credit_code.is_not(None))))

    # Serials grow with ids across runs: the last generated user holds the highest one.
    last_email = session.execute(
        text("SELECT email FROM ab_user WHERE email LIKE :p ORDER BY id DESC LIMIT 1"), {"p": f"s%@{SCALE_EMAIL_DOMAIN}"}
    ).scalar()
    start = int(last_email.split("@")[0][1:]) + 1 if last_email else 0
    if start + persons > 9_000_000:
        raise ValueError("certificate-number serials exhausted")
    taken_ids = set(session.scalars(
        text("SELECT id_number FROM ab_user WHERE id_number IS NOT NULL AND email NOT LIKE :p"),
        {"p": f"%@{SCALE_EMAIL_DOMAIN}"},
    ))
    taken_ids |= set(session.scalars(
        text("SELECT p.id_number FROM professional p JOIN ab_user u ON u.id = p.user_id WHERE u.email NOT LIKE :p"),
        {"p": f"%@{SCALE_EMAIL_DOMAIN}"},
    ))
    next_org = _max_id(session, "organization") + 1
    next_user = _max_id(session, "ab_user") + 1
    next_prof = _max_id(session, "professional") + 1
    next_decl = _max_id(session, "declaration") + 1
    session.commit()

    now = datetime.now().replace(microsecond=0)
    lv = ref["unit_level"]
    nat = ref["unit_nature"]
    ind = ref["industry"]

    # --- plan the organisations (validate before writing) ----------------------------------------
    org_rows: list[tuple] = []
    region_of: dict[int, _Region] = {}

    def add_org(kind, name, region, parent_id, parent_path, level, nature, industry, credit_kind):
        nonlocal next_org
        oid = next_org
        next_org += 1
        area = region.code if len(region.code) == 6 and region.code.isdigit() else "410000"
        code = make_credit_code(area, CREDIT_SERIAL_BASE + oid, credit_kind)
        if code in used_credit:
            raise ValueError(f"credit code {code} already in use")
        used_credit.add(code)
        path = f"{parent_path}{oid}/"
        org_rows.append((oid, kind, name, code, region.id, parent_id, path, "approved", lv[level] if level else None,
                         nat[nature], ind[industry] if industry else None, False, now))
        region_of[oid] = region
        return oid, path

    for city in city_units:
        if city.id not in bureaus:
            bureaus[city.id] = add_org(HR, f"{city.name}人力资源和社会保障局", city, province[0], province[1], "city",
                                       "organ", None, "11")
    for county in counties:
        if county.id not in bureaus:
            parent = bureaus[county.parent_id]
            bureaus[county.id] = add_org(HR, f"{county.name}人力资源和社会保障局", county, parent[0], parent[1],
                                         "county", "organ", None, "11")
    # Employers go under the bureaus of the cities and counties, round robin; every
    # PROVINCE_EMPLOYER_EVERY-th is a 省直 unit under the province (final reviewer: the province).
    direct = regions.get(DIRECT_CODE) or regions["41"]
    hosts = [(r, bureaus[r.id]) for r in city_units + counties]
    n_employers = -(-persons // PEOPLE_PER_EMPLOYER) if persons else 0
    competents: dict[int, list[tuple[int, str]]] = {}
    for region, (bid, bpath) in hosts[: max(0, min(len(hosts), n_employers))]:
        level = "city" if region.level == "city" else "county"
        competents[bid] = [
            add_org(COMPETENT, f"{region.name}{suffix}", region, bid, bpath, level, "organ", industry, "11")
            for suffix, industry in COMPETENT_DEPTS
        ]
    if n_employers >= PROVINCE_EMPLOYER_EVERY:
        # The provincial competent departments: the existing ones (demo) by name, else new ones.
        existing = dict(session.execute(
            select(Organization.name, Organization.id).where(Organization.kind == COMPETENT,
                                                             Organization.parent_id == province[0])
        ).all())
        competents[province[0]] = [
            (existing[name], f"{province[1]}{existing[name]}/") if name in existing
            else add_org(COMPETENT, name, direct, province[0], province[1], "province", "organ", industry, "11")
            for name, industry in PROVINCE_DEPTS
        ]
    # A CE base under every city bureau and one under the province: declarations it makes for its
    # trainees start above it (route: that HR bureau / the province).
    ce_bases: dict[int, int] = {}  # host bureau id -> CE base id
    if persons:
        for city in city_units:
            bid, bpath = bureaus[city.id]
            ce_bases[bid] = add_org(CE_BASE, f"{city.name}专业技术人员继续教育基地（规模{next_org}）", city, bid, bpath,
                                    None, "institution", "education", "12")[0]
        ce_bases[province[0]] = add_org(CE_BASE, f"河南省专业技术人员继续教育基地（规模{next_org}）", direct, province[0],
                                        province[1], None, "institution", "education", "12")[0]
    # (employer id, review route, route of accountants: the competent department skipped,
    #  CE base declaring for its people, that base's route)
    employers: list[tuple[int, list[int], list[int], int, list[int]]] = []
    city_bureau = {r.id: bureaus.get(r.parent_id if r.level == "county" else r.id, (province[0],))[0] for r, _b in hosts}
    placed = 0
    for j in range(n_employers):
        template, nature, industry = EMPLOYER_TEMPLATES[j % len(EMPLOYER_TEMPLATES)]
        credit = "12" if nature != "enterprise" else "91"
        if j % PROVINCE_EMPLOYER_EVERY == PROVINCE_EMPLOYER_EVERY - 1 and province[0] in competents:
            bid, bpath = province
            region, cb = direct, bid
            name = template.format(r="河南省", n=j // PROVINCE_EMPLOYER_EVERY + 1)
        else:
            region, (bid, bpath) = hosts[placed % len(hosts)]
            name = template.format(r=region.name, n=placed // len(hosts) + 1)
            placed += 1
            cb = city_bureau[region.id]
        if cb not in ce_bases:
            cb = province[0]
        base = ce_bases[cb]
        if j % 4 == 3:  # 无主管部门: directly under the HR bureau
            eid, _ = add_org(EMPLOYER, name, region, bid, bpath, None, nature, industry, credit)
            employers.append((eid, [eid, bid], [eid, bid], base, [cb]))
        else:
            cid, cpath = competents[bid][j % len(COMPETENT_DEPTS)]
            eid, _ = add_org(EMPLOYER, name, region, cid, cpath, None, nature, industry, credit)
            employers.append((eid, [eid, cid, bid], [eid, bid], base, [cb]))

    # --- rows of people, generated lazily per chunk ----------------------------------------------
    password = generate_password_hash(DEMO_PASSWORD)
    levels = [ref["title_level"][c] for c in ("junior", "junior", "intermediate", "intermediate", "senior")]
    series = [ref["title_series"][c] for c in ("health", "education", "education", "agriculture", "engineering")]
    accounting = ref["title_series"]["accounting"]
    ethnic_han, ethnic_hui = ref["ethnicity"]["01"], ref["ethnicity"]["03"]
    majors = sorted(ref["major"].values())
    year = now.year
    seen: set[str] = set()
    stats = {"organizations": len(org_rows), "users": 0, "professionals": 0, "declarations": 0, "skipped_ids": 0}

    HOURS = {h: Decimal(h) for _s, _f, h in DECL_FORMS + (("public", "training_class", 30),)}
    route_cache: dict[tuple, str] = {}

    def route_json(r: list[int]) -> str:
        key = tuple(r)
        if key not in route_cache:
            route_cache[key] = json.dumps(r)
        return route_cache[key]

    first_decl = next_decl
    session.commit()  # no ORM transaction may stay open during the COPY (it would defeat the VACUUM)
    raw = db.engine.raw_connection()
    writer = _Writer(raw, dialect)
    index = start  # person index within all scale runs (drives ID number, e-mail, certificate serial)
    try:
        writer.write("organization", ORG_COLS, org_rows)
        done = 0
        while done < persons:
            size = min(CHUNK, persons - done)
            users, profs, decls = [], [], []
            while len(profs) < size:
                id_number, birth, female = scale_id_number(index, county_codes)
                serial = index
                index += 1
                if id_number in taken_ids:
                    stats["skipped_ids"] += 1
                    continue
                if id_number in seen:
                    raise ValueError(f"duplicate generated ID number at index {serial}")
                seen.add(id_number)
                k = done + len(profs)  # position within this run
                eid, route, acc_route, base, base_route = employers[k % n_employers]
                last = SURNAMES[serial % len(SURNAMES)]
                first = GIVEN_NAMES[(serial // len(SURNAMES)) % len(GIVEN_NAMES)]
                uid, pid = next_user, next_prof
                next_user += 1
                next_prof += 1
                users.append((uid, first, last, id_number, password, True, f"s{serial}@{SCALE_EMAIL_DOMAIN}", 0, 0,
                              now, now, "ric", id_number, f"13{serial:09d}", False, False))
                accountant = serial % 12 == 0
                region = region_of[eid]
                profs.append((pid, uid, eid, region.id, last + first, id_number, "female" if female else "male", birth,
                              ethnic_hui if serial % 40 == 0 else ethnic_han, majors[serial % len(majors)],
                              accounting if accountant else series[serial % len(series)], levels[serial % len(levels)],
                              accountant, format_number(region, CERT_SERIAL_BASE + serial), "approved",
                              now))
                for d in range(declarations_per_person):
                    m = serial * declarations_per_person + d
                    by_base = m % CE_BASE_EVERY == CE_BASE_EVERY - 1
                    if by_base:
                        subject, form, hours = "public", "training_class", 30
                        r, declared_by = base_route, base
                    else:
                        subject, form, hours = ("public", "training_class", 30) if accountant else DECL_FORMS[m % len(DECL_FORMS)]
                        r, declared_by = (acc_route if accountant else route), None
                    decl_year, state, step = review_state(m, year, len(r))
                    when = min(now, datetime(decl_year, 1 + m % 12, 1 + m % 28, 8 + m % 10, m % 60))
                    hours = HOURS[hours]
                    decls.append((next_decl, pid, eid, subject, form, decl_year, "{}",
                                  date(decl_year, 1 + m % 12, 1), date(decl_year, 1 + m % 12, 5), "合格",
                                  hours, hours if state == "approved" else None, state,
                                  route_json(r), step, r[step] if state == "pending" else None, when,
                                  None if state == "draft" else when,
                                  when if state in ("approved", "rejected") else None, declared_by))
                    next_decl += 1
            stats["users"] += writer.write("ab_user", USER_COLS, users)
            stats["professionals"] += writer.write("professional", PROF_COLS, profs)
            stats["declarations"] += writer.write("declaration", DECL_COLS, decls)
            done += size
        # The hours ledger of the generated approved declarations (set-based, server side).
        cur = raw.cursor()
        try:
            cur.execute(
                "INSERT INTO hours_ledger (professional_id, year, subject_type, hours, updated) "
                "SELECT professional_id, year, subject_type, SUM(recognised_hours), MAX(decided_at) FROM declaration "
                f"WHERE id >= {int(first_decl)} AND state = 'approved' GROUP BY professional_id, year, subject_type "
                "ON CONFLICT (professional_id, year, subject_type) "
                "DO UPDATE SET hours = hours_ledger.hours + excluded.hours, updated = excluded.updated"
            )
            stats["ledger_rows"] = cur.rowcount
            # One posting per generated approved declaration, as a final approval records it.
            cur.execute(POSTING_FROM_DECLARATION.replace(":first", str(int(first_decl))))
        finally:
            cur.close()
        raw.commit()
    except Exception:
        raw.rollback()
        raise
    finally:
        raw.close()

    if dialect == "postgresql":
        with db.engine.connect() as conn:
            for table in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            conn.commit()
        t_analyze = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM sets the visibility map (index-only scans for counts); ANALYZE the planner stats.
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(TABLES)}"))
        stats["vacuum_analyze_seconds"] = round(time.perf_counter() - t_analyze, 2)
    session.expire_all()
    stats["certificate_serial"] = sync_counter()
    session.commit()
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return stats
