"""`python -m bench` (`make bench`): load-test Academy on this machine and print one table.

1. a temporary instance: migrate (`flask db upgrade`), seed (bench/seed.py);
2. the default server (academy/serve.py, as `make run`) on 127.0.0.1, and the same for
   bench/hello.py (the ceiling);
3. wrk (C, epoll, one thread) replays prepared requests for each scenario; bursts (40 learners
   starting one quiz in the same second) are fired from Python threads;
4. one row per scenario: requests/s, p50/p95/p99, errors, peak RSS per worker, ratio to hello.

Scenarios whose routes are not in the app yet print "n/a (feature not on main)". See
bench/README.md for the columns and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from academy.serve import SERVERS as SERVER_NAMES
from bench import open_session

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "wrk.lua"
USER_AGENT = "academy-bench"
NA = "n/a (feature not on main)"


# -- the servers ----------------------------------------------------------------------------


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise SystemExit(
            f"bench: refusing to load-test {host}: the harness only targets this machine's "
            f"loopback (127.0.0.1), never a server others use"
        )


@dataclass
class Server:
    """gunicorn with gunicorn.conf.py; `extra` adds flags (--workers, --worker-class...)."""

    app: str
    env: dict[str, str]
    host: str
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    port: int = 0
    name: str = ""  # a server of academy/serve.py (default: granian; gunicorn flags: gunicorn)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, log: Path) -> Server:
        self.port = free_port(self.host)
        from academy.serve import command_for

        # The default server (academy/serve.py, as `make run`); gunicorn flags given on the
        # command line (--workers, --gunicorn-arg) measure gunicorn instead.
        name = self.name or ("gunicorn-gthread" if self.extra else "default")
        app = None if self.app == "wsgi:app" else self.app  # Academy: the server's own target
        command = [*command_for(name, self.host, self.port, app)]
        if self.extra:
            command[-1:-1] = self.extra
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: gunicorn for {self.app} stopped; see {log}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2):
                    pass
                # Every worker is up when the master has forked them all.
                if len(self.workers()) >= self.expected_workers():
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"bench: gunicorn for {self.app} did not answer in 60 s; see {log}")

    def expected_workers(self) -> int:
        if "--workers" in self.extra:
            return int(self.extra[self.extra.index("--workers") + 1])
        # As gunicorn.conf.py: one worker per core, at least two.
        return int(self.env.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))

    def workers(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if self.process and int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def reset_peak_rss(self) -> None:
        for pid in self.workers():
            # "5" resets VmHWM to the current RSS (Linux >= 4.0).
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_rss_mb(self) -> float | None:
        peaks = []
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return max(peaks) if peaks else None

    def pss_mb(self) -> float | None:
        """The whole server's memory now (the master and every worker), as PSS: shared pages
        are divided among the processes that share them, so the sum is what the server costs."""
        if self.process is None:
            return None
        total = 0
        for pid in [self.process.pid, *self.workers()]:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        return total / 1024 or None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()


# -- HTTP from Python (preparation and bursts) ----------------------------------------------


class _CsrfFinder(html.parser.HTMLParser):
    token: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token" and self.token is None:
            self.token = attrs.get("value")
        if tag == "meta" and attrs.get("name") == "csrf-token" and self.token is None:
            self.token = attrs.get("content")


def csrf_from(page: str) -> str | None:
    finder = _CsrfFinder()
    finder.feed(page)
    return finder.token


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(base, method, path, cookie=None, data=None, headers=None, timeout=30):
    """One request without following redirects: (status, headers, body, seconds)."""
    body = None
    headers = dict(headers or {}, **{"User-Agent": USER_AGENT})
    if cookie:
        headers["Cookie"] = cookie
    if isinstance(data, dict):
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif isinstance(data, str | bytes):
        body = data.encode() if isinstance(data, str) else data
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as response:
            content = response.read()
            status, got = response.status, response.headers
    except urllib.error.HTTPError as exc:
        content, status, got = exc.read(), exc.code, exc.headers
    return status, got, content.decode("utf-8", "replace"), time.perf_counter() - started


# -- sessions ---------------------------------------------------------------------------------


@dataclass
class Session:
    user_id: int
    username: str
    cookie: str
    csrf: str


def forge_sessions(app, users: list[tuple[int, str, int]]) -> list[Session]:
    """Signed-in session cookies made with the app's own key, as a browser would hold after
    signing in (the real sign-in form is measured in its own scenario; Argon2 is not what the
    page scenarios measure)."""
    from flask_login.utils import _create_identifier
    from itsdangerous import URLSafeTimedSerializer

    sessions = []
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
    ):
        serializer = app.session_interface.get_signing_serializer(app)
        csrf_serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        ident = _create_identifier()
        name = app.config["SESSION_COOKIE_NAME"]
        for user_id, username, version in users:
            raw = secrets.token_hex(20)
            value = serializer.dumps(
                {"_user_id": f"{user_id}:{version}", "_fresh": True, "_id": ident,
                 "csrf_token": raw, "sid": open_session(app, user_id)}
            )  # fmt: skip
            sessions.append(
                Session(user_id, username, f"{name}={value}", csrf_serializer.dumps(raw))
            )
    return sessions


def anonymous_forms(base: str, count: int) -> list[tuple[str, str]]:
    """(cookie, csrf token) pairs from real GET /sign-in pages."""
    pairs = []
    for _ in range(count):
        _status, headers, body, _s = http(base, "GET", "/sign-in")
        cookie = (headers.get("Set-Cookie") or "").split(";", 1)[0]
        pairs.append((cookie, csrf_from(body) or ""))
    return pairs


# -- routes and data ------------------------------------------------------------------------


def _shape(rule: str) -> str:
    """/quizzes/<int:quiz_id> and /quizzes/<id> have the same shape: /quizzes/<>."""
    return re.sub(r"<[^>]+>", "<>", rule)


def find_rule(app, pattern: str, method: str = "GET") -> bool:
    shape = _shape(pattern)
    return any(
        _shape(rule.rule) == shape and method in (rule.methods or ())
        for rule in app.url_map.iter_rules()
    )


def post_rules_under(app, prefix: str) -> list[str]:
    """POST rules that start with prefix (e.g. the lesson's "mark done" action)."""
    shape = _shape(prefix)
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if _shape(rule.rule).startswith(shape)
        and _shape(rule.rule) != shape.rstrip("/")
        and "POST" in (rule.methods or ())
    )


