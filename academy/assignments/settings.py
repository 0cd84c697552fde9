"""An assignment's settings (what to hand in, the checklist, the pass rule, resubmissions)
checked once, for the course folder's front matter and the studio's form alike: both hand in
the same plain mapping, both get the same reasons (RubricError with the setting's path, which
the loader turns into `file:line: reason` and the studio shows next to the field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from academy.assignments import rubric
from academy.assignments.models import KINDS, PASS_RULES, PHOTOS

MAX_PHOTOS = 6
SETTINGS = ("hand_in", "photos", "criteria", "pass", "pass_points", "resubmissions")


@dataclass(frozen=True)
class Settings:
    kinds: list[str]
    max_photos: int
    criteria: list[dict[str, Any]]  # in the plain form Criterion.to_dict() gives
    pass_rule: str
    pass_points: int
    resubmissions: int | None  # None: no limit


def _whole(data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise rubric.RubricError(f"'{name}' must be a whole number from {low} to {high}", name)
    return value


def check_settings(data: Mapping[str, Any]) -> Settings:
    """The settings from their plain form; raises rubric.RubricError naming the setting."""
    kinds = data.get("hand_in")
    if isinstance(kinds, str):
        kinds = [kinds]
    if not isinstance(kinds, list) or not kinds:
        raise rubric.RubricError(
            f"'hand_in' must list what to hand in ({', '.join(KINDS)})", "hand_in"
        )
    for kind in kinds:
        if kind not in KINDS:
            raise rubric.RubricError(
                f"'hand_in': unknown kind '{kind}' ({', '.join(KINDS)})", "hand_in"
            )
    if len(set(kinds)) != len(kinds):
        raise rubric.RubricError("'hand_in' names a kind twice", "hand_in")
    kinds = [kind for kind in KINDS if kind in kinds]
    max_photos = 0
    if PHOTOS in kinds:
        max_photos = _whole(data, "photos", 1, MAX_PHOTOS) or 1
    elif data.get("photos") is not None:
        raise rubric.RubricError(
            "'photos' is only for assignments that take photos (hand_in: photos)", "photos"
        )
    criteria = rubric.parse_criteria(data.get("criteria"))
    rule = data.get("pass", rubric.ALL_REQUIRED)
    if rule not in PASS_RULES:
        raise rubric.RubricError(f"unknown pass rule '{rule}' ({', '.join(PASS_RULES)})", "pass")
    if rule == rubric.POINTS and data.get("pass_points") is None:
        raise rubric.RubricError("'pass: points' needs 'pass_points'", "pass")
    if rule != rubric.POINTS and data.get("pass_points") is not None:
        raise rubric.RubricError("'pass_points' is only for 'pass: points'", "pass_points")
    pass_points = _whole(data, "pass_points", 1, 100000) or 0
    rubric.check_pass_rule(criteria, rule, pass_points)
    resubmissions = _whole(data, "resubmissions", 0, 1000)
    return Settings(
        kinds,
        max_photos,
        [criterion.to_dict() for criterion in criteria],
        rule,
        pass_points,
        resubmissions,
    )
