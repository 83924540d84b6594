"""The built-in learning forms (证书管理办法 第七条) with the evidence guidance of 申报学时提交证明材料说明.

Codes and field names are part of the public contract: declarations store them as JSON.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from wtforms.validators import ValidationError

from .base import (
    PROFESSIONAL,
    PUBLIC,
    ChoiceField,
    DayField,
    FlagField,
    IntField,
    LearningForm,
    MaxLength,
    NumberField,
    PluginForm,
    Range,
    Required,
    TextField,
    as_date,
    as_decimal,
    quantize_hours,
)

BOTH = frozenset({PUBLIC, PROFESSIONAL})
PROFESSIONAL_ONLY = frozenset({PROFESSIONAL})

# -- choice labels (stored values are the English codes) ------------------------------------------

TWO_LEVELS = [("national", _l("National")), ("provincial", _l("Provincial or ministerial"))]
PROGRAMME_LEVELS = [
    ("national", _l("National ministry")),
    ("provincial", _l("Provincial")),
    ("municipal", _l("Municipal")),
    ("unit", _l("Unit or industry organisation")),
]
PROJECT_ROLES = [("main", _l("Main project team")), ("sub", _l("Sub-project team"))]
JOURNAL_LEVELS = [
    ("national_first", _l("Foreign journal or journal of a national first-level society")),
    ("provincial_core", _l("Provincial professional journal (core)")),
    ("issn_cn", _l("Journal with ISSN and CN numbers")),
]
PATENT_TYPES = [("invention", _l("Invention patent")), ("utility", _l("Utility model patent")), ("design", _l("Design patent"))]
EXAM_TYPES = [
    ("senior", _l("National senior professional qualification")),
    ("intermediate", _l("National intermediate professional qualification")),
    ("junior", _l("National junior professional qualification")),
    ("practising", _l("National practising qualification or vocational level")),
]
AID_PROGRAMMES = [
    ("tibet", _l("Aid to Tibet")),
    ("xinjiang", _l("Aid to Xinjiang")),
    ("abroad", _l("Aid abroad")),
    ("teaching", _l("Teaching support at the grassroots")),
    ("agriculture", _l("Agricultural support at the grassroots")),
    ("medicine", _l("Medical support at the grassroots")),
    ("poverty_relief", _l("Poverty relief")),
    ("secondment", _l("Temporary post at the grassroots")),
]

# -- hours tables (第七条) -------------------------------------------------------------------------

RESEARCH_HOURS = {
    ("national", "main"): (68, 60, 52, 44, 36),
    ("national", "sub"): (52, 44, 36),
    ("provincial", "main"): (60, 52, 44),
    ("provincial", "sub"): (44, 36, 28),
}
BOOK_HOURS_PER_10K = (16, 12, 8)
PAPER_HOURS = {"national_first": (52, 44, 36), "provincial_core": (44, 36, 28), "issn_cn": (36, 28, 20)}
PATENT_HOURS = {"invention": 68, "utility": 60, "design": 60}
AWARD_HOURS = {"national": 68, "provincial": 60}
EXAM_HOURS = {"senior": 68, "intermediate": 60, "junior": 52, "practising": 68}
CONFERENCE_HOURS_PER_DAY = {"national": 6, "provincial": 4}
DEGREE_HOURS_PER_COURSE = 15
COURSE_STUDY_HOURS_PER_MONTH = 10
COURSE_STUDY_MAX_MONTHS = 6
RESEARCH_REPORT_HOURS = 20
GRASSROOTS_HOURS_PER_DAY = 6


# -- shared field factories ------------------------------------------------------------------------


def _text(label, max_length=200, required=True):
    validators = [Required(_l("Please fill in %(field)s.", field=label))] if required else []
    return TextField(label, validators + [MaxLength(max_length)])


def _count(label, message):
    """An integer ≥ 1."""
    return IntField(label, [Required(_l("Please fill in %(field)s.", field=label)), Range(min=1, message=message)])


def _rank(label=_l("Author rank")):
    return IntField(
        label,
        [Required(_l("Please fill in %(field)s.", field=label)), Range(1, 3, _l("Only the first three named count: enter 1, 2 or 3."))],
    )


def _choice(label, choices):
    return ChoiceField(label, choices=choices, message=_l("Please choose %(field)s.", field=label))


def _days_field():
    return _count(_l("Days"), _l("Enter at least 1 day."))


# -- the forms ---------------------------------------------------------------------------------------


class TrainingClassForm(PluginForm):
    organiser = _text(_l("Organiser (CE base)"))
    class_name = _text(_l("Class name"))
    content = _text(_l("Content"), max_length=1000)


class TrainingClass(LearningForm):
    code = "training_class"
    name = _l("Training class at a CE base")
    subject_types = BOTH
    form_class = TrainingClassForm
    evidence = _l(
        "Declared by yourself: upload the training notice, the completion certificate and a certificate from "
        "your unit. Declarations made collectively by the CE base need no evidence."
    )
    hours_rule = _l("Actual study time, set by the authority approving the CE base.")

    def hours(self, data, context):
        return None


class TrainingProgrammeForm(PluginForm):
    level = _choice(_l("Level"), PROGRAMME_LEVELS)
    organiser = _text(_l("Organiser"))
    programme_name = _text(_l("Programme name"))


class TrainingProgramme(LearningForm):
    code = "training_programme"
    name = _l("Training or study programme")
    subject_types = BOTH
    form_class = TrainingProgrammeForm
    evidence = _l("Upload the training notice, the completion certificate and a certificate from your unit.")
    hours_rule = _l(
        "Set by the organiser; for national ministry programmes by the organiser or the sending unit's competent department."
    )

    def hours(self, data, context):
        return None


class DegreeCourseForm(PluginForm):
    school = _text(_l("School"))
    programme = _text(_l("Programme"))
    courses_passed = _count(_l("Courses passed"), _l("Enter at least 1 passed course."))


class DegreeCourse(LearningForm):
    code = "degree_course"
    name = _l("Degree education")
    form_class = DegreeCourseForm
    evidence = _l("Upload this year's transcript.")
    hours_rule = _l("15 hours per passed course.")

    def hours(self, data, context):
        return quantize_hours(DEGREE_HOURS_PER_COURSE * int(data["courses_passed"]))


class CourseStudyForm(PluginForm):
    institution = _text(_l("Institution"))
    course = _text(_l("Course"))
    months = NumberField(
        _l("Months"),
        [
            Required(_l("Please fill in %(field)s.", field=_l("Months"))),
            Range(min=0, min_exclusive=True, message=_l("The number of months must be greater than 0.")),
            Range(max=12, message=_l("Enter at most 12 months for one year.")),
        ],
    )


class CourseStudy(LearningForm):
    code = "course_study"
    name = _l("Course study")
    form_class = CourseStudyForm
    evidence = _l(
        "Upload the transcript, the secondment certificate of your unit and the assessment certificate of the host institution."
    )
    hours_rule = _l("10 hours per month up to 6 months; over 6 months, the year's full professional requirement.")

    def hours(self, data, context):
        months = as_decimal(data["months"])
        if months > COURSE_STUDY_MAX_MONTHS:
            return context.professional_required
        return quantize_hours(COURSE_STUDY_HOURS_PER_MONTH * months)


class AcademicConferenceForm(PluginForm):
    level = _choice(_l("Level"), TWO_LEVELS)
    conference = _text(_l("Conference"))
    days = _days_field()
    presented_paper = FlagField(_l("Presented a paper or report"))


class AcademicConference(LearningForm):
    code = "academic_conference"
    name = _l("Academic conference")
    form_class = AcademicConferenceForm
    evidence = _l(
        "Upload the conference notice and a certificate from your unit; if you presented a paper or report, also upload proof of it."
    )
    hours_rule = _l("National: 6 hours per day; provincial: 4 hours per day; one more day's hours for presenting a paper.")

    def hours(self, data, context):
        rate = CONFERENCE_HOURS_PER_DAY[data["level"]]
        days = int(data["days"]) + (1 if data.get("presented_paper") else 0)
        return quantize_hours(rate * days)


class ResearchProjectForm(PluginForm):
    level = _choice(_l("Level"), TWO_LEVELS)
    role = _choice(_l("Team"), PROJECT_ROLES)
    rank = IntField(_l("Rank by responsibility"), [Required(_l("Please fill in %(field)s.", field=_l("Rank by responsibility"))), Range(min=1, message=_l("The rank starts at 1."))])
    project = _text(_l("Project"))

    def validate_rank(self, field):
        table = RESEARCH_HOURS.get((self.level.data, self.role.data))
        if table is None or field.data is None or field.data < 1:
            return  # the level, team or rank has its own error
        if field.data > len(table):
            raise ValidationError(
                str(_l("Only the first %(count)d members of this team earn hours: enter a rank from 1 to %(count)d.", count=len(table)))
            )


class ResearchProject(LearningForm):
    code = "research_project"
    name = _l("Research project")
    form_class = ResearchProjectForm
    evidence = _l("Upload proof of your participation in the national or provincial research project.")
    hours_rule = _l(
        "Per year by rank: national main team 68/60/52/44/36, national sub-team 52/44/36; "
        "provincial main team 60/52/44, provincial sub-team 44/36/28."
    )

    def hours(self, data, context):
        return quantize_hours(RESEARCH_HOURS[(data["level"], data["role"])][int(data["rank"]) - 1])


class BookForm(PluginForm):
    title = _text(_l("Title"))
    publisher = _text(_l("Publisher"))
    isbn = _text(_l("ISBN"), max_length=32)
    characters = _count(_l("Characters"), _l("Enter the number of characters (at least 1)."))
    rank = _rank()

    def validate_isbn(self, field):
        if field.data and not stdnum_isbn.is_valid(field.data):
            raise ValidationError(str(_l("This is not a valid ISBN.")))


class Book(LearningForm):
    code = "book"
    name = _l("Book or translation")
    form_class = BookForm
    evidence = _l("Upload the cover, the title page and the table of contents.")
    hours_rule = _l("Per 10,000 characters: 16, 12 or 8 hours for the first, second or third author.")

    def hours(self, data, context):
        rate = BOOK_HOURS_PER_10K[int(data["rank"]) - 1]
        return quantize_hours(Decimal(rate) * Decimal(int(data["characters"])) / Decimal(10000))


class PaperForm(PluginForm):
    title = _text(_l("Title"))
    journal = _text(_l("Journal"))
    journal_level = _choice(_l("Journal level"), JOURNAL_LEVELS)
    issn = _text(_l("ISSN"), max_length=16, required=False)
    cn = _text(_l("CN number"), max_length=32, required=False)
    rank = _rank()
    supplement = FlagField(_l("Published in a supplement or special issue"))

    def validate_issn(self, field):
        if field.data and not stdnum_issn.is_valid(field.data):
            raise ValidationError(str(_l("This is not a valid ISSN.")))
        if not field.data and self.journal_level.data == "issn_cn":
            raise ValidationError(str(_l("Journals of this level need an ISSN.")))

    def validate_cn(self, field):
        if field.data and not _valid_cn(field.data):
            raise ValidationError(str(_l("Enter the CN number like CN 11-1234/R.")))
        if not field.data and self.journal_level.data == "issn_cn":
            raise ValidationError(str(_l("Journals of this level need a CN number.")))

    def validate_supplement(self, field):
        if field.data:
            raise ValidationError(str(_l("Papers in a supplement or special issue do not earn hours.")))


def _valid_cn(value: str) -> bool:
    """CN 11-1234/R (the letters after the slash are the classification; the space is optional)."""
    import re

    return re.fullmatch(r"(?i)CN\s?\d{2}-\d{4}(/[A-Z0-9.]{1,8})?", value.strip()) is not None


class Paper(LearningForm):
    code = "paper"
    name = _l("Published paper")
    form_class = PaperForm
    evidence = _l("Upload the journal cover, the table of contents and the article.")
    hours_rule = _l(
        "Per paper for the first three authors: national first-level or foreign journals 52/44/36; "
        "provincial core journals 44/36/28; ISSN and CN journals 36/28/20. Supplements do not count."
    )

    def hours(self, data, context):
        return quantize_hours(PAPER_HOURS[data["journal_level"]][int(data["rank"]) - 1])


class PatentForm(PluginForm):
    patent_type = _choice(_l("Patent type"), PATENT_TYPES)
    patent_no = _text(_l("Patent number"), max_length=64)
    rank = _rank(_l("Holder rank"))


class Patent(LearningForm):
    code = "patent"
    name = _l("Patent")
    form_class = PatentForm
    evidence = _l("Upload the patent certificate.")
    hours_rule = _l("For the first three holders: invention patent 68 hours; utility model or design patent 60 hours.")

    def hours(self, data, context):
        return quantize_hours(PATENT_HOURS[data["patent_type"]])


class AwardForm(PluginForm):
    level = _choice(_l("Level"), TWO_LEVELS)
    award_name = _text(_l("Award"))
    rank = _rank(_l("Winner rank"))


class Award(LearningForm):
    code = "award"
    name = _l("Award")
    form_class = AwardForm
    evidence = _l("Upload the award certificate.")
    hours_rule = _l("For the first three winners: national awards 68 hours; provincial or ministerial awards 60 hours.")

    def hours(self, data, context):
        return quantize_hours(AWARD_HOURS[data["level"]])


class QualificationExamForm(PluginForm):
    exam_type = _choice(_l("Exam type"), EXAM_TYPES)
    exam_name = _text(_l("Exam"))
    certificate_no = _text(_l("Certificate number"), max_length=64)


class QualificationExam(LearningForm):
    code = "qualification_exam"
    name = _l("Qualification exam")
    form_class = QualificationExamForm
    evidence = _l("Upload the qualification certificate.")
    hours_rule = _l("Senior 68, intermediate 60, junior 52 hours; practising qualification or vocational level 68 hours.")

    def hours(self, data, context):
        return quantize_hours(EXAM_HOURS[data["exam_type"]])


class ResearchReportForm(PluginForm):
    title = _text(_l("Title"))
    endorsed_by = _text(_l("Endorsed by"))


class ResearchReport(LearningForm):
    code = "research_report"
    name = _l("Research report endorsed by leaders")
    form_class = ResearchReportForm
    evidence = _l("Upload the leader's written endorsement.")
    hours_rule = _l("20 hours.")

    def hours(self, data, context):
        return quantize_hours(RESEARCH_REPORT_HOURS)


def one_year_after(start: dt.date) -> dt.date:
    """The same calendar day one year later (29 February → 1 March)."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return dt.date(start.year + 1, 3, 1)