def fill(rule: str, *values: object) -> str:
    """Put values into the rule's placeholders, in order."""
    parts = iter(str(v) for v in values)
    return re.sub(r"<[^>]+>", lambda _m: next(parts), rule)


def attempt_questions(app, attempt_id: int) -> list[tuple[int, str]]:
    """(question id, type) of an attempt's questions, in the attempt's order."""
    from sqlalchemy import select

    from academy.extensions import db
    from academy.quizzes.models import Attempt, Question

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        ids = [int(item["question_id"]) for item in (attempt.layout if attempt else [])]
        query = select(Question.id, Question.type).where(Question.id.in_(ids))
        types = {qid: kind for qid, kind in db.session.execute(query).all()}
        return [(i, types.get(i, "")) for i in ids]


def first(app, sql: str):
    from sqlalchemy import text

    from academy.extensions import db

    with app.app_context():
        try:
            return db.session.execute(text(sql)).first()
        except Exception:
            db.session.rollback()
            return None


# -- load ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    rps: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int | None = None
    rss_mb: float | None = None
    note: str = ""
    bytes_per_request: float | None = None
    connections: int | None = None
    pss_mb: float | None = None  # the whole server's peak PSS during the scenario
    scenario: str = ""  # the SCENARIOS name (the aims read it)


