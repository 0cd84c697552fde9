"""What went wrong, kept so that each reader sees it in their own language (docs/sync.md,
"Faults and their outcomes"): a message id (the English sentence, with `%(name)s` where its
values go) and those values. The English is what the command line and the logs print; a page
translates the message id when it shows it, so a Thai admin and an English one both read the
refusal the city wrote, and the city's words reach the school server as an id, not as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark `message` for the catalogue (academy/core/catalogues.py extracts N_); it is
    translated where it is shown, in the reader's language, not where it is raised."""
    return message


@dataclass(frozen=True)
class Problem:
    message: str  # the message id: English, with %(name)s placeholders
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        return _fill(self.message, self.params)

    def shown(self) -> str:
        """In the current reader's language (English where the catalogue has no Thai, as for a
        message from a newer server)."""
        return _fill(gettext(self.message), self.params)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.message, "params": self.params}

    @classmethod
    def from_json(cls, data: Any) -> Problem | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        params = data.get("params")
        return cls(data["id"], params if isinstance(params, dict) else {})


def _fill(text: str, params: dict[str, Any]) -> str:
    if not params:
        return text
    try:
        return text % params
    except (KeyError, ValueError, TypeError):  # a translation or a peer that does not fit
        return f"{text} {params}"


class SyncProblem(Exception):
    """A refusal or failure that says what went wrong as a Problem; str() is the English."""

    def __init__(self, message: str, /, **params: Any) -> None:
        self.problem = Problem(message, params)
        super().__init__(self.problem.english())


def keep(row: Any, problem: Problem | None) -> None:
    """Write `problem` as a peer's or link's last error: the English for the command line and
    the message id with its values for the pages."""
    row.last_error = problem.english()[:1000] if problem else None
    row.last_problem = problem.as_json() if problem else None


def shown(row: Any) -> str | None:
    """A peer's or link's last error in the reader's language (an error kept before message
    ids were, as written)."""
    problem = Problem.from_json(getattr(row, "last_problem", None))
    if problem is not None:
        return problem.shown()
    return row.last_error
