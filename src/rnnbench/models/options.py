"""A cell's own settings (coRNN's time step, LRU's ring, ...): type, default and accepted range of each."""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass

OptionValue = float | int | bool
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class CellOption:
    """One option of a cell. Bounds that are None do not apply; ``minimum``/``maximum`` are inclusive,
    ``exclusive_minimum``/``exclusive_maximum`` are not."""

    name: str
    type: builtins.type[OptionValue]
    default: OptionValue
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in (float, int, bool):
            raise TypeError(f"option {self.name}: type must be float, int or bool, not {self.type.__name__}")

    def convert(self, value: object) -> OptionValue:
        """``value`` (a string from the command line, or a TOML value) as this option's type, checked against its
        range. Raises ValueError with a message that starts with the option's name."""
        converted = self._typed(value)
        if not isinstance(converted, bool) and not self._in_range(converted):
            raise ValueError(f"{self.name}={format_value(converted)} is out of range; it must be {self.range_text()}")
        return converted

    def range_text(self) -> str:
        """The accepted values, as in ``> 0``, ``in [0, 1]`` or ``true or false``; ``any`` when unbounded."""
        if self.type is bool:
            return "true or false"
        low = self._bound(self.minimum, self.exclusive_minimum)
        high = self._bound(self.maximum, self.exclusive_maximum)
        if low is not None and high is not None:
            opening = "[" if self.minimum is not None else "("
            closing = "]" if self.maximum is not None else ")"
            return f"in {opening}{format_value(low)}, {format_value(high)}{closing}"
        if low is not None:
            return f"{'>=' if self.minimum is not None else '>'} {format_value(low)}"
        if high is not None:
            return f"{'<=' if self.maximum is not None else '<'} {format_value(high)}"
        return "any"

    def _typed(self, value: object) -> OptionValue:
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError(f"{self.name} must be true or false, got {_given(value)}")
        # bool is an int to Python, but "dt=true" is a mistake, not 1.0.
        if isinstance(value, str):
            try:
                number: float | int = int(value) if self.type is int else float(value)
            except ValueError:
                raise ValueError(f"{self.name} must be {self._kind()}, got {_given(value)}") from None
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.type is int and not isinstance(value, int):
                raise ValueError(f"{self.name} must be {self._kind()}, got {_given(value)}")
            number = value
        else:
            raise ValueError(f"{self.name} must be {self._kind()}, got {_given(value)}")
        if not math.isfinite(number):
            raise ValueError(f"{self.name} must be a finite number, got {_given(value)}")
        return self.type(number)

    def _kind(self) -> str:
        return "a whole number" if self.type is int else "a number"

    def _in_range(self, value: float) -> bool:
        return (
            (self.minimum is None or value >= self.minimum)
            and (self.maximum is None or value <= self.maximum)
            and (self.exclusive_minimum is None or value > self.exclusive_minimum)
            and (self.exclusive_maximum is None or value < self.exclusive_maximum)
        )

    @staticmethod
    def _bound(inclusive: float | None, exclusive: float | None) -> float | None:
        return inclusive if inclusive is not None else exclusive


def format_value(value: OptionValue) -> str:
    """As a user writes it: ``true``, ``-1`` (not -1.0), ``0.042``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _given(value: object) -> str:
    """A rejected value as its user wrote it: TOML's ``true``, a command line's ``'abc'``."""
    return format_value(value) if isinstance(value, bool) else repr(value)