class PssSampler:
    """The whole server's PSS every half second while a scenario runs; `peak` afterwards."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak = server, server.pss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._note()

    def _note(self) -> None:
        now = self.server.pss_mb()
        if now is not None and (self.peak is None or now > self.peak):
            self.peak = now

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self._note()


def request_line(method, path, cookie=None, body="", headers=None) -> str:
    fields = [method, path, body or ""]
    # Like a browser: ask for gzip, so KB/resp is what crosses the wire.
    all_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **(headers or {})}
    if cookie:
        all_headers["Cookie"] = cookie
    if body and "Content-Type" not in all_headers:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    fields += [f"{k}: {v}" for k, v in all_headers.items()]
    return "\t".join(fields)


def run_wrk(name, server, lines, args, workdir, connections=None) -> Result:
    plan = workdir / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".requests")
    plan.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, BENCH_REQUESTS=str(plan))
    server.reset_peak_rss()
    connections = connections or args.connections[0]
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{args.duration}s",
               "--timeout", "10s", "-s", str(LUA), server.base + "/"]  # fmt: skip
    with PssSampler(server) as pss:
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    figures = None
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            figures = json.loads(line)
    if figures is None:
        return Result(name, note=f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
    errors = sum(v for k, v in figures.items() if k.startswith("errors_"))
    return Result(
        name,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50=figures["p50_us"] / 1000,
        p95=figures["p95_us"] / 1000,
        p99=figures["p99_us"] / 1000,
        errors=errors,
        rss_mb=server.peak_rss_mb(),
        bytes_per_request=figures["bytes"] / max(1, figures["requests"]),
        connections=connections,
        pss_mb=pss.peak,
    )


def run_burst(name, server, sessions, make_request, rounds=3) -> Result:
    """len(sessions) requests released at the same instant, `rounds` times."""
    server.reset_peak_rss()
    latencies, errors = [], 0
    sampler = PssSampler(server).__enter__()
    for round_ in range(rounds):
        barrier = threading.Barrier(len(sessions))
        results = []

        def fire(s, n=round_, barrier=barrier, results=results):
            method, path, data, headers = make_request(s, n)
            barrier.wait()
            status, _h, _b, seconds = http(server.base, method, path, s.cookie, data, headers)
            results.append((status, seconds))

        threads = [threading.Thread(target=fire, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        latencies += [sec for _st, sec in results]
        errors += sum(1 for st, _sec in results if st >= 400)
    sampler.__exit__()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    return Result(
        name,
        p50=statistics.median(latencies) * 1000,
        p95=pct(95),
        p99=pct(99),
        errors=errors,
        rss_mb=server.peak_rss_mb(),
        note=f"{len(sessions)} at once x {rounds}",
        connections=len(sessions),
        pss_mb=sampler.peak,
    )


# -- scenarios ------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, app, server, sessions, workdir):
        self.args, self.app, self.server, self.workdir = args, app, server, workdir
        self.sessions = sessions
        self.lesson = first(
            app,
            "SELECT c.slug, l.key FROM lessons l JOIN courses c ON c.id = l.course_id "
            "ORDER BY c.id, l.position, l.id",
        )
        self.quiz = first(app, "SELECT id FROM quizzes ORDER BY id")
        self.klass = first(app, "SELECT id FROM classes ORDER BY id")
        self.certificate = first(app, "SELECT code FROM certificates ORDER BY id")

    def answers(self) -> list[tuple[Session, str, str]]:
        """(session, save path, JSON body) per signed-in learner: each opens (or resumes) an
        attempt at the first quiz through the real /start action, and answers its first
        answerable question again and again (a learner changing an answer; autosave)."""
        if getattr(self, "_answers", None) is not None:
            return self._answers
        self._answers = []
        rules = [r for r in post_rules_under(self.app, "/attempts/<int:attempt_id>/")
                 if r.endswith("/responses")]  # fmt: skip
        if self.quiz is None or not rules or not find_rule(self.app, "/quizzes/<int:quiz_id>"):
            return self._answers
        values = {
            "single": 0,
            "truefalse": True,
            "multiple": [0],
            "short": "x",
            "numerical": "1000",
        }
        for s in self.sessions[: self.args.answer_learners]:
            status, headers, _body, _sec = http(
                self.server.base, "POST", f"/quizzes/{self.quiz[0]}/start", s.cookie,
                {"csrf_token": s.csrf},
            )  # fmt: skip
            match = re.search(r"/attempts/(\d+)", headers.get("Location") or "")
            if status >= 400 or not match:
                continue
            attempt_id = int(match.group(1))
            questions = attempt_questions(self.app, attempt_id)
            question = next((q for q, kind in questions if kind in values), None)
            if question is None:
                continue
            kind = dict(questions)[question]
            body = json.dumps({"question_id": question, "value": values[kind]})
            self._answers.append((s, fill(rules[0], attempt_id), body))
        return self._answers

    def answer_line(self, s, path, body):
        headers = {"Content-Type": "application/json", "X-CSRFToken": s.csrf,
                   "Accept": "application/json"}  # fmt: skip
        return request_line("POST", path, s.cookie, body, headers)

    def quiz_answer(self):
        name = "quiz answer save (JSON POST)"
        answers = self.answers()
        if not answers:
            return Result(name, note=NA if self.quiz is None else "n/a (no attempt to answer)")
        lines = [self.answer_line(*a) for a in answers]
        return self.wrk(name, lines, note=f"{len(answers)} learners, one open attempt each")

    def wrk(self, name, lines, connections=None, note="") -> list[Result]:
        """The scenario at each --connections count (or at `connections` alone)."""
        results = []
        for count in [connections] if connections else self.args.connections:
            result = run_wrk(name, self.server, lines, self.args, self.workdir, count)
            fixed = f"{count} connection(s)" if connections else ""
            result.note = " ".join(part for part in (note, result.note, fixed) if part)
            results.append(result)
        return results

    def pages(self, name, path, sessions=None):
        sessions = sessions or self.sessions
        return self.wrk(name, [request_line("GET", path, s.cookie) for s in sessions])

    def course_page(self):
        if not find_rule(self.app, "/courses/<slug>") or self.lesson is None:
            return Result("course page", note=NA)
        return self.pages("course page", f"/courses/{self.lesson[0]}")

    def catalogue(self):
        if not find_rule(self.app, "/courses"):
            return Result("catalogue", note=NA)
        return self.pages("catalogue", "/courses")

    def quiz_page(self):
        if not find_rule(self.app, "/quizzes/<int:quiz_id>") or self.quiz is None:
            return Result("quiz page", note=NA)
        return self.pages("quiz page", f"/quizzes/{self.quiz[0]}")

    def attempt_page(self):
        """Each learner's own open attempt (the page they answer on)."""
        answers = self.answers()
        if not answers:
            return Result("attempt page", note=NA if self.quiz is None else "n/a (no attempt)")
        lines = [request_line("GET", path.rsplit("/", 1)[0], s.cookie) for s, path, _b in answers]
        return self.wrk("attempt page", lines)

    def signin_page(self):
        return self.wrk("sign-in page (GET)", [request_line("GET", "/sign-in")])

    def signin(self):
        if self.password is None:
            return Result("sign-in (POST, Argon2)", note="n/a (the generator gives no password)")
        forms = anonymous_forms(self.server.base, min(50, len(self.sessions)))
        lines = []
        for (cookie, token), s in zip(forms, self.sessions, strict=False):
            body = urllib.parse.urlencode(
                {"csrf_token": token, "username": s.username, "password": self.password}
            )
            lines.append(request_line("POST", "/sign-in", cookie, body))
        return self.wrk("sign-in (POST, Argon2)", lines)

    def home(self):
        lines = [request_line("GET", "/", s.cookie) for s in self.sessions]
        return self.wrk("signed-in home /", lines)

    def dashboard(self):
        if not find_rule(self.app, "/dashboard"):
            return Result("dashboard", note=NA)
        return self.wrk(
            "dashboard", [request_line("GET", "/dashboard", s.cookie) for s in self.sessions]
        )

    def lesson_path(self):
        rule = "/courses/<slug>/lessons/<key>"
        if not find_rule(self.app, rule):
            return None, NA
        if self.lesson is None:
            return None, "n/a (no lesson in the seed data)"
        return fill(rule, self.lesson[0], self.lesson[1]), ""

    def lesson_page(self):
        path, note = self.lesson_path()
        if path is None:
            return Result("lesson page (signed in)", note=note)
        lines = [request_line("GET", path, s.cookie) for s in self.sessions]
        return self.wrk("lesson page (signed in)", lines)

    def mixed(self):
        """A learner's period: dashboard, lesson, mark done, quiz, answer, certificate; plus a
        sign-in now and then. Steps whose routes are missing are left out (and named)."""
        lines, missing = [], []
        lesson, _note = self.lesson_path()
        lesson_rule = "/courses/<slug>/lessons/<key>"
        done_rules = [
            r
            for r in post_rules_under(self.app, lesson_rule + "/")
            if r.endswith(("/done", "/complete"))
        ] or ([lesson_rule] if find_rule(self.app, lesson_rule, "POST") else [])
        has_dashboard = find_rule(self.app, "/dashboard")
        has_quiz = find_rule(self.app, "/quizzes/<int:quiz_id>") and self.quiz is not None
        has_certs = find_rule(self.app, "/certificates")
        answers = {a[0].user_id: a for a in self.answers()} if has_quiz else {}
        for n, s in enumerate(self.sessions):
            if has_dashboard:
                lines.append(request_line("GET", "/dashboard", s.cookie))
            else:
                lines.append(request_line("GET", "/", s.cookie))
            if lesson:
                lines += [request_line("GET", lesson, s.cookie)] * 3
                if done_rules:
                    done = fill(done_rules[0], self.lesson[0], self.lesson[1])
                    body = urllib.parse.urlencode({"csrf_token": s.csrf})
                    lines.append(request_line("POST", done, s.cookie, body))
            if has_quiz:
                lines.append(request_line("GET", f"/quizzes/{self.quiz[0]}", s.cookie))
            if s.user_id in answers:
                lines.append(self.answer_line(*answers[s.user_id]))
            if has_certs:
                lines.append(request_line("GET", "/certificates", s.cookie))
            if n % 50 == 0:
                lines.append(request_line("GET", "/sign-in"))
        if not has_dashboard:
            missing.append("dashboard")
        if not lesson:
            missing.append("lesson")
        if lesson and not done_rules:
            missing.append("mark done")
        if not has_quiz:
            missing.append("quiz")
        elif not answers:
            missing.append("quiz answers")
        if not has_certs:
            missing.append("certificates")
        note = "without " + ", ".join(missing) + " (not on main)" if missing else ""
        return self.wrk("mixed learner workload", lines, note=note)

    def quiz_burst(self):
        name = "quiz start burst (40 learners)"
        start_rules = [
            r for r in post_rules_under(self.app, "/quizzes/<int:quiz_id>/") if r.endswith("/start")
        ]
        if not find_rule(self.app, "/quizzes/<int:quiz_id>") or not start_rules:
            return Result(name, note=NA)
        if self.quiz is None:
            return Result(name, note="n/a (no quiz in the seed data)")
        rule = start_rules[0]
        group = self.sessions[:40]

        def make(s, _round):
            return "POST", fill(rule, self.quiz[0]), {"csrf_token": s.csrf}, None

        return run_burst(name, self.server, group, make)

    def gradebook(self):
        if not find_rule(self.app, "/classes/<int:class_id>/gradebook"):
            return Result("gradebook (instructor)", note=NA)
        if self.klass is None:
            return Result("gradebook (instructor)", note="n/a (no class in the seed data)")
        path = f"/classes/{self.klass[0]}/gradebook"
        # One teacher at a time: the target is the page's latency, not a crowd of teachers.
        lines = [request_line("GET", path, self.admin.cookie)]
        return self.wrk("gradebook (instructor)", lines, connections=1)

    def reports(self):
        rules = sorted(
            r.rule
            for r in self.app.url_map.iter_rules()
            if r.rule.startswith("/reports") and "GET" in (r.methods or ()) and "<" not in r.rule
        )
        if not rules:
            return [Result("admin reports", note=NA)]
        return [
            result
            for rule in rules
            for result in self.wrk(
                f"report {rule}", [request_line("GET", rule, self.admin.cookie)], 1
            )
        ]

    def certificate_verify(self):
        if not find_rule(self.app, "/verify/<code>"):
            return Result("certificate verify (public)", note=NA)
        if self.certificate is None:
            return Result("certificate verify (public)", note="n/a (no certificate in the data)")
        return self.wrk(
            "certificate verify (public)", [request_line("GET", f"/verify/{self.certificate[0]}")]
        )