def served_full_year(start: dt.date, end: dt.date) -> bool:
    """True when the period from ``start`` to ``end`` (both days included) lasts at least one year:
    2024-03-01 → 2025-02-28 is a full year, 2024-03-01 → 2025-02-27 is not."""
    return end + dt.timedelta(days=1) >= one_year_after(start)


class AidPostingForm(PluginForm):
    programme = _choice(_l("Programme"), AID_PROGRAMMES)
    start = DayField(_l("Start"), [Required(_l("Please fill in %(field)s.", field=_l("Start")))])
    end = DayField(_l("End"), [Required(_l("Please fill in %(field)s.", field=_l("End")))])

    def validate_end(self, field):
        if field.data is None or self.start.data is None:
            return
        if field.data < self.start.data:
            raise ValidationError(str(_l("The end must not be before the start.")))
        if not served_full_year(self.start.data, field.data):
            raise ValidationError(str(_l("The posting must last at least one year to earn hours.")))


class AidPosting(LearningForm):
    code = "aid_posting"
    name = _l("Aid or grassroots posting")
    form_class = AidPostingForm
    counts_full_year = True
    evidence = _l(
        "Upload the document issued by your unit or competent department about the posting and its annual appraisal certificate."
    )
    hours_rule = _l("A posting of at least one year completes the year's full public and professional requirements.")

    def hours(self, data, context):
        # Validated data always spans a year; guard anyway for data stored before a rule change.
        if not served_full_year(as_date(data["start"]), as_date(data["end"])):
            return None
        return context.professional_required


