"""Hostile uploads and the service's temporary files.

Every limit is a setting (:class:`api.settings.Settings`, README "Security") and refuses before
the work it protects is done:

- :class:`BodyLimit`: a request body above ``max_request_bytes`` is answered 413 from its
  ``Content-Length`` alone, or as soon as a streamed body passes the limit;
- :func:`check_table_files`: every uploaded table is measured from its own directory before it
  is parsed: an ``.xlsx`` from its zip directory (uncompressed size, compression ratio) and its
  rows counted by scanning the sheet's XML, a CSV's lines counted in blocks, a Parquet file's rows
  and uncompressed size read from its footer; each refusal is a 422 naming the file;
- :func:`work_dir` / :func:`clean_leftovers`: temporary files live in the service's own data
  folder (``DATA_DIR/tmp``, mode 0700), in folders named after the process that made them, so
  that a start-up removes what dead processes left (a draw killed mid-way leaves notices with
  inspectors' names) and never a live worker's files.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
from fastapi import HTTPException

from api.settings import Settings, data_folder
from scheduler.errors import InputError, Problem

TMP_PREFIX = "randinspect-"
_BLOCK = 1 << 20


# ---------------------------------------------------------------- request size


class BodyLimit:
    """ASGI middleware: 413 for a request body above ``max_bytes`` (from ``Content-Length``
    before anything is read; for a chunked body as soon as the running count passes it)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"the request is larger than the limit of {self.max_bytes} bytes (RANDINSPECT_MAX_REQUEST_BYTES)"

    async def _refuse(self, send) -> None:
        import json

        body = json.dumps({"detail": self._detail()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, detail=self._detail())
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await self._refuse(send)


# ---------------------------------------------------------------- table files


def _problem(name: str, message: str) -> Problem:
    return Problem(name, None, None, message)


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _xml_rows(book: zipfile.ZipFile, member: str, stop: int) -> int:
    """``<row>`` elements of a worksheet, counted in the decompressed stream (bounded memory);
    the count stops early once it passes ``stop``."""
    count = 0
    tail = b""
    with book.open(member) as fh:
        while block := fh.read(_BLOCK):
            data = tail + block
            count += len(_ROW_TAG.findall(data))
            # a tag cut at the block's end is counted with the next block: keep the last bytes
            cut = data.rfind(b"<")
            tail = data[cut:] if cut >= 0 and len(data) - cut < 64 else b""
            if tail:
                count -= len(_ROW_TAG.findall(tail))
            if count > stop:
                break
        else:
            count += len(_ROW_TAG.findall(tail))  # the last bytes, held back for a next block
    return count


def check_xlsx(path: Path, settings: Settings) -> None:
    """Refuse a workbook that unpacks to more than the limits, or whose sheets hold too many rows,
    from its zip directory and a streamed count (nothing is opened by openpyxl before)."""
    name = path.name
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(_problem(name, f"cannot read the file: not an .xlsx workbook ({exc})")) from None
    with book:
        entries = book.infolist()
        unpacked = sum(e.file_size for e in entries)
        packed = max(1, sum(e.compress_size for e in entries), path.stat().st_size)
        if unpacked > settings.max_xlsx_uncompressed_bytes:
            raise InputError(
                _problem(
                    name,
                    f"the workbook unpacks to {unpacked} bytes, more than the limit of "
                    f"{settings.max_xlsx_uncompressed_bytes} (RANDINSPECT_MAX_XLSX_UNCOMPRESSED_BYTES); "
                    "send large tables as CSV or Parquet",
                )
            )
        ratio = unpacked / packed
        if ratio > settings.max_xlsx_ratio:
            raise InputError(
                _problem(
                    name,
                    f"the workbook unpacks to {ratio:.0f} times its size ({unpacked} bytes from {packed}), "
                    f"more than the limit of {settings.max_xlsx_ratio} (RANDINSPECT_MAX_XLSX_RATIO): "
                    "a compression bomb is refused",
                )
            )
        for entry in entries:
            if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                rows = _xml_rows(book, entry.filename, settings.max_xlsx_rows + 1) - 1  # the header row
                if rows > settings.max_xlsx_rows:
                    raise InputError(
                        _problem(
                            name,
                            f"the sheet {entry.filename.rsplit('/', 1)[-1]} holds more than {settings.max_xlsx_rows} data rows, "
                            "the limit for .xlsx (RANDINSPECT_MAX_XLSX_ROWS); "
                            "send large tables as CSV or Parquet",
                        )
                    )


def _too_many_rows(name: str, rows: int, settings: Settings) -> InputError:
    return InputError(
        _problem(
            name,
            f"the table holds {rows} data rows, more than the limit of {settings.max_table_rows} "
            "(RANDINSPECT_MAX_TABLE_ROWS)",
        )
    )


def check_csv(path: Path, settings: Settings) -> None:
    """Lines counted in 1 MiB blocks (an upper bound of the rows); only when that passes the
    limit are the rows counted exactly (quoted line breaks), still streaming."""
    lines = 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            lines += block.count(b"\n")
    if lines - 1 <= settings.max_table_rows:
        return
    rows = -1
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=encoding, newline="") as fh:
                rows = sum(1 for _ in csv.reader(fh)) - 1
            break
        except (UnicodeDecodeError, csv.Error):
            continue
    if rows < 0 or rows > settings.max_table_rows:
        raise _too_many_rows(path.name, max(rows, lines - 1), settings)


