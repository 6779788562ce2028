"""``rnnbench protocols``: the named long-sequence tasks and the test accuracies papers report on them."""

from __future__ import annotations

import click
from rich.table import Table

from rnnbench.report.console import make_console
from rnnbench.spec.protocols import PROTOCOLS, Protocol, get_protocol


@click.group()
def protocols() -> None:
    """The named long-sequence tasks (sMNIST, psMNIST, sCIFAR) and their published figures."""


@protocols.command("list")
def protocols_list() -> None:
    """List the protocols: task, data set, view, recipe, and the cells with a published figure."""
    table = Table("name", "task", "data set", "view", "recipe", "published (test acc %)")
    for protocol in PROTOCOLS.values():
        figures = ", ".join(f"{figure.model} {figure.test_accuracy:g}" for figure in protocol.published)
        table.add_row(protocol.name, protocol.title, protocol.dataset, protocol.view, _recipe(protocol),
                      figures or "-")  # fmt: skip
    make_console().print(table)


def _recipe(protocol: Protocol) -> str:
    return f"preset {protocol.preset}, {protocol.epochs} epochs, batch size {protocol.batch_size}"


@protocols.command("show")
@click.argument("name")
def protocols_show(name: str) -> None:
    """One protocol: what it trains on and with, and each published figure with its variant and source."""
    from rnnbench.spec import PRESETS

    protocol = get_protocol(name)
    console = make_console()
    console.print(f"[bold]{protocol.name}[/bold]: {protocol.title}", highlight=False)
    console.print(f"data set {protocol.dataset}, view {protocol.view}; {_recipe(protocol)} "
                  f"({PRESETS[protocol.preset].description})", highlight=False, soft_wrap=True)  # fmt: skip
    console.print(f"run it: rnnbench compare --protocol {protocol.name} --models lstm,gru", highlight=False)
    if not protocol.published:
        console.print("no published figure of a registered cell on this task has been checked", highlight=False)
        return
    table = Table("model", "published test acc %", "variant measured", "source", "where", "checked against",
                  title="published figures (from the papers; not measured by rnnbench)")  # fmt: skip
    for figure in protocol.published:
        source = figure.source
        table.add_row(figure.model, f"{figure.test_accuracy:g}", figure.variant, source.paper, source.where,
                      source.checked)  # fmt: skip
    console.print(table)
