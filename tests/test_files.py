"""Files are replaced atomically: a writer that fails leaves the previous file and no partial file behind."""

from __future__ import annotations

import os

import pytest

from rnnbench.files import replace_atomically, write_text


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
