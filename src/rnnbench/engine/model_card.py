"""The model card of a finished run: what prediction needs besides the weights, filled in from the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnbench.models.model_file import PIXEL_SCALE, ModelCard, background_level, describe_model

if TYPE_CHECKING:
    from rnnbench.data.prepare import SequenceData
    from rnnbench.results.run_result import RunResult

BACKGROUND_SAMPLE = 1000


def card_for_run(result: RunResult, data: SequenceData) -> ModelCard:
    """The card of a finished run's model, trained on ``data``."""
    import keras

    from rnnbench.data.views import get_view
    from rnnbench.version import __version__

    spec = result.spec
    sample = data.x_train[:BACKGROUND_SAMPLE]
    images = get_view(spec.data.view, spec.data.permutation_seed).invert(sample, data.image_shape)
    return ModelCard(
        run_key=spec.key(),
        model=describe_model(spec.model),
        dataset=spec.data.name,
        class_names=data.class_names or tuple(str(label) for label in range(data.classes)),
        image_shape=data.image_shape,
        view=spec.data.view,
        permutation_seed=spec.data.permutation_seed if spec.data.view == "permuted" else None,
        steps=data.steps,
        features=data.features,
        background=background_level(images),
        pixel_scale=PIXEL_SCALE,
        seed=spec.seed,
        best_epoch=result.best_epoch,
        val_accuracy=result.best_val_accuracy,
        test_accuracy=result.test_accuracy_at_best,
        rnnbench_version=__version__,
        keras_version=keras.__version__,
        backend=spec.backend,
    )
