"""Errors that reach the user as one line (exit status 2) instead of a traceback."""


class RnnbenchError(Exception):
    """Bad usage or bad input: the message says what is wrong and what to do."""


class UnknownNameError(RnnbenchError):
    """A name that is not in a registry; the message lists the known names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} '{name}'; known: {', '.join(sorted(known))}")
        self.kind = kind
        self.name = name
        self.known = sorted(known)