SCENARIOS = (
    "signin-page", "signin", "home", "dashboard", "lesson", "course", "catalogue", "quiz",
    "attempt", "mixed", "quiz-burst", "quiz-answer", "gradebook", "reports", "verify",
)  # fmt: skip
# The learner pages of issue 15's aims: each one's share of the hello ceiling is judged.
PAGES = ("lesson", "course", "dashboard", "catalogue", "quiz", "attempt", "quiz-answer")


def run_database(args, kind: str, workdir: Path) -> list[Result]:
    from sqlalchemy import select

    from academy import create_app
    from academy.auth.models import User
    from academy.demo import DEMO_USERS
    from academy.extensions import db
    from bench import seed

    cluster = None
    if kind == "postgresql":
        from bench.postgres import Cluster

        cluster = Cluster().start()
        database_url = cluster.url
    else:
        database_url = f"sqlite:///{workdir / 'academy.db'}"
    instance = workdir / f"instance-{kind}"
    env = dict(
        os.environ,
        ACADEMY_INSTANCE_PATH=str(instance),
        DATABASE_URL=database_url,
        ACADEMY_SECRET_KEY=secrets.token_hex(32),
        ACADEMY_LOG_LEVEL="WARNING",
    )
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    servers = []
    try:
        migrate = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                                 cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
        if migrate.returncode != 0:
            raise SystemExit(f"bench: flask db upgrade failed:\n{migrate.stderr}")
        os.environ.update({k: env[k] for k in ("ACADEMY_INSTANCE_PATH", "DATABASE_URL")})
        app = create_app({"SECRET_KEY": env["ACADEMY_SECRET_KEY"]}, instance_path=str(instance))
        generator, password = seed.generate(app, args.preset, database_url)
        with app.app_context():
            rows = db.session.execute(
                select(User.id, User.username, User.session_version, User.role)
                .where(User.active.is_(True))
                .order_by(User.id)
            ).all()
            db.engine.dispose()
        # The generated learners (they share the generator's password), not the demo accounts.
        demo = {username for username, *_rest in DEMO_USERS}
        learners = [(i, u, v) for i, u, v, r in rows if r == "learner" and u not in demo]
        admins = [(i, u, v) for i, u, v, r in rows if r == "admin"]
        print(f"bench: {kind}: {len(rows)} accounts seeded by {generator}", file=sys.stderr)

        extra = list(args.gunicorn_arg or [])
        server = Server("wsgi:app", env, args.host, extra, name=args.server or "")
        server.start(workdir / f"server-{kind}.log")
        servers.append(server)
        bench = Bench(args, app, server, forge_sessions(app, learners[:400]), workdir)
        bench.password = password
        bench.admin = forge_sessions(app, admins[:1])[0]
        results = []
        runners = {
            "signin-page": bench.signin_page, "signin": bench.signin, "home": bench.home,
            "dashboard": bench.dashboard, "lesson": bench.lesson_page, "mixed": bench.mixed,
            "course": bench.course_page, "catalogue": bench.catalogue, "quiz": bench.quiz_page,
            "attempt": bench.attempt_page,
            "quiz-burst": bench.quiz_burst, "quiz-answer": bench.quiz_answer,
            "gradebook": bench.gradebook,
            "reports": bench.reports, "verify": bench.certificate_verify,
        }  # fmt: skip
        idle = Result("server at rest (PSS, all processes)", pss_mb=server.pss_mb(),
                      scenario="idle", note="after start, before any load")  # fmt: skip
        results = [idle]
        for name in args.scenarios:
            print(f"bench: {kind}: {name} ...", file=sys.stderr)
            outcome = runners[name]()
            for result in outcome if isinstance(outcome, list) else [outcome]:
                result.scenario = name
                results.append(result)
        if args.scenarios:
            # Does the memory the load took come back? Read once the server has been idle.
            time.sleep(AFTER_LOAD_SECONDS)
            after = Result(
                "server after the load (PSS, all processes)",
                pss_mb=server.pss_mb(),
                scenario="after",
                note=f"{AFTER_LOAD_SECONDS} s after the last scenario",
            )
            results.append(after)
        return results
    finally:
        for server in servers:
            server.stop()
        if cluster:
            cluster.stop()


