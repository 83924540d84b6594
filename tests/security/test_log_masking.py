"""No full ID number in any log line: messages, exception tracebacks, stacks and access-log request lines,
from any logger and through handlers added after the app was built."""

from __future__ import annotations

import logging

import pytest

ID = "410103199001012027"
MASKED = "410103********2027"


@pytest.fixture
def logs(app, caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _rendered(caplog) -> str:
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


def test_exception_traceback_is_masked(logs):
    try:
        raise RuntimeError(f"no professional with id_number {ID}")
    except RuntimeError:
        logging.getLogger("app").exception("lookup failed")
    text = _rendered(logs) + logs.text
    assert ID not in text and MASKED in text and "Traceback" in text and "RuntimeError" in text


def test_exception_in_any_module_logger_is_masked(logs):
    try:
        {}[ID]
    except KeyError:
        logging.getLogger("app.services.mail").error("failed: %s", "x", exc_info=True)
    assert ID not in _rendered(logs) + logs.text and MASKED in logs.text


def test_stack_info_is_masked(logs):
    def called_with(id_number):  # the ID is only in the source line of the stack
        logging.getLogger("flask_appbuilder.security.manager").warning("here", stack_info=True)

    called_with(ID)
    assert ID not in logs.text


def test_werkzeug_access_line_is_masked(logs):
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.info('%s - - [%s] %s', "127.0.0.1", "01/Dec/2026 10:00:00", f'"GET /x?id_number={ID} HTTP/1.1" 200 -')
    werkzeug.info('"%s" %s %s', f"GET /professionalview/list/?_flt_0_id_number={ID}&_flt_1_name=%E5%BC%A0 HTTP/1.1", "200", "-")
    assert ID not in logs.text and logs.text.count(MASKED) == 2
    assert all(ID not in str(r.args or "") for r in logs.records)


def test_gunicorn_access_line_keeps_its_percent_encoding_and_is_masked(logs):
    atoms = {"h": "10.0.0.1", "r": f"GET /api/v1/professional/?q=1%2C{ID}_x HTTP/1.1", "s": "200", "q": f"ids=1%2C{ID}"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s %(q)s', atoms)
    assert ID not in logs.text and logs.text.count(MASKED) == 2


def test_fifteen_digit_numbers_and_x_check_digit_are_masked(logs):
    logging.getLogger("app.views").info("old %s new %s", "410103900101202", "41010319900101202X")
    assert "410103900101202" not in logs.text and "41010319900101202X" not in logs.text


def test_other_numbers_are_left_alone(logs):
    logging.getLogger("app").info("took 1234567 ms for 42 rows, order 20261201123456789012")
    assert "1234567 ms for 42 rows" in logs.text and "20261201123456789012" in logs.text
