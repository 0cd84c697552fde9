"""Backups: one `.tar.gz` with the database, every file under DATA_DIR and a manifest.

Made while the app runs. SQLite is copied with the online backup API (one consistent snapshot
even while learners write); PostgreSQL with `pg_dump --format=custom` (one snapshot
transaction). The files (uploads, certificate PDFs) are only ever added, so copying them after
the database snapshot never leaves a row pointing at a missing file.

Archive layout:

    manifest.json        {"format": "academy-backup", "format_version": 1, "academy_version",
                          "created_at", "database": "sqlite" | "postgresql", "schema_revision",
                          "database_file", "database_sha256", "files": [{path, size, sha256}]}
    database.sqlite3     or database.pgdump
    data/<path>          every file under DATA_DIR

`restore` checks every checksum before it touches anything, refuses a foreign or broken archive
with one sentence, and refuses to overwrite a database or DATA_DIR that holds anything unless
told to (`overwrite=True`, the CLI's --yes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from academy.core.clock import utcnow
from academy.core.progress import Start, begin

FORMAT = "academy-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_PREFIX = "data/"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why in one sentence."""


# -- helpers -------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _data_files(data_dir: Path) -> Iterator[Path]:
    """Regular files under data_dir, sorted; symbolic links are not followed."""
    if not data_dir.is_dir():
        return
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def pg_tool(name: str) -> str:
    """The newest installed pg_dump/pg_restore (must be at least the server's version)."""
    override = os.environ.get("ACADEMY_PG_BIN")
    candidates = [Path(override) / name] if override else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(
        f"{name} was not found: install PostgreSQL's client programs "
        f"(Debian: apt-get install postgresql-client) or set ACADEMY_PG_BIN to their folder"
    )


def _pg_command(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments, with the password in the environment rather than argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [f"--dbname={conninfo}"], env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # The command is ours (an absolute tool path and fixed flags); nothing comes from a request.
    result = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else result.returncode}")


def _schema_revision(url: URL) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


# -- backup --------------------------------------------------------------------------------


