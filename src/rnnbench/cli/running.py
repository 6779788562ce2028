"""A comparison or a search, from specs to the terminal, the summary and the report: what compare, tune and sweep
share once their flags are specs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rnnbench.cli.options import Execution
from rnnbench.report.console import make_console

if TYPE_CHECKING:
    from rich.console import Console

    from rnnbench.driver.experiment import ExperimentResult
    from rnnbench.results.panels import PanelSet
    from rnnbench.spec import ExecutionConfig, ExperimentSpec
    from rnnbench.spec.search import SearchOptions


def _check_outputs(spec: ExperimentSpec, execution: Execution) -> None:
    """Every path the command will write can be written, replaces nothing to keep and lies apart from the others:
    said before any training."""
    from rnnbench.cli.output_paths import check_apart, check_output_file, check_output_folder, store_files
    from rnnbench.files import check_writable_folder
    from rnnbench.report.folder import check_report_folder

    check_writable_folder(execution.store.parent, "--store", execution.store)
    kept = [*store_files(execution.store), *(Path(data.name) for data in spec.data if Path(data.name).exists())]
    outputs = [("--store", execution.store)]
    if execution.json_path is not None:
        check_output_file(execution.json_path, "--json", kept)
        outputs.append(("--json", execution.json_path))
    if execution.report:
        check_output_folder(execution.out, "--out", kept)
        check_report_folder(execution.out, "--out")
        outputs.append(("--out", execution.out))
    check_apart(outputs)


def _prepare(spec: ExperimentSpec, execution: Execution) -> ExecutionConfig:
    """The library's execution settings, once they, the names in ``spec`` and every output path are known to be
    good (the driver then checks the executor, the data and the caches before it opens the store)."""
    from rnnbench.driver.driver import check_names

    config = execution.config()
    check_names(spec)
    _check_outputs(spec, execution)
    return config


def _announcer(console: Console, quiet: bool) -> Callable[[str], None] | None:
    return None if quiet else functools.partial(console.print, highlight=False, soft_wrap=True)


def _write_report(console: Console, records: PanelSet, execution: Execution) -> None:
    from rnnbench.report.write import write_report

    written = write_report(records, execution.out)
    console.print(f"report written to {written['html'].resolve()}", highlight=False, soft_wrap=True)


def run_comparison(spec: ExperimentSpec, execution: Execution) -> int:
    """Run the experiment with a progress display, print its tables and verdicts, then write its report.

    Exit status 1 when runs failed (a diverged run is a result, not a failure): one line on stderr per failed run,
    after the tables."""
    from rnnbench.driver.experiment import run_experiment
    from rnnbench.report.length_section import print_lengths
    from rnnbench.report.progress import make_progress
    from rnnbench.report.summary import write_summary
    from rnnbench.report.terminal_table import print_panels

    config = _prepare(spec, execution)
    console = make_console()
    run = functools.partial(run_experiment, spec, execution.store, config, force=execution.force,
                            source=execution.source, announce=_announcer(console, execution.quiet))  # fmt: skip
    if execution.quiet:
        result = run()
    else:
        with make_progress(spec.run_count(), console) as progress:
            result = run(progress)
    print_panels(console, result.records)
    print_lengths(console, result.records)
    console.print(result.footer(), highlight=False)
    if execution.json_path is not None:
        write_summary(result.records, result.summary_fields(), execution.json_path)
        if not execution.quiet:
            console.print(f"summary written to {execution.json_path}", highlight=False)
    if execution.report:
        # The panels just printed, so the report and the terminal show the same numbers.
        _write_report(console, result.records, execution)
    _say_failures(result)
    return 1 if result.failed else 0


def _say_failures(result: ExperimentResult) -> None:
    for failed in result.failed:
        model = failed.spec.model
        click.echo(f"rnnbench: run {failed.run_key} ({model.name}, {model.units} units, seed {failed.spec.seed}, "
                   f"{failed.spec.data.name}) failed: {failed.reason}", err=True)  # fmt: skip
    if result.failed:
        click.echo(f"rnnbench: {len(result.failed)} of {result.trained + result.reused} runs failed; rerunning the "
                   "same command trains them again", err=True)  # fmt: skip


def run_searches(spec: ExperimentSpec, options: SearchOptions, execution: Execution) -> int:
    """Run a search per data set, view and width of ``spec`` with a line per decided trial; print each search's table
    and tuned comparison; write one report (and summary) of them all."""
    from rnnbench.report.length_section import print_lengths
    from rnnbench.report.search import search_table
    from rnnbench.report.summary import write_summary
    from rnnbench.report.terminal_table import print_panels
    from rnnbench.search.panels import joined_panels, joined_summary_fields, one_search_each
    from rnnbench.search.tune import run_search

    config = _prepare(spec, execution)
    console = make_console()
    say = _announcer(console, execution.quiet)
    results = []
    for one in one_search_each(spec):
        result = run_search(one, options, execution.store, config, source=execution.source, say=say)
        console.print(search_table(result))
        print_panels(console, result.records)
        console.print(f"{result.trained} runs trained now; {result.wall_seconds:.1f} s in all; search "
                      f"{result.name} in {execution.store}", highlight=False)  # fmt: skip
        results.append(result)
    records = joined_panels(results)
    print_lengths(console, records)
    if execution.json_path is not None:
        write_summary(records, joined_summary_fields(results), execution.json_path)
    if execution.report:
        _write_report(console, records, execution)
    return 0
