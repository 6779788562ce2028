"""``rnnbench report``: a report of the runs in a store, written again from the store alone."""

from __future__ import annotations

from pathlib import Path

import click

from rnnbench.cli.options import report_folder_option, store_option


@click.command()
@store_option("The results store to read (never written).")
@click.option(
    "--format",
    "formats",
    default="html,md,json,csv",
    show_default=True,
    help="Comma-separated: html (one self-contained page), md (Markdown + PNG figures), json, csv.",
)
@report_folder_option("Folder to write the report into.")
@click.option(
    "--experiment",
    default=None,
    metavar="NAME",
    help="Only the runs of the experiment of this name ('compare', or the name in a sweep's TOML).",
)
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE[,VALUE]",
              help="Only runs whose KEY is one of the VALUEs; KEY: model, units, dataset, view, preset, seed or "
                   "backend. Repeat for several keys (all must match), e.g. --filter model=lstm,gru "
                   "--filter dataset=digits.")  # fmt: skip
def report(store: Path, formats: str, out: Path, experiment: str | None, filters: tuple[str, ...]) -> None:
    """Write a report of the runs in a store: comparison tables, verdicts, plots, settings."""
    from rnnbench.cli.output_paths import check_output_folder, store_files
    from rnnbench.report.folder import check_report_folder
    from rnnbench.report.write import parse_formats, report_from_store
    from rnnbench.results.panels import Selection, parse_filters

    chosen = parse_formats(formats)
    selection = Selection(experiment=experiment, filters=parse_filters(filters))
    check_output_folder(out, "--out", store_files(store))
    check_report_folder(out, "--out")
    written = report_from_store(store, out, chosen, selection)
    for name in chosen:
        click.echo(f"{name}: {written[name]}")
