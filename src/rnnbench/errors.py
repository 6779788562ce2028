"""Errors that reach the user as one line (exit status 2) instead of a traceback."""

import re


class RnnbenchError(Exception):
    """Bad usage or bad input: the message says what is wrong and what to do."""


class Interrupted(Exception):
    """The user stopped a comparison (Ctrl-C): the message says what was kept and how to go on (exit status 130)."""


class OutputClosed(BaseException):
    """Standard output was closed by its reader (``rnnbench compare | head -1``): the command stops quietly.

    A BaseException, like KeyboardInterrupt, so that no handler meant for a failing run takes it for one."""


class UnknownNameError(RnnbenchError):
    """A name that is not in a registry; the message lists the known names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} '{name}'; known: {', '.join(sorted(known))}")
        self.kind = kind
        self.name = name
        self.known = sorted(known)


# Backends repeat a prefix once per nested call ("Error dispatching computation: Error dispatching computation: ...").
_REPEATED_PREFIX = re.compile(r"([^:]{3,60}: )\1+")
MAX_REASON_LENGTH = 300


def failure_reason(error: BaseException) -> str:
    """Why a run failed, in one line: the error's own message for bad input, else its kind and message, with the
    backend's repeated prefixes and line breaks folded and anything long cut."""
    if isinstance(error, RnnbenchError):
        text = str(error)
    else:
        message = " ".join(str(error).split())
        if isinstance(error, MemoryError) or "out of memory" in message.lower():
            message = f"out of memory ({message})" if message else "out of memory"
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    text = _REPEATED_PREFIX.sub(r"\1", " ".join(text.split()))
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 3] + "..."
