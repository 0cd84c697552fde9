"""The request owns the transaction, as Indico's request handler does: views and services
never commit; one commit after a view that succeeded, a rollback after one that did not.

"Did not succeed" means an exception escaped the view, the response says so (status 400 or
more), or a service refused (a ServiceError was raised in this request, even one the view
caught to show its message), so nothing a refused action half-did is saved. A service that
recorded something which must outlive the refusal (a wrong join code counted, an attempt closed
because its time ran out) says so with `keep_on_refusal()`. Commands get the same wrapper
(`academy.core.cli`). The SQLite write lock rule (BEGIN IMMEDIATE for writing requests) is the
database layer's, in core/db.py, and unchanged by this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from academy.extensions import db


def refused() -> None:
    """Mark this unit of work as refused (ServiceError does this when it is raised)."""
    if has_app_context():
        g.academy_refused = True


def keep_on_refusal() -> None:
    """Commit what this unit of work recorded even though it ends refused."""
    if has_app_context():
        g.academy_keep = True


def abandon() -> None:
    """Roll back now, in a service that refuses after the database said no (a unique rule): the
    unit ends refused anyway, and the page that shows the message may still query."""
    db.session.rollback()
    refused()


def finish(ok: bool) -> None:
    """End the unit of work: commit if it succeeded (or asked to keep), else roll back. A unit
    that wrote nothing ends neither way (its read transaction closes with the session), as page
    views always have."""
    state = g if has_app_context() else None
    refused_ = state.pop("academy_refused", False) if state is not None else False
    keep = state.pop("academy_keep", False) if state is not None else False
    wrote = state.pop("academy_wrote", True) if state is not None else True
    if keep or (ok and not refused_):
        if wrote or db.session.new or db.session.dirty or db.session.deleted:
            db.session.commit()
    else:
        db.session.rollback()


def _wrote(*_args: Any) -> None:
    if has_app_context():
        g.academy_wrote = True


def _statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        _wrote()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One unit of work outside a request (a command, a course of `import-courses`, a thread):
    committed when the block ends well, rolled back when it raises or a service refused. Each
    unit starts clean, so a refusal in one (a course of `import-courses` that failed) never
    rolls back the next."""
    _start()
    try:
        yield
    except BaseException:
        _start()
        db.session.rollback()
        raise
    finish(True)


def _start(wrote: bool = True) -> None:
    # A unit starts clean, also when it shares an application context (the test client, the
    # commands of one process). A command always commits at its end (it may write through
    # paths the ORM events do not see); a page view that wrote nothing ends neither way.
    if has_app_context():
        g.pop("academy_refused", None)
        g.pop("academy_keep", None)
        g.academy_wrote = wrote


def _before_request() -> None:
    _start(wrote=False)


def _after_request(response: Response) -> Response:
    finish(response.status_code < 400)
    return response


def _teardown_request(error: BaseException | None) -> None:
    if error is not None:
        db.session.rollback()


def init_app(app: Flask) -> None:
    # Registered before every other after_request hook, so it runs last: the security headers
    # and the certificates' after-response hook see the request's objects still loaded.
    if not event.contains(Session, "after_flush", _wrote):
        event.listen(Session, "after_flush", _wrote)
        event.listen(Session, "do_orm_execute", _statement)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
