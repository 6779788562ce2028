"""One way from settings to specs: the command line and experiment files both describe a comparison as a plain
mapping, and :func:`experiment_spec` turns it into an :class:`ExperimentSpec`.

The mapping has the shape of an experiment file (see :mod:`rnnbench.spec.experiment_file`)::

    {"name": ..., "backend": ..., "protocol": ...,
     "grid": {"models", "datasets", "views", "units" | "match_params", "seeds", "presets"},
     "train": {"preset", "epochs", "batch_size", "val_fraction", "learning_rate", "test_each_epoch"},
     "model": {"layers", "bidirectional", "dropout", "head", "options": {"dt": 0.1, "cornn.dt": 0.1}},
     "data": {"limit_train", "limit_test", "permutation_seed", "split_seed", "image_size", "color"}}

Every key is optional: what is missing takes the named protocol's choice (:mod:`rnnbench.spec.protocols`) if there is
one, else the spec dataclasses' defaults, and only those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.spec import DataSpec, ExperimentSpec, ModelSpec, TrainSpec, parse_seeds
from rnnbench.spec.protocols import with_protocol

_DATA, _TRAIN, _MODEL, _GRID = DataSpec(), TrainSpec(), ModelSpec(), ExperimentSpec()


def experiment_spec(settings: Mapping[str, Any]) -> ExperimentSpec:
    """The comparison ``settings`` describe; a value that no spec accepts is one :class:`RnnbenchError`."""
    settings = with_protocol(settings)
    grid, train, data, model = (dict(settings.get(table) or {}) for table in ("grid", "train", "data", "model"))
    if "preset" in train and "presets" in grid:
        raise RnnbenchError("give the preset once: as [train] preset or as [grid] presets")
    if grid.get("units") and grid.get("match_params"):
        raise RnnbenchError("units and match_params exclude each other; give one")
    models = tuple(name.strip().lower() for name in grid.get("models", _GRID.models))
    seeds = grid.get("seeds", _GRID.seeds)
    image_size = data.get("image_size")
    views = grid.get("views", [_DATA.view])
    if "permutation_seed" in data and not any(str(view).strip().lower() == "permuted" for view in views):
        raise RnnbenchError(f"the permutation seed applies to the permuted view only, and the views here are "
                            f"{', '.join(map(str, views))}; leave it out or add the permuted view")  # fmt: skip
    data_specs = tuple(
        DataSpec(
            name=dataset,
            view=view,
            val_fraction=float(train.get("val_fraction", _DATA.val_fraction)),
            limit_train=data.get("limit_train", _DATA.limit_train),
            limit_test=data.get("limit_test", _DATA.limit_test),
            split_seed=data.get("split_seed", _DATA.split_seed),
            permutation_seed=data.get("permutation_seed", _DATA.permutation_seed),
            image_size=tuple(image_size) if image_size is not None else _DATA.image_size,
            color=data.get("color", _DATA.color),
        )
        for dataset in grid.get("datasets", [_DATA.name])
        for view in views
    )
    train_specs = tuple(
        TrainSpec(
            preset=preset,
            batch_size=train.get("batch_size", _TRAIN.batch_size),
            epochs=train.get("epochs", _TRAIN.epochs),
            learning_rate_override=train.get("learning_rate", _TRAIN.learning_rate_override),
            test_each_epoch=train.get("test_each_epoch", _TRAIN.test_each_epoch),
        )
        for preset in grid.get("presets", [train.get("preset", _TRAIN.preset)])
    )
    structure = ModelSpec(
        layers=model.get("layers", _MODEL.layers),
        bidirectional=model.get("bidirectional", _MODEL.bidirectional),
        dropout=float(model.get("dropout", _MODEL.dropout)),
        head=model.get("head", _MODEL.head),
    )
    match_params = tuple(grid.get("match_params") or ())
    return ExperimentSpec(
        name=_GRID.name if settings.get("name") is None else settings["name"],
        data=data_specs,
        train=train_specs,
        models=models,
        units=() if match_params else tuple(grid.get("units") or _GRID.units),
        match_params=match_params,
        structure=structure,
        seeds=parse_seeds(str(seeds)) if isinstance(seeds, (int, str)) else tuple(seeds),
        backend=settings.get("backend") or _GRID.backend,
        model_options=model_options(models, model.get("options") or {}),
    )


def model_options(models: tuple[str, ...], given: Mapping[str, Any]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """The options of each model of ``models`` that ``given`` sets, checked by the model registry.

    ``given`` maps an option name to its value for every model that has the option (``dt``), or ``MODEL.NAME`` to a
    value for one model (``cornn.dt``, or a nested ``{"cornn": {"dt": ...}}`` from TOML). Only options that differ
    from their defaults are kept, so a spec at its defaults has the run key it always had.
    """
    from rnnbench.models.registry import model_info

    infos = {name: model_info(name) for name in models}
    wanted: dict[str, dict[str, Any]] = {name: {} for name in models}
    for key, value in _flatten(given).items():
        target, _, option = key.rpartition(".")
        if target:
            if target not in infos:
                raise RnnbenchError(f"cell option '{key}' names model '{target}', which is not compared here "
                                    f"(models: {', '.join(models)})")  # fmt: skip
            wanted[target][option] = value
            continue
        having = [name for name, info in infos.items() if option in _option_names(info)]
        if not having:
            raise RnnbenchError(f"no model compared here has the option '{option}'; {_options_text(infos)}")
        for name in having:
            wanted[name][option] = value
    resolved = ((name, infos[name].resolve_options(values)) for name, values in wanted.items())
    return tuple((name, options) for name, options in resolved if options)


def _option_names(info: Any) -> tuple[str, ...]:
    return tuple(option.name for option in info.options)


def _flatten(given: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in given.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _options_text(infos: Mapping[str, Any]) -> str:
    having = [f"{name}: {', '.join(_option_names(info))}" for name, info in infos.items() if info.options]
    return "options: " + "; ".join(having) if having else "the models compared here have no options"


def parse_cell_options(texts: tuple[str, ...]) -> dict[str, str]:
    """``("dt=0.1", "cornn.gamma=3")`` -> ``{"dt": "0.1", "cornn.gamma": "3"}`` (the registry converts the values)."""
    parsed = {}
    for text in texts:
        key, equals, value = text.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise RnnbenchError(f"--cell-option '{text}' is not KEY=VALUE; e.g. --cell-option dt=0.1")
        parsed[key.strip().lower()] = value.strip()
    return parsed
