"""Certificate templates as plugins: the built-ins, the example plugin's industry template found through
its entry point, ``template_for`` (layout, enabled, applies_to, priority, built-in fallback)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import delete

from app.extensions import db
from app.models import PluginSetting
from app.plugins import (
    ENTRY_POINT_GROUP,
    CertificateTemplate,
    all_certificate_templates,
    certificate_templates,
    discovered_plugins,
    get_certificate_template,
    plugin_errors,
    template_for,
)
from app.plugins.builtin_certificates import CONTEXT_KEYS, HenanAnnual
from app.plugins.registry import PluginLoadError, _check
from tests.plugins.conftest import installed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ce_mooc_plugin"


def context(**overrides):
    value = {
        "name": "张三",
        "gender": "女",
        "id_number": "410105198001011234",
        "employer": "河南省人民医院",
        "certificate_no": "4100000000001",
        "industry_code": None,
        "layout": "annual",
        "year_from": 2025,
        "year_to": 2025,
        "years": [{"year": 2025, "public": "30.0", "professional": "60.0", "total": "90.0"}],
        "issuer": "河南省人力资源和社会保障厅",
        "issue_date": "2026-11-23",
        "verification_code": "q1w2e3r4t5y6u7i8o9p0aa",
        "verify_url": "https://ce.example.gov.cn/verify/q1w2e3r4t5y6u7i8o9p0aa",
    }
    value.update(overrides)
    return value


@pytest.fixture
def example(tmp_path):
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    eps = project["entry-points"][ENTRY_POINT_GROUP]
    with installed(tmp_path, project["name"], project["version"], eps, code_paths=[EXAMPLE], modules=["ce_mooc_plugin"]) as registry:
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


def test_the_context_keys_are_the_documented_ones():
    assert CONTEXT_KEYS == set(context())


def test_builtin_templates_and_their_layouts():
    templates = all_certificate_templates()
    assert set(templates) == {"henan_annual", "henan_merged"}
    assert templates["henan_annual"].layout == "annual" and templates["henan_merged"].layout == "merged"
    assert all(t.priority == 0 and t.assets_dir and Path(t.assets_dir).is_dir() for t in templates.values())
    sources = {p.code: p.source for p in discovered_plugins() if p.kind == "certificate_template"}
    assert sources == {"henan_annual": "built-in", "henan_merged": "built-in"}
    assert get_certificate_template("henan_merged") is templates["henan_merged"]
    assert get_certificate_template("nope") is None


def test_template_for_without_plugins_picks_the_builtin_of_the_layout():
    assert template_for("annual", context()).code == "henan_annual"
    assert template_for("merged", context(layout="merged", industry_code="health")).code == "henan_merged"
    with pytest.raises(LookupError):
        template_for("poster", context())


def test_templates_escape_user_text():
    html = HenanAnnual().render(context(name='<img src="/etc/passwd">', employer="<b>x</b> & y"))
    body = html.split("<body>", 1)[1]
    assert "&lt;img src=&#34;/etc/passwd&#34;&gt;" in body and "<img" not in body
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in body


def test_a_template_with_an_unknown_layout_is_refused():
    class Poster(CertificateTemplate):
        code = "poster"
        name = "Poster"
        layout = "poster"

        def render(self, context):
            return ""

    with pytest.raises(PluginLoadError):
        _check(Poster())


def test_the_example_industry_template_is_discovered_and_chosen_when_it_applies(example):
    templates = all_certificate_templates()
    health = templates["mooc_health_annual"]
    assert health.layout == "annual" and health.priority > 0
    source = next(p.source for p in discovered_plugins() if p.code == "mooc_health_annual")
    assert source.startswith("ce-mooc-plugin 0.1.0")
    assert plugin_errors() == []

    assert template_for("annual", context(industry_code="health")) is health
    assert template_for("annual", context(industry_code="education")).code == "henan_annual"
    assert template_for("annual", context()).code == "henan_annual"
    assert template_for("merged", context(layout="merged", industry_code="health")).code == "henan_merged"

    html = health.render(context(industry_code="health"))
    assert "卫生健康行业" in html and "河南省专业技术人员继续教育证书" in html and "张三" in html


def test_the_example_template_renders_to_pdf(example):
    from app.services.fonts import check_font

    problems = check_font()
    assert not problems, "certificate font not installed: run `make install` (scripts/fonts.sh)"
    import io

    from pypdf import PdfReader

    from app.services.pdf import render_certificate

    health = get_certificate_template("mooc_health_annual")
    data = render_certificate(health, context(industry_code="health"))
    text = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "（卫生健康行业）" in text and "卫生健康行业继续医学教育学分" in text and "张三" in text


def test_a_disabled_template_is_not_chosen_and_the_builtin_is_the_fallback(app, clean_settings, example):
    with app.app_context():
        assert template_for("annual", context(industry_code="health")).code == "mooc_health_annual"
        db.session.add(PluginSetting(code="mooc_health_annual", kind="certificate_template", enabled=False))
        db.session.commit()
        assert "mooc_health_annual" not in certificate_templates()
        assert template_for("annual", context(industry_code="health")).code == "henan_annual"
        assert get_certificate_template("mooc_health_annual") is not None  # reprints of issued ones
        assert get_certificate_template("mooc_health_annual", enabled_only=True) is None
        # even a disabled built-in stays the last resort: a certificate can always be printed
        db.session.add(PluginSetting(code="henan_annual", kind="certificate_template", enabled=False))
        db.session.commit()
        assert template_for("annual", context(industry_code="health")).code == "henan_annual"


def test_priority_and_a_failing_applies_to(tmp_path):
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "ce_cert_plugin.py").write_text(
        '''
from app.plugins.builtin_certificates import HenanAnnual


class Low(HenanAnnual):
    code = "low_annual"
    name = "Low"
    priority = 5


class High(HenanAnnual):
    code = "high_annual"
    name = "High"
    priority = 20

    def applies_to(self, context):
        return context.get("industry_code") == "x"


class Broken(HenanAnnual):
    code = "broken_annual"
    name = "Broken"
    priority = 99

    def applies_to(self, context):
        raise RuntimeError("boom")
''',
        encoding="utf-8",
    )
    with installed(tmp_path / "site", "ce-cert-plugin", "1.0", {"certs": "ce_cert_plugin"}, code_paths=[code_dir], modules=["ce_cert_plugin"]):
        assert template_for("annual", context(industry_code="x")).code == "high_annual"
        assert template_for("annual", context(industry_code="y")).code == "low_annual"
        assert template_for("merged", context(industry_code="x")).code == "henan_merged"
    assert template_for("annual", context(industry_code="x")).code == "henan_annual"


def test_the_example_is_gone_when_uninstalled():
    assert "mooc_health_annual" not in all_certificate_templates()
