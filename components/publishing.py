"""Shared by the publishers of a connector's non-secret config document: its canonical form and digest, URL
checks, one error base, and the file system as a small client (atomic writes, errors that say what to do).

A document is a JSON object with no secret in it. Publishers compare the digest of its canonical JSON with the
one in state, so an unchanged document costs no I/O and a changed one (e.g. a rotated secret's new version in
`secretRef.version`) is delivered exactly once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import CredentialsError

MAX_SAFE_INTEGER = 2**53  # beyond this a double is not an exact integer
FILE_MODE = 0o644  # the document is not secret: readable by the services on the host that consume it


class PublicationError(CredentialsError):
    """Publishing a connector's config document (file, SSM parameter, webhook) failed or was refused."""


class FilePublicationError(PublicationError):
    """A document file could not be read, written or removed, or belongs to someone else."""


def integral(value: Any) -> Any:
    """The value with whole floats as ints, at any depth.

    Pulumi carries every number as a double, so a document that went through the engine says `"version": 4.0`
    where the program wrote 4. Publishing 4 keeps the JSON what the program meant, and the digest the same
    whether or not the engine was in between.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if isinstance(value, Mapping):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [integral(v) for v in value]
    return value


def canonical(document: Mapping[str, Any]) -> str:
    """Compact JSON with sorted keys: the same document is always the same text (and the same digest)."""
    return json.dumps(integral(document), sort_keys=True, separators=(",", ":"))


def document_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON. Not salted: the document holds no secret."""
    return hashlib.sha256(canonical(document).encode()).hexdigest()


def text_digest(text: str) -> str:
    """Digest of a value read back: a JSON object digests like the document, whatever its spelling."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return document_digest(parsed)
    return hashlib.sha256(text.encode()).hexdigest()


def public_url(url: str) -> str:
    """The URL as messages show it: scheme, host, port and path; no user info, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# --- the file system, as a small client ----------------------------------------------------------------------
def read_file(path: str) -> str | None:
    """The file's text, or None when there is none. A symlink or a directory is refused, not followed."""
    target = Path(path)
    with _file_errors(path, "read"):
        if target.is_symlink():
            raise FilePublicationError(
                f"document file {path} is a symbolic link; it is left untouched. Point the path at a regular file"
            )
        try:
            return target.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None


def write_file(path: str, text: str) -> None:
    """Atomic write: a temp file in the same directory, fsync, mode 0644, then rename over the target.

    Readers see the old document or the new one, never half of one. Parent directories are created.
    """
    target = Path(path)
    with _file_errors(path, "write"):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(target.parent)


def remove_file(path: str) -> None:
    """Remove the file; one that is already gone counts as removed."""
    with _file_errors(path, "remove"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            return


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable. Best effort: not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _file_errors(path: str, verb: str) -> Iterator[None]:
    """Map OSError to FilePublicationError: which file, what failed, what to do."""
    where = f"document file {path}" + ("" if os.path.isabs(path) else f" (in {os.getcwd()})")
    try:
        yield
    except FilePublicationError:
        raise
    except IsADirectoryError:
        raise FilePublicationError(f"cannot {verb} {where}: it is a directory. Choose a file path") from None
    except NotADirectoryError:
        raise FilePublicationError(
            f"cannot {verb} {where}: a part of the path is a file, not a directory. Fix the path"
        ) from None
    except PermissionError:
        raise FilePublicationError(
            f"cannot {verb} {where}: permission denied. Let the user running pulumi write to that directory, "
            "or choose another path"
        ) from None
    except UnicodeDecodeError:
        raise FilePublicationError(
            f"cannot {verb} {where}: it is not UTF-8 text, so not a document written by this tool; it is left "
            "untouched. Choose another path"
        ) from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FilePublicationError(f"cannot {verb} {where}: no space left on the device") from None
        if exc.errno == errno.EROFS:
            raise FilePublicationError(f"cannot {verb} {where}: the file system is read-only") from None
        raise FilePublicationError(f"cannot {verb} {where}: {exc.strerror or type(exc).__name__}") from None
