"""Files: existence checks, compression and format by extension, atomic writes (no database)."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest

from moltres.io.sources import Source, compression_of, format_of, open_target
from moltres.utils.exceptions import SourceNotFoundError, ValidationError


@pytest.mark.parametrize(
    ("name", "compression", "fmt"),
    [
        ("a.csv", None, "csv"),
        ("a.CSV.GZ", "gzip", "csv"),
        ("a.tsv.bz2", "bz2", "csv"),
        ("a.jsonl.xz", "xz", "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.json", None, "json"),
        ("a.parquet", None, "parquet"),
        ("a.txt.gz", "gzip", "text"),
        ("a.bin", None, None),
    ],
)
def test_compression_and_format_by_extension(name: str, compression: str | None, fmt: str | None) -> None:
    assert compression_of(name) == compression
    assert format_of(name) == fmt


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown compression 'zip'"):
        compression_of("a.csv", "zip")


@pytest.mark.parametrize(("suffix", "opener"), [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed_files_stream_decompressed(tmp_path: Path, suffix: str, opener: object) -> None:
    path = tmp_path / f"data.csv{suffix}"
    payload = b"x\n" + b"1\n" * 100_000
    with opener(path, "wb") as out:  # type: ignore[operator]
        out.write(payload)
    read: list[int] = []
    source = Source.of(path)
    assert b"".join(source.chunks(read.append, size=4096)) == payload
    assert sum(read) == path.stat().st_size  # progress counts the bytes on disk


def test_missing_file_names_close_matches(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("id\n1\n")
    with pytest.raises(SourceNotFoundError, match="file not found") as info:
        Source.of(tmp_path / "user.csv")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.suggestion == f"did you mean '{tmp_path / 'users.csv'}'?"


def test_open_target_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), open_target(target) as out:
        out.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary left behind
    with open_target(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"


def test_open_target_compresses_by_extension_and_appends(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl.gz"
    with open_target(target) as out:
        out.write(b"a\n")
    with open_target(target, append=True) as out:
        out.write(b"b\n")
    assert gzip.decompress(target.read_bytes()) == b"a\nb\n"
