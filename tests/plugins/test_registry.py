"""Discovery (built-ins + ``ce_platform.plugins`` entry points), enabling through ``PluginSetting``,
the example plugin of ``examples/`` and broken plugins being skipped."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import PluginSetting
from app.plugins import (
    ENTRY_POINT_GROUP,
    HoursContext,
    all_learning_forms,
    certificate_templates,
    discovered_plugins,
    get_learning_form,
    learning_forms,
    plugin_errors,
    sync_plugin_settings,
)
from tests.plugins.conftest import installed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ce_mooc_plugin"
BUILTIN_COUNT = 15


def _example_metadata():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["name"], project["version"], project["entry-points"][ENTRY_POINT_GROUP]


@pytest.fixture
def example(tmp_path):
    """The example distribution, as pip would install it (dist-info from its own pyproject.toml)."""
    name, version, eps = _example_metadata()
    with installed(tmp_path, name, version, eps, code_paths=[EXAMPLE], modules=["ce_mooc_plugin"]) as registry:
        yield registry


@pytest.fixture
def clean_settings(app):
    with app.app_context():
        db.session.execute(delete(PluginSetting))
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(delete(PluginSetting))
        db.session.commit()


def test_builtins_without_app_context_are_all_enabled():
    assert len(learning_forms()) == BUILTIN_COUNT
    assert learning_forms() == all_learning_forms()
    assert set(certificate_templates()) == {"henan_annual", "henan_merged"}  # the built-in certificates


def test_no_row_means_enabled_and_a_disabled_row_hides_the_form(app, clean_settings):
    with app.app_context():
        assert list(learning_forms()) == list(all_learning_forms())
        db.session.add(PluginSetting(code="paper", kind="learning_form", enabled=False))
        db.session.commit()
        enabled = learning_forms()
        assert "paper" not in enabled and len(enabled) == BUILTIN_COUNT - 1
        assert "paper" in all_learning_forms()
        assert get_learning_form("paper").code == "paper"  # still there for existing declarations
        assert get_learning_form("paper", enabled_only=True) is None
        assert get_learning_form("nope") is None
        db.session.execute(select(PluginSetting).filter_by(code="paper")).scalar_one().enabled = True
        db.session.commit()
        assert "paper" in learning_forms()


def test_sync_creates_one_row_per_discovered_plugin_once(app, clean_settings, example):
    with app.app_context():
        db.session.add(PluginSetting(code="book", kind="learning_form", enabled=False))
        db.session.commit()
        created = sync_plugin_settings(db.session)
        db.session.commit()
        assert "book" not in created
        assert set(created) == {p.code for p in discovered_plugins()} - {"book"}
        assert "mooc_course" in created
        assert sync_plugin_settings(db.session) == []
        rows = {r.code: r for r in db.session.execute(select(PluginSetting)).scalars()}
        assert rows["book"].enabled is False  # existing choices are kept
        assert rows["mooc_course"].enabled is True and rows["mooc_course"].kind == "learning_form"


def test_example_plugin_is_discovered_through_its_entry_point(app, clean_settings, example):
    import importlib.metadata as md

    eps = [ep for ep in md.entry_points(group=ENTRY_POINT_GROUP) if ep.dist and ep.dist.metadata["Name"] == "ce-mooc-plugin"]
    assert [ep.value for ep in eps] == ["ce_mooc_plugin"]

    forms = all_learning_forms()
    assert list(forms)[:BUILTIN_COUNT] == list(all_learning_forms())[:BUILTIN_COUNT]
    mooc = forms["mooc_course"]
    assert list(forms)[-1] == "mooc_course"
    assert mooc.subject_types == {"public", "professional"}
    assert [name for name, _ in mooc.fields()] == ["platform", "course", "credits", "certificate_no"]
    source = next(p.source for p in discovered_plugins() if p.code == "mooc_course")
    assert source.startswith("ce-mooc-plugin 0.1.0")

    clean, errors = mooc.validate({"platform": "国家智慧教育平台", "course": "人工智能", "credits": "2.5"})
    assert errors == {}
    assert mooc.standard_hours(clean, HoursContext(2025, 30, 60)) == Decimal("25.0")
    assert mooc.validate({"platform": "p", "course": "c", "credits": "1.3"})[1] == {
        "credits": ["Credits are counted in halves: enter e.g. 1, 1.5 or 2."]
    }
    assert mooc.validate({"platform": "p", "course": "c", "credits": "0"})[1] == {
        "credits": ["Enter credits greater than 0 and at most 20."]
    }
    with app.app_context():
        assert "mooc_course" in learning_forms()
        db.session.add(PluginSetting(code="mooc_course", kind="learning_form", enabled=False))
        db.session.commit()
        assert "mooc_course" not in learning_forms()
        assert "mooc_course" in all_learning_forms()


def test_example_is_gone_when_uninstalled():
    assert "mooc_course" not in all_learning_forms()


BROKEN_MODULE = '''
from app.plugins import LearningForm, CertificateTemplate, PluginForm


class Good(LearningForm):
    code = "good_form"
    name = "Good"

    def hours(self, data, context):
        return 1


class BadCode(LearningForm):
    code = "Bad Code!"
    name = "Bad"

    def hours(self, data, context):
        return None


class Duplicate(LearningForm):
    code = "paper"
    name = "Fake paper"

    def hours(self, data, context):
        return 999


class BadTypes(LearningForm):
    code = "bad_types"
    name = "Bad types"
    subject_types = frozenset({"hobby"})

    def hours(self, data, context):
        return None


class NoForm(LearningForm):
    code = "no_form"
    name = "No form"
    form_class = dict

    def hours(self, data, context):
        return None


class ExplodingInit(LearningForm):
    code = "exploding"
    name = "Exploding"

    def __init__(self):
        raise RuntimeError("boom")

    def hours(self, data, context):
        return None


class Template(CertificateTemplate):
    code = "good_template"
    name = "Good template"

    def render(self, context):
        return "<html></html>"


NOT_A_PLUGIN = 42
'''


def test_broken_plugins_are_logged_and_skipped(tmp_path, caplog, app):
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "ce_broken_plugin.py").write_text(BROKEN_MODULE, encoding="utf-8")
    (code_dir / "ce_crashing_plugin.py").write_text("raise ImportError('missing dependency')\n", encoding="utf-8")
    eps = {
        "good": "ce_broken_plugin:Good",
        "template": "ce_broken_plugin:Template",
        "bad_code": "ce_broken_plugin:BadCode",
        "duplicate": "ce_broken_plugin:Duplicate",
        "bad_types": "ce_broken_plugin:BadTypes",
        "no_form": "ce_broken_plugin:NoForm",
        "exploding": "ce_broken_plugin:ExplodingInit",
        "not_a_plugin": "ce_broken_plugin:NOT_A_PLUGIN",
        "missing_attr": "ce_broken_plugin:Nothing",
        "missing_module": "ce_no_such_module",
        "crashing": "ce_crashing_plugin",
    }
    with installed(tmp_path / "site", "ce-broken-plugin", "1.0", eps, code_paths=[code_dir], modules=["ce_broken_plugin", "ce_crashing_plugin"]):
        forms = all_learning_forms()
        assert set(forms) == set(all_learning_forms()) and len(forms) == BUILTIN_COUNT + 1
        assert "good_form" in forms
        assert forms["paper"].standard_hours(
            {"journal_level": "issn_cn", "rank": 1}, HoursContext(2025, 30, 60)
        ) == Decimal("36.0")  # the built-in wins over the duplicate
        assert "good_template" in certificate_templates()
        errors = plugin_errors()
        failed = {source.split("(")[1].split(" =")[0] for source, _ in errors}
        assert failed == {"bad_code", "duplicate", "bad_types", "no_form", "exploding", "not_a_plugin", "missing_attr", "missing_module", "crashing"}
        assert any("already provided" in message for _, message in errors)
        for name in ("bad_code", "exploding", "missing_module", "crashing"):
            assert name in caplog.text
        with app.app_context():
            assert "good_form" in learning_forms()
    assert plugin_errors() == []


def test_the_learning_form_example_of_the_docs_works():
    import re
    import types

    text = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    source = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    module = types.ModuleType("my_ce_forms")
    exec(compile(source, "docs/plugins.md", "exec"), module.__dict__)
    from app.plugins.registry import _check, _expand

    (lecture,) = _expand(module)
    _check(lecture)
    clean, errors = lecture.validate({"venue": "郑州", "lectures": "3"})
    assert errors == {} and lecture.standard_hours(clean, HoursContext(2025, 30, 60)) == Decimal("12.0")
    assert lecture.validate({"venue": "郑州", "lectures": "21"})[1] == {"lectures": ["At most 20 lectures count per year."]}


def test_bind_reads_prefixed_request_data(app):
    from werkzeug.datastructures import MultiDict

    form = all_learning_forms()["grassroots_service"].bind(
        formdata=MultiDict({"grassroots_service-activity": "义诊", "grassroots_service-days": "2"}), prefix="grassroots_service-"
    )
    with app.test_request_context("/"):
        assert form.validate()
    assert form.activity.data == "义诊" and form.days.data == 2
