"""`python -m bench.kept_sizes`: what keeping each starter course costs a phone, and the worker.

For each folder under courses/: the size the manifest announces before saving, and the bytes a
phone really stores (every page and file the manifest lists, fetched as a signed-in learner, as
keep.js does), plus /sw.js and the app shell. An in-memory SQLite app; nothing is left behind."""

from __future__ import annotations

import tempfile

from academy import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "DATA_DIR": data,
                  "WTF_CSRF_ENABLED": False, "PUBLIC_BASE_URL": "http://localhost"}  # fmt: skip
        app = create_app(config)
        with app.app_context():
            from academy.auth.models import User
            from academy.auth.services import hash_password, start_session
            from academy.courses.models import Enrolment
            from academy.extensions import db
            from academy.main import pwa
            from academy.studio.loader import COURSES_DIR, course_folders, load_course

            db.create_all()
            learner = User(username="seller", full_name="ผู้ขาย", role="learner",
                           password_hash=hash_password("x" * 12), session_version=1)  # fmt: skip
            db.session.add(learner)
            courses = [load_course(folder) for folder in course_folders(COURSES_DIR)]
            db.session.flush()
            for course in courses:
                db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
            token = start_session(learner)
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session.update({"_user_id": learner.get_id(), "_fresh": True, "sid": token})
            print(f"{'course':28} {'pages':>5} {'files':>5} {'announced':>10} {'stored':>10}")
            for course in courses:
                manifest = client.get(f"/courses/{course.slug}/offline.json").get_json()
                stored = 0
                for entry in manifest["pages"] + manifest["files"]:
                    response = client.get(entry["url"])
                    stored += len(response.data)
                    response.close()
                print(f"{course.slug:28} {len(manifest['pages']):5} {len(manifest['files']):5} "
                      f"{manifest['bytes']:10,} {stored:10,}")  # fmt: skip
            with app.test_request_context():
                shell = pwa.shell_bytes()
            print(f"/sw.js {len(client.get('/sw.js').data):,} bytes; shell {shell:,} bytes")


if __name__ == "__main__":
    main()
