"""Backups: a consistent copy while the app writes, a faithful restore, and clear refusals."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from academy import create_app
from academy.admin.backup import BackupError, create_backup, restore_backup
from academy.core import audit
from academy.core.db import utcnow
from academy.core.models import AuditEntry, SiteSetting
from academy.extensions import db as _db
from tests.conftest import PG_URL, TEST_CONFIG

WRITTEN = {"site_settings", "audit_entries"}


def fresh_database(tmp_path: Path, name: str) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path / (name + '.db')}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return (
        make_url(PG_URL)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def all_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in _db.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


class Writer(threading.Thread):
    """Writes pairs (a setting and an audit entry) in one transaction each, as fast as it can:
    a consistent snapshot holds whole pairs, numbered without gaps."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.stop = threading.Event()
        self.count = 0
        self.error: Exception | None = None

    def run(self):
        try:
            while not self.stop.is_set():
                n = self.count
                with self.engine.begin() as conn:
                    conn.execute(insert(SiteSetting).values(key=f"w{n}", value=str(n)))
                    conn.execute(
                        insert(AuditEntry).values(
                            at=utcnow(), action="test.write", details={"n": n}
                        )
                    )
                self.count += 1
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            self.engine.dispose()


@pytest.fixture
def data_dir(app) -> Path:
    folder = Path(app.config["DATA_DIR"])
    (folder / "uploads" / "course-1").mkdir(parents=True, exist_ok=True)
    (folder / "uploads" / "course-1" / "บทที่ 1.pdf").write_bytes(b"%PDF-1.7 lesson" * 100)
    (folder / "certificates").mkdir(exist_ok=True)
    (folder / "certificates" / "ABC123.pdf").write_bytes(bytes(range(256)) * 50)
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


def test_round_trip_while_writing(app, db, make_user, data_dir, tmp_path, worker_name):
    people = [make_user(role) for role in ("learner", "instructor", "admin")]
    audit.record(audit.PASSWORD_RESET, people[0], actor=people[2])
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    writer = Writer(url)
    writer.start()
    while writer.count < 20 and writer.is_alive():
        time.sleep(0.01)
    archive = tmp_path / "academy.tar.gz"
    manifest = create_backup(archive, url, data_dir, "test")
    time.sleep(0.1)
    writer.stop.set()
    writer.join(10)
    assert writer.error is None, writer.error
    assert writer.count > 20

    assert manifest["database"] == ("postgresql" if PG_URL else "sqlite")
    assert {f["path"] for f in manifest["files"]} == set(files_of(data_dir))

    restored_url = fresh_database(tmp_path, f"academy_restored_{worker_name}")
    restored_dir = tmp_path / "restored-data"
    restore_backup(archive, restored_url, restored_dir)

    before, after = all_rows(url), all_rows(restored_url)
    for table in before:
        if table not in WRITTEN:
            assert after[table] == before[table], table
    assert set(after["site_settings"]) <= set(before["site_settings"])
    # One writer: audit ids grow in commit order, so the snapshot holds a prefix of them.
    restored_audit = after["audit_entries"]
    assert restored_audit == before["audit_entries"][: len(restored_audit)]
    settings = {int(k[1:]) for k, _v in after["site_settings"] if k.startswith("w")}
    columns = [c.name for c in AuditEntry.__table__.columns]
    entries = [dict(zip(columns, row, strict=True)) for row in restored_audit]
    written = {e["details"]["n"] for e in entries if e["action"] == "test.write"}
    # Whole transactions only, and no gap: the snapshot of one instant while writes went on.
    assert settings == written == set(range(len(settings)))
    assert 20 <= len(settings) < writer.count + 1
    assert files_of(restored_dir) == files_of(data_dir)


def _cli_app(tmp_path: Path, url: str, name: str):
    app = create_app(
        dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url, DATA_DIR=str(tmp_path / name)),
        instance_path=str(tmp_path / f"instance-{name}"),
    )
    with app.app_context():
        _db.create_all()
    return app


