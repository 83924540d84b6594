"""The built-in learning forms: every hours rule of 证书管理办法 第七条 with its boundaries, the
validation rules and messages, the subject types, and the clean-data contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from app.plugins import HoursContext, LearningForm, all_learning_forms, quantize_hours
from app.plugins.builtin_forms import BUILTIN_LEARNING_FORMS, served_full_year

CTX = HoursContext(year=2025, public_required=Decimal("30"), professional_required=Decimal("60"))
CODES = [
    "training_class", "training_programme", "degree_course", "course_study", "academic_conference",
    "research_project", "book", "paper", "patent", "award", "qualification_exam", "research_report",
    "aid_posting", "grassroots_service", "other",
]
FIELDS = {
    "training_class": ["organiser", "class_name", "content"],
    "training_programme": ["level", "organiser", "programme_name"],
    "degree_course": ["school", "programme", "courses_passed"],
    "course_study": ["institution", "course", "months"],
    "academic_conference": ["level", "conference", "days", "presented_paper"],
    "research_project": ["level", "role", "rank", "project"],
    "book": ["title", "publisher", "isbn", "characters", "rank"],
    "paper": ["title", "journal", "journal_level", "issn", "cn", "rank", "supplement"],
    "patent": ["patent_type", "patent_no", "rank"],
    "award": ["level", "award_name", "rank"],
    "qualification_exam": ["exam_type", "exam_name", "certificate_no"],
    "research_report": ["title", "endorsed_by"],
    "aid_posting": ["programme", "start", "end"],
    "grassroots_service": ["activity", "days"],
    "other": ["description"],
}

VALID_ISBN = "978-7-04-050000-4"


def form(code) -> LearningForm:
    return all_learning_forms()[code]


def hours(code, **data):
    """Validate ``data`` (must be valid) and return the standard hours."""
    clean, errors = form(code).validate(data)
    assert errors == {}, errors
    return form(code).standard_hours(clean, CTX)


def errors(code, **data):
    clean, errs = form(code).validate(data)
    assert clean == {}
    return errs


# -- contract ----------------------------------------------------------------------------------------


def test_codes_and_fields_are_the_contract():
    assert [cls.code for cls in BUILTIN_LEARNING_FORMS] == CODES
    assert list(all_learning_forms())[: len(CODES)] == CODES
    for code, names in FIELDS.items():
        assert [name for name, _label in form(code).fields()] == names, code


@pytest.mark.parametrize("code", CODES)
def test_every_form_has_name_evidence_rule_and_subject_types(code):
    f = form(code)
    assert str(f.name) and str(f.evidence) and str(f.hours_rule)
    assert f.subject_types and set(f.subject_types) <= {"public", "professional"}
    assert "professional" in f.subject_types


def test_subject_types():
    both = {code for code in CODES if form(code).subject_types == {"public", "professional"}}
    assert both == {"training_class", "training_programme", "other"}


def test_only_aid_posting_counts_the_full_year():
    assert [code for code in CODES if form(code).counts_full_year] == ["aid_posting"]


def test_clean_data_is_json_safe_and_validates_to_itself():
    import json

    data = {"programme": "tibet", "start": "2024-03-01", "end": "2025-03-01", "unknown": "dropped"}
    clean, errs = form("aid_posting").validate(data)
    assert errs == {}
    assert clean == {"programme": "tibet", "start": "2024-03-01", "end": "2025-03-01"}
    assert json.loads(json.dumps(clean)) == clean
    assert form("aid_posting").validate(clean) == (clean, {})
    clean, _ = form("course_study").validate({"institution": " 北京大学 ", "course": "X", "months": 6.5})
    assert clean == {"institution": "北京大学", "course": "X", "months": "6.5"}
    assert form("course_study").validate(clean)[0] == clean


def test_quantize_hours_rounds_half_up_to_one_place():
    assert quantize_hours("16.25") == Decimal("16.3")
    assert quantize_hours(Decimal("16.24")) == Decimal("16.2")
    assert quantize_hours(0.15) == Decimal("0.2")
    assert quantize_hours(68) == Decimal("68.0")
    assert str(quantize_hours(68)) == "68.0"


def test_hours_context_normalises_to_one_place():
    ctx = HoursContext(2025, 24, "66")
    assert ctx.public_required == Decimal("24.0") and ctx.professional_required == Decimal("66.0")
    assert ctx.total_required is None


# -- hours rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,data",
    [
        ("training_class", {"organiser": "郑州继续教育基地", "class_name": "班", "content": "内容"}),
        ("training_programme", {"level": "national", "organiser": "人社部", "programme_name": "高级研修班"}),
        ("other", {"description": "经人社局认可的其他形式"}),
    ],
)
def test_forms_whose_hours_are_set_by_the_organiser_return_none(code, data):
    assert hours(code, **data) is None


@pytest.mark.parametrize("passed,expected", [(1, "15.0"), (2, "30.0"), (4, "60.0")])
def test_degree_course_15_per_passed_course(passed, expected):
    assert hours("degree_course", school="郑州大学", programme="工商管理硕士", courses_passed=passed) == Decimal(expected)


@pytest.mark.parametrize(
    "months,expected",
    [("0.5", "5.0"), ("1", "10.0"), ("5.5", "55.0"), ("6", "60.0"), ("6.5", "60.0"), ("12", "60.0")],
)
def test_course_study_10_per_month_then_the_professional_requirement(months, expected):
    assert hours("course_study", institution="某医院", course="进修", months=months) == Decimal(expected)


def test_course_study_over_six_months_takes_the_persons_requirement():
    f = form("course_study")
    clean, _ = f.validate({"institution": "i", "course": "c", "months": "6.5"})
    ctx = HoursContext(2017, 24, 66)
    assert f.standard_hours(clean, ctx) == Decimal("66.0")
    clean, _ = f.validate({"institution": "i", "course": "c", "months": "6"})
    assert f.standard_hours(clean, ctx) == Decimal("60.0")  # exactly six months: still per month


@pytest.mark.parametrize(
    "level,days,paper,expected",
    [
        ("national", 1, False, "6.0"),
        ("national", 3, False, "18.0"),
        ("national", 3, True, "24.0"),
        ("provincial", 1, False, "4.0"),
        ("provincial", 2, True, "12.0"),
    ],
)
def test_academic_conference(level, days, paper, expected):
    data = {"level": level, "conference": "学术年会", "days": days, "presented_paper": paper}
    assert hours("academic_conference", **data) == Decimal(expected)


def test_academic_conference_paper_flag_from_strings():
    base = {"level": "national", "conference": "c", "days": "2"}
    assert hours("academic_conference", **base, presented_paper="false") == Decimal("12.0")
    assert hours("academic_conference", **base, presented_paper="y") == Decimal("18.0")


RESEARCH_TABLE = {
    ("national", "main"): [68, 60, 52, 44, 36],
    ("national", "sub"): [52, 44, 36],
    ("provincial", "main"): [60, 52, 44],
    ("provincial", "sub"): [44, 36, 28],
}
RESEARCH_ROWS = [(level, role, rank + 1, h) for (level, role), row in RESEARCH_TABLE.items() for rank, h in enumerate(row)]


@pytest.mark.parametrize("level,role,rank,expected", RESEARCH_ROWS)
def test_research_project_every_row(level, role, rank, expected):
    assert hours("research_project", level=level, role=role, rank=rank, project="课题") == Decimal(expected)


@pytest.mark.parametrize("level,role,beyond", [("national", "main", 6), ("national", "sub", 4), ("provincial", "main", 4), ("provincial", "sub", 4)])
def test_research_project_rank_beyond_the_table_is_a_field_error(level, role, beyond):
    errs = errors("research_project", level=level, role=role, rank=beyond, project="课题")
    assert list(errs) == ["rank"]
    assert "1 to %d" % (beyond - 1) in errs["rank"][0]


def test_research_project_rank_zero():
    assert errors("research_project", level="national", role="main", rank=0, project="p") == {"rank": ["The rank starts at 1."]}


@pytest.mark.parametrize(
    "rank,characters,expected",
    [
        (1, 10000, "16.0"),
        (2, 10000, "12.0"),
        (3, 10000, "8.0"),
        (1, 125000, "200.0"),
        (2, 12345, "14.8"),  # 14.814
        (3, 10625, "8.5"),  # 8.5 exactly
        (1, 10031, "16.0"),  # 16.0496
        (1, 10032, "16.1"),  # 16.0512
        (3, 1, "0.0"),
        (2, 20625, "24.8"),  # 24.75 → half up
    ],
)
def test_book_is_proportional_to_characters_rounded_half_up(rank, characters, expected):
    data = {"title": "著作", "publisher": "出版社", "isbn": VALID_ISBN, "characters": characters, "rank": rank}
    assert hours("book", **data) == Decimal(expected)


def test_book_rank_and_isbn_errors():
    base = {"title": "t", "publisher": "p", "isbn": VALID_ISBN, "characters": 1000}
    assert errors("book", **base, rank=4) == {"rank": ["Only the first three named count: enter 1, 2 or 3."]}
    assert errors("book", **dict(base, isbn="978-7-04-050000-1"), rank=1) == {"isbn": ["This is not a valid ISBN."]}
    assert errors("book", **dict(base, characters=0), rank=1) == {"characters": ["Enter the number of characters (at least 1)."]}


PAPER_TABLE = {"national_first": [52, 44, 36], "provincial_core": [44, 36, 28], "issn_cn": [36, 28, 20]}


@pytest.mark.parametrize("level,rank,expected", [(lv, r + 1, h) for lv, row in PAPER_TABLE.items() for r, h in enumerate(row)])
def test_paper_every_row(level, rank, expected):
    data = {"title": "论文", "journal": "期刊", "journal_level": level, "issn": "0317-8471", "cn": "CN 11-1234/R", "rank": rank}
    assert hours("paper", **data) == Decimal(expected)


def test_paper_supplement_is_a_field_error():
    data = {"title": "论文", "journal": "期刊", "journal_level": "national_first", "rank": 1, "supplement": True}
    assert errors("paper", **data) == {"supplement": ["Papers in a supplement or special issue do not earn hours."]}
    assert hours("paper", **dict(data, supplement=False)) == Decimal("52.0")


def test_paper_issn_and_cn():
    base = {"title": "t", "journal": "j", "rank": 1}
    errs = errors("paper", **base, journal_level="issn_cn")
    assert errs == {"issn": ["Journals of this level need an ISSN."], "cn": ["Journals of this level need a CN number."]}
    errs = errors("paper", **base, journal_level="national_first", issn="0317-8472", cn="11-1234")
    assert errs == {"issn": ["This is not a valid ISSN."], "cn": ["Enter the CN number like CN 11-1234/R."]}
    assert hours("paper", **base, journal_level="issn_cn", issn="0317-8471", cn="cn11-1234/r") == Decimal("36.0")


@pytest.mark.parametrize("patent_type,expected", [("invention", "68.0"), ("utility", "60.0"), ("design", "60.0")])
def test_patent(patent_type, expected):
    assert hours("patent", patent_type=patent_type, patent_no="ZL202010123456.7", rank=3) == Decimal(expected)


def test_patent_only_top_three():
    errs = errors("patent", patent_type="invention", patent_no="ZL1", rank=4)
    assert errs == {"rank": ["Only the first three named count: enter 1, 2 or 3."]}


@pytest.mark.parametrize("level,expected", [("national", "68.0"), ("provincial", "60.0")])
def test_award(level, expected):
    assert hours("award", level=level, award_name="科技进步奖", rank=1) == Decimal(expected)


def test_award_only_top_three():
    assert list(errors("award", level="national", award_name="奖", rank=4)) == ["rank"]


@pytest.mark.parametrize(
    "exam_type,expected", [("senior", "68.0"), ("intermediate", "60.0"), ("junior", "52.0"), ("practising", "68.0")]
)
def test_qualification_exam(exam_type, expected):
    assert hours("qualification_exam", exam_type=exam_type, exam_name="考试", certificate_no="No.1") == Decimal(expected)


def test_research_report():
    assert hours("research_report", title="调研报告", endorsed_by="省长") == Decimal("20.0")


@pytest.mark.parametrize(
    "start,end,ok",
    [
        ("2024-03-01", "2025-02-28", True),  # both days included: a full year
        ("2024-03-01", "2025-03-01", True),
        ("2024-03-01", "2025-02-27", False),  # one day short
        ("2024-01-01", "2024-12-31", True),
        ("2024-01-01", "2024-12-30", False),
        ("2024-02-29", "2025-02-28", True),
        ("2024-02-29", "2025-02-27", False),
        ("2024-01-01", "2024-06-30", False),
    ],
)
def test_aid_posting_needs_one_year(start, end, ok):
    data = {"programme": "xinjiang", "start": start, "end": end}
    if ok:
        assert hours("aid_posting", **data) == Decimal("60.0")
    else:
        assert errors("aid_posting", **data) == {"end": ["The posting must last at least one year to earn hours."]}


def test_aid_posting_end_before_start_and_hours_from_requirement():
    errs = errors("aid_posting", programme="tibet", start="2025-01-01", end="2024-01-01")
    assert errs == {"end": ["The end must not be before the start."]}
    f = form("aid_posting")
    clean, _ = f.validate({"programme": "secondment", "start": "2023-07-01", "end": "2024-06-30"})
    assert f.standard_hours(clean, HoursContext(2024, 30, 66)) == Decimal("66.0")
    assert served_full_year(date(2024, 1, 1), date(2024, 12, 31))


@pytest.mark.parametrize("days,expected", [(1, "6.0"), (5, "30.0")])
def test_grassroots_service(days, expected):
    assert hours("grassroots_service", activity="送医下乡", days=days) == Decimal(expected)


# -- validation messages -----------------------------------------------------------------------------


def test_missing_fields_get_one_clear_message_each():
    assert errors("academic_conference") == {
        "level": ["Please choose Level."],
        "conference": ["Please fill in Conference."],
        "days": ["Please fill in Days."],
    }


def test_type_errors_are_clear_and_not_duplicated():
    errs = errors("academic_conference", level="national", conference="c", days="三")
    assert errs == {"days": ["Enter a whole number."]}
    errs = errors("course_study", institution="i", course="c", months="abc")
    assert errs == {"months": ["Enter a number."]}
    errs = errors("aid_posting", programme="tibet", start="2024/01/01", end="2025-01-01")
    assert errs == {"start": ["Enter a date as YYYY-MM-DD."]}


def test_unknown_choice_and_bounds():
    assert errors("award", level="county", award_name="奖", rank=1) == {"level": ["Please choose Level."]}
    assert errors("grassroots_service", activity="a", days=0) == {"days": ["Enter at least 1 day."]}
    assert errors("degree_course", school="s", programme="p", courses_passed=0) == {
        "courses_passed": ["Enter at least 1 passed course."]
    }
    assert errors("course_study", institution="i", course="c", months="0") == {
        "months": ["The number of months must be greater than 0."]
    }
    assert errors("other", description="x" * 1001) == {"description": ["Enter at most 1000 characters."]}
    assert errors("training_class", organiser="  ", class_name="c", content="c") == {
        "organiser": ["Please fill in Organiser (CE base)."]
    }


def test_messages_are_translated_in_the_current_locale(app):
    """Messages are evaluated in the request's locale (plain strings, JSON-safe); names already in the
    catalogue come out in Chinese."""
    with app.test_request_context("/"):
        clean, errs = form("paper").validate({"title": "t", "journal": "j", "journal_level": "issn_cn", "rank": 9, "supplement": "y"})
        assert set(errs) == {"issn", "cn", "rank", "supplement"}
        assert all(isinstance(m, str) and m for ms in errs.values() for m in ms)
        assert str(form("paper").name) == "发表论文"


def test_wtforms_builtin_messages_follow_the_locale(app):
    """A WTForms-internal message follows the Flask-Babel locale (zh_Hans_CN → WTForms' zh catalogue)."""
    from wtforms import IntegerField

    from app.plugins import PluginForm

    class F(PluginForm):
        n = IntegerField("n")

    with app.test_request_context("/"):
        f = F(formdata=MultiDict({"n": "x"}))
        f.validate()
        assert f.errors["n"] == ["不是有效的整数。"]


def test_standard_hours_survives_a_failing_rule(caplog):
    class Broken(LearningForm):
        code = "broken_rule"
        name = "Broken"

        def hours(self, data, context):
            raise KeyError("x")

    assert Broken().standard_hours({}, CTX) is None
    assert "broken_rule" in caplog.text