def hello_ceiling(args, workdir: Path) -> list[Result]:
    """The bare Flask "hello" under the same server, at each --connections count."""
    env = dict(os.environ)
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    extra = list(args.gunicorn_arg or [])
    server = Server("bench.hello:app", env, args.host, extra, name=args.server or "")
    server.start(workdir / "server-hello.log")
    try:
        results = []
        for count in args.connections:
            line = [request_line("GET", "/")]
            result = run_wrk("hello (bare Flask)", server, line, args, workdir, count)
            result.scenario = "hello"
            results.append(result)
        return results
    finally:
        server.stop()


def fmt(value, spec):
    return "" if value is None else format(value, spec)


def ceiling_for(hello: list[Result], connections: int | None) -> Result | None:
    """The hello run at the same number of connections (else the first)."""
    same = [h for h in hello if h.connections == connections]
    return (same or hello or [None])[0]


def print_table(rows: list[tuple[str, Result]], hello: list[Result]) -> None:
    header = ("scenario", "db", "conns", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              "RSS/worker MB", "PSS all MB", "vs hello", "KB/resp", "note")  # fmt: skip
    table = [header]
    for kind, r in rows:
        ceiling = ceiling_for(hello, r.connections)
        ratio = f"{r.rps / ceiling.rps:.0%}" if (r.rps and ceiling and ceiling.rps) else ""
        table.append((
            r.name, kind, fmt(r.connections, "d"), fmt(r.rps, ".0f"), fmt(r.p50, ".1f"),
            fmt(r.p95, ".1f"), fmt(r.p99, ".1f"), fmt(r.errors, "d"), fmt(r.rss_mb, ".0f"),
            fmt(r.pss_mb, ".0f"), ratio,
            fmt(r.bytes_per_request and r.bytes_per_request / 1024, ".1f"), r.note,
        ))  # fmt: skip
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


