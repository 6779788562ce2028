"""The command line: parses flags into specs, calls the library, renders the output.

Exit status: 0 success (a diverged run is a result); 2 bad usage or bad input (one line on stderr, no traceback, said
before anything trains); 1 runs failed (one line each on stderr after the tables) or an unexpected failure; 130
interrupted; 141 stdout closed by its reader.

One module per command group; the options several commands share are declared once in :mod:`rnnbench.cli.options`.
It may import every layer; nothing imports it.
"""

from __future__ import annotations

import errno
import sqlite3
import sys

import click

from rnnbench.cli.compare import compare
from rnnbench.cli.datasets import datasets
from rnnbench.cli.models import models
from rnnbench.cli.predict import predict
from rnnbench.cli.protocols import protocols
from rnnbench.cli.repeats import refuse_conflicting_repeats
from rnnbench.cli.report import report
from rnnbench.cli.sweep import sweep
from rnnbench.cli.tune import tune
from rnnbench.errors import Interrupted, OutputClosed, RnnbenchError
from rnnbench.terminal import silence_closed_stdout
from rnnbench.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnbench")
def cli() -> None:
    """Which recurrent architecture classifies my images best, and at what cost?"""


for command in (compare, sweep, tune, report, datasets, predict, models, protocols):
    cli.add_command(command)


# What writing to standard output can fail with, besides a reader gone (> /dev/full, a disk full, a dead terminal).
OUTPUT_ERRORS = (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF)


def _one_line_usage_error(error: click.UsageError) -> str:
    message = " ".join(error.format_message().split()).rstrip(".")
    command = error.ctx.command_path if error.ctx else "rnnbench"
    return f"rnnbench: error: {message}; see '{command} --help'"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of printing a traceback for bad input."""
    if sys.stdout is None:  # started with its standard output closed: whatever it printed would be lost
        click.echo("rnnbench: error: standard output is closed; give it a file or a pipe (> out.txt)", err=True)
        return 2
    try:
        refuse_conflicting_repeats(cli, sys.argv[1:] if argv is None else argv)
        status = cli.main(args=argv, prog_name="rnnbench", standalone_mode=False)
        sys.stdout.flush()  # here, not at exit: a reader gone (| true) or a full device is one of the cases below
    except click.UsageError as error:
        if error.ctx is not None and type(error).__name__ == "NoArgsIsHelpError":
            click.echo(error.ctx.get_help())
            return 2
        click.echo(_one_line_usage_error(error), err=True)
        return 2
    except RnnbenchError as error:
        click.echo(f"rnnbench: error: {error}", err=True)
        return 2
    except sqlite3.DatabaseError as error:  # pages damaged past the header, found while reading them
        click.echo(f"rnnbench: error: the results store is damaged ({error}); restore it from a copy, or give "
                   "another --store", err=True)  # fmt: skip
        return 2
    except Interrupted as interruption:
        click.echo(f"rnnbench: {interruption}", err=True)
        return 130
    except click.Abort:
        click.echo("rnnbench: interrupted", err=True)
        return 130
    except (OutputClosed, BrokenPipeError):
        silence_closed_stdout()
        return 141  # as a process killed by SIGPIPE
    except SystemExit as exiting:
        # click answers a reader gone while it prints (help, a version) by wrapping stdout and exiting with 1.
        if type(sys.stdout).__name__ != "_PacifyFlushWrapper":
            raise
        silence_closed_stdout()
        return 141 if exiting.code == 1 else int(exiting.code or 0)
    except OSError as error:
        if error.filename is None and error.errno in OUTPUT_ERRORS:
            silence_closed_stdout()
            click.echo(f"rnnbench: error: writing the output failed ({error.strerror or error})", err=True)
            return 2
        if error.filename is None:
            raise
        # The paths are checked before any work; what is left is the file system changing under the command (a
        # folder made read-only, a full disk): still one line naming the path.
        click.echo(f"rnnbench: error: {error.filename}: {error.strerror or error}", err=True)
        return 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
