"""The Chinese catalog is complete, in sync with the sources, and compiles (no database needed).

When one of these fails after adding a string: run ``bash scripts/translations.sh``, translate the empty
``msgstr ""`` in translations/zh_Hans_CN/LC_MESSAGES/messages.po, then ``make translations``.
"""

from __future__ import annotations

import gettext
import os
import re
from collections import Counter
from io import BytesIO

import flask_appbuilder
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZH_PO = os.path.join(ROOT, "translations", "zh_Hans_CN", "LC_MESSAGES", "messages.po")
EN_PO = os.path.join(ROOT, "translations", "en", "LC_MESSAGES", "messages.po")
BABEL_CFG = os.path.join(ROOT, "babel.cfg")
FAB_DIR = os.path.dirname(flask_appbuilder.__file__)

# Same keywords as scripts/translations.sh: pybabel's defaults plus -k _l -k lazy_gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# Wording fixed by the platform's specification.
REQUIRED = {
    "The login role you selected is not registered.": "您选择的登录角色未注册",
    "Wrong account or password.": "账户或密码错误",
    "Wrong captcha.": "验证码错误",
    "This account has not been reviewed yet. Reviewing organisation: %(org)s": "此帐号还未被审核，审核单位：%(org)s",
    "This account does not exist. Please register first.": "账户不存在，请先注册",
    "Professional": "专业技术人员",
    "Employer unit": "用人单位",
    "Competent department": "主管部门",
    "CE base": "继续教育基地",
    "HR bureau": "人社部门",
    "Province HR department": "省人社厅",
    "System administrator": "系统管理员",
    "User type": "用户类型",
    "ID number": "身份证号",
    "Captcha": "验证码",
    "Unit profile": "单位资料管理",
    "Direct accounts": "管理直属账户",
    "Account review": "审核账户",
    "Unit hours declaration": "学时学分申报",
    "Unit declaration records": "单位申报记录",
    "Hours approval": "学时学分审批",
    "Queries and statistics": "查询统计",
    "User profile": "用户资料管理",
    "Declare hours": "学时申报",
    "Declaration progress": "申报进度查询",
    "Continuing education": "继续教育信息",
    "Subordinate units": "下级单位",
    "Internal departments": "内设部门",
    "Certificate number": "证书管理号",
    "E-certificates": "电子证书",
}

_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
_BRACE = re.compile(r"\{[^{}]*\}")


def _load(path):
    with open(path, "rb") as fh:
        return read_po(fh, abort_invalid=True)


@pytest.fixture(scope="module")
def zh():
    return _load(ZH_PO)


def _messages(catalog):
    """Every real message (the header has an empty msgid)."""
    return [m for m in catalog if m.id]


def _first(msgid):
    return msgid[0] if isinstance(msgid, (list, tuple)) else msgid


def _strings(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _placeholders(text):
    found = [p for p in _PERCENT.findall(text) if p != "%%"]
    found += _BRACE.findall(text.replace("{{", "").replace("}}", ""))
    return Counter(found)


def _extract(dirname):
    with open(BABEL_CFG, encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, BABEL_CFG)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        dirname, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((_first(message), context), (message, f"{filename}:{lineno}"))
    return found


def _missing_from(catalog, dirname):
    missing = []
    for (_msgid, context), (message, where) in sorted(_extract(dirname).items(), key=lambda kv: kv[1][1]):
        if not _first(message):
            continue
        entry = catalog.get(message, context)
        if entry is None or not all(_strings(entry.string)):
            missing.append(f"{_first(message)!r} ({where})")
    return missing


def test_catalog_has_messages(zh):
    assert zh.locale is not None and str(zh.locale) == "zh_Hans_CN"
    assert len(_messages(zh)) > 100


def test_every_message_is_translated(zh):
    untranslated = [_first(m.id) for m in _messages(zh) if not all(s.strip() for s in _strings(m.string))]
    assert not untranslated, (
        f"{len(untranslated)} message(s) without Chinese translation in {ZH_PO}:\n  " + "\n  ".join(untranslated)
    )


def test_no_fuzzy_translation(zh):
    # scripts/translations.sh pre-fills new Flask-AppBuilder strings from FAB's zh catalog as fuzzy: review them.
    fuzzy = [_first(m.id) for m in _messages(zh) if m.fuzzy]
    assert not fuzzy, "fuzzy (unreviewed) translations; review and remove the '#, fuzzy' flag:\n  " + "\n  ".join(fuzzy)


def test_app_sources_are_all_in_the_catalog(zh):
    missing = _missing_from(zh, os.path.join(ROOT, "app"))
    assert not missing, (
        f"{len(missing)} string(s) in app/ are not translated in the zh_Hans_CN catalog. "
        "Run `bash scripts/translations.sh` and fill their msgstr:\n  " + "\n  ".join(missing)
    )


def test_flask_appbuilder_strings_are_all_in_the_catalog(zh):
    missing = _missing_from(zh, FAB_DIR)
    assert not missing, (
        f"{len(missing)} Flask-AppBuilder string(s) are not translated in the zh_Hans_CN catalog. "
        "Run `bash scripts/translations.sh` and fill their msgstr:\n  " + "\n  ".join(missing)
    )


def test_placeholders_match(zh):
    bad = []
    for m in _messages(zh):
        ids = _strings(m.id)
        for i, text in enumerate(_strings(m.string)):
            source = ids[min(i, len(ids) - 1)]
            if text and _placeholders(text) != _placeholders(source):
                bad.append(f"{source!r} -> {text!r}")
    assert not bad, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(bad)


def test_catalog_passes_babel_checks(zh):
    problems = [f"{_first(m.id)!r}: {'; '.join(map(str, errors))}" for m, errors in zh.check()]
    assert not problems, "\n".join(problems)


def test_required_wording(zh):
    wrong = {}
    for msgid, expected in REQUIRED.items():
        entry = zh.get(msgid)
        if entry is None or entry.string != expected:
            wrong[msgid] = (entry.string if entry is not None else None, expected)
    assert not wrong, wrong


def test_compiled_catalog_loads(zh):
    buf = BytesIO()
    write_mo(buf, zh)
    buf.seek(0)
    translations = gettext.GNUTranslations(buf)
    assert translations.gettext("Sign In") == "登录"
    assert translations.gettext("Wrong captcha.") == "验证码错误"
    assert translations.gettext("This account has not been reviewed yet. Reviewing organisation: %(org)s") % {
        "org": "郑州市人社局"
    } == "此帐号还未被审核，审核单位：郑州市人社局"
    assert translations.gettext("Logout") == "退出登录"


def test_english_catalog_is_in_sync(zh):
    en_ids = {_first(m.id) for m in _messages(_load(EN_PO))}
    zh_ids = {_first(m.id) for m in _messages(zh)}
    assert en_ids == zh_ids, (
        "translations/en and translations/zh_Hans_CN hold different messages; run `bash scripts/translations.sh`. "
        f"Only in zh: {sorted(zh_ids - en_ids)}; only in en: {sorted(en_ids - zh_ids)}"
    )
