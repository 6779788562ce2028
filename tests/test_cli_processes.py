"""The command line as a real process meeting the world: Ctrl-C, a reader that goes away, a worker that is killed.

Each test starts ``rnnbench compare`` as its own process, acts on it with real signals and pipes, and reads the store
afterwards: no run may stay marked running, and whatever finished stays.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from unprivileged import unprivileged_prefix

# Long enough that no run ends before the test acts on it.
LONG = ["--dataset", "digits", "--models", "gru,lstm", "--seeds", "1", "--no-report"]
LONG_EPOCHS = "400"


def _start(tmp_path: Path, *args: str, epochs: str = LONG_EPOCHS) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnnbench",
            "compare",
            *LONG,
            "--epochs",
            epochs,
            "--store",
            str(tmp_path / "r.db"),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},  # plain progress lines
    )


def _statuses(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "r.db") as connection:
        return dict(connection.execute("SELECT run_key, status FROM runs").fetchall())


def _wait_for_epoch(process: subprocess.Popen[str]) -> list[str]:
    """Read progress until a run has finished an epoch (and so has a checkpoint)."""
    assert process.stdout is not None
    lines = []
    while " epoch 2/" not in (line := process.stdout.readline()):
        assert line, f"the command ended early: {process.stderr.read() if process.stderr else ''}"
        lines.append(line)
    return lines


def _workers(pid: int) -> list[int]:
    """The worker processes of the local executor (multiprocessing's resource tracker is not one)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = []
    for child in map(int, children):
        command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in command:
            found.append(child)
    return found


def test_ctrl_c_stops_says_what_was_kept_and_the_runs_resume(tmp_path):
    process = _start(tmp_path, "--jobs", "2")
    _wait_for_epoch(process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == (
        f"rnnbench: interrupted; 0 of 2 runs are finished and kept in {tmp_path / 'r.db'}, and the 2 stopped mid-run "
        "resume from their last finished epoch when the same command runs again"
    )
    assert "Traceback" not in stderr
    assert set(_statuses(tmp_path).values()) == {"interrupted"}
    checkpoints = {path.stem for path in (tmp_path / "r.db-checkpoints").glob("*.npz")}
    assert checkpoints and checkpoints <= set(_statuses(tmp_path))
    # The workers went with the driver.
    time.sleep(0.5)
    assert not [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if _is_child_of(pid, process.pid)]
    # The same command again resumes the runs from their checkpoints.
    again = _start(tmp_path, "--jobs", "2")
    assert again.stdout is not None
    while ": resuming after epoch " not in (line := again.stdout.readline()):
        assert line, "the rerun never resumed a run"
    again.send_signal(signal.SIGINT)
    again.communicate(timeout=30)
    assert again.returncode == 130


def _is_child_of(pid: int, parent: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[1]) == parent and fields[0] != "Z"


def test_a_closed_pipe_ends_quietly_and_leaves_no_run_running(tmp_path):
    process = _start(tmp_path, "--jobs", "1")
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first.startswith("[1/2]")
    process.stdout.close()  # as `| head -1` does once it has its line
    process.wait(timeout=60)
    assert process.returncode == 141
    assert process.stderr.read() == ""
    assert set(_statuses(tmp_path).values()) <= {"interrupted"}


def test_a_killed_worker_fails_its_run_exit_status_1_with_one_line_on_stderr(tmp_path):
    process = _start(tmp_path, "--jobs", "2", epochs="60")
    _wait_for_epoch(process)
    victim = _workers(process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    statuses = _statuses(tmp_path)
    assert sorted(statuses.values()) == ["failed", "finished"]
    [failed_key] = [key for key, status in statuses.items() if status == "failed"]
    lines = stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"rnnbench: run {failed_key} (")
    assert lines[0].endswith("digits) failed: worker process killed by SIGKILL")
    assert lines[1] == "rnnbench: 1 of 2 runs failed; rerunning the same command trains them again"
    # The table and the verdict came first, on stdout, for the run that finished.
    assert "verdict:" in stdout


def test_report_reads_a_store_in_a_read_only_folder_and_writes_nothing_there(tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    store = shelf / "r.db"
    subprocess.run([sys.executable, "-m", "rnnbench", "compare", "--dataset", "digits", "--models", "gru", "--units",
                    "8", "--epochs", "1", "--no-report", "--quiet", "--store", str(store)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    shelf.chmod(0o555)
    before = sorted(path.name for path in shelf.iterdir())
    commands = (["report", "--store", str(store), "--out", str(tmp_path / "report")],
                ["models", "saved", "--store", str(store)])  # fmt: skip
    for command in commands:
        process = subprocess.run([*unprivileged_prefix(), sys.executable, "-m", "rnnbench", *command],
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
        assert process.returncode == 0 and process.stderr == "", process.stderr
    assert (tmp_path / "report" / "report.html").is_file()
    assert sorted(path.name for path in shelf.iterdir()) == before
    # Writing there is refused before anything is done, in one line.
    command = [*unprivileged_prefix(), sys.executable, "-m", "rnnbench", "compare", "--dataset", "digits", "--store"]
    process = subprocess.run([*command, str(store)], capture_output=True, text=True, timeout=300)
    assert process.returncode == 2
    expected = f"--store {store}: the folder {shelf} is not writable; give a path in a writable one"
    assert process.stderr == f"rnnbench: error: {expected}\n"
