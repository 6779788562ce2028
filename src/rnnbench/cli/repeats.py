"""An option given twice with different values is a mistake to say, not a choice to make: click keeps the last."""

from __future__ import annotations

from collections.abc import Sequence

import click

from rnnbench.errors import RnnbenchError


def refuse_conflicting_repeats(group: click.Group, argv: Sequence[str]) -> None:
    """Refuse ``argv`` when an option that takes one value (or a flag and its ``--no-`` form) is given twice with
    different values; options that may repeat (``--cell-option``) and the same value twice pass."""
    command, rest = _command(group, list(argv))
    by_name = {name: param for param in command.params if isinstance(param, click.Option)
               for name in (*param.opts, *param.secondary_opts)}  # fmt: skip
    seen: dict[str, tuple[str, str]] = {}
    tokens = iter(rest)
    for token in tokens:
        if token == "--":
            return
        name, _, attached = token.partition("=")
        param = by_name.get(name)
        if param is None or param.multiple or param.count or param.name is None:
            continue
        if param.is_flag:
            value = "off" if name in param.secondary_opts else "on"
        else:
            value = attached if "=" in token else next(tokens, "")
        earlier = seen.setdefault(param.name, (name, value))
        if earlier[1] != value:
            raise RnnbenchError(f"{earlier[0]} {earlier[1]} and {name} {value}: {param.opts[0]} is given twice with "
                                "different values; give it once")  # fmt: skip


def _command(group: click.Group, argv: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command ``argv`` names and the arguments after its name."""
    command: click.Command = group
    while isinstance(command, click.Group) and argv and argv[0] in command.commands:
        command, argv = command.commands[argv[0]], argv[1:]
    return command, argv
