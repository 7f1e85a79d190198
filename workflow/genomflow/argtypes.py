"""Argument types shared by the sub-commands: argparse reports their errors with the option.

>>> import argparse
>>> count = at_least(0)
>>> count("3")
3
>>> count("-1")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be at least 0, not -1
>>> at_least(1)("two")
Traceback (most recent call last):
argparse.ArgumentTypeError: 'two' is not an integer
>>> positive("0.5")
0.5
>>> positive("0")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be a number above 0, not 0.0
>>> fraction("1.5")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be a fraction above 0 and at most 1, not 1.5
>>> gap = between(0, 1, low="at least", high="below")
>>> gap("0")
0.0
>>> gap("1")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be a fraction at least 0 and below 1, not 1.0
>>> gap("nan")
Traceback (most recent call last):
argparse.ArgumentTypeError: 'nan' is not a finite number
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Literal


def at_least(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer no smaller than ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive(text: str) -> float:
    """An argument type: a finite number above 0 (a depth factor, a rate)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {value}")
    return value


def between(
    minimum: float,
    maximum: float,
    *,
    low: Literal["above", "at least"] = "above",
    high: Literal["at most", "below"] = "at most",
) -> Callable[[str], float]:
    """An argument type: a finite fraction between ``minimum`` and ``maximum``, each bound
    excluded (``above``, ``below``) or included (``at least``, ``at most``)."""

    def parse(text: str) -> float:
        value = _finite(text)
        above = value >= minimum if low == "at least" else value > minimum
        below = value <= maximum if high == "at most" else value < maximum
        if not (above and below):
            raise argparse.ArgumentTypeError(
                f"must be a fraction {low} {minimum:g} and {high} {maximum:g}, not {value}"
            )
        return value

    return parse


#: A fraction in (0, 1]: a purity, a tumour fraction.
fraction = between(0, 1)
