"""Opening landing files safely: regular files inside the batch folder only, hashed as they are read.

A batch folder is opened once without following a symbolic link, and each file is opened
relative to it one path component at a time with ``O_NOFOLLOW``: a symbolic link anywhere below
the batch folder (a file, or a folder on the way to one) does not open, so nothing outside the
batch is read whatever a link points to. ``fstat`` on the open descriptor must show a regular
file; a FIFO, device or socket is refused (``O_NONBLOCK`` keeps a FIFO from blocking the open).

A file is then read once: every byte a reader takes passes through :class:`HashedFile`, which
updates the sha256 and checks UTF-8 on the way, so the bytes compared with the manifest are the
bytes parsed; there is no second open that a swapped file could redirect.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CHUNK = 1 << 20
SYMLINK = "is a symbolic link; only regular files inside the batch folder are read"


class LandingFileError(Exception):
    """A file or folder of a batch that may not be read (missing, a link, not a regular file)."""


class HashedFile(io.RawIOBase):
    """A landing file open for reading; keeps the sha256 and the first UTF-8 problem of the bytes
    read so far. :meth:`finish` reads what a reader left and gives the totals."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._sha = hashlib.sha256()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._lines = 1
        self.utf8_problem: str | None = None
        self.size = os.fstat(fd).st_size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = os.readv(self._fd, [buffer])
        if count:
            self._take(bytes(memoryview(buffer)[:count]))
        return count

    def _take(self, data: bytes) -> None:
        self._sha.update(data)
        if self.utf8_problem is None:
            try:
                self._decoder.decode(data)
            except UnicodeDecodeError as exc:
                line = self._lines + data[: exc.start].count(b"\n")
                self.utf8_problem = f"not valid UTF-8 (line {line})"
            self._lines += data.count(b"\n")

    def finish(self) -> str:
        """Read the rest (a reader may stop early) and return the sha256 of the whole file."""
        while data := os.read(self._fd, CHUNK):
            self._take(data)
        if self.utf8_problem is None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8_problem = "not valid UTF-8 (truncated character at the end)"
        return self._sha.hexdigest()

    def close(self) -> None:
        """Marks the stream closed (a buffer around it closes it when collected); the descriptor
        stays open for :meth:`finish` until :meth:`release`."""
        super().close()

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class BatchFolder:
    """A batch folder opened without following links; files are opened relative to it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self._fd = os.open(folder, _DIR_FLAGS)
        except OSError as exc:
            if os.path.islink(folder):
                raise LandingFileError(f"batch folder {SYMLINK}") from exc
            raise LandingFileError(f"batch folder cannot be opened ({exc.strerror})") from exc

    def __enter__(self) -> BatchFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        os.close(self._fd)

    def open(self, rel: str) -> HashedFile:
        """The regular file at ``rel`` (a manifest path: relative, no ``..``), or a
        LandingFileError saying why it may not be read."""
        parts = PurePosixPath(rel).parts
        opened: list[int] = []
        parent = self._fd
        name = parts[-1]
        try:
            for part in parts[:-1]:
                name = part
                parent = os.open(part, _DIR_FLAGS, dir_fd=parent)
                opened.append(parent)
            name = parts[-1]
            fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
        except FileNotFoundError as exc:
            raise LandingFileError("listed in the manifest but missing") from exc
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, parent):
                where = "" if name == parts[-1] else f"folder {name} "
                raise LandingFileError(f"{where}{SYMLINK}") from exc
            raise LandingFileError(f"cannot be opened ({exc.strerror})") from exc
        finally:
            for fd_dir in opened:
                os.close(fd_dir)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise LandingFileError("not a regular file; only regular files are read")
        return HashedFile(fd)

    def check(self, rel: str) -> None:
        """Whether ``rel`` may be read (a LandingFileError says why not), without reading it."""
        self.open(rel).release()

    def read_bytes(self, rel: str, limit: int) -> bytes:
        """The whole of a small file (the manifest); a LandingFileError beyond ``limit`` bytes."""
        data = bytearray()
        handle = self.open(rel)
        try:
            while len(data) <= limit and (chunk := handle.read(CHUNK)):
                data += chunk
        finally:
            handle.release()
        if len(data) > limit:
            raise LandingFileError(f"larger than {limit} bytes")
        return bytes(data)

    def entries(self) -> Iterator[tuple[str, bool]]:
        """(relative path, is a link) of every file and link below the folder, never following
        a link (folders themselves are walked, not listed)."""
        yield from _walk(self.folder, "")


def _is_link(name: str, parent: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode)
    except OSError:
        return False


def _walk(folder: Path, prefix: str) -> Iterator[tuple[str, bool]]:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        if entry.is_symlink():
            yield rel, True
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), rel + "/")
        else:
            yield rel, False


def newest_change(folder: Path) -> float:
    """The latest ctime (POSIX seconds) of the folder and everything below it, links not
    followed: when anything of a batch last arrived or changed (copy tools cannot backdate a
    ctime, as they can a modification time)."""
    newest = os.lstat(folder).st_ctime
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_ctime)
            except OSError:
                continue
    return newest
