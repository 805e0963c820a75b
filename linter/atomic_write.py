"""Writing a file so that a reader sees the old content or the new, never half of it: a temp file beside it, renamed."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace `path` (or, for a symlink, the file it points to) with `content`; text is written as UTF-8 with
    its line endings untouched.

    An existing file keeps its permission bits; a new one gets the usual `0o666 & ~umask`. On any error the temp
    file is removed and `path` is unchanged.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
