"""Bulk import of a class from a spreadsheet saved as CSV (see docs/class-import.md).

Two steps: `parse()` + `check()` make a Plan (every row that will be created and every problem
with its row number) without writing anything; `apply()` creates the accounts, puts them in the
class and enrols them in its courses inside the caller's one transaction. Rules for usernames,
names and passwords are auth's (`academy.auth.services`), so an import accepts exactly what the
"new account" form accepts.

Encoding: UTF-8, with or without the BOM Excel writes. Thai Excel on Windows may instead save
"CSV" in TIS-620 / Windows-874; we refuse such files with a message that says so and how to
save as "CSV UTF-8" rather than guessing: a wrong guess would create accounts with garbled
names, which is worse than asking once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import insert, select

from academy.auth import services as auth
from academy.auth.models import SELLER, STUDENT, User
from academy.classes import services
from academy.classes.models import Class, School
from academy.core.access import LEARNER
from academy.core.db import utcnow
from academy.core.errors import ServiceError
from academy.core.progress import Start, begin
from academy.extensions import db

MAX_ROWS = 10_000
# Above this, hashing the passwords (argon2, ~20 ms each) would keep a web request waiting too
# long; the page sends bigger files to the CLI (`flask academy import-class`).
WEB_MAX_ROWS = 300
MAX_BYTES = 4 * 1024 * 1024

# Header aliases (compared lower-case, spaces and underscores ignored).
COLUMNS = {
    "username": ("username", "user", "login", "ชื่อผู้ใช้", "ชื่อผู้ใช้งาน", "บัญชีผู้ใช้"),
    "full_name": (
        "full_name",
        "fullname",
        "name",
        "ชื่อ-นามสกุล",
        "ชื่อนามสกุล",
        "ชื่อ - นามสกุล",
        "ชื่อ",
    ),
    "password": ("password", "รหัสผ่าน"),
    "school": ("school", "โรงเรียน"),
}
REQUIRED = ("username", "full_name")


def _key(text: str) -> str:
    return "".join(text.strip().lower().replace("_", "").split())


_ALIASES = {_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


@dataclass
class Row:
    line: int  # the row number a spreadsheet shows (header is row 1)
    username: str
    full_name: str
    password: str | None
    school: str | None
    school_id: int | None = None


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (row, message)
    columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def generated(self) -> int:
        return sum(1 for r in self.rows if r.password is None)


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ServiceError(
            _(
                'This file is in UTF-16 (Excel\'s "Unicode text"). Please save it again as '
                '"CSV UTF-8 (comma delimited)".'
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Thai letters in TIS-620/Windows-874 are single bytes 0xA1-0xFB.
    if any(0xA1 <= b <= 0xFB for b in data):
        raise ServiceError(
            _(
                "This file is not in UTF-8: it looks like Thai Windows encoding (TIS-620 / "
                'Windows-874), which older Excel uses for "CSV". In Excel choose File > Save '
                'As > "CSV UTF-8 (comma delimited)" and upload that file.'
            )
        )
    raise ServiceError(
        _('This file is not text in UTF-8. Please save it as "CSV UTF-8 (comma delimited)".')
    )


def parse(data: bytes) -> Plan:
    """Read the file into rows; structural problems (encoding, header) stop here."""
    plan = Plan()
    if len(data) > MAX_BYTES:
        plan.problems.append((None, _("The file is larger than 4 MB.")))
        return plan
    try:
        text = decode(data)
    except ServiceError as exc:
        plan.problems.append((None, exc.message))
        return plan
    if not text.strip():
        plan.problems.append((None, _("The file is empty.")))
        return plan
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell: comma
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, [])
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        name = _ALIASES.get(_key(title))
        if name and name not in mapping:
            mapping[name] = index
    plan.columns = [name for name in COLUMNS if name in mapping]
    missing = [name for name in REQUIRED if name not in mapping]
    if missing:
        plan.problems.append(
            (
                1,
                _(
                    "Missing column: %(names)s. The first row must name the columns, e.g. "
                    "username, full_name (or ชื่อผู้ใช้, ชื่อ-นามสกุล).",
                    names=", ".join(missing),
                ),
            )
        )
        return plan

    def cell(values: list[str], name: str) -> str:
        index = mapping.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(plan.rows) >= MAX_ROWS:
            plan.problems.append((line, _("More than %(n)d rows: split the file.", n=MAX_ROWS)))
            break
        plan.rows.append(
            Row(
                line=line,
                username=auth.normalize_username(cell(values, "username")),
                full_name=cell(values, "full_name"),
                password=cell(values, "password") or None,
                school=cell(values, "school") or None,
            )
        )
    if not plan.rows and not plan.problems:
        plan.problems.append((None, _("The file has a header but no learners.")))
    return plan


def check(plan: Plan, klass: Class) -> Plan:
    """Every problem, each with its row number; queries are batched, not one per row."""
    seen: dict[str, int] = {}
    for row in plan.rows:
        if not auth.USERNAME_RULE.match(row.username):
            plan.problems.append(
                (
                    row.line,
                    _("Bad username %(name)s: 3 to 32 characters a-z, 0-9, dot, dash or "
                      "underscore.", name=row.username or "-"),
                )
            )  # fmt: skip
        elif row.username in seen:
            plan.problems.append(
                (
                    row.line,
                    _("The username %(name)s is also on row %(row)d.",
                      name=row.username, row=seen[row.username]),
                )
            )  # fmt: skip
        else:
            seen[row.username] = row.line
        try:
            row.full_name = auth.check_full_name(row.full_name)
        except ServiceError as exc:
            plan.problems.append((row.line, exc.message))
        if row.password is not None:
            try:
                auth.check_password(row.password)
            except ServiceError as exc:
                plan.problems.append((row.line, exc.message))
    names = list(seen)
    taken: set[str] = set()
    for start in range(0, len(names), 500):
        taken.update(
            db.session.scalars(
                select(User.username).where(User.username.in_(names[start : start + 500]))
            )
        )
    for row in plan.rows:
        if row.username in taken and seen.get(row.username) == row.line:
            plan.problems.append(
                (row.line, _("The username %(name)s is already taken.", name=row.username))
            )
    # Schools: named in the file, else the school of the class's room.
    default_school = klass.room.school_id if klass.room is not None else None
    wanted = {r.school for r in plan.rows if r.school}
    schools = {}
    if wanted:
        schools = dict(
            db.session.execute(select(School.name, School.id).where(School.name.in_(wanted))).all()
        )
    for row in plan.rows:
        if row.school:
            row.school_id = schools.get(row.school)
            if row.school_id is None:
                plan.problems.append(
                    (row.line, _("There is no school called %(name)s.", name=row.school))
                )
        else:
            row.school_id = default_school
    plan.problems.sort(key=lambda p: p[0] or 0)
    return plan


@dataclass
class Created:
    user_id: int
    username: str
    full_name: str
    password: str | None  # only when generated here, to print once


def apply(plan: Plan, klass: Class, start: Start | None = None) -> list[Created]:
    """Create every account and add them to the class, in the caller's transaction: the caller
    commits once, or rolls back and nothing of the file stays. `start(label, total)` (the
    command line's progress bar) is told of each account made (hashing its password is the
    slow part: about 0.1 s each)."""
    if not plan.ok:
        raise ServiceError(_("The file has problems; nothing was imported."))
    kind = SELLER if klass.programme_id is not None else STUDENT
    passwords = [(row.password, row.password is None) for row in plan.rows]
    passwords = [(p or auth.temporary_password(), temp) for p, temp in passwords]
    created: list[Created] = []
    values = []
    now = utcnow()
    step = begin(start, "import-class: accounts", len(plan.rows))
    for row, (password, temp) in zip(plan.rows, passwords, strict=True):
        step(1)
        values.append(
            {
                "username": row.username,
                "full_name": row.full_name,
                "password_hash": auth.hash_password(password),
                "role": LEARNER,
                "learner_kind": kind,
                "school_id": row.school_id,
                "must_change_password": temp,
                "active": True,
                "session_version": 1,
                "created_at": now,
            }
        )
    for start in range(0, len(values), 1000):
        db.session.execute(insert(User), values[start : start + 1000])
    ids = _ids_in_chunks([r.username for r in plan.rows])
    for row, (password, temp) in zip(plan.rows, passwords, strict=True):
        created.append(
            Created(ids[row.username], row.username, row.full_name, password if temp else None)
        )
    services.add_members(klass, [c.user_id for c in created])
    return created


def _ids_in_chunks(usernames: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(usernames), 900):
        ids.update(
            db.session.execute(
                select(User.username, User.id).where(
                    User.username.in_(usernames[start : start + 900])
                )
            ).all()
        )
    return ids
