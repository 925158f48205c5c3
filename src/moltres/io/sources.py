r"""Files to read and write: existence checks, compression by extension, byte counting.

A :class:`Source` is a file on disk that a reader will stream. Compressed files
(``.gz``, ``.bz2``, ``.xz``) are decompressed on the fly, so nothing is read into memory
whole. The bytes read from disk are counted, which drives the progress bar.

Example:
    >>> path = tmp / "a.csv.gz"
    >>> with open_target(path) as out:
    ...     _ = out.write(b"x\n1\n")
    >>> source = Source.of(path)
    >>> source.compression, source.format
    ('gzip', 'csv')
    >>> with source.open() as stream:
    ...     stream.read()
    b'x\n1\n'
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from moltres.utils.exceptions import SourceNotFoundError, ValidationError, closest_match

__all__ = ["COMPRESSIONS", "Source", "compression_of", "format_of", "open_target", "released"]

# extension -> compression name, and each name's opener over a binary file object
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "xz"}
# (each opener's file is closed by the `with` of whoever calls it)
_OPENERS: dict[str, Callable[..., Any]] = {
    "gzip": lambda f, mode: gzip.GzipFile(fileobj=f, mode=mode),
    "bz2": bz2.BZ2File,
    "xz": lzma.LZMAFile,
}
_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
}

CHUNK = 1 << 20


def compression_of(path: str | os.PathLike[str], compression: str | None = None) -> str | None:
    """The compression of a file: as given, else guessed from the extension (None if plain).

    Example:
        >>> compression_of("events.jsonl.xz"), compression_of("a.csv"), compression_of("a.csv", "gzip")
        ('xz', None, 'gzip')
    """
    if compression is not None:
        name = {"gz": "gzip", "bzip2": "bz2", "lzma": "xz"}.get(compression.lower(), compression.lower())
        if name not in _OPENERS:
            raise ValidationError(
                f"unknown compression {compression!r}", suggestion="use one of: gzip, bz2, xz (or None)"
            )
        return name
    return COMPRESSIONS.get(Path(path).suffix.lower())


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The file format an extension names, looking past a compression suffix (None if unknown).

    Example:
        >>> format_of("users.csv.gz"), format_of("part.parquet"), format_of("notes")
        ('csv', 'parquet', None)
    """
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    if not suffixes:
        return "parquet" if p.is_dir() else None
    return _FORMATS.get(suffixes[-1])


class _CountingReader(io.RawIOBase):
    """A raw binary reader that reports how many bytes it has read."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        size = len(data)
        view[:size] = data
        if size and self._on_read is not None:
            self._on_read(size)
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class Source:
    """A file to read: where it is, how it is compressed, and how big it is on disk.

    Create one with :meth:`Source.of`, which checks that the file exists.
    """

    path: Path
    compression: str | None
    size: int

    @classmethod
    def of(cls, path: str | os.PathLike[str], compression: str | None = None) -> Source:
        """Check that `path` exists and describe it.

        Raises:
            SourceNotFoundError: No such file; the message names close matches in its folder.

        Example:
            >>> Source.of("/no/such/file.csv")
            Traceback (most recent call last):
            ...
            moltres.utils.exceptions.SourceNotFoundError: file not found: /no/such/file.csv
            Suggestion: check the path; the folder /no/such does not exist
        """
        if not isinstance(path, (str, os.PathLike)):
            raise ValidationError(f"a file path must be a str or Path, got {type(path).__name__}")
        p = Path(path).expanduser()
        if not p.exists():
            raise SourceNotFoundError(f"file not found: {p}", suggestion=_near_misses(p))
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        size = sum(f.stat().st_size for f in files)
        return cls(p, compression_of(p, compression), size)

    @property
    def format(self) -> str | None:
        """The format the file's extension names (``csv``, ``json``, ``parquet`` ...)."""
        return format_of(self.path)

    @property
    def name(self) -> str:
        """The path as text, for messages."""
        return str(self.path)

    @contextlib.contextmanager
    def open(self, on_read: Callable[[int], None] | None = None) -> Iterator[IO[bytes]]:
        """Open the file for streaming, decompressed; `on_read` hears the bytes read from disk."""
        with open(self.path, "rb") as raw:
            counted = io.BufferedReader(_CountingReader(raw, on_read), CHUNK)
            if self.compression is None:
                yield counted
                return
            with _OPENERS[self.compression](counted, "rb") as stream:
                yield stream

    @contextlib.contextmanager
    def open_text(self, encoding: str = "utf-8", on_read: Callable[[int], None] | None = None) -> Iterator[IO[str]]:
        """Open the file as text (universal newlines left to the parser: ``newline=""``)."""
        with self.open(on_read) as stream:
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                yield text
            finally:
                text.detach()

    def chunks(self, on_read: Callable[[int], None] | None = None, size: int = CHUNK) -> Iterator[bytes]:
        """The decompressed bytes of the file, in chunks of about `size`."""
        with self.open(on_read) as stream:
            while chunk := stream.read(size):
                yield chunk


def _near_misses(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"check the path; the folder {folder} does not exist"
    match = closest_match(path.name, [p.name for p in folder.iterdir()])
    return f"did you mean '{folder / match}'?" if match else f"check the path; nothing similar in {folder}"


@contextlib.contextmanager
def released(batches: Iterable[Any]) -> Iterator[None]:
    """Close a generator of batches when the block ends, even half-read.

    A query still streaming (a write failed half-way) gives its connection back at once,
    not whenever the generator happens to be collected.

    Example:
        >>> rows = (n for n in range(3))
        >>> with released(rows):
        ...     next(rows)
        0
        >>> list(rows)
        []
    """
    try:
        yield
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


@contextlib.contextmanager
def open_target(
    path: str | os.PathLike[str], *, compression: str | None = None, append: bool = False
) -> Iterator[IO[bytes]]:
    """Open a file for writing, compressed by extension, so that it appears whole or not at all.

    A new file is written beside the target and moved into place when the block ends without
    error; on error the target is left as it was. With ``append=True`` the bytes are added to
    the end of the existing file instead (that is not atomic).

    Example:
            >>> target = tmp / "out.txt"
        >>> with open_target(target) as out:
        ...     _ = out.write(b"hello")
        >>> target.read_bytes()
        b'hello'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    name = compression_of(p, compression)
    if append:
        with open(p, "ab") as raw:
            if name is None:
                yield raw
            else:
                with _OPENERS[name](raw, "ab") as stream:
                    yield stream
        return
    fd, temp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            if name is None:
                yield raw
            else:
                with _OPENERS[name](raw, "wb") as stream:
                    yield stream
        os.replace(temp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
