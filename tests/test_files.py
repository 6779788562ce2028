"""Files are replaced atomically: a writer that fails leaves the previous file and no partial file behind."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from rnnbench.files import is_special, replace_atomically, write_text


def test_a_failed_write_leaves_the_previous_file_intact_and_nothing_beside_it(tmp_path):
    path = tmp_path / "report.html"
    write_text(path, "first")

    def fail_halfway(file):
        file.write(b"half of the second")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        replace_atomically(path, fail_halfway)
    assert path.read_text() == "first"
    assert [entry.name for entry in tmp_path.iterdir()] == ["report.html"]


def test_a_written_file_has_the_usual_permissions(tmp_path):
    path = tmp_path / "sub" / "summary.json"
    write_text(path, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_text() == "{}" and path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    received = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read)
    reader.start()
    write_text(fifo, "{}")
    reader.join(timeout=10)
    assert received == [b"{}"] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert [entry.name for entry in tmp_path.iterdir()] == ["out.json"]


def test_a_character_device_is_written_through_and_a_full_one_names_itself(tmp_path):
    null = tmp_path / "null"
    full = tmp_path / "full"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making device nodes needs root (CI runs as root)")
    write_text(null, "{}")
    assert stat.S_ISCHR(null.stat().st_mode) and is_special(null)
    with pytest.raises(OSError) as raised:
        write_text(full, "{}")
    assert raised.value.filename == str(full) and stat.S_ISCHR(full.stat().st_mode)


def test_a_symlink_is_followed_so_its_target_changes(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "missing.json")
    write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "missing.json").read_text() == "made"


def test_a_socket_is_written_through(tmp_path):
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    received = []

    def accept() -> None:
        connection, _ = server.accept()
        with connection:
            received.append(connection.makefile("rb").read())

    listener = threading.Thread(target=accept)
    listener.start()
    write_text(path, "{}")
    listener.join(timeout=10)
    server.close()
    assert received == [b"{}"] and stat.S_ISSOCK(path.stat().st_mode)
