"""paysim.outputs: outputs never overwrite inputs or existing files, and appear only complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from paysim.outputs import AtomicOutput, OutputError, atomic_text, check_output_path


def test_refuses_an_input_even_with_overwrite(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("x: 1\n")
    with pytest.raises(OutputError, match="is an input"):
        check_output_path(tmp_path / "." / "s.yaml", overwrite=True, inputs=[scenario])
    assert scenario.read_text() == "x: 1\n"


def test_refuses_an_existing_file_unless_told(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("keep")
    with pytest.raises(OutputError, match="already exists"):
        check_output_path(out)
    assert check_output_path(out, overwrite=True) == out


def test_refuses_a_directory_and_a_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path, overwrite=True)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "out.txt")


def test_commit_renames_and_failure_leaves_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_text(out, overwrite=True) as f:
        f.write("new, half")
        raise RuntimeError("boom")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_text(out, overwrite=True) as f:
        f.write("new")
    assert out.read_text() == "new"


def test_temporary_name_is_hidden_until_commit(tmp_path: Path) -> None:
    output = AtomicOutput(tmp_path / "e.jsonl")
    handle = output.open_text()
    handle.write("line\n")
    assert not (tmp_path / "e.jsonl").exists()
    assert output.temp_path.exists()
    output.commit()
    assert (tmp_path / "e.jsonl").read_text() == "line\n"
    assert not output.temp_path.exists()
