"""Keras classes defined on first use, so that importing a cell module does not import Keras.

Keras fixes its backend when it is imported, and rnnbench chooses the backend first (:mod:`rnnbench.backend`): a
module that subclasses a Keras class therefore defines its classes inside a function. :func:`lazy_keras_classes`
turns that function into the module's ``keras_classes()`` (defined once, registered as Keras serializables) and
its ``__getattr__`` (the classes as module attributes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# The classes of a module, defined (and Keras imported) by the call.
KerasClasses = Callable[[], tuple[Any, ...]]
PACKAGE = "rnnbench"


def lazy_keras_classes(module: str, define: KerasClasses, *names: str) -> tuple[KerasClasses, Callable[[str], Any]]:
    """``(keras_classes, __getattr__)`` for ``module``, whose classes ``names`` ``define()`` returns in that order.

    The names are given up front: a lookup of any other attribute (``__path__``, ``__wrapped__``, ... by import
    machinery and test tools) must fail without importing Keras.
    """

    @functools.cache
    def keras_classes() -> tuple[Any, ...]:
        import keras

        classes = define()
        defined = tuple(cls.__name__ for cls in classes)
        if defined != names:
            raise TypeError(f"{module} defines {defined}, declared {names}")
        for cls in classes:
            keras.saving.register_keras_serializable(package=PACKAGE)(cls)
        return classes

    def module_getattr(name: str) -> Any:
        if name in names:
            return keras_classes()[names.index(name)]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    keras_classes.__doc__ = f"``({', '.join(names)})``, defined and registered as Keras serializables on first call."
    return keras_classes, module_getattr
