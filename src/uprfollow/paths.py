"""Output paths that cannot be turned against the user.

Every command that writes a file (a backup, a response sheet, a digest) goes through
`safe_output_path()`: it refuses to write through a symbolic link (a link planted in a
shared folder could make `upr` overwrite any file the user can write), refuses to
overwrite an existing file unless asked, and, when the file is meant to live inside a
target folder, refuses a name that escapes it (a State code like `../../etc`).
`safe_name()` turns a value from the data (a State code, a stakeholder label) into one
file-name component, or refuses it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import UprError


class UnsafeOutputPath(UprError):
    """An output path that would write through a link, outside its folder, or over a file. Exit code 1."""


_NAME_OK = re.compile(r"^\w[\w.,' ()+-]*$")


def safe_name(value: str, *, what: str = "name") -> str:
    """`value` as one file-name component; refuses separators, '..', control characters, empty names."""
    if (
        not value
        or value in (".", "..")
        or "/" in value
        or "\\" in value
        or "\x00" in value
        or ".." in value
        or len(value) > 120
        or not _NAME_OK.match(value)
    ):
        raise UnsafeOutputPath(
            f"{what} {value!r} cannot be used in a file name",
            hint="use letters, digits, '-', '_' and '.', such as an ISO3 code (HTI)",
        )
    return value


def _has_symlink_between(base: Path, target: Path) -> Path | None:
    """The first symbolic link among the folders from `base` (exclusive) down to `target`'s parent."""
    try:
        rel = target.parent.relative_to(base)
    except ValueError:
        return None
    current = base
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def safe_output_path(path: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
    """Check an output path before writing to it; return it as a Path.

    - a symbolic link (even a dangling one) is refused, with or without `force`;
    - an existing file is refused unless `force`; a folder is always refused;
    - with `base`, the path must stay inside `base` once resolved (no '..', no absolute
      path, no link in between leading elsewhere).
    """
    p = Path(path)
    if base is not None:
        root = Path(base)
        if not p.is_absolute():
            p = root / p
        root_real = root.resolve()
        real = p.parent.resolve() / p.name
        if p.name in ("", ".", "..") or not real.is_relative_to(root_real):
            raise UnsafeOutputPath(
                f"{p}: the output path leaves the folder {root}",
                hint="a file name taken from the data must not contain '/' or '..'",
            )
        link = _has_symlink_between(root, p)
        if link is not None:
            raise UnsafeOutputPath(f"{link} is a symbolic link: upr does not write through links", hint="write to a real folder")
    if p.is_symlink():
        raise UnsafeOutputPath(
            f"{p} is a symbolic link: upr does not write through links",
            hint="remove the link or choose another output file",
        )
    if p.is_dir():
        raise UnsafeOutputPath(f"{p} is a folder", hint="give a file name for the output")
    if p.exists() and not force:
        raise UnsafeOutputPath(f"{p} already exists", hint="choose another name, or pass --force to overwrite it")
    if not p.parent.exists():
        raise UnsafeOutputPath(f"{p.parent}: no such folder", hint="create the folder first")
    return p


def open_new_file(path: Path, mode: str = "wb", *, force: bool = False) -> IO[Any]:
    """Open `path` for writing without following a symbolic link at its last component (O_NOFOLLOW).

    Use after `safe_output_path()` to close the window between the check and the write.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise UnsafeOutputPath(f"{path} already exists", hint="choose another name, or pass --force to overwrite it") from None
    except OSError as e:
        if path.is_symlink():
            raise UnsafeOutputPath(f"{path} is a symbolic link: upr does not write through links") from None
        raise UprError(f"cannot write {path}: {e.strerror}", hint="check the folder's permissions") from None
    return os.fdopen(fd, mode)


@contextmanager
def replace_atomically(path: Path) -> Iterator[IO[bytes]]:
    """A binary file to write `path`'s new content to; on success it takes `path`'s place.

    The content goes to a fresh file in the same folder (mkstemp: an unpredictable name
    created with O_EXCL, so no link planted in advance is followed), which is then renamed
    over `path`: a rename replaces a symbolic link found there, never its target, and a
    failed write leaves no partial file. Check `path` with `safe_output_path()` first.
    """
    remove_stale_parts(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.upr{os.getpid()}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs are documents to share
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_PART = re.compile(r"^\..+\.upr(\d+)\.[A-Za-z0-9_]{8}\.part$")


def remove_stale_parts(folder: Path) -> list[Path]:
    """Remove the `.part` files `replace_atomically` left in `folder` when its process was killed.

    Only files of its own naming (`.NAME.uprPID.XXXXXXXX.part`) whose process is gone are
    removed: a file another running upr is writing stays.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _PART.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
