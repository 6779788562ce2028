"""Every regular file rnnbench writes is written beside its destination and renamed into place: a kill, a full disk or
a crash leaves the previous file intact, and a reader never sees half of one.

What is not a regular file is not replaced: a character device, a FIFO or a socket at the path (``--json
/dev/stdout``) is written through, and a symbolic link is followed, so its target is what changes.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rnnbench.errors import RnnbenchError


def replace_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary file beside it, renamed into place: a kill leaves the previous one intact.

    A path that names a device, a FIFO or a socket (directly or through links) is written through instead; an error
    while writing it carries the path in ``OSError.filename``.
    """
    mode = _mode(path)
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        _write_through(path, mode, write)
        return
    path = Path(os.path.realpath(path))  # a link (or a chain of them) is followed to the file it names
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(name, 0o666 & ~_umask())  # as open() would have made it; mkstemp's files are private
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def write_text(path: Path, content: str) -> None:
    """``content`` as UTF-8 at ``path``, replaced atomically (or written through: see :func:`replace_atomically`)."""
    replace_atomically(path, lambda file: file.write(content.encode("utf-8")))


def check_writable_folder(folder: Path, option: str, given: Path) -> None:
    """``folder`` exists and can be written, or can be made: its nearest existing parent is a writable folder."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise RnnbenchError(f"{option} {given}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RnnbenchError(f"{option} {given}: the folder {existing} is not writable; give a path in a writable one")


def is_special(path: Path) -> bool:
    """Whether ``path`` names (through links) something that is written through: a device, a FIFO or a socket."""
    mode = _mode(path)
    return mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _mode(path: Path) -> int | None:
    """The file type and mode of what ``path`` names after links are followed; None where nothing is there."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write_through(path: Path, mode: int, write: Callable[[BinaryIO], object]) -> None:
    try:
        if stat.S_ISSOCK(mode):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.connect(str(path))
                with connection.makefile("wb") as file:
                    write(file)
            return
        with open(path, "wb") as file:
            write(file)
    except OSError as error:
        if error.filename is None:  # a full device says so on write, without naming itself
            error.filename = str(path)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