def create_backup(
    archive: Path, database_uri: str, data_dir: Path, version: str, start: Start | None = None
) -> dict:
    """Write the archive (atomically: a temporary name, renamed when complete); return the
    manifest."""
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} already exists; choose a new name")
    url = make_url(database_uri)
    kind = _kind(url)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="academy-backup-") as tmp:
        if kind == "sqlite":
            db_name = "database.sqlite3"
            db_file = Path(tmp) / db_name
            source_path = _sqlite_path(url)
            if not source_path.exists():
                raise BackupError(f"the database file {source_path} does not exist")
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            target = sqlite3.connect(db_file)
            try:
                # One step (pages=-1): a single read transaction, so one consistent snapshot.
                source.backup(target, pages=-1)
            finally:
                target.close()
                source.close()
        else:
            db_name = "database.pgdump"
            db_file = Path(tmp) / db_name
            args, env = _pg_command(url)
            _run(
                [pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={db_file}", *args],
                env,
                "pg_dump",
            )
        files = []
        found = list(_data_files(data_dir))
        step = begin(start, "backup: files checked", len(found))
        for path in found:
            step(1)
            rel = path.relative_to(data_dir).as_posix()
            files.append({"path": rel, "size": path.stat().st_size, "sha256": _sha256(path)})
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "academy_version": version,
            "created_at": utcnow().isoformat(timespec="seconds"),
            "database": kind,
            "schema_revision": _schema_revision(url),
            "database_file": db_name,
            "database_sha256": _sha256(db_file),
            "files": files,
        }
        manifest_file = Path(tmp) / MANIFEST
        manifest_file.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        partial = archive.with_name(archive.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(manifest_file, arcname=MANIFEST)
                tar.add(db_file, arcname=db_name)
                step = begin(start, "backup: files written", len(files))
                for entry in files:
                    step(1)
                    tar.add(data_dir / entry["path"], arcname=DATA_PREFIX + entry["path"])
            os.replace(partial, archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


# -- restore -------------------------------------------------------------------------------


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        manifest = json.loads(handle.read()) if handle else None
    except (KeyError, ValueError, RecursionError):  # RecursionError: a manifest nested too deep
        manifest = None
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise BackupError(f"the archive is damaged ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not an Academy backup (no Academy manifest inside)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"this backup has format version {manifest.get('format_version')}; "
            f"this Academy reads version {FORMAT_VERSION}"
        )
    return manifest


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def _extract_and_verify(archive: Path, workdir: Path) -> dict:
    """Unpack into workdir and check every file against the manifest."""
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} cannot be read as a .tar.gz archive ({exc})") from None
    with tar:
        manifest = read_manifest(tar)
        expected = {manifest["database_file"]: manifest["database_sha256"]}
        expected.update({DATA_PREFIX + f["path"]: f["sha256"] for f in manifest["files"]})
        seen = set()
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or not member.isfile():
                    raise BackupError(f"the archive holds an unexpected entry {member.name!r}")
                if not _safe_name(member.name):
                    raise BackupError(f"the archive holds an unsafe path {member.name!r}")
                tar.extract(member, workdir, filter="data")
                seen.add(member.name)
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            raise BackupError(f"the archive is damaged ({exc})") from None
    missing = set(expected) - seen
    if missing:
        raise BackupError(f"the archive is incomplete: {sorted(missing)[0]} is missing")
    for name, digest in expected.items():
        if _sha256(workdir / name) != digest:
            raise BackupError(f"the archive is damaged: {name} does not match its checksum")
    return manifest


def _database_has_data(url: URL) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def restore_backup(
    archive: Path,
    database_uri: str,
    data_dir: Path,
    *,
    overwrite: bool = False,
    start: Start | None = None,
) -> dict:
    """Put the archive's database and files back. Stop the app servers first."""
    url = make_url(database_uri)
    kind = _kind(url)
    data_dir = Path(data_dir)
    with tempfile.TemporaryDirectory(prefix="academy-restore-") as tmp:
        workdir = Path(tmp)
        manifest = _extract_and_verify(Path(archive), workdir)
        if manifest["database"] != kind:
            raise BackupError(
                f"this backup holds a {manifest['database']} database but this Academy uses "
                f"{kind}; set DATABASE_URL to a {manifest['database']} database to restore it"
            )
        occupied = _database_has_data(url) or any(_data_files(data_dir))
        if occupied and not overwrite:
            raise BackupError(
                "the database or DATA_DIR already holds data; restoring replaces all of it: "
                "run again with --yes to go ahead"
            )
        dump = workdir / manifest["database_file"]
        if kind == "sqlite":
            target_path = _sqlite_path(url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
            target = sqlite3.connect(target_path)
            try:
                # Through SQLite itself, so a live WAL file is handled correctly.
                source.backup(target, pages=-1)
            finally:
                target.close()
                source.close()
        else:
            args, env = _pg_command(url)
            _run(
                [
                    pg_tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                    *args,
                    str(dump),
                ],
                env,
                "pg_restore",
            )
        _restore_files(workdir / DATA_PREFIX.rstrip("/"), data_dir, manifest, start)
    return manifest


def _restore_files(source: Path, data_dir: Path, manifest: dict, start: Start | None) -> None:
    """Make DATA_DIR hold exactly the archive's files (its folder itself stays: it may be a
    mount point)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f["path"] for f in manifest["files"]}
    for path in list(_data_files(data_dir)):
        if path.relative_to(data_dir).as_posix() not in wanted:
            path.unlink()
    step = begin(start, "restore: files", len(wanted))
    for rel in sorted(wanted):
        step(1)
        target = data_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source / rel, partial)
        os.replace(partial, target)
    # Empty folders left behind by removed files.
    for root, dirs, _files in os.walk(data_dir, topdown=False):
        for name in dirs:
            folder = Path(root) / name
            if not any(folder.iterdir()):
                folder.rmdir()
