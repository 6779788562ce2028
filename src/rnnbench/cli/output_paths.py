"""Where a command may write: checked before any work, so that no output replaces something to keep.

A summary or report must never replace a results store, a checkpoint or an input data file, and a path that cannot
be written is said at once, not after an hour of training.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.files import check_writable_folder, is_special

# The first bytes of files rnnbench must not overwrite with a summary: SQLite databases (results stores) and zip
# archives (.npz data sets and checkpoints, .keras models).
KEPT_HEADERS = {b"SQLite format 3\x00": "an SQLite database (a results store?)", b"PK\x03\x04": "a zip archive"}


def store_files(store: Path) -> tuple[Path, ...]:
    """The store and what lives beside it: SQLite's journal files, the lock, the checkpoint and model folders."""
    return (store, Path(f"{store}-wal"), Path(f"{store}-shm"), Path(f"{store}.lock"), Path(f"{store}-checkpoints"),
            Path(f"{store}-models"))  # fmt: skip


def check_output_file(path: Path, option: str, kept: Iterable[Path]) -> None:
    """``path`` (given as ``option``) may be written: it is none of ``kept`` nor inside one, not a file of a kind
    rnnbench keeps, and its folder exists or can be made."""
    _check_not_kept(path, option, kept)
    if is_special(path):  # a device, FIFO or socket (--json /dev/stdout) is written through, never replaced
        if not os.access(path, os.W_OK):
            raise RnnbenchError(f"{option} {path} cannot be written by this user; give another path")
        return
    if path.is_dir():
        raise RnnbenchError(f"{option} {path} is a folder; give a file name")
    if path.is_file():
        with path.open("rb") as file:
            start = file.read(16)
        for header, kind in KEPT_HEADERS.items():
            if start.startswith(header):
                raise RnnbenchError(f"{option} {path} is {kind}, which it would replace; give another file name")
    check_writable_folder(path.parent, option, path)


def check_output_folder(path: Path, option: str, kept: Iterable[Path]) -> None:
    """``path`` (given as ``option``) may be made a folder of outputs."""
    _check_not_kept(path, option, kept)
    if path.exists() and not path.is_dir():
        raise RnnbenchError(f"{option} {path} is a file, not a folder; give a folder")
    check_writable_folder(path, option, path)


def check_apart(outputs: Iterable[tuple[str, Path]]) -> None:
    """No output of a command (given as its option and path) is another or lies inside another: the one written
    later would replace the other (a summary inside the report folder, which the report then rewrites)."""
    named = [(option, path, path.resolve()) for option, path in outputs]
    for option, path, target in named:
        for other_option, other, folder in named:
            if option == other_option:
                continue
            if target == folder:
                raise RnnbenchError(
                    f"{option} {path} is also {other_option} {other}; give each output a path of its own"
                )
            if folder in target.parents:
                raise RnnbenchError(f"{option} {path} is inside {other_option} {other}, which the command also writes; "
                                    "give a path outside it")  # fmt: skip


def _check_not_kept(path: Path, option: str, kept: Iterable[Path]) -> None:
    target = path.resolve()
    for keep in kept:
        resolved = keep.resolve()
        if target == resolved:
            raise RnnbenchError(f"{option} {path} would replace {keep}, which rnnbench keeps; give another path")
        if resolved in target.parents:
            raise RnnbenchError(f"{option} {path} is inside {keep}, which rnnbench keeps; give another path")