# -- the aims of issue 15 ------------------------------------------------------------------

# In-process CPU per request (bench.inprocess, median ms): its page names -> the aim.
CPU_AIMS = {"lesson": 1.5, "course": 2.0, "dashboard": 2.0, "catalogue": 2.0, "quiz": 2.0,
            "attempt": 2.0, "answer (JSON)": 2.0}  # fmt: skip
KOLIBRI_PEAK_PSS_MB = 241  # Kolibri 0.19.5 under the same load (issue 15)
# "Memory returns near idle after the load" (issue 15): within a fifth of the figure at rest,
# read this long after the last scenario.
AFTER_LOAD_GROWTH = 1.2
AFTER_LOAD_SECONDS = 10


@dataclass
class Aim:
    what: str
    db: str
    target: str
    measured: str
    met: bool


def _share_aims(kind: str, results: list[Result], hello: list[Result]) -> list[Aim]:
    found = []
    for page in PAGES:
        runs = sorted(
            (r for r in results if r.scenario == page and r.rps), key=lambda r: r.connections or 0
        )
        if not runs:
            continue
        low = runs[0]
        ceiling = ceiling_for(hello, low.connections)
        if ceiling and ceiling.rps:
            share = low.rps / ceiling.rps
            need = 0.30 if page == "lesson" else 0.25
            found.append(Aim(f"{page}: share of hello at {low.connections}", kind,
                             f">= {need:.0%}", f"{share:.0%}", share >= need))  # fmt: skip
        if page == "lesson":
            found.append(Aim(f"lesson: req/s at {low.connections}", kind, ">= 1000",
                             f"{low.rps:.0f}", low.rps >= 1000))  # fmt: skip
        base = next((r for r in runs if r.connections == 16), None)
        for r in runs:
            if base and r.connections in (40, 200):
                kept = r.rps / base.rps
                found.append(Aim(f"{page}: req/s at {r.connections} vs 16", kind, ">= 90%",
                                 f"{kept:.0%}", kept >= 0.9))  # fmt: skip
            if r.connections == 40 and r.p99 is not None:
                found.append(Aim(f"{page}: p99 at 40", kind, "< 250 ms", f"{r.p99:.0f} ms",
                                 r.p99 < 250))  # fmt: skip
    return found


