"""The review queue, a learner's assignment page and the coach's "my learners" at 5 and 500
hand-ins (queries and time per page, which must not grow with the hand-ins), and the time to
re-encode one 12 MB phone photo.

    .venv/bin/python -m bench.assignments                 # SQLite in a temporary folder
    DATABASE_URL=postgresql://... .venv/bin/python -m bench.assignments
    .venv/bin/python -m bench.assignments --sizes 5,500 --runs 20

Hand-ins and reviews go through the real services (Pillow re-encodes every photo), as the
pages make them. Half the learners have a reviewed first version and a second one waiting,
so the learner's page shows history and the queue holds what a coach sees on a busy week.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time

from PIL import Image

from academy import create_app
from academy.assignments import photos, services
from academy.assignments.models import Assignment
from academy.auth.models import User
from academy.classes.models import Class, ClassCourse, ClassInstructor, ClassMember
from academy.courses.models import PUBLISHED, Course, Enrolment, Module
from academy.extensions import db
from bench.progress_gradebook import NO_SIGN_IN, measure

CRITERIA = [
    {"id": "light", "title": "ถ่ายในแสงธรรมชาติ"},
    {"id": "background", "title": "พื้นหลังเรียบ"},
    {"id": "price", "title": "มีป้ายราคา", "required": False},
]
DONE = {"light": {"done": True}, "background": {"done": True}, "price": {"done": False}}
NOT_YET = {**DONE, "background": {"done": False, "comment": "ใช้ผ้าขาวรองพื้น"}}


def small_photo() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def phone_photo() -> bytes:
    """A 4000 x 3000 JPEG of about 12 MB: colour noise, the worst case for the re-encoder (it
    barely compresses; a real photo of a product shrinks far more)."""
    out = io.BytesIO()
    noise = Image.merge("RGB", [Image.effect_noise((4000, 3000), 30) for _ in range(3)])
    noise.save(out, "JPEG", quality=97)
    return out.getvalue()


def seed(submissions: int) -> tuple[int, int, int]:
    """A course with one photo assignment, a coach, and learners whose hand-ins add up to
    `submissions` versions; returns (coach id, the busiest learner's id, assignment id)."""
    course = Course(slug=f"photo-{submissions}", title_th="ถ่ายรูปสินค้า", status=PUBLISHED)
    db.session.add(course)
    db.session.flush()
    module = Module(course_id=course.id, key="m1", position=1, title_th="บทที่ 1")
    db.session.add(module)
    db.session.flush()
    task = Assignment(course_id=course.id, module_id=module.id, key="photo", title_th="รูปสินค้า",
                      kinds=["photos"], max_photos=1, criteria=CRITERIA)  # fmt: skip
    coach = User(username=f"coach{submissions}", full_name="โค้ช", role="instructor",
                 password_hash=NO_SIGN_IN)  # fmt: skip
    klass = Class(name=f"ตลาด {submissions}")
    db.session.add_all([task, coach, klass])
    db.session.flush()
    db.session.add(ClassInstructor(class_id=klass.id, user_id=coach.id))
    db.session.add(ClassCourse(class_id=klass.id, course_id=course.id))
    photo = small_photo()
    made, n, busiest = 0, 0, None
    while made < submissions:
        learner = User(username=f"s{submissions}-{n}", full_name=f"ผู้ขาย {n}", role="learner",
                       password_hash=NO_SIGN_IN)  # fmt: skip
        db.session.add(learner)
        db.session.flush()
        db.session.add(ClassMember(class_id=klass.id, user_id=learner.id))
        db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
        upload = [services.Upload("a.jpg", photo)]
        first = services.hand_in(learner, task, token=f"{n}-1", photos=upload)
        made += 1
        if made < submissions and n % 2 == 0:
            services.review(coach, first, results=NOT_YET, comment="แก้", passed=False)
            services.hand_in(learner, task, token=f"{n}-2", photos=upload)
            made += 1
            busiest = learner.id
        busiest = busiest or learner.id
        n += 1
        if n % 50 == 0:
            db.session.commit()
    db.session.commit()
    return coach.id, busiest, task.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,500")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="academy-bench-")
    config = {"SECRET_KEY": "bench", "TESTING": False, "DATA_DIR": folder}
    if not os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder}/bench.db"
    app = create_app(config, instance_path=folder)
    with app.app_context():
        db.drop_all()
        db.create_all()
        backend = db.engine.dialect.name
    for size in (int(s) for s in args.sizes.split(",")):
        with app.app_context():
            start = time.perf_counter()
            coach_id, learner_id, task_id = seed(size)
            seeded = time.perf_counter() - start
        print(f"{backend}: {size} hand-ins (seeded through the services in {seeded:.1f} s)")
        for label, url, who in (
            ("review queue", "/reviews", coach_id),
            ("learner's page", f"/assignments/{task_id}", learner_id),
            ("my learners", "/coaching", coach_id),
        ):
            times, queries, kib = measure(app, url, who, args.runs)
            print(f"  {label:15s} median {statistics.median(times):6.1f} ms  "
                  f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:6.1f} ms  "
                  f"{queries} queries  {kib / 1024:.0f} KiB")  # fmt: skip
    data = phone_photo()
    with app.app_context():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            done = photos.process(data, "IMG_0001.JPG")
            times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    print(f"phone photo: {len(data) / 1e6:.1f} MB 4000x3000 -> {len(done.data) / 1024:.0f} KiB "
          f"{done.width}x{done.height}, median {median:.0f} ms")  # fmt: skip
    with app.app_context():
        db.drop_all()


if __name__ == "__main__":
    main()
