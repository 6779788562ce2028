"""Whether output may be live (progress bars, carriage returns) or must be plain lines; native libraries' chatter
on stderr kept from the user."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rnnbench.errors import OutputClosed
from rnnbench.settings import read_settings


def interactive(stream: IO[str]) -> bool:
    """Live displays only on a real terminal and never under CI, where carriage returns would spam the log."""
    return stream.isatty() and not read_settings().ci


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """Nothing reaches file descriptor 2 inside, not even what native code writes there (Ray's core, TensorFlow's C++
    logging, which no setting silences); rnnbench says what matters in its own words."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class StopWhenReaderCloses:
    """A text stream whose reader may go away (``rnnbench compare | head -1``): writing then stops the command with
    :class:`OutputClosed` rather than a BrokenPipeError that a failing run's handler might take for the run's own."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise OutputClosed from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise OutputClosed from None

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def silence_closed_stdout() -> None:
    """After the reader of stdout went away: send what is still buffered nowhere, so that exiting says nothing."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