def aims(rows: list[tuple[str, Result]], hello: list[Result], cpu: dict | None) -> list[Aim]:
    """Each aim of issue 15 that this run measured, with its figure and whether it is met."""
    found = []
    for page, limit in CPU_AIMS.items():
        if cpu and page in cpu:
            found.append(Aim(f"{page}: in-process CPU (median)", "sqlite", f"<= {limit} ms",
                             f"{cpu[page]:.2f} ms", cpu[page] <= limit))  # fmt: skip
    for kind in dict.fromkeys(k for k, _r in rows if k != "-"):
        results = [r for k, r in rows if k == kind]
        found += _share_aims(kind, results, hello)
        for r in results:
            if r.scenario == "mixed" and r.rps:
                ok = r.rps >= 600 and (r.p95 or 0) < 150 and not r.errors
                figure = f"{r.rps:.0f} req/s, p95 {r.p95:.0f} ms, {r.errors} errors"
                found.append(Aim(f"mixed workload at {r.connections}", kind,
                                 ">= 600 req/s, p95 < 150 ms, 0 errors", figure, ok))  # fmt: skip
            if r.scenario == "quiz-burst" and r.p99 is not None:
                found.append(Aim("quiz-start burst of 40: p99", kind, "< 300 ms",
                                 f"{r.p99:.0f} ms", r.p99 < 300 and not r.errors))  # fmt: skip
        idle = next((r.pss_mb for r in results if r.scenario == "idle" and r.pss_mb), None)
        if idle:
            found.append(Aim("server memory at rest (PSS)", kind, "<= 120 MB", f"{idle:.0f} MB",
                             idle <= 120))  # fmt: skip
        after = next((r.pss_mb for r in results if r.scenario == "after" and r.pss_mb), None)
        if idle and after:
            found.append(Aim("server memory after the load (PSS)", kind,
                             f"<= {AFTER_LOAD_GROWTH:.0%} of at rest",
                             f"{after:.0f} MB ({after / idle:.0%})",
                             after <= idle * AFTER_LOAD_GROWTH))  # fmt: skip
        peaks = [r.pss_mb for r in results if r.pss_mb and r.scenario not in ("idle", "after")]
        if peaks:
            found.append(Aim("server memory under load (peak PSS)", kind,
                             f"<= {KOLIBRI_PEAK_PSS_MB} MB (Kolibri)", f"{max(peaks):.0f} MB",
                             max(peaks) <= KOLIBRI_PEAK_PSS_MB))  # fmt: skip
    return found


