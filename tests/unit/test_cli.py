"""The command line: every listed sub-command is registered by the module named for it."""

from __future__ import annotations

import argparse

import pytest

from genomflow.cli import COMMANDS, build_parser, main


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_comes_from_its_module(command: str) -> None:
    assert command in _choices(build_parser(command))


def test_full_parser_lists_every_command() -> None:
    assert _choices(build_parser()) == set(COMMANDS)


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
