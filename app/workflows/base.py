"""What every workflow shares: the error type, the machine's wrapper around an ORM row, the
machine itself and the run of one trigger.

Each workflow module keeps one module-level ``Machine`` (``new_machine``) and, per fired trigger,
adds a fresh ``Unit`` wrapping the row, fires, and removes it again (``run``): the machine's trigger
methods never land on mapped classes, and a refused trigger leaves the row untouched.
"""

from __future__ import annotations

from typing import Callable, Optional

from sqlalchemy import select
from transitions import Machine, MachineError

from ..extensions import db
from ..models import AuditLog, Professional
from ..models.common import utcnow


class WorkflowError(Exception):
    """A refused transition. ``code`` is stable (tests and callers branch on it); ``message`` is
    translatable (``str(e)`` gives it in the request's language)."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self):
        return str(self.message)


class Unit:
    """The machine's model for one row: proxies the row's ``state``; subclasses add the condition and
    action callbacks (they read ``self.obj``)."""

    def __init__(self, obj):
        self.obj = obj

    @property
    def state(self):
        return self.obj.state

    @state.setter
    def state(self, value):
        self.obj.state = value


class StatusUnit(Unit):
    """A ``Unit`` for rows whose state column is called ``status``."""

    @property
    def status(self):
        return self.obj.status

    @status.setter
    def status(self, value):
        self.obj.status = value


def new_machine(states, transitions, attribute: str = "state") -> Machine:
    """A shared machine without models, auto transitions or initial state, passing events to callbacks."""
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=None,
        model_attribute=attribute,
        auto_transitions=False,
        send_event=True,
    )


def run(machine: Machine, unit: Unit, trigger: str, kwargs: dict, *, on_machine_error: Callable, on_refused: Callable):
    """Fire ``trigger`` on ``unit`` with ``kwargs``. Raises ``on_machine_error()`` when no transition
    leaves the current state and ``on_refused()`` when every transition's condition failed; the
    unit is detached from the machine in every case."""
    attribute = machine.model_attribute
    machine.add_model(unit, initial=getattr(unit, attribute))
    try:
        try:
            done = getattr(unit, trigger)(**kwargs)
        except MachineError:
            raise on_machine_error() from None
        if not done:
            raise on_refused()
    finally:
        machine.remove_model(unit)


def write_lock() -> None:
    """Serialise the current transaction with every other writer *before* it reads the rows it is
    about to change, so a decision is never taken on a stale read.

    PostgreSQL: nothing to do here (callers lock their rows with ``SELECT … FOR UPDATE``). SQLite
    ignores ``FOR UPDATE`` and the driver opens its transaction only at the first write, so two
    reviewers could both read "pending" and both approve: this takes the database's write lock now
    (``BEGIN IMMEDIATE``; other writers wait up to the driver's busy timeout). When the transaction
    has written already it holds that lock, and nothing is done."""
    bind = db.session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    conn = db.session.connection()
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Reviewed(list):
    """The rows a bulk review decided (a list, in the order asked) and ``skipped_own``: the ids left
    out because they are of the reviewer's own person (someone else must decide them)."""

    def __init__(self, rows=(), skipped_own=()):
        super().__init__(rows)
        self.skipped_own = list(skipped_own)


def own_person_id(actor) -> Optional[int]:
    """The id of the professional profile of the actor's user (a user has at most one), or None.
    A reviewer may never decide a request of that person (self-approval)."""
    if actor is None or getattr(actor, "user_id", None) is None:
        return None
    return db.session.scalar(select(Professional.id).where(Professional.user_id == actor.user_id))


def audit(object_type: str, obj, trigger: str, before: str, actor, comment: Optional[str] = None,
          audit_rows: Optional[list] = None) -> None:
    """Write the one audit row of a fired trigger (flushes ``obj`` first when it has no id yet). With
    ``audit_rows`` (a list) the row is appended as a dict for a bulk insert and nothing is written."""
    if obj.id is None:
        db.session.add(obj)
        db.session.flush()
    row = {
        "object_type": object_type,
        "object_id": obj.id,
        "trigger": trigger,
        "from_state": before,
        "to_state": obj.state,
        "actor_user_id": getattr(actor, "user_id", None),
        "actor_org_id": None if actor is None or actor.is_person else actor.org_id,
        "comment": comment,
    }
    if audit_rows is not None:
        row["created"] = utcnow()
        audit_rows.append(row)
        return
    db.session.add(AuditLog(**row))
    db.session.flush()


def audit_history(object_type: str, object_id) -> list[AuditLog]:
    """The audit rows of one object, oldest first."""
    return list(db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.object_id == object_id)
        .order_by(AuditLog.id)
    ))
