"""The checklist or rubric of an assignment and how a review is judged against it: pure
functions on plain data, no database, so the loader, the review page and the tests share them.

A criterion is either a tick ("done / not yet", required or not, worth `points` when done) or
levels with points (the reviewer picks one). The pass rule is "all required ticks done" or
"at least `pass_points` points".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TICK = "tick"
LEVELS = "levels"
CRITERION_TYPES = (TICK, LEVELS)
ALL_REQUIRED = "all_required"
POINTS = "points"

KEY_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TITLE_MAX = 300
GOOD_MAX = 1000
COMMENT_MAX = 4000


class RubricError(ValueError):
    """A checklist that cannot be used; `path` names the setting (e.g. ("criteria", 2, "type"))."""

    def __init__(self, reason: str, *path: str | int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


@dataclass(frozen=True)
class Level:
    points: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"points": self.points, "label": self.label}


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    type: str = TICK
    good: str = ""  # "what good looks like"
    required: bool = True  # ticks only
    points: int = 1  # a tick's points when done
    levels: tuple[Level, ...] = field(default_factory=tuple)

    @property
    def max_points(self) -> int:
        if self.type == LEVELS:
            return max(level.points for level in self.levels)
        return self.points

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.type != TICK:
            data["type"] = self.type
        if self.good:
            data["good"] = self.good
        if self.type == TICK:
            if not self.required:
                data["required"] = False
            if self.points != 1:
                data["points"] = self.points
        else:
            data["levels"] = [level.to_dict() for level in self.levels]
        return data


def _text(raw: dict[str, Any], name: str, index: int, *, required: bool, limit: int) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise RubricError(f"criterion {index + 1}: '{name}' is missing", "criteria", index)
        return ""
    if not isinstance(value, str):
        raise RubricError(f"criterion {index + 1}: '{name}' must be text", "criteria", index, name)
    value = value.strip()
    if len(value) > limit:
        raise RubricError(
            f"criterion {index + 1}: '{name}' is longer than {limit} characters",
            "criteria",
            index,
            name,
        )
    return value


def _whole(value: Any, what: str, *path: str | int, low: int = 0, high: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RubricError(f"{what} must be a whole number from {low} to {high}", *path)
    return value


def parse_criteria(raw: Any) -> list[Criterion]:
    """Criteria from their plain form (the YAML front matter, the stored JSON)."""
    if not isinstance(raw, list) or not raw:
        raise RubricError("'criteria' must be a list of at least one criterion", "criteria")
    allowed = ("id", "title", "type", "good", "required", "points", "levels")
    seen: set[str] = set()
    found = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RubricError(
                f"criterion {index + 1} must be `id:`, `title:` ... lines", "criteria", index
            )
        for key in item:
            if str(key) not in allowed:
                raise RubricError(
                    f"criterion {index + 1}: unknown setting '{key}' "
                    f"(allowed: {', '.join(allowed)})",
                    "criteria",
                    index,
                    str(key),
                )
        key = item.get("id")
        if not isinstance(key, str) or not KEY_RULE.match(key):
            raise RubricError(
                f"criterion {index + 1}: 'id' must be 1-64 characters of a-z 0-9 - _",
                "criteria",
                index,
                "id",
            )
        if key in seen:
            raise RubricError(
                f"criterion {index + 1}: duplicate id '{key}'", "criteria", index, "id"
            )
        seen.add(key)
        title = _text(item, "title", index, required=True, limit=TITLE_MAX)
        good = _text(item, "good", index, required=False, limit=GOOD_MAX)
        kind = item.get("type", TICK)
        if kind not in CRITERION_TYPES:
            raise RubricError(
                f"criterion {index + 1}: unknown criterion type '{kind}' (tick, levels)",
                "criteria",
                index,
                "type",
            )
        if kind == TICK:
            if "levels" in item:
                raise RubricError(
                    f"criterion {index + 1}: a tick has no levels (use type: levels)",
                    "criteria",
                    index,
                    "levels",
                )
            required = item.get("required", True)
            if not isinstance(required, bool):
                raise RubricError(
                    f"criterion {index + 1}: 'required' must be true or false",
                    "criteria",
                    index,
                    "required",
                )
            points = _whole(
                item.get("points", 1),
                f"criterion {index + 1}: 'points'",
                "criteria",
                index,
                "points",
            )
            found.append(Criterion(key, title, TICK, good, required, points))
            continue
        for name in ("required", "points"):
            if name in item:
                raise RubricError(
                    f"criterion {index + 1}: '{name}' belongs to ticks; levels carry their points",
                    "criteria",
                    index,
                    name,
                )
        levels_raw = item.get("levels")
        if not isinstance(levels_raw, list) or len(levels_raw) < 2:
            raise RubricError(
                f"criterion {index + 1}: 'levels' must list at least two levels",
                "criteria",
                index,
                "levels",
            )
        levels = []
        for number, level in enumerate(levels_raw):
            if not isinstance(level, dict) or set(level) - {"points", "label"}:
                raise RubricError(
                    f"criterion {index + 1}, level {number + 1}: give `points:` and `label:`",
                    "criteria",
                    index,
                    "levels",
                )
            points = _whole(
                level.get("points"),
                f"criterion {index + 1}, level {number + 1}: 'points'",
                "criteria",
                index,
                "levels",
            )
            label = level.get("label")
            if not isinstance(label, str) or not label.strip():
                raise RubricError(
                    f"criterion {index + 1}, level {number + 1}: 'label' is missing",
                    "criteria",
                    index,
                    "levels",
                )
            levels.append(Level(points, label.strip()))
        if len({level.points for level in levels}) != len(levels):
            raise RubricError(
                f"criterion {index + 1}: two levels have the same points",
                "criteria",
                index,
                "levels",
            )
        found.append(Criterion(key, title, LEVELS, good, levels=tuple(levels)))
    return found


def max_points(criteria: list[Criterion]) -> int:
    return sum(c.max_points for c in criteria)


def check_pass_rule(criteria: list[Criterion], rule: str, pass_points: int) -> None:
    if rule == ALL_REQUIRED:
        if not any(c.type == TICK and c.required for c in criteria):
            raise RubricError("pass: all_required needs at least one required tick", "pass")
        return
    if rule != POINTS:
        raise RubricError(f"unknown pass rule '{rule}' (all_required, points)", "pass")
    total = max_points(criteria)
    if not 1 <= pass_points <= total:
        raise RubricError(f"pass_points must be from 1 to {total} (the most points)", "pass_points")


@dataclass
class Judgement:
    met: bool  # the pass rule is met by these results
    points: int
    max_points: int
    missing: list[str]  # titles of required ticks not done


def judge(
    criteria: list[Criterion], rule: str, pass_points: int, results: dict[str, dict[str, Any]]
) -> Judgement:
    """The points and whether the pass rule is met. `results` maps criterion id to
    {"done": bool} (ticks) or {"points": int} (levels); a missing or unknown answer is an error,
    so a review never passes because a criterion was skipped."""
    points = 0
    missing: list[str] = []
    for criterion in criteria:
        result = results.get(criterion.id)
        if not isinstance(result, dict):
            raise RubricError(f"'{criterion.title}' has no answer", criterion.id)
        if criterion.type == TICK:
            done = result.get("done")
            if not isinstance(done, bool):
                raise RubricError(f"'{criterion.title}': choose done or not yet", criterion.id)
            if done:
                points += criterion.points
            elif criterion.required:
                missing.append(criterion.title)
        else:
            chosen = result.get("points")
            if chosen not in {level.points for level in criterion.levels} or isinstance(
                chosen, bool
            ):
                raise RubricError(f"'{criterion.title}': choose one of its levels", criterion.id)
            points += chosen
    total = max_points(criteria)
    met = not missing if rule == ALL_REQUIRED else points >= pass_points
    return Judgement(met, points, total, missing)
