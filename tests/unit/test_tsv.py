"""The one reader of small tab-separated tables (genomflow.tsv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomflow.errors import GenomflowError
from genomflow.tsv import ragged, read_table


def test_columns_and_rows_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t2\n\n3\t\n")
    assert read_table(path, "a table") == (["a", "b"], [{"a": "1", "b": "2"}, {"a": "3", "b": ""}])
    assert read_table(path, "a table", ("x", "y"))[1][0] == {"x": "a", "y": "b"}


def test_ragged_rows_are_kept_unless_the_table_must_be_rectangular(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\tc\n1\t2\t3\n\n4\t5\n")
    _, rows = read_table(path, "a table")
    assert [ragged(row) for row in rows] == [False, True]
    with pytest.raises(GenomflowError, match=r"t\.tsv: cannot read a table \(line 4 has 2 fields"):
        read_table(path, "a table", rectangular=True)
    path.write_text("a\tb\n1\t2\t3\t4\n")
    with pytest.raises(GenomflowError, match=r"t\.tsv: .*line 2 has 4 fields for 2 columns"):
        read_table(path, "a table", rectangular=True)
    path.write_text("1\t2\n3\n")
    with pytest.raises(GenomflowError, match=r"line 2 has 1 field for 2 columns"):
        read_table(path, "a table", ("x", "y"), rectangular=True)


def test_unreadable_tables_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tsv"
    with pytest.raises(GenomflowError, match=r"missing\.tsv: cannot read a table \(.*No such"):
        read_table(missing, "a table")
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes("sample\tnote\nS1\tcaf\u00e9\n".encode("latin-1"))
    with pytest.raises(GenomflowError, match=r"latin1\.tsv: cannot read a table \(.*utf-8"):
        read_table(latin1, "a table")
    huge = tmp_path / "huge.tsv"
    huge.write_text("a\tb\n" + "x" * 200_000 + "\t1\n")  # past the csv module's field limit
    with pytest.raises(GenomflowError, match=r"huge\.tsv: cannot read a table \(field larger"):
        read_table(huge, "a table")