class GrassrootsServiceForm(PluginForm):
    activity = _text(_l("Activity"))
    days = _days_field()


class GrassrootsService(LearningForm):
    code = "grassroots_service"
    name = _l("Grassroots service")
    form_class = GrassrootsServiceForm
    evidence = _l(
        "Upload the notice of the service activity, the participation certificate from the organiser and a certificate from your unit."
    )
    hours_rule = _l("6 hours per day.")

    def hours(self, data, context):
        return quantize_hours(GRASSROOTS_HOURS_PER_DAY * int(data["days"]))


class OtherForm(PluginForm):
    description = _text(_l("Description"), max_length=1000)


class Other(LearningForm):
    code = "other"
    name = _l("Other")
    subject_types = BOTH
    form_class = OtherForm
    evidence = _l(
        "Upload the proof required by the municipal or county HR bureau or the provincial competent department "
        "that recognises this form of learning."
    )
    hours_rule = _l("Set by the HR bureau or the competent department with reference to the standards above.")

    def hours(self, data, context):
        return None


#: The built-in learning forms in the order of 第七条 (also the order of the form selector).
BUILTIN_LEARNING_FORMS: tuple[type[LearningForm], ...] = (
    TrainingClass,
    TrainingProgramme,
    DegreeCourse,
    CourseStudy,
    AcademicConference,
    ResearchProject,
    Book,
    Paper,
    Patent,
    Award,
    QualificationExam,
    ResearchReport,
    AidPosting,
    GrassrootsService,
    Other,
)
