"""Errors that carry a message meant for the user: file, row, column and problem."""


class GenomflowError(Exception):
    """An error caused by bad input; its message is shown to the user as is."""
