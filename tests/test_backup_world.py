"""The backup round trip with a full world: every table that the world fills (people, school,
class, courses, a course file, quiz, attempt, responses, certificate, audit...) comes back
row for row, and every uploaded file byte for byte (tests/test_backup.py covers writes going
on during the backup)."""

from __future__ import annotations

from pathlib import Path

from academy.admin.backup import create_backup, restore_backup
from academy.core import audit
from academy.extensions import db
from tests.fixtures.databases import all_rows, files_of, fresh_database


def test_round_trip_of_a_full_world(app, world, tmp_path, worker_name):
    audit.record("test.world", world.user("learner"), actor=world.user("admin"))
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    data_dir = app.config["DATA_DIR"]
    archive = tmp_path / "academy.tar.gz"
    create_backup(archive, url, Path(data_dir), "test")
    restored_url = fresh_database(tmp_path, f"academy_world_{worker_name}")
    restored_dir = tmp_path / "restored-data"
    restore_backup(archive, restored_url, restored_dir)

    before, after = all_rows(url), all_rows(restored_url)
    filled = sorted(name for name, rows in before.items() if rows)
    assert len(filled) >= 15, filled
    assert set(after) == set(before) == {t.name for t in db.metadata.sorted_tables}
    for table in before:
        assert after[table] == before[table], table
    assert files_of(Path(data_dir)), "the world's course file is on disk"
    assert files_of(restored_dir) == files_of(Path(data_dir))
