"""The app factory, configuration, health check, security headers and error pages."""

from __future__ import annotations

import pytest

from academy import ConfigError, create_app
from academy.core.web import CSP


def test_secret_key_is_generated_once_into_instance(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"}, str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    again = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"}, str(tmp_path))
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SIGNIN_MAX_FAILURES_PER_ACCOUNT = 7\nBUDDHIST_ERA = False\n"
    )
    monkeypatch.setenv("ACADEMY_SIGNIN_MAX_FAILURES_PER_ACCOUNT", "9")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"}, str(tmp_path))
    assert app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"] == 9  # environment wins
    assert app.config["BUDDHIST_ERA"] is False  # instance/config.py applied


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app, db):
    with db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@localhost/x", "must be sqlite"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot connect to the database"),
    ],
)
def test_bad_database_url_stops_start_up_with_one_clear_error(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"SQLALCHEMY_DATABASE_URI": url}, str(tmp_path))


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"
    storage = response.json["storage"]
    assert storage["data_dir"]["free_bytes"] > 0
    if client.application.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The database's own disk is reported where it is a file on this machine.
        assert storage["database"]["total_bytes"] > 0
    else:
        assert "database" not in storage
    assert storage["threshold_bytes"] == 1024**3 and storage["warning"] is False


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_are_never_stored(client, learner):
    client.login(learner)
    response = client.get("/account/password")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_fingerprinted_and_long_cached(client, learner):
    page = client.get("/").get_data(as_text=True)
    assert "/static/v/" in page
    url = page.split('<link rel="stylesheet" href="')[1].split('"')[0]
    assert url.startswith("/static/v/") and url.endswith("/css/app.css")
    client.login(learner)  # signed-in pages are no-store; their static files are not
    response = client.get(url)
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public and response.cache_control.immutable
    assert not response.cache_control.no_store
    response.close()
    # Fonts the stylesheet names resolve inside the same versioned folder, so they are
    # long-cached too, and the font the page preloads is the very URL the stylesheet uses.
    response = client.get(url)
    css = response.get_data(as_text=True)
    response.close()
    font = css.split('url("')[1].split('"')[0]
    font_url = url.rsplit("/css/", 1)[0] + "/" + font.removeprefix("../")
    assert f'href="{font_url}"' in page
    response = client.get(font_url)
    assert response.status_code == 200 and response.cache_control.immutable
    response.close()
    # The older ?v= form keeps working.
    response = client.get("/static/css/app.css?v=abc")
    assert response.cache_control.max_age == 365 * 24 * 3600
    response.close()


def test_home_page_is_thai_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="th">' in page
    assert "เข้าสู่ระบบ" in page


@pytest.mark.parametrize(("language", "text"), [("th", "ไม่พบหน้านี้"), ("en", "Page not found")])
def test_friendly_404_in_both_languages(client, language, text):
    client.set_cookie("lang", language)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_404_as_json_for_api_clients(client):
    response = client.get("/no/such", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Not Found"


def test_friendly_500_page(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"}, str(tmp_path))

    @app.route("/_boom_for_test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/_boom_for_test")
    assert response.status_code == 500
    assert "ระบบของเราเกิดข้อผิดพลาด" in response.get_data(as_text=True)


def test_links_built_once_follow_the_mount_point(client):
    # The header's and static URLs are kept per app (issue 15) by the mount point: the same
    # app served under /academy (SCRIPT_NAME) links there, and at / links at /.
    plain = client.get("/sign-in").get_data(as_text=True)
    mounted = client.get("/sign-in", base_url="http://localhost/academy")
    page = mounted.get_data(as_text=True)
    assert 'href="/courses"' in plain and 'href="/academy/courses"' in page
    assert 'href="/academy/static/v/' in page and 'href="/static/v/' in plain
    assert 'href="/courses"' in client.get("/sign-in").get_data(as_text=True)


# -- SQLite writers queue on a lock file (academy/core/db.py) ----------------------------------


def _queue_is_held(database: str) -> bool:
    import fcntl
    import os

    fd = os.open(database + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture
def sqlite_app(tmp_path):
    from academy.extensions import db

    database = str(tmp_path / "queue.db")
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
         "SQLITE_BUSY_TIMEOUT_MS": 100},
        instance_path=str(tmp_path / "instance"),
    )  # fmt: skip
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        db.session.commit()
    yield app, database
    with app.app_context():
        db.engine.dispose()


def test_a_writing_request_holds_the_writer_queue_until_it_ends(sqlite_app):
    from academy.extensions import db

    app, database = sqlite_app
    insert = db.text("INSERT INTO notes (body) VALUES ('x')")
    with app.test_request_context("/", method="POST"):
        db.session.execute(insert)
        assert _queue_is_held(database)
        db.session.commit()
        assert not _queue_is_held(database)
        db.session.execute(insert)
        assert _queue_is_held(database)
        db.session.rollback()
        assert not _queue_is_held(database)
    with app.test_request_context("/", method="GET"):  # a page view reads: never queues
        db.session.execute(db.text("SELECT count(*) FROM notes"))
        assert not _queue_is_held(database)
        db.session.rollback()


def test_a_writer_waits_its_turn_beyond_sqlites_busy_timeout(sqlite_app):
    # SQLite alone would answer "database is locked" after the busy timeout (100 ms here);
    # queued, the second writer simply goes when the first has committed.
    import threading
    import time

    from academy.extensions import db

    app, _database = sqlite_app
    holding, results = threading.Event(), []

    def first():
        with app.test_request_context("/", method="POST"):
            db.session.execute(db.text("INSERT INTO notes (body) VALUES ('first')"))
            holding.set()
            time.sleep(0.5)
            db.session.commit()

    def second():
        holding.wait()
        with app.test_request_context("/", method="POST"):
            db.session.execute(db.text("INSERT INTO notes (body) VALUES ('second')"))
            db.session.commit()
            results.append("saved")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["saved"]
    with app.app_context():
        bodies = db.session.scalars(db.text("SELECT body FROM notes ORDER BY id")).all()
    assert bodies == ["first", "second"]


def test_a_second_connection_in_the_same_thread_does_not_wait_for_itself(sqlite_app):
    # One thread writing through two connections would wait forever on its own queue lock;
    # the second goes to SQLite's lock instead, which refuses it after the busy timeout.
    import sqlalchemy.exc

    from academy.extensions import db

    app, _database = sqlite_app
    with app.test_request_context("/", method="POST"):
        db.session.execute(db.text("INSERT INTO notes (body) VALUES ('x')"))
        locked = pytest.raises(sqlalchemy.exc.OperationalError, match="locked")
        with locked, db.engine.begin() as other:
            other.execute(db.text("INSERT INTO notes (body) VALUES ('y')"))
        db.session.rollback()
