"""Reading a file whose path the scanned repository may have chosen, without letting the repository choose what
is read: only regular files, only inside the root, never more than a size limit, never blocking.

A repository can commit a symbolic link where loadlint expects a file (`.gitignore -> /proc/kmsg`,
`package.json -> /etc/...`) or put a FIFO or device there. So every file is opened with `O_NONBLOCK` (a FIFO
does not block the open) and checked with `fstat` on the descriptor that is then read (nothing can be swapped
in between); a link is followed only when it leads to a place inside the root, and for a `.gitignore` not at all,
as git does. Files the person running loadlint names (`--config`, `--baseline`) may lie anywhere, but they too
must be regular files under a size limit.

What cannot be read raises `ReadRefused`, whose text says why ("not read: it is a symbolic link to outside the
root", "not a regular file", "cannot read: Permission denied"); the caller turns it into a notice, or into a
one-line error for a file the user named.
"""

from __future__ import annotations

import errno
import os
import stat
from functools import lru_cache
from pathlib import Path

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_LINK_ERRORS = (errno.ELOOP, errno.EMLINK)  # what O_NOFOLLOW gives on a link (EMLINK: FreeBSD)
_CHUNK_BYTES = 1 << 16  # what a read takes at a time from a file that holds more than its stat said


class ReadRefused(Exception):
    """A file that was not read, and why; `missing` when there is no file at all."""

    def __init__(self, reason: str, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing


def read_repository_file(path: Path | str, root: Path, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of `path`, a file of the repository at `root` (an absolute, resolved path). A symbolic link is
    followed only when it leads inside the root, and not at all when `follow_links` is false."""
    text = str(path)
    try:
        fd = os.open(text, _FLAGS | _NOFOLLOW)
    except OSError as error:
        if error.errno not in _LINK_ERRORS:
            raise _refusal(error) from None
        if not follow_links:
            raise ReadRefused("not read: it is a symbolic link") from None
        text = os.path.realpath(text)
        if not _inside(text, root):
            raise ReadRefused("not read: it is a symbolic link to outside the root") from None
        try:
            fd = os.open(text, _FLAGS | _NOFOLLOW)
        except OSError as error:
            raise _refusal(error) from None
    try:
        # Where the file opened lies, folders included: a linked folder on the way could lead out of the root.
        if not _inside(_opened_path(fd, text), root):
            raise ReadRefused("not read: it is outside the root")
        return _read_checked(fd, limit)
    finally:
        os.close(fd)


def read_named_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`, a file the user named: anywhere, through links, but a regular file within `limit`."""
    try:
        fd = os.open(str(path), _FLAGS)
    except OSError as error:
        raise _refusal(error) from None
    try:
        return _read_checked(fd, limit)
    finally:
        os.close(fd)


def read_found_file(path: Path | str) -> bytes:
    """The bytes of a file discovery found and checked (a regular file inside the root, or a link that leads to
    one), as it is now: cheaper than `Path.read_bytes`, and a FIFO put in its place since does not block the
    read. Raises OSError."""
    fd = os.open(path, _FLAGS)
    try:
        return _read_to_end(fd, os.fstat(fd).st_size, None)
    finally:
        os.close(fd)


def _read_checked(fd: int, limit: int) -> bytes:
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadRefused("not a regular file")
        if info.st_size > limit:
            raise ReadRefused(f"not read: {info.st_size:,} bytes is over the {limit:,}-byte limit")
        data = _read_to_end(fd, info.st_size, limit)  # a file under /proc says 0 bytes and holds more
    except OSError as error:
        raise _refusal(error) from None
    if data is None:
        raise ReadRefused(f"not read: it is over the {limit:,}-byte limit")
    return data


def _read_to_end(fd: int, size: int, limit: int | None) -> bytes | None:
    """What `fd` holds, in one read when it holds the `size` its stat gave; None once over `limit` (None: no limit).
    (A buffered `read(limit + 1)` would allocate the whole limit for each file.)"""
    data = os.read(fd, size + 1)
    if len(data) <= size:  # all of it (a read short of the size is the end of a file that shrank)
        return data if limit is None or len(data) <= limit else None
    parts, total = [data], len(data)
    while data and (limit is None or total <= limit):
        data = os.read(fd, _CHUNK_BYTES)
        parts.append(data)
        total += len(data)
    return b"".join(parts) if limit is None or total <= limit else None


def _opened_path(fd: int, text: str) -> str:
    """The real path of the file open at `fd` (opened at `text`, not through a link): where the kernel found it,
    or where the real path of its folder puts it (on a system without /proc)."""
    try:
        found = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        found = ""
    if found.startswith("/"):
        return found
    return os.path.join(os.path.realpath(os.path.dirname(text)), os.path.basename(text))


def _refusal(error: OSError) -> ReadRefused:
    if isinstance(error, FileNotFoundError):
        return ReadRefused("does not exist", missing=True)
    return ReadRefused(f"cannot read: {error.strerror or error}")


def _inside(path: str, root: Path) -> bool:
    top = _real(str(root))
    return path == top or path.startswith(os.path.join(top, ""))


@lru_cache(maxsize=16)
def _real(root: str) -> str:
    return os.path.realpath(root)
