"""Refused bombs against a real gunicorn worker: time of each refusal and the worker's memory.

    .venv/bin/python -m bench.bombs

A temporary instance (SQLite, the demo accounts and starter courses), gunicorn with the
production gunicorn.conf.py and one worker on 127.0.0.1; each bomb of issue 12 is sent once
and the worker's resident memory (VmRSS) is read before and after it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.__main__ import ROOT, VENV_BIN, Server, forge_sessions, http


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    return boundary, b"".join(parts) + f"--{boundary}--\r\n".encode()


def main() -> int:
    from sqlalchemy import select

    from academy import create_app
    from academy.auth.models import User
    from academy.courses.models import Course
    from academy.extensions import db
    from academy.quizzes.models import Quiz

    work = Path(tempfile.mkdtemp(prefix="academy-bombs-"))
    env = dict(
        os.environ,
        ACADEMY_INSTANCE_PATH=str(work / "instance"),
        DATABASE_URL=f"sqlite:///{work / 'academy.db'}",
        ACADEMY_SECRET_KEY=secrets.token_hex(32),
        ACADEMY_LOG_LEVEL="WARNING",
    )
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["academy", "seed-demo"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update({k: env[k] for k in ("ACADEMY_INSTANCE_PATH", "DATABASE_URL")})
    app = create_app({"SECRET_KEY": env["ACADEMY_SECRET_KEY"]}, instance_path=env[
        "ACADEMY_INSTANCE_PATH"])  # fmt: skip
    with app.app_context():
        people = {
            u.username: (u.id, u.username, u.session_version)
            for u in db.session.scalars(
                select(User).where(User.username.in_(("teacher", "student")))
            )
        }
        course_id = db.session.scalar(select(Course.id).order_by(Course.id))
        quiz_id = db.session.scalar(select(Quiz.id).order_by(Quiz.id))
    teacher, student = forge_sessions(app, [people["teacher"], people["student"]])
    server = Server("wsgi:app", env, "127.0.0.1", ["--workers", "1"]).start(work / "gunicorn.log")
    try:
        (worker,) = server.workers()
        for _ in range(20):  # warm: imports, templates, the first queries
            http(server.base, "GET", "/dashboard", cookie=student.cookie)
            http(server.base, "GET", f"/quizzes/{quiz_id}/import", cookie=teacher.cookie)
        idle = rss_mb(worker)
        print(f"worker {worker} idle after warm-up: {idle:.1f} MB\n")
        deep = '{"question_id": 1, "value": ' + "[" * 100_000 + "]" * 100_000 + "}"
        gift_many = "".join(f"Q{i}? {{T}}\n\n" for i in range(100_000)).encode()
        gift_big = b"Q? {=" + b"a" * 20_000_000 + b"}"
        nested = "".join("    " * (i % 200) + "- x\n" for i in range(100_000))[:199_000]
        brackets = "[" * 99_990 + "x" + "](" * 1000
        json_headers = {"Content-Type": "application/json", "X-CSRFToken": student.csrf,
                        "Accept": "application/json"}  # fmt: skip
        bombs = [
            ("JSON 100,000 deep", "POST", "/attempts/1/responses", student, deep, json_headers),
            ("Markdown nested list", "POST", f"/studio/courses/{course_id}/preview", teacher,
             {"body": nested, "csrf_token": teacher.csrf}, None),
            ("Markdown brackets", "POST", f"/studio/courses/{course_id}/preview", teacher,
             {"body": brackets, "csrf_token": teacher.csrf}, None),
        ]  # fmt: skip
        for label, data in (("GIFT 100,000 questions", gift_many), ("GIFT one 20 MB question",
                                                                    gift_big)):  # fmt: skip
            boundary, body = multipart({"csrf_token": teacher.csrf}, "file", "q.gift", data)
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            bombs.append((label, "POST", f"/quizzes/{quiz_id}/import", teacher, body, headers))
        bombs[3:3] = [
            ("Markdown list, 49,000 ch", "POST", f"/studio/courses/{course_id}/preview", teacher,
             {"body": nested[:49_000], "csrf_token": teacher.csrf}, None),
            ("Markdown [, 49,000 ch", "POST", f"/studio/courses/{course_id}/preview", teacher,
             {"body": brackets[:49_000], "csrf_token": teacher.csrf}, None),
        ]  # fmt: skip
        print(f"{'bomb':26} {'status':>6} {'seconds':>8} {'RSS before':>11} {'after':>8}")
        results = []
        for label, method, path, who, data, headers in bombs:
            before = rss_mb(worker)
            status, _headers, text, seconds = http(server.base, method, path, who.cookie, data,
                                              headers, timeout=120)  # fmt: skip
            time.sleep(0.5)
            after = rss_mb(worker)
            # The live preview answers 200 with the reason in place of the preview.
            refused = status == 400 or 'class="form-error"' in text
            results.append({"bomb": label, "status": status, "refused": refused,
                            "seconds": round(seconds, 3), "rss_before_mb": round(before, 1),
                            "rss_after_mb": round(after, 1)})  # fmt: skip
            print(f"{label:26} {status:>6} {seconds:>8.2f} {before:>9.1f}MB {after:>6.1f}MB"
                  f"  {'refused' if refused else 'ACCEPTED'}")  # fmt: skip
        print(f"\nworker at the end: {rss_mb(worker):.1f} MB (idle {idle:.1f} MB)")
        print(json.dumps(results), file=sys.stderr)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
