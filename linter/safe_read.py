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


class ReadRefused(Exception):
    """A file that was not read, and why; `missing` when there is no file at all."""

    def __init__(self, reason: str, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing


def read_repository_file(
    path: Path | str, root: Path, limit: int, *, follow_links: bool = True, folders: dict[str, bool] | None = None
) -> bytes:
    """The bytes of `path`, a file of the repository at `root` (an absolute, resolved path). A symbolic link is
    followed only when it leads inside the root, and not at all when `follow_links` is false. `folders` keeps,
    for a caller that reads many files at once, whether each folder was found inside the root."""
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
    with os.fdopen(fd, "rb") as stream:
        # The folder too: a linked folder on the way could lead out of the root.
        folder = os.path.dirname(text)
        inside = _inside(os.path.realpath(folder), root) if folders is None else _folder_inside(folder, root, folders)
        if not inside:
            raise ReadRefused("not read: it is outside the root")
        return _read_checked(stream, limit)


def read_named_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`, a file the user named: anywhere, through links, but a regular file within `limit`."""
    try:
        fd = os.open(str(path), _FLAGS)
    except OSError as error:
        raise _refusal(error) from None
    with os.fdopen(fd, "rb") as stream:
        return _read_checked(stream, limit)


def _read_checked(stream, limit: int) -> bytes:
    try:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ReadRefused("not a regular file")
        if info.st_size > limit:
            raise ReadRefused(f"not read: {info.st_size:,} bytes is over the {limit:,}-byte limit")
        # As many bytes as the file says it holds, and one more: a read of `limit` bytes would allocate them.
        data = stream.read(info.st_size + 1)
        if data is not None and len(data) > info.st_size:  # a file under /proc says 0 bytes and holds more
            data += stream.read(limit + 1 - len(data)) or b""
    except OSError as error:
        raise _refusal(error) from None
    if data is None or len(data) > limit:
        raise ReadRefused(f"not read: it is over the {limit:,}-byte limit")
    return data


def _folder_inside(folder: str, root: Path, folders: dict[str, bool]) -> bool:
    """`_inside(realpath(folder), root)`, from the answers kept for the folders above it: a folder that is not a
    link, in a folder inside the root, is inside it too (one `lstat`, where `realpath` takes one per level)."""
    if folder not in folders:
        parent, name = os.path.split(folder)
        top = str(root)
        below_top = parent == top or parent.startswith(os.path.join(top, ""))
        if below_top and name not in ("", ".", "..") and _folder_inside(parent, root, folders):
            folders[folder] = not os.path.islink(folder) or _inside(os.path.realpath(folder), root)
        else:
            folders[folder] = _inside(os.path.realpath(folder), root)
    return folders[folder]


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