def print_aims(found: list[Aim]) -> None:
    if not found:
        return
    print(f"\nAims (issue 15): {sum(a.met for a in found)} of {len(found)} met")
    width = max(len(a.what) for a in found)
    for a in found:
        print(f"  {'met ' if a.met else 'MISS'}  {a.what:<{width}}  {a.db:<10}  "
              f"{a.target:<38}  {a.measured}")  # fmt: skip


def in_process(n: int) -> tuple[dict[str, float], str]:
    """bench.inprocess in its own process (it seeds its own instance): medians and its table."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run(
            [sys.executable, "-m", "bench.inprocess", "--n", str(n), "--json", out.name],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            return {}, f"bench.inprocess failed:\n{done.stderr[-2000:]}"
        medians = json.loads(Path(out.name).read_text() or "{}")
    table = "\n".join(line for line in done.stdout.splitlines() if not line.startswith(" "))
    return medians, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=("small", "district", "city"), default="small")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--connections", default="40",
                        help="open connections (wrk -c); several, e.g. 16,40,200: every "
                             "scenario and the ceiling at each")  # fmt: skip
    parser.add_argument(
        "--server",
        choices=sorted(SERVER_NAMES),
        help="a server of academy/serve.py (default: the default, granian)",
    )
    parser.add_argument(
        "--inprocess",
        type=int,
        default=0,
        metavar="N",
        help="also bench.inprocess with N requests per page (the CPU aims)",
    )
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL")
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL only")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to serve on")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the config's)")
    parser.add_argument("--gunicorn-arg", action="append",
                        help="extra gunicorn flag, e.g. --gunicorn-arg=--threads=4")  # fmt: skip
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, from: {', '.join(SCENARIOS)}")  # fmt: skip
    parser.add_argument("--no-hello", action="store_true", help="skip the hello ceiling")
    parser.add_argument("--answer-learners", type=int, default=200,
                        help="learners who open an attempt for the answer-save steps")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    check_loopback(args.host)
    try:
        args.connections = [int(c) for c in str(args.connections).split(",") if c.strip()]
    except ValueError:
        parser.error("--connections takes numbers, e.g. 40 or 16,40,200")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing: apt-get install wrk (make test-deps does)")

    start_load = Path("/proc/loadavg").read_text().split()[0]
    workdir = Path(tempfile.mkdtemp(prefix="academy-bench."))
    kinds = ["postgresql"] if args.only_postgres else ["sqlite"]
    if args.postgres and not args.only_postgres:
        kinds.append("postgresql")
    try:
        hello = [] if args.no_hello else hello_ceiling(args, workdir)
        rows = [("-", h) for h in hello]
        for kind in kinds:
            rows += [(kind, r) for r in run_database(args, kind, workdir)]
        cpu, cpu_table = in_process(args.inprocess) if args.inprocess else ({}, "")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load = Path("/proc/loadavg").read_text().split()[0]
    if float(load) > (os.cpu_count() or 1) / 2:
        print(f"bench: warning: load average {load} on {os.cpu_count()} cores: other work "
              "shares this machine, so the figures are low and noisy", file=sys.stderr)  # fmt: skip
    connections = ",".join(str(c) for c in args.connections)
    print(f"\nAcademy bench: preset {args.preset}, {args.duration} s per scenario, "
          f"{connections} connections, server {args.server or 'default'}, "
          f"{os.cpu_count()} cores (nproc), wrk -t1, load average at the start {start_load}, "
          f"at the end {load}")  # fmt: skip
    print_table(rows, hello)
    if cpu_table:
        print(f"\nIn-process CPU per request (bench.inprocess --n {args.inprocess}):")
        print(cpu_table)
    print_aims(aims(rows, hello, cpu))
    if args.json:
        args.json.write_text(
            json.dumps([{"db": k, **r.__dict__} for k, r in rows], indent=2, ensure_ascii=False)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
