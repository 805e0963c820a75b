"""Writing files the scanned repository may have prepared a trap for.

A repository can commit a symbolic link where loadlint writes (`loadlint.sarif -> /etc/...`, a dangling
`loadlint-baseline.json`), or a link to a folder on the way (`reports -> /etc`). So loadlint never writes through
a link, never replaces anything that is not a regular file (a device, a FIFO), and does its checks and its write
through a descriptor of the folder it checked, so that nothing can be swapped in between:

- The folder is opened one component at a time with `O_NOFOLLOW`. A link met on the way is resolved and
  followed, unless it lies inside the repository's root and leads out of it: links outside the root (macOS's
  `/tmp`, a linked home) are the user's own.
- The file itself must be a regular file or missing. The content is written to a temp file in that folder and
  renamed over the old one (a reader sees the old content or the new, never half); the rename replaces the
  directory entry, never what a link there points to.
- An existing file keeps its mode, and its owner and group when the temp file can be given them (root can).
  `rewrite_if_unchanged`, for `--fix`, goes further: a file whose owner the temp file cannot get (another user's)
  or that has several hard links is rewritten in place, so that it keeps its owner and its links.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class WriteRefused(Exception):
    """A path loadlint will not write to, and why (one line, without the path)."""


def write_atomically(path: Path, content: str | bytes, root: Path | None = None) -> None:
    """Replace `path` with `content` (text as UTF-8, line endings untouched), or create it with the usual
    `0o666 & ~umask`. Raises WriteRefused for a link or a file that is not regular (and, when `root` is given, for
    a link on the way that leads out of it), OSError when the write fails; either way `path` is unchanged."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder, name, _ = open_folder(path, root)
    try:
        _replace(folder, name, _existing(folder, name), data, owner_or_in_place=False)
    finally:
        os.close(folder)


def check_writable(path: Path, root: Path | None = None) -> None:
    """Raise WriteRefused (or OSError) now for what `write_atomically` would refuse later."""
    folder, name, _ = open_folder(path, root)
    try:
        _existing(folder, name)
    finally:
        os.close(folder)


def rewrite_if_unchanged(path: Path, expected: bytes, content: bytes, root: Path) -> bool:
    """Replace the content of the regular file `path` (inside `root`) with `content` if it still holds exactly
    `expected`; False, writing nothing, when it does not (someone edited it meanwhile)."""
    folder, name, where = open_folder(path, root)
    try:
        if not _inside(where, str(root)):
            raise WriteRefused("it is outside the root")
        info = _existing(folder, name)
        if info is None:
            return False
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
        with os.fdopen(fd, "rb") as stream:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(now.st_mode):
                return False
            if stream.read(len(expected) + 1) != expected:
                return False
        if info.st_nlink > 1:
            _rewrite_in_place(folder, name, info, content)
        else:
            _replace(folder, name, info, content, owner_or_in_place=True)
        return True
    finally:
        os.close(folder)


def open_folder(path: Path, root: Path | None) -> tuple[int, str, str]:
    """A descriptor of the folder that holds `path`, the file's name, and where the folder really is. The folder is
    reached one component at a time with `O_NOFOLLOW`; a link on the way is resolved here and followed, unless it
    lies inside `root` and leads out of it."""
    name = path.name
    if name in ("", ".", ".."):
        raise WriteRefused("it is not a file name")
    absolute = path.parent if path.is_absolute() else Path(os.getcwd(), path.parent)
    top = str(root) if root is not None else None
    pending = list(absolute.parts[1:])
    current, fd, links = "/", os.open("/", _DIRECTORY), 0
    try:
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                following = os.open("..", _DIRECTORY, dir_fd=fd)
                current = os.path.dirname(current)
            elif (following := _open_component(fd, part)) is not None:
                current = os.path.join(current, part)
            else:
                here = os.path.join(current, part)
                target = os.path.realpath(here)
                if top is not None and _inside(here, top) and not _inside(target, top):
                    raise WriteRefused(f"{os.path.relpath(here, top)} is a symbolic link to outside the repository")
                links += 1
                if links > _MAX_LINKS:
                    raise WriteRefused("too many symbolic links on the way")
                pending = [*Path(target).parts[1:], *pending]  # walked again, from the top, without links
                following = os.open("/", _DIRECTORY)
                current = "/"
            os.close(fd)
            fd = following
    except BaseException:
        os.close(fd)
        raise
    return fd, name, current


_MAX_LINKS = 40  # as the kernel's own limit


def _open_component(fd: int, part: str) -> int | None:
    """The folder `part` of the folder `fd`, or None when `part` is a symbolic link."""
    try:
        return os.open(part, _DIRECTORY | _NOFOLLOW, dir_fd=fd)
    except OSError:
        try:
            info = os.stat(part, dir_fd=fd, follow_symlinks=False)
        except OSError:
            info = None
        if info is None or not stat.S_ISLNK(info.st_mode):
            raise
    return None


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(os.path.join(top, ""))


def _existing(folder: int, name: str) -> os.stat_result | None:
    """What is at `name` now: None when nothing; refused when it is a link or not a regular file."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefused("it is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("it is not a regular file")
    return info


def _replace(folder: int, name: str, info: os.stat_result | None, data: bytes, owner_or_in_place: bool) -> None:
    """Write a temp file and rename it over `name`. With `owner_or_in_place`, a file whose owner and group the
    temp file cannot be given is rewritten in place instead; else it gets the owner the write gives."""
    temp, fd = _temp_file(folder, name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if info is not None and not _same_owner(out.fileno(), info) and owner_or_in_place:
                raise _KeepOwner
            os.fchmod(out.fileno(), stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask())
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except _KeepOwner:
        os.unlink(temp, dir_fd=folder)
        _rewrite_in_place(folder, name, info, data)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=folder)
        except OSError:
            pass
        raise


class _KeepOwner(Exception):
    """The temp file cannot be given the file's owner and group: rewrite the file in place instead."""


def _same_owner(fd: int, info: os.stat_result) -> bool:
    now = os.fstat(fd)
    if (now.st_uid, now.st_gid) == (info.st_uid, info.st_gid):
        return True
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except OSError:
        return False
    return True


def _rewrite_in_place(folder: int, name: str, info: os.stat_result, data: bytes) -> None:
    """Write `data` into the file itself (its inode keeps its links, owner, group, mode and extended attributes)."""
    fd = os.open(name, os.O_WRONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(now.st_mode):
            raise WriteRefused("it was replaced while loadlint was writing it")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def _temp_file(folder: int, name: str) -> tuple[str, int]:
    for _ in range(100):
        temp = f".{name[:64]}.{os.urandom(4).hex()}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
            return temp, os.open(temp, flags, 0o600, dir_fd=folder)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {name}")


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
