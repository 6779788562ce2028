"""Gathering a report's runs from a store: selection by experiment, filters and run keys; panels; best runs."""

from __future__ import annotations

import dataclasses

import pytest

from report_stores import HALF, PERFECT, fill, result, spec
from rnnbench.errors import RnnbenchError
from rnnbench.results.panels import Selection, parse_filters, read_panels


def test_a_tiny_sweep_is_one_panel_with_its_data_set(tiny_sweep):
    data = read_panels(tiny_sweep.store)
    (panel,) = data.panels
    assert [summary.model for summary in panel.summary] == ["simplernn", "gru"]
    assert len(panel.runs) == 4 and not panel.unfinished
    assert panel.dataset is not None and panel.dataset.description["train"] == 270
    assert panel.dataset.example is not None and panel.dataset.example.shape == (8, 8, 1)
    assert panel.dataset.example.min() >= 0.0 and panel.dataset.example.max() <= 1.0
    assert [experiment.name for experiment in data.experiments] == ["tiny"]


def test_filters_and_experiments_select_runs(tiny_sweep):
    only_gru = read_panels(tiny_sweep.store, Selection(filters=parse_filters(["model=gru"])))
    assert {run.spec.model.name for run in only_gru.runs} == {"gru"}
    seed_one = read_panels(tiny_sweep.store, Selection(filters=parse_filters(["seed=1", "model=gru,simplernn"])))
    assert sorted((run.spec.model.name, run.spec.seed) for run in seed_one.runs) == [("gru", 1), ("simplernn", 1)]
    assert len(read_panels(tiny_sweep.store, Selection(experiment="tiny")).runs) == 4
    with pytest.raises(RnnbenchError, match="no experiment named 'other' in .*; it holds: tiny"):
        read_panels(tiny_sweep.store, Selection(experiment="other"))
    with pytest.raises(RnnbenchError, match="no run in .* matches model=lstm; the store holds model: gru, simplernn"):
        read_panels(tiny_sweep.store, Selection(filters=parse_filters(["model=lstm"])))


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["model"], "--filter 'model' is not KEY=VALUE"),
        (["model="], "--filter 'model=' is not KEY=VALUE"),
        (["colour=red"], "unknown key 'colour'; known: model, units, dataset, view, preset, seed, backend"),
    ],
)
def test_bad_filters_say_what_is_expected(texts, message):
    with pytest.raises(RnnbenchError, match=message):
        parse_filters(texts)


def test_repeated_keys_accept_either_value():
    assert parse_filters(["model=lstm", "model=gru , simplernn", "dataset=digits"]) == (
        ("model", ("lstm", "gru", "simplernn")),
        ("dataset", ("digits",)),
    )


def test_best_run_is_chosen_on_validation_never_on_test(tmp_path):
    # Seed 0 tests better, seed 1 validates better: the best run is seed 1.
    store = fill(tmp_path / "s.db", [(result(spec("lstm", 0), (0.5, 0.6), 0.9), PERFECT),
                                     (result(spec("lstm", 1), (0.7, 0.8), 0.4), HALF)])  # fmt: skip
    (panel,) = read_panels(store).panels
    best = panel.best_run("lstm")
    assert best is not None and best.spec.seed == 1 and best.confusion == HALF


def test_data_sets_and_views_make_separate_panels_and_run_keys_restrict(tmp_path):
    columns = dataclasses.replace(spec("gru", 0).data, view="columns")
    runs = [
        (result(spec("gru", 0), (0.5, 0.6), 0.5), PERFECT),
        (result(spec("gru", 0, columns), (0.5, 0.6), 0.7), HALF),
    ]
    store = fill(tmp_path / "s.db", runs)
    data = read_panels(store)
    assert [panel.data.view for panel in data.panels] == ["rows", "columns"]
    assert [panel.number for panel in data.panels] == [1, 2]
    only = read_panels(store, Selection(run_keys=(runs[1][0].spec.key(),)))
    assert [panel.data.view for panel in only.panels] == ["columns"]


def test_an_empty_store_says_so(tmp_path):
    from rnnbench.results.store import Store

    with Store.open(tmp_path / "s.db"):
        pass
    with pytest.raises(RnnbenchError, match="holds no runs yet; run 'rnnbench compare' or 'rnnbench sweep' first"):
        read_panels(tmp_path / "s.db")


def test_models_keep_the_experiments_order_not_the_order_runs_started(tmp_path):
    runs = [(result(spec(model, 0), (0.5, 0.6), 0.5), PERFECT) for model in ("gru", "simplernn", "lstm")]
    store = fill(tmp_path / "s.db", runs, models=("simplernn", "lstm", "gru"))
    (panel,) = read_panels(store).panels
    assert [summary.model for summary in panel.summary] == ["simplernn", "lstm", "gru"]
