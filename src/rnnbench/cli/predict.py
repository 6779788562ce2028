"""``rnnbench predict``: classify image files with a kept model."""

from __future__ import annotations

from pathlib import Path

import click

from rnnbench.cli.kept_models import KEPT_MODEL_STORE, load_kept_model
from rnnbench.cli.options import POSITIVE


@click.command()
@click.argument("model")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--top", type=POSITIVE, default=3, show_default=True, help="How many classes to show per image.")
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON on stdout.")
@KEPT_MODEL_STORE
def predict(model: str, images: tuple[Path, ...], top: int, as_json: bool, store: Path) -> int:
    """Classify image files (PNG, JPEG, BMP, GIF, ...; folders are walked) with a kept model.

    MODEL is a .keras file saved with --save-models, or the run key of one ('rnnbench models saved'). Each image is
    converted to the model's channels and size, scaled by the range of its pixel type (8-, 16- or 32-bit; floating
    point as it is), and inverted when its background is the opposite of the training images'; what was done is said
    beside its prediction. A file that cannot be read is one line on stderr; the others are still predicted, and the
    exit status is 2.
    """
    import json

    from rnnbench.serving.predict import Prediction, predict_images

    path, loaded, card = load_kept_model(model, store)
    predictions, unreadable = [], []
    for item in predict_images(loaded, card, images, min(top, card.classes)):
        if isinstance(item, Prediction):
            predictions.append(item)
            if not as_json:
                click.echo(item.line())
        else:
            unreadable.append(item)
            click.echo(f"rnnbench: error: {item.path}: {item.reason}", err=True)
    if as_json:
        document = {
            "model": str(path),
            "run_key": card.run_key,
            "predictions": [prediction.to_dict() for prediction in predictions],
            "unreadable": [{"file": str(item.path), "reason": item.reason} for item in unreadable],
        }
        click.echo(json.dumps(document, indent=2))
    return 2 if unreadable else 0
