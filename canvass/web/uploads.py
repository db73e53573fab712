"""Uploaded files, on disk for as long as an import reads them.

The multipart parser spools each file to disk past its first megabyte (never whole in
memory); here each is copied, a megabyte at a time, into a private folder of the upload
directory under its own base name (the readers know files by name), handed to the
application's import, and the folder removed afterwards whatever happened.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile

from canvass.errors import CanvassError, IngestError

CHUNK = 1 << 20
MAX_NAME = 200
"""Characters of an uploaded file's name kept (all ASCII by then)."""


def _safe_name(name: str, n: int) -> str:
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(". ")
    if len(base) > MAX_NAME:  # past what a file system takes (255 bytes): keep the ending
        stem, dot, suffix = base.rpartition(".")
        suffix = suffix[:16] if dot else ""
        base = (stem if dot else base)[: MAX_NAME - len(suffix) - 1] + dot + suffix
    return base or f"upload-{n}"


def uploaded_files(form: dict[str, Any], field: str) -> list[UploadFile]:
    value = form.get(field)
    files = value if isinstance(value, list) else [value]
    found = [f for f in files if isinstance(f, UploadFile) and f.filename]
    if not found:
        raise IngestError(f"no file was chosen ({field})")
    return found


@contextmanager
def on_disk(files: list[UploadFile], upload_dir: Path) -> Iterator[list[Path]]:
    """The uploaded files as paths in a private folder, removed on leaving."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="canvass-upload-", dir=upload_dir))
    try:
        paths = []
        for n, upload in enumerate(files):
            path = folder / _safe_name(upload.filename or "", n)
            if path.exists():
                raise IngestError(f"two files named {path.name} were uploaded")
            upload.file.seek(0)
            with path.open("xb") as out:
                shutil.copyfileobj(upload.file, out, CHUNK)
            paths.append(path)
        yield paths
    except CanvassError as e:
        # Messages name the file as the person uploaded it, not where it was kept.
        text = str(e).replace(f"{folder}/", "")
        if text == str(e):
            raise
        raise type(e)(text) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for upload in files:
            upload.file.close()
