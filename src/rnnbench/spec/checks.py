"""Checks the specs share: positive counts, finite numbers inside documented ranges, files that must be text."""

from __future__ import annotations

import math
from pathlib import Path

from rnnbench.errors import RnnbenchError


def require_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise RnnbenchError(f"{name} must be a positive integer, got {value}")


# The documented ranges of numbers a user gives (flags, experiment files, search spaces).
MAX_LEARNING_RATE = 10.0
MAX_CLIPNORM = 1000.0
MAX_BATCH_SIZE = 65_536
MAX_EPOCHS = 100_000
# Text files a user gives (experiment files, search spaces) are small; a larger one is a wrong path.
MAX_TEXT_FILE_BYTES = 1 << 20


def require_in_range(name: str, value: float | None, low: float, high: float, low_open: bool = False) -> None:
    """``value`` (None: not given) is a finite number from ``low`` (or above it, with ``low_open``) to ``high``."""
    if value is None:
        return
    inside = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not inside:
        lower = f"above {low:g}" if low_open else f"from {low:g}"
        raise RnnbenchError(f"{name} must be a number {lower} {'and at most' if low_open else 'to'} {high:g}, "
                            f"got {value:g}")  # fmt: skip


def read_text_file(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``, a regular file of at most MAX_TEXT_FILE_BYTES, checked before it is opened (a FIFO
    or a device would block or never end)."""
    if not path.exists():
        raise RnnbenchError(f"cannot read {what} {path} (No such file or directory)")
    if path.is_dir():
        raise RnnbenchError(f"{what} {path} is a folder; give a TOML file")
    if not path.is_file():
        raise RnnbenchError(f"{what} {path} is not a regular file (a FIFO, a device or a socket); give a TOML file")
    if path.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise RnnbenchError(f"{what} {path} is over {MAX_TEXT_FILE_BYTES >> 20} MiB; give the TOML file itself")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RnnbenchError(f"cannot read {what} {path} ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise RnnbenchError(f"{path}:{line}: not UTF-8 text (byte {error.object[error.start]:#04x}); save the {what} "
                            "as UTF-8") from None  # fmt: skip