def test_cli_backup_and_restore_asks_before_overwriting(tmp_path, worker_name):
    url = fresh_database(tmp_path, f"academy_cli_{worker_name}")
    app = _cli_app(tmp_path, url, "data")
    runner = app.test_cli_runner()
    data = Path(app.config["DATA_DIR"])
    (data / "a.txt").write_text("first")
    with app.app_context():
        _db.session.add(SiteSetting(key="self_registration", value="0"))
        _db.session.commit()
    archive = tmp_path / "b.tar.gz"
    result = runner.invoke(args=["academy", "backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 file(s)" in result.output

    # Later changes...
    (data / "a.txt").write_text("changed")
    (data / "new.txt").write_text("added after the backup")
    with app.app_context():
        _db.session.get(SiteSetting, "self_registration").value = "1"
        _db.session.commit()

    result = runner.invoke(args=["academy", "restore", str(archive)])
    assert result.exit_code != 0
    assert "--yes" in result.output
    assert (data / "new.txt").exists()

    result = runner.invoke(args=["academy", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert files_of(data) == {"a.txt": b"first"}
    with app.app_context():
        _db.session.remove()
        assert _db.session.get(SiteSetting, "self_registration").value == "0"
        _db.session.remove()
        _db.engine.dispose()

    result = runner.invoke(args=["academy", "backup", str(archive)])
    assert result.exit_code != 0 and "already exists" in result.output


def test_cli_backup_and_restore_are_audited(tmp_path, worker_name):
    url = fresh_database(tmp_path, f"academy_audit_{worker_name}")
    app = _cli_app(tmp_path, url, "data")
    runner = app.test_cli_runner()
    archive = tmp_path / "audited.tar.gz"
    result = runner.invoke(args=["academy", "backup", str(archive)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["academy", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        _db.session.remove()
        entries = _db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        # The restored database is the one from before "backup.create" was written; it then
        # records that it was put back, and from which file.
        assert [e.action for e in entries] == ["backup.restore"]
        assert entries[0].details["path"] == str(archive.resolve())
        assert entries[0].details["backup_created_at"]
        _db.session.remove()
        _db.engine.dispose()


def test_cli_backup_is_audited(tmp_path, worker_name):
    url = fresh_database(tmp_path, f"academy_audit_b_{worker_name}")
    app = _cli_app(tmp_path, url, "data")
    archive = tmp_path / "audited.tar.gz"
    result = app.test_cli_runner().invoke(args=["academy", "backup", str(archive)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        (entry,) = _db.session.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.actor_id) == ("backup.create", None)
        assert entry.details["path"] == str(archive.resolve()) and entry.details["files"] == 0
        _db.session.remove()
        _db.engine.dispose()


def _tamper(archive: Path, target: Path, change) -> None:
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            content = src.extractfile(member).read()
            content = change(member.name, content)
            if content is None:
                continue
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))


@pytest.fixture
def good_archive(app, tmp_path, data_dir) -> Path:
    archive = tmp_path / "good.tar.gz"
    create_backup(archive, app.config["SQLALCHEMY_DATABASE_URI"], data_dir, "test")
    return archive


def _restore(archive: Path, tmp_path: Path, worker_name: str):
    url = fresh_database(tmp_path, f"academy_refused_{worker_name}")
    restore_backup(archive, url, tmp_path / "target-data")


def test_refuses_a_damaged_file(good_archive, tmp_path, worker_name):
    bad = tmp_path / "bad.tar.gz"
    _tamper(good_archive, bad, lambda n, c: c + b"x" if n.endswith("ABC123.pdf") else c)
    with pytest.raises(BackupError, match="does not match its checksum"):
        _restore(bad, tmp_path, worker_name)
    assert not (tmp_path / "target-data").exists()


def test_refuses_a_missing_file(good_archive, tmp_path, worker_name):
    bad = tmp_path / "bad.tar.gz"
    _tamper(good_archive, bad, lambda n, c: None if n.endswith("ABC123.pdf") else c)
    with pytest.raises(BackupError, match="incomplete"):
        _restore(bad, tmp_path, worker_name)


def test_refuses_a_foreign_archive(tmp_path, worker_name):
    foreign = tmp_path / "photos.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        body = json.dumps({"format": "something-else"}).encode()
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    with pytest.raises(BackupError, match="not an Academy backup"):
        _restore(foreign, tmp_path, worker_name)


def test_refuses_a_truncated_archive(good_archive, tmp_path, worker_name):
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(good_archive.read_bytes()[: good_archive.stat().st_size // 2])
    with pytest.raises(BackupError, match=r"damaged|cannot be read"):
        _restore(truncated, tmp_path, worker_name)


def test_refuses_another_database_kind(good_archive, tmp_path):
    other = "postgresql://nobody@127.0.0.1:1/none" if not PG_URL else "sqlite:///x.db"
    with pytest.raises(BackupError, match="database but this Academy uses"):
        restore_backup(good_archive, other, tmp_path / "d")
