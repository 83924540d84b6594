"""Demo data (``flask ce demo``): Henan regions, base data, an organisation tree, admins, professionals.

Everything is Chinese and deterministic, so the logins printed from ``DEMO_LOGINS`` always work on a
freshly loaded database. The reference-data helpers (``ensure_regions``, ``ensure_reference_data``)
are reused by the scale generator.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..capacities import PERSON, SYSADMIN
from ..extensions import db
from ..models import (
    Affiliation,
    Declaration,
    Department,
    Ethnicity,
    Industry,
    Major,
    Membership,
    Organization,
    Professional,
    Region,
    Subject,
    TitleLevel,
    TitleSeries,
    TrainingPlan,
    UnitLevel,
    UnitNature,
    User,
)
from ..models.org import CE_BASE, COMPETENT, EMPLOYER, HR, PROVINCE
from .certificate_numbers import format_number, sync_counter
from .identifiers import is_valid_credit_code, is_valid_id_number, make_credit_code, make_id_number
from ..workflows.declaration import post_ledger, record_postings
from .routing import route_for

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(APP_DIR)
# The repo copy is the one read; the shared original is only a fallback for odd checkouts.
REGIONS_CSV = os.path.join(APP_DIR, "data", "henan-regions.csv")
SHARED_REGIONS_CSV = os.path.join(REPO_ROOT, "..", "shared", "data", "henan-regions.csv")

DEMO_PASSWORD = "Demo2026ce"
PROVINCE_CODE = "41"
DIRECT_CODE = "ZS"  # 省直: a region entry of the platform, not an administrative division
DIRECT_NAME = "省直"

UNIT_NATURES = [("organ", "机关"), ("institution", "事业单位"), ("enterprise", "企业"), ("society", "社会团体"), ("other", "其他")]
AFFILIATIONS = [("province", "省属"), ("city", "市属"), ("county", "县属")]
UNIT_LEVELS = [("province", "省级"), ("city", "市级"), ("county", "县级")]
INDUSTRIES = [
    ("education", "教育"), ("health", "卫生"), ("engineering", "工程技术"), ("agriculture", "农业"),
    ("finance", "财会"), ("culture", "文化艺术"), ("it", "信息技术"),
]
TITLE_SERIES = [
    ("engineering", "工程"), ("health", "卫生"), ("education", "教育"), ("accounting", "会计"),
    ("agriculture", "农业"), ("economics", "经济"),
]
TITLE_LEVELS = [("junior", "初级", 1), ("intermediate", "中级", 2), ("senior", "高级", 3)]
MAJORS = [
    ("080901", "计算机科学与技术"), ("100201", "临床医学"), ("040101", "教育学"), ("120203", "会计学"),
    ("090101", "农学"), ("081001", "土木工程"), ("101101", "护理学"), ("050101", "汉语言文学"),
]
ETHNICITIES = [
    ("01", "汉族"), ("02", "蒙古族"), ("03", "回族"), ("04", "藏族"), ("05", "维吾尔族"), ("06", "苗族"),
    ("07", "彝族"), ("08", "壮族"), ("09", "布依族"), ("10", "朝鲜族"), ("11", "满族"), ("12", "侗族"),
]


# ---------------------------------------------------------------------------------------------
# People with a login. Their ID numbers are computed here (pure functions) so DEMO_LOGINS is
# known before the database is touched.


@dataclass(frozen=True)
class DemoPerson:
    key: str
    last_name: str
    first_name: str
    region_code: str  # birthplace county (first 6 digits of the ID number)
    birth: date
    female: bool
    sequence: int

    @property
    def id_number(self) -> str:
        return make_id_number(self.region_code, self.birth, self.sequence, self.female)

    @property
    def name(self) -> str:
        return self.last_name + self.first_name


ADMINS = [
    DemoPerson("province", "王", "建国", "410102", date(1986, 3, 12), False, 11),
    DemoPerson("city", "李", "秀英", "410103", date(1987, 5, 21), True, 12),
    DemoPerson("county", "赵", "磊", "410105", date(1988, 7, 2), False, 13),
    DemoPerson("competent", "孙", "丽娟", "410302", date(1989, 9, 9), True, 14),
    DemoPerson("ce_base", "周", "志强", "410303", date(1990, 11, 30), False, 16),
    DemoPerson("sysadmin", "吴", "敏", "410104", date(1991, 1, 15), True, 17),
]
ADMIN = {p.key: p for p in ADMINS}
# The employer admin is also a professional of that employer (SPEC: “已是本系统用户”).
EMPLOYER_ADMIN_KEY = "p01"

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_NAMES = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "建华", "文静", "志刚", "海燕", "晓东", "雪梅", "国庆", "春花",
]

# Employers of the demo professionals: (org key, how many people). Keys are those of ORG_SPECS.
_PEOPLE_PER_EMPLOYER = [
    ("zdyfy", 8), ("zdyfy_heart", 3), ("zz_no1", 6), ("zz_tech", 4), ("jinshui_school", 3),
    ("ly_hospital", 4), ("ly_school", 2),
]
PENDING_PEOPLE = 2


def _professional_people() -> list[DemoPerson]:
    people = []
    counties = ["410102", "410103", "410104", "410105", "410122", "410181", "410302", "410305", "410311", "410323"]
    total = sum(n for _k, n in _PEOPLE_PER_EMPLOYER) + PENDING_PEOPLE
    for i in range(total):
        female = i % 2 == 1
        people.append(
            DemoPerson(
                key=f"p{i + 1:02d}",
                last_name=SURNAMES[i % len(SURNAMES)],
                first_name=GIVEN_NAMES[(i * 7) % len(GIVEN_NAMES)],
                region_code=counties[i % len(counties)],
                birth=date(1986 + i % 14, 1 + i % 12, 1 + (i * 3) % 28),
                female=female,
                sequence=100 + i,
            )
        )
    return people


PROFESSIONALS = _professional_people()
PERSON_BY_KEY = {p.key: p for p in PROFESSIONALS}

# (capacity, admin person key, org key) of the admin logins, in the order of the login form.
_ADMIN_LOGINS = [
    (EMPLOYER, EMPLOYER_ADMIN_KEY, "zdyfy"),
    (COMPETENT, "competent", "zz_health"),
    (CE_BASE, "ce_base", "ce_base"),
    (HR, "county", "hr_410105"),
    (HR, "city", "hr_410100"),
    (PROVINCE, "province", "province"),
]

# ---------------------------------------------------------------------------------------------
# The organisation tree, parents listed before children:
# (key, kind, name, parent key, region code, nature, level, industry)


def read_regions_csv() -> list[dict]:
    """Rows of the Henan regions CSV (``code,name,level,parent_code``), from the repo copy."""
    path = REGIONS_CSV if os.path.exists(REGIONS_CSV) else SHARED_REGIONS_CSV
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _build_org_specs(rows: list[dict]) -> list[tuple]:
    """The demo organisations from the regions CSV rows; every parent comes before its children."""
    specs: list[tuple] = []

    def org(key, kind, name, parent, region, nature="organ", level=None, industry=None):
        specs.append((key, kind, name, parent, region, nature, level, industry))

    org("province", PROVINCE, "河南省人力资源和社会保障厅", None, PROVINCE_CODE, level="province")
    for row in rows:
        if row["level"] == "city" and row["code"] != "419000":
            org(f"hr_{row['code']}", HR, f"{row['name']}人力资源和社会保障局", "province", row["code"], level="city")
    org("hr_419001", HR, "济源市人力资源和社会保障局", "province", "419001", level="city")
    for row in rows:
        # County bureaus of Zhengzhou and Luoyang; development zones (codes 7x) have none here.
        if row["level"] == "county" and row["parent_code"] in ("410100", "410300") and row["code"][4] != "7":
            org(f"hr_{row['code']}", HR, f"{row['name']}人力资源和社会保障局", f"hr_{row['parent_code']}",
                row["code"], level="county")
    # Competent departments.
    org("prov_edu", COMPETENT, "河南省教育厅", "province", DIRECT_CODE, level="province", industry="education")
    org("prov_health", COMPETENT, "河南省卫生健康委员会", "province", DIRECT_CODE, level="province", industry="health")
    org("zz_edu", COMPETENT, "郑州市教育局", "hr_410100", "410100", level="city", industry="education")
    org("zz_health", COMPETENT, "郑州市卫生健康委员会", "hr_410100", "410100", level="city", industry="health")
    org("jinshui_edu", COMPETENT, "郑州市金水区教育局", "hr_410105", "410105", level="county", industry="education")
    org("ly_health", COMPETENT, "洛阳市卫生健康委员会", "hr_410300", "410300", level="city", industry="health")
    org("ly_edu", COMPETENT, "洛阳市教育局", "hr_410300", "410300", level="city", industry="education")
    # Employer units: one with a sub-unit, one with no competent department (directly under its HR bureau).
    org("zdyfy", EMPLOYER, "郑州大学第一附属医院", "zz_health", "410103", "institution", "province", "health")
    org("zdyfy_heart", EMPLOYER, "郑州大学第一附属医院心血管病医院", "zdyfy", "410103", "institution", "province", "health")
    org("zz_no1", EMPLOYER, "郑州市第一中学", "zz_edu", "410105", "institution", "city", "education")
    org("zz_tech", EMPLOYER, "郑州中原云智科技有限公司", "hr_410100", "410102", "enterprise", None, "it")
    org("jinshui_school", EMPLOYER, "郑州市金水区文化路第一小学", "jinshui_edu", "410105", "institution", "county", "education")
    org("ly_hospital", EMPLOYER, "洛阳市中心医院", "ly_health", "410303", "institution", "city", "health")
    org("ly_school", EMPLOYER, "洛阳市第一高级中学", "ly_edu", "410311", "institution", "city", "education")
    # CE base.
    org("ce_base", CE_BASE, "河南省专业技术人员继续教育基地（郑州大学）", "prov_edu", DIRECT_CODE,
        "institution", "province", "education")
    return specs


ORG_SPECS = _build_org_specs(read_regions_csv())
ORG_NAMES = {spec[0]: spec[2] for spec in ORG_SPECS}


def _demo_logins() -> list[tuple[str, str, str, str]]:
    logins = [(PERSON, PERSON_BY_KEY["p02"].id_number, DEMO_PASSWORD, ORG_NAMES["zdyfy"])]
    for capacity, person_key, org_key in _ADMIN_LOGINS:
        person = PERSON_BY_KEY.get(person_key) or ADMIN[person_key]
        logins.append((capacity, person.id_number, DEMO_PASSWORD, ORG_NAMES[org_key]))
    logins.append((SYSADMIN, ADMIN["sysadmin"].id_number, DEMO_PASSWORD, ""))
    return logins


#: (capacity, ID number, password, organisation name): one ready login per capacity (two for HR
#: bureaus: a county and a city); printed by ``flask ce demo``.
DEMO_LOGINS: list[tuple[str, str, str, str]] = _demo_logins()

# ---------------------------------------------------------------------------------------------
# Reference data


def ensure_regions(session) -> dict[str, Region]:
    """Create the province, its cities and counties and 省直 when missing; returns regions by code.

    Parents are flushed before children. Existing rows (by code) are kept untouched.
    """
    existing = {r.code: r for r in session.scalars(select(Region))}
    if PROVINCE_CODE not in existing:
        existing[PROVINCE_CODE] = Region(code=PROVINCE_CODE, name="河南省", level="province")
        session.add(existing[PROVINCE_CODE])
        session.flush()
    rows = read_regions_csv()
    for level in ("city", "county"):
        for row in rows:
            if row["level"] != level or row["code"] in existing:
                continue
            parent = existing[row["parent_code"]]
            existing[row["code"]] = Region(code=row["code"], name=row["name"], level=level, parent_id=parent.id)
            session.add(existing[row["code"]])
        session.flush()
    if DIRECT_CODE not in existing:
        existing[DIRECT_CODE] = Region(code=DIRECT_CODE, name=DIRECT_NAME, level="direct",
                                       parent_id=existing[PROVINCE_CODE].id)
        session.add(existing[DIRECT_CODE])
        session.flush()
    return existing


def _ensure_codes(session, model, rows) -> dict[str, object]:
    existing = {r.code: r for r in session.scalars(select(model))}
    for row in rows:
        code, name = row[0], row[1]
        if code in existing:
            continue
        obj = model(code=code, name=name, enabled=True)
        if model is TitleLevel:
            obj.rank = row[2]
        session.add(obj)
        existing[code] = obj
    session.flush()
    return existing


def ensure_reference_data(session) -> dict[str, dict[str, object]]:
    """Create the code tables and the yearly requirements of SPEC §6 when missing (by code / key).

    Returns the rows by table name and code, e.g. ``ref["title_level"]["senior"]``.
    """
    ref = {
        "unit_nature": _ensure_codes(session, UnitNature, UNIT_NATURES),
        "affiliation": _ensure_codes(session, Affiliation, AFFILIATIONS),
        "unit_level": _ensure_codes(session, UnitLevel, UNIT_LEVELS),
        "industry": _ensure_codes(session, Industry, INDUSTRIES),
        "title_series": _ensure_codes(session, TitleSeries, TITLE_SERIES),
        "title_level": _ensure_codes(session, TitleLevel, TITLE_LEVELS),
        "major": _ensure_codes(session, Major, MAJORS),
        "ethnicity": _ensure_codes(session, Ethnicity, ETHNICITIES),
    }
    session.flush()
    return ref


# ---------------------------------------------------------------------------------------------


def _validate(specs, regions) -> None:
    """Everything that can be checked before writing; raises ``ValueError`` listing every problem."""
    errors = []
    keys = set()
    for key, _kind, _name, parent, region, *_rest in specs:
        if parent is not None and parent not in keys:
            errors.append(f"organisation {key}: parent {parent} not listed before it")
        if region not in regions and region != DIRECT_CODE:
            errors.append(f"organisation {key}: unknown region {region}")
        keys.add(key)
    people = ADMINS + PROFESSIONALS
    ids = [p.id_number for p in people]
    errors += [f"invalid ID number for {p.key}" for p in people if not is_valid_id_number(p.id_number)]
    if len(set(ids)) != len(ids):
        errors.append("duplicate demo ID numbers")
    if errors:
        raise ValueError("; ".join(errors))


def load_demo() -> bool:
    """Load the demo data set into an empty database, in one transaction.

    Guarantees: returns ``False`` and writes nothing when any organisation exists; otherwise creates
    the regions, base data, one organisation of every kind (parents before children, so every
    ``path`` is its parent's path + own id), the admins of ``DEMO_LOGINS`` with the password
    ``DEMO_PASSWORD``, professionals (all title levels, accountants, two pending), departments,
    subjects, a training plan and declarations in several states, commits and returns ``True``.
    Any failure rolls everything back.
    """
    session = db.session
    if session.scalar(select(func.count(Organization.id))):
        return False
    try:
        _load(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return True


def _load(session) -> None:
    regions = ensure_regions(session)
    ref = ensure_reference_data(session)
    specs = ORG_SPECS
    _validate(specs, regions)

    now = datetime.now().replace(microsecond=0)
    # Organisations, one flush each so the path listener sees the parent's path.
    orgs: dict[str, Organization] = {}
    kind_code = {PROVINCE: "11", HR: "11", COMPETENT: "11", EMPLOYER: "12", CE_BASE: "12"}
    for serial, (key, kind, name, parent, region_code, nature, level, industry) in enumerate(specs, start=1):
        region = regions[region_code]
        credit_region = region.code if region.code.isdigit() and len(region.code) == 6 else "410000"
        code = make_credit_code(credit_region, serial, "91" if nature == "enterprise" else kind_code[kind])
        assert is_valid_credit_code(code), code
        org = Organization(
            kind=kind, name=name, credit_code=code, region_id=region.id,
            parent_id=orgs[parent].id if parent else None, status="approved",
            nature=ref["unit_nature"][nature], level=ref["unit_level"].get(level) if level else None,
            affiliation=ref["affiliation"].get(level) if level else None,
            industry=ref["industry"].get(industry) if industry else None,
            phone=f"0371-6{serial:07d}", address=f"{region.name}示范路{serial}号", review_closed=False,
        )
        session.add(org)
        session.flush()
        orgs[key] = org

    password = generate_password_hash(DEMO_PASSWORD)

    def make_user(person: DemoPerson, sysadmin: bool = False) -> User:
        user = User(
            username=person.id_number, id_number=person.id_number, id_type="ric",
            first_name=person.first_name, last_name=person.last_name,
            email=f"{person.id_number.lower()}@demo.ce.local",
            mobile=f"139{int(person.id_number[-9:-1]):08d}",
            active=True, password=password, must_change_password=False, is_sysadmin=sysadmin,
            created_on=now, changed_on=now,
        )
        session.add(user)
        return user

    users = {p.key: make_user(p, sysadmin=p.key == "sysadmin") for p in ADMINS}
    users.update({p.key: make_user(p) for p in PROFESSIONALS})
    session.flush()

    # Departments (内设部门) of the hospital: a small tree.
    depts = {}
    for name, parent in (("内科", None), ("外科", None), ("护理部", None), ("心血管内科", "内科"), ("财务处", None)):
        d = Department(org_id=orgs["zdyfy"].id, name=name, enabled=True,
                       parent_id=depts[parent].id if parent else None)
        session.add(d)
        session.flush()
        depts[name] = d

    # Professionals.
    levels = [ref["title_level"][c] for c in ("junior", "intermediate", "senior")]
    series_for = {"health": "health", "education": "education", "it": "engineering"}
    serial = 0
    people = iter(PROFESSIONALS)
    professionals: list[Professional] = []
    plan = [(k, n) for k, n in _PEOPLE_PER_EMPLOYER] + [("zz_tech", PENDING_PEOPLE)]
    for plan_index, (org_key, count) in enumerate(plan):
        pending = plan_index == len(plan) - 1
        org = orgs[org_key]
        for j in range(count):
            person = next(people)
            serial += 1
            accountant = j == count - 1 and count >= 3
            series = "accounting" if accountant else series_for.get(specs_industry(specs, org_key), "economics")
            region = regions[person.region_code]
            prof = Professional(
                user=users[person.key], org_id=org.id, name=person.name, id_number=person.id_number,
                gender="female" if person.female else "male", birth_date=person.birth,
                region_id=org.region_id, title_level=levels[(serial + j) % 3],
                title_series=ref["title_series"][series], is_accountant=accountant,
                ethnicity=ref["ethnicity"]["03" if serial % 9 == 0 else "01"],
                major=ref["major"][MAJORS[serial % len(MAJORS)][0]],
                native_place=region.name, school="郑州大学" if serial % 2 else "河南大学",
                department=(depts["财务处"] if accountant else depts[("内科", "外科", "护理部", "心血管内科")[j % 4]])
                if org_key == "zdyfy" else None,
                status="pending" if pending else "approved",
                certificate_no=None if pending else format_number(org.region, serial),
            )
            session.add(prof)
            professionals.append(prof)
    session.flush()
    sync_counter()

    # Admin memberships (super admins), one per capacity, and the system administrator (no membership).
    for capacity, person_key, org_key in _ADMIN_LOGINS:
        session.add(Membership(user=users[person_key], org=orgs[org_key], is_super=True, status="approved",
                               enabled=True))
    session.flush()

    # Catalogues and a training plan.
    public = Subject(subject_type="public", name="习近平新时代中国特色社会主义思想专题", year=2026,
                     owner_org_id=orgs["province"].id, enabled=True)
    public2 = Subject(subject_type="public", name="专业技术人员职业道德与诚信建设", year=2026,
                      owner_org_id=orgs["province"].id, enabled=True)
    prof_subjects = [
        Subject(subject_type="professional", name="临床诊疗新进展", year=2026, specialty="临床医学",
                owner_org_id=orgs["zz_health"].id, enabled=True),
        Subject(subject_type="professional", name="新课程标准与课堂教学改革", year=2026, specialty="教育学",
                owner_org_id=orgs["zz_edu"].id, enabled=True),
    ]
    session.add_all([public, public2, *prof_subjects])
    session.flush()
    session.add(TrainingPlan(
        org_id=orgs["ce_base"].id, subject_type="public", subject_id=public.id, year=2026,
        name="2026年度公需科目网络培训班", form="training_class", planned_headcount=500, hours=Decimal(30),
        start_date=date(2026, 3, 1), end_date=date(2026, 11, 30), description="面向全省专业技术人员的公需科目培训",
        state="pending", route=str([orgs["province"].id]), handler_org_id=orgs["province"].id,
    ))

    # Declarations in several states along the review chain.
    training = {"organiser": "河南省专业技术人员继续教育基地（郑州大学）", "class_name": "2026年度公需科目培训班",
                "content": "法律法规、职业道德与创新能力"}
    forms = [
        ("public", "training_class", 30, training),
        ("professional", "paper", 44, {"title": "基层医疗服务质量改进研究", "journal": "中华医院管理杂志",
                                       "journal_level": "provincial_core", "issn": "1000-6672", "cn": "CN 11-1325/R",
                                       "rank": 1, "supplement": False}),
        ("professional", "academic_conference", 12, {"level": "provincial", "conference": "河南省医学会学术年会",
                                                     "days": 3, "presented_paper": False}),
        ("public", "training_class", 24, training),
    ]
    ledger: dict = {}
    states = ["draft", "pending", "approved", "rejected", "pending", "approved"]
    count = 0
    for i, prof in enumerate(professionals):
        if prof.status != "approved":
            continue
        for k in range(2 if i % 3 == 0 else 1):
            subject_type, form_code, hours, data = forms[(i + k) % len(forms)]
            if prof.is_accountant:
                subject_type, form_code, hours, data = "public", "training_class", 30, training
            route = route_for(prof, subject_type=subject_type)
            state = states[(i + k) % len(states)]
            step = 0
            decided = None
            if state == "pending":
                step = (i + k) % len(route)
            elif state in ("approved", "rejected"):
                step = len(route) - 1 if state == "approved" else 0
                decided = now
            decl = Declaration(
                professional_id=prof.id, org_id=prof.org_id, subject_type=subject_type, form_code=form_code,
                year=2026, data=dict(data), start_date=date(2026, 3, 1 + k), end_date=date(2026, 3, 5 + k),
                result="合格", requested_hours=Decimal(hours),
                recognised_hours=Decimal(hours) if state == "approved" else None,
                remark="演示数据", state=state, route=route, step=step,
                handler_org_id=route[step] if state == "pending" else None,
                submitted_at=None if state == "draft" else now, decided_at=decided,
            )
            session.add(decl)
            count += 1
            if state == "approved":
                key = (prof.id, 2026, subject_type)
                ledger[key] = ledger.get(key, Decimal(0)) + Decimal(hours)
    # The demo professional's earlier years for 年度完成情况: 2024 and 2025 passed (30 public + 60
    # professional, approved by the employer, the competent department and the HR bureau), 2023 short.
    me = next(p for p in professionals if p.id_number == PERSON_BY_KEY["p02"].id_number)
    conference = {"level": "provincial", "conference": "河南省医学会学术年会", "days": 4, "presented_paper": False}
    history = {2023: [forms[0]], 2024: [forms[0], forms[1], ("professional", "academic_conference", 16, conference)]}
    history[2025] = history[2024]
    for year, items in history.items():
        for k, (subject_type, form_code, hours, data) in enumerate(items):
            route = route_for(me, subject_type=subject_type)
            session.add(Declaration(
                professional_id=me.id, org_id=me.org_id, subject_type=subject_type, form_code=form_code, year=year,
                data=dict(data), start_date=date(year, 4, 1 + k), end_date=date(year, 4, 5 + k), result="合格",
                requested_hours=Decimal(hours), recognised_hours=Decimal(hours), remark="演示数据", state="approved",
                route=route, step=len(route) - 1, submitted_at=datetime(year, 5, 1), decided_at=datetime(year, 6, 1),
            ))
            key = (me.id, year, subject_type)
            ledger[key] = ledger.get(key, Decimal(0)) + Decimal(hours)
    session.flush()
    # Approved hours count through the ledger and one posting each, exactly as a final approval posts them.
    post_ledger(ledger)
    record_postings()


def specs_industry(specs, key) -> str | None:
    for spec in specs:
        if spec[0] == key:
            return spec[7]
    return None