def check_parquet(path: Path, settings: Settings) -> None:
    """Rows and uncompressed size from the footer (the data is not read)."""
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # noqa: BLE001 - any unreadable footer is bad input
        raise InputError(_problem(path.name, f"cannot read the file: {exc}")) from None
    if meta.num_rows > settings.max_table_rows:
        raise _too_many_rows(path.name, meta.num_rows, settings)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > settings.max_parquet_uncompressed_bytes:
        raise InputError(
            _problem(
                path.name,
                f"the file's columns unpack to {unpacked} bytes, more than the limit of "
                f"{settings.max_parquet_uncompressed_bytes} (RANDINSPECT_MAX_PARQUET_UNCOMPRESSED_BYTES)",
            )
        )


def check_table_files(folder: Path, settings: Settings) -> None:
    """Every table file of ``folder`` within the upload limits; every refusal in one 422."""
    checks = {".xlsx": check_xlsx, ".csv": check_csv, ".parquet": check_parquet}
    problems: list[Problem] = []
    for path in sorted(Path(folder).iterdir()):
        check = checks.get(path.suffix.lower())
        if check is None:
            continue
        try:
            check(path, settings)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)


def save_upload(source, target: Path) -> None:
    """Copy an uploaded file to ``target`` in blocks (never whole in memory)."""
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, _BLOCK)


def release_memory() -> None:
    """Give the memory a refused upload's parsing freed back to the operating system (Arrow's pool,
    then glibc's heap): without it the process keeps hundreds of MB resident after a large
    refused file. Run after the response (a background task)."""
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


# ---------------------------------------------------------------- temporary files


def work_dir(settings: Settings) -> Path:
    """``DATA_DIR/tmp``, created with mode 0700 (and made so if it exists)."""
    path = data_folder(settings) / "tmp"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    os.chmod(path, 0o700)
    return path


def _owner_pid(name: str) -> int | None:
    rest = name.removeprefix(TMP_PREFIX)
    head = rest.split("-", 1)[0]
    return int(head) if rest != name and head.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(settings: Settings) -> list[str]:
    """Remove what dead processes of this service left in ``DATA_DIR/tmp`` (our own names only:
    ``randinspect-<pid>-…`` whose process is gone); returns the names removed."""
    removed = []
    for entry in sorted(work_dir(settings).iterdir()):
        pid = _owner_pid(entry.name)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


@contextlib.contextmanager
def temporary_directory(purpose: str) -> Iterator[str]:
    """A private temporary folder (mode 0700, named after this process), removed on exit. In the
    service, the temporary folder of the process is ``DATA_DIR/tmp`` (:func:`use_work_dir`)."""
    with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-{purpose}-") as tmp:
        yield tmp


@contextlib.contextmanager
def use_work_dir(settings: Settings) -> Iterator[Path]:
    """While the service runs, every temporary file of the process (uploads spooled by the
    multipart parser included) goes to ``DATA_DIR/tmp``; leftovers of dead processes are removed
    first."""
    folder = work_dir(settings)
    clean_leftovers(settings)
    before = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = before
