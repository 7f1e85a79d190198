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
"""

from __future__ import annotations

import argparse
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
