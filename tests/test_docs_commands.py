"""Every ``rnnbench`` command shown in a fenced code block of README.md or docs/*.md is one the command line accepts.

What counts as a command: in any fenced block, a line whose first word is ``rnnbench`` or ``.venv/bin/rnnbench``,
after a ``$ `` prompt is taken off and ``\\`` continuation lines are joined; ``#`` starts a comment, and the command
ends at a shell operator (``|``, ``>``, ``;``, ``&&``). Output lines (``rnnbench: error: ...``) do not start with that
word and are not commands.

Each command is parsed by the real click command line: its subcommand is resolved through the groups (``datasets
list``) and its arguments go through ``make_context``, so an unknown option, a missing argument or a bad choice fails
with the file and line. The one exception is a synopsis: a command with a word in synopsis notation (a word containing
``[``, ``]``, ``<``, ``...`` or a ``|`` inside it, as in ``[--view rows|columns]``), together with the indented lines
below it that start with ``[``. A synopsis cannot be run as written, so for it every ``--option`` it names must be an
option of its subcommand instead.

Commands that are cheap and offline also run end to end, block by block, each block's runnable commands in order in a
fresh temporary folder, and must exit 0: ``models list``, ``models info``, ``datasets list``, ``datasets info`` and
``datasets show`` of ``digits``; ``compare --dataset digits`` when the page shows ``--epochs`` and its runs (models x
seeds) times epochs come to at most 4; and ``models saved`` and ``report`` after such a comparison in the same block.
Everything else (downloads, searches, clusters, files the page does not create) is parsed only.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

import rnnbench.cli
from rnnbench.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
PROGRAMS = ("rnnbench", ".venv/bin/rnnbench")
SHELL_OPERATORS = ("|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&")
SYNOPSIS_MARKS = ("[", "]", "<", "...")
RUN_EPOCH_BUDGET = 4  # runs x epochs of a comparison the test trains


@dataclass(frozen=True)
class Shown:
    """One command as a page shows it: where, its words after the program name, and whether it is a synopsis."""

    page: str
    line: int
    words: tuple[str, ...]
    synopsis: bool = False

    def where(self) -> str:
        return f"{self.page}:{self.line}: rnnbench {' '.join(self.words)}"


def _root_group() -> click.Group:
    """The click group behind ``main``: ``main`` itself, or the group that holds ``compare`` (in rnnbench.cli or beside
    ``main``)."""
    if isinstance(main, click.Group):
        return main
    namespaces = (vars(rnnbench.cli), getattr(main, "__globals__", {}))  # the package, and the module main is in
    groups = [value for names in namespaces for value in names.values() if isinstance(value, click.Group)]
    return next(group for group in groups if "compare" in group.commands)


ROOT_GROUP = _root_group()


def _is_synopsis(words: list[str]) -> bool:
    return any(mark in word for word in words for mark in SYNOPSIS_MARKS) or any(
        "|" in word and word != "|" for word in words
    )


def _command_words(text: str) -> list[str] | None:
    """The words after the program name of a shell line that runs rnnbench, else None."""
    text = text.strip()
    if text.startswith("$ "):
        text = text[2:].lstrip()
    try:
        words = shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote: not a shell command
        return None
    if not words or words[0] not in PROGRAMS:
        return None
    words = words[1:]
    for index, word in enumerate(words):
        if word in SHELL_OPERATORS:
            return words[:index]
    return words


def shown_commands(text: str, page: str) -> list[Shown]:
    """Every rnnbench command in the fenced code blocks of ``text``."""
    lines = text.splitlines()
    commands: list[Shown] = []
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
            index += 1
            continue
        if fence is None:
            index += 1
            continue
        start = index
        joined = line
        while joined.rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            joined = joined.rstrip()[:-1] + " " + lines[index].strip()
        words = _command_words(joined)
        if words is not None and _is_synopsis(words):
            while index + 1 < len(lines) and lines[index + 1][:1].isspace() and lines[index + 1].lstrip()[:1] == "[":
                index += 1
                words += lines[index].split()
            commands.append(Shown(page, start + 1, tuple(words), synopsis=True))
        elif words is not None:
            commands.append(Shown(page, start + 1, tuple(words)))
        index += 1
    return commands


def _all_shown() -> list[Shown]:
    found = []
    for path in PAGES:
        found += shown_commands(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return found


ALL_SHOWN = _all_shown()


def _resolve(words: tuple[str, ...]) -> tuple[click.Command, click.Context, list[str]]:
    """The (sub)command the words name, the context of its group, and the words left for it."""
    command: click.Command = ROOT_GROUP
    context = click.Context(ROOT_GROUP, info_name="rnnbench")
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(context, rest[0])
        if sub is None:
            known = ", ".join(command.list_commands(context))
            raise click.UsageError(f"no command {rest[0]!r} in '{context.command_path}'; known: {known}")
        context = click.Context(sub, info_name=rest[0], parent=context)
        command, rest = sub, rest[1:]
    if isinstance(command, click.Group) and not rest:
        raise click.UsageError(f"'{context.command_path}' needs a command")
    return command, context, rest


def check_shown(shown: Shown) -> None:
    """Raise click.UsageError when the command line would refuse ``shown`` (or name an option it lacks)."""
    command, context, rest = _resolve(shown.words)
    if shown.synopsis:
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", " ".join(rest)))
        if unknown := sorted(named - options):
            raise click.NoSuchOption(unknown[0], message=f"no such option: {', '.join(unknown)}")
        return
    try:
        with command.make_context(context.info_name, rest, parent=context.parent):
            pass
    except click.exceptions.Exit as done:  # --help, --version
        if done.exit_code != 0:
            raise


def _option(words: tuple[str, ...], name: str) -> str | None:
    for index, word in enumerate(words):
        if word == name and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def _cheap_comparison(words: tuple[str, ...]) -> bool:
    if words[:1] != ("compare",) or _option(words, "--dataset") != "digits" or _option(words, "--epochs") is None:
        return False
    models = len((_option(words, "--models") or "simplernn,lstm,gru").split(","))
    seeds_text = _option(words, "--seeds") or "1"
    seeds = len(seeds_text.strip(",").split(",")) if "," in seeds_text else int(seeds_text)
    return models * seeds * int(_option(words, "--epochs") or 0) <= RUN_EPOCH_BUDGET


def _runs_alone(words: tuple[str, ...]) -> bool:
    if words[:2] in (("models", "list"), ("models", "info"), ("datasets", "list")):
        return True
    return words[:2] in (("datasets", "info"), ("datasets", "show")) and words[2:3] == ("digits",)


def _reads_the_store(words: tuple[str, ...]) -> bool:
    return words[:2] == ("models", "saved") or words[:1] == ("report",)


def runnable_blocks() -> list[list[Shown]]:
    """Per page and fenced block (commands on consecutive lines), the commands that run end to end, in order."""
    blocks: list[list[Shown]] = []
    by_block: dict[tuple[str, int], list[Shown]] = {}
    for shown in ALL_SHOWN:
        text = (ROOT / shown.page).read_text(encoding="utf-8").splitlines()
        opening = max(i for i in range(shown.line) if text[i].strip().startswith(("```", "~~~")))
        by_block.setdefault((shown.page, opening), []).append(shown)
    for block in by_block.values():
        trained = False
        runnable = []
        for shown in block:
            if shown.synopsis:
                continue
            if _cheap_comparison(shown.words):
                trained = True
                runnable.append(shown)
            elif _runs_alone(shown.words) or (trained and _reads_the_store(shown.words)):
                runnable.append(shown)
        if runnable:
            blocks.append(runnable)
    return blocks


def test_the_pages_show_commands_and_synopses():
    pages = {shown.page for shown in ALL_SHOWN}
    assert "README.md" in pages and "docs/cli.md" in pages, pages
    assert any(shown.synopsis for shown in ALL_SHOWN)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


@pytest.mark.parametrize("shown", ALL_SHOWN, ids=lambda shown: f"{shown.page}:{shown.line}")
def test_a_shown_command_is_accepted_by_the_command_line(shown):
    refusal = None
    try:
        check_shown(shown)
    except click.UsageError as error:
        refusal = error.format_message()
    if refusal is not None:
        pytest.fail(f"{shown.where()}\n  refused: {refusal}", pytrace=False)


@pytest.mark.parametrize(
    "line",
    [
        "rnnbench compare --dataset digits --no-such-flag",
        "rnnbench compare --executor nowhere",
        "rnnbench predict model.keras",
        "rnnbench datasets lists",
        "rnnbench models",
        "rnnbench tune [--trials 20] [--seeds 3]",
    ],
)
def test_the_checker_refuses_a_wrong_command(line):
    (shown,) = shown_commands(f"```sh\n{line}\n```\n", "example.md")
    with pytest.raises(click.UsageError):
        check_shown(shown)


def test_prompts_prefixes_comments_continuations_and_synopses_are_read():
    page = "\n".join(
        [
            "rnnbench compare --not-in-a-block",
            "```sh",
            "$ .venv/bin/rnnbench compare --dataset digits \\",
            "    --epochs 2   # a comment --bogus",
            "rnnbench compare ... | head -1",
            "rnnbench: error: an output line",
            "echo rnnbench",
            "```",
            "```",
            "rnnbench report [--store rnnbench.db]",
            "                [--out DIR]",
            "  simplernn 130 units",
            "```",
        ]
    )
    assert shown_commands(page, "p.md") == [
        Shown("p.md", 3, ("compare", "--dataset", "digits", "--epochs", "2")),
        Shown("p.md", 5, ("compare", "..."), synopsis=True),
        Shown("p.md", 10, ("report", "[--store", "rnnbench.db]", "[--out", "DIR]"), synopsis=True),
    ]


@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda block: f"{block[0].page}:{block[0].line}")
def test_cheap_digits_commands_run_end_to_end(block, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for shown in block:
        status = main(list(shown.words))
        out, err = capsys.readouterr()
        assert status == 0, f"{shown.where()}\n  exit status {status}\n{out[-2000:]}\n{err[-2000:]}"
