"""Progress of long commands: a bar with the count and time left on a terminal, a plain line
at every tenth elsewhere (here: the test runner, like cron or a log file)."""

from __future__ import annotations

import os
import re
import select

from academy.core.cli import Bars, progress


def test_a_class_import_off_a_terminal_logs_every_tenth(runner, make_user, make_class, tmp_path):
    klass = make_class(instructor=make_user("instructor"))
    rows = "".join(f"pupil{n:02d},นักเรียน {n},pass-word-{n:02d}\n" for n in range(20))
    source = tmp_path / "class.csv"
    source.write_text("username,full_name,password\n" + rows, encoding="utf-8")
    result = runner.invoke(args=["academy", "import-class", str(source), "--class", str(klass.id)])
    assert result.exit_code == 0, result.output
    lines = re.findall(
        r"import-class: accounts: (\d+)/20 \((\d+)%\), about \d+ s left", result.output
    )
    assert [int(done) for done, _percent in lines] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert "20 learners imported" in result.output


def test_import_courses_counts_the_courses(runner, tmp_path):
    from academy import ROOT

    result = runner.invoke(args=["academy", "import-courses", "--from", str(ROOT / "courses")])
    assert result.exit_code == 0, result.output
    assert "import-courses: 4/4 (100%)" in result.output


def test_on_a_terminal_a_bar_shows_the_count_and_percentage():
    master, replica = os.openpty()
    try:
        with open(replica, "w", encoding="utf-8", closefd=False) as terminal:
            with progress("backup: files written", 3, file=terminal) as step:
                for _ in range(3):
                    step(1)
            terminal.flush()
            shown = b""
            # All that was written is in the terminal's buffer; a read may return a part.
            while select.select([master], [], [], 0)[0]:
                shown += os.read(master, 65536)
            shown = shown.decode()
    finally:
        os.close(master)
        os.close(replica)
    assert "backup: files written" in shown and "3/3" in shown and "100%" in shown, shown


def test_stages_end_one_another_and_empty_work_says_nothing(tmp_path):
    log = tmp_path / "log"
    with log.open("w") as out, Bars(out) as bars:
        first = bars.start("restore: files", 2)
        first(2)
        bars.start("nothing", 0)(1)
    assert log.read_text() == "restore: files: 2/2 (100%), about 0 s left\n"


def test_progress_for_a_web_page_is_a_file_rewritten_every_fiftieth(tmp_path):
    import json

    from academy.core.progress import read_file, to_file

    path = tmp_path / "import.json"
    assert read_file(path) == {"label": "", "done": 0, "total": 0}
    step = to_file(path)("import-class: accounts", 100)
    seen = [json.loads(path.read_text())["done"]]
    for _ in range(100):
        step(1)
        seen.append(read_file(path)["done"])
    assert sorted(set(seen)) == list(range(0, 101, 2))
    assert read_file(path) == {"label": "import-class: accounts", "done": 100, "total": 100}
