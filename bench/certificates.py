"""Certificate timings: first render, serving a stored PDF through the app, a ZIP of 40.

Run: .venv/bin/python -m bench.certificates
(a throwaway SQLite database and data folder in a temporary directory).
"""

from __future__ import annotations

import statistics
import tempfile
import time

from academy import create_app
from bench import open_session

NO_PASSWORD = "!"  # noqa: S105 (no one signs in to these accounts)


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-certificates-")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"},
        instance_path=tmp,
    )
    from academy.auth.models import User
    from academy.certificates import services
    from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember
    from academy.courses.models import Course
    from academy.extensions import db

    with app.app_context():
        db.create_all()
        course = Course(slug="seller", title_th="การขายของออนไลน์บน TikTok Shop",
                        title_en="Selling online on TikTok Shop", status="published")  # fmt: skip
        teacher = User(
            username="teacher", full_name="ครู", role="instructor", password_hash=NO_PASSWORD
        )
        klass = Class(name="ตลาดโบ๊เบ๊ รุ่น 1")
        db.session.add_all([course, teacher, klass])
        db.session.flush()
        db.session.add_all([ClassCourse(class_id=klass.id, course_id=course.id),
                            ClassInstructor(class_id=klass.id, user_id=teacher.id)])  # fmt: skip
        certificates = []
        for i in range(41):
            user = User(username=f"seller{i:02d}", full_name=f"นางสาวกฤษณ์ปู่ น้ำทิพย์ที่ {i}",
                        role="learner", password_hash=NO_PASSWORD)  # fmt: skip
            db.session.add(user)
            db.session.flush()
            if i:
                db.session.add(ClassMember(class_id=klass.id, user_id=user.id))
            certificates.append(services.issue(user, course))
        db.session.commit()
        first_user_id = certificates[0].user_id
        code = certificates[0].code
        teacher_id, class_id = teacher.id, klass.id

        # A warm-up render in another certificate: the process's fonts are loaded once.
        with app.test_request_context():
            services.render(certificates[1])
            times = []
            for cert in certificates[1:6]:
                t = time.perf_counter()
                services.render(cert)
                times.append(time.perf_counter() - t)
        print(f"render one (warm process): median {statistics.median(times) * 1000:.0f} ms")

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{first_user_id}:1"
        session["sid"] = open_session(app, first_user_id)
    t = time.perf_counter()
    response = client.get(f"/certificates/{code}.pdf")
    print(f"first download (render + store):     {(time.perf_counter() - t) * 1000:.0f} ms")
    assert response.status_code == 200
    times = []
    for _ in range(50):
        t = time.perf_counter()
        response = client.get(f"/certificates/{code}.pdf")
        times.append(time.perf_counter() - t)
    assert response.status_code == 200
    print(f"serve stored PDF via the app:        median {statistics.median(times) * 1000:.1f} ms")

    with client.session_transaction() as session:
        session["_user_id"] = f"{teacher_id}:1"
        session["sid"] = open_session(app, teacher_id)
    t = time.perf_counter()
    response = client.get(f"/classes/{class_id}/certificates.zip")
    assert response.status_code == 200
    size = len(response.data)
    print(
        f"ZIP of 40 (all rendered now):        {time.perf_counter() - t:.2f} s, {size // 1024} kB"
    )
    t = time.perf_counter()
    client.get(f"/classes/{class_id}/certificates.zip").close()
    print(f"ZIP of 40 (stored PDFs):             {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
