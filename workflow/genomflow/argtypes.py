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
>>> positive_float("0.5")
0.5
>>> for text in ("0", "-1", "nan", "inf", "x"):
...     try:
...         positive_float(text)
...     except argparse.ArgumentTypeError as err:
...         print(err)
must be a number above 0, not 0
must be a number above 0, not -1
must be a finite number, not nan
must be a finite number, not inf
'x' is not a number
>>> fraction("0.6"), fraction("1")
(0.6, 1.0)
>>> fraction("nan")
Traceback (most recent call last):
argparse.ArgumentTypeError: nan is not in (0, 1]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


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


def positive_float(text: str) -> float:
    """An argument type: a finite number above 0 (a depth factor, a coverage, a size)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return value


def fraction(text: str) -> float:
    """An argument type: a fraction in (0, 1] (a purity); NaN is not one."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:  # False for NaN
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value
