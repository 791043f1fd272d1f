"""Saving what a user uploads (MIDI / MusicXML / ABC files, or a zip of them) safely.

Plain Python, no Streamlit: the dashboard hands over the name and bytes of an upload and gets
back the paths it may read. Nothing outside the destination folder is ever written:

- only the score suffixes the corpus reads (`core.data.corpus.SUFFIXES`) are kept; other members of
  a zip are skipped and reported (`SavedFiles.skipped`), an error only when nothing is left;
- names are sanitised (safe characters, no hidden files, no paths from a single upload);
- zip members with absolute paths, '..', symlinks or other special files, or a path that
  resolves outside the folder, refuse the whole archive before anything is written;
- size is limited three ways: the upload itself, each file, and the archive's total, checked
  on the declared sizes first and again on the bytes actually read (zip bombs);
- an existing different file is never overwritten: a numeric suffix is added instead (an
  identical file already there is simply reused).

A refused upload raises `UploadError` naming the file and the reason, and leaves behind none
of the files it had started to write. `save_uploads` is one press of the dashboard's "Save
upload": every file into one fresh folder, each refusal kept with its reason, and a check of
what a prepare will make of each saved file.
"""
from __future__ import annotations

import io
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Iterable

from core.data.corpus import SUFFIXES, FileReport
from core.data.pieces import check_file
from core.files import folder_stamp

MAX_BYTES = 20 * 2**20          # one upload, and one file inside a zip
MAX_TOTAL_FACTOR = 5            # an archive may unpack to at most this many times max_bytes
MAX_MEMBERS = 2000              # entries in one zip, folders included
MAX_DEPTH = 8                   # folder levels kept from a zip
MAX_NAME = 100                  # characters in one sanitised name
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
CHUNK = 2**16
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


class UploadError(ValueError):
    """An upload that is refused as a whole; the message names the file and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class SavedFiles(list):
    """The saved paths (a plain list of Path) plus what was skipped inside a zip and why."""

    def __init__(self, paths=(), skipped=()) -> None:
        super().__init__(paths)
        self.skipped: list[tuple[str, str]] = list(skipped)


def sanitise_name(name: str, default: str = "upload") -> str:
    """One safe file or folder name: ASCII letters, digits, '.', '_', '-'; no leading dot.

    Accents are dropped rather than replaced ('canción' -> 'cancion'); any path in `name` is
    cut down to its last component; the suffix is lower-cased so '.MID' matches '.mid'.
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip("._- ") or default
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:16]
    stem = stem[: MAX_NAME - len(suffix) - 1]
    return f"{stem}.{suffix}" if suffix else stem


def _folder_name(name: str, default: str = "folder") -> str:
    """A sanitised folder name (no suffix handling: every dot and slash becomes '_')."""
    return sanitise_name(re.sub(r"[./\\]", "_", str(name)), default=default)


def new_upload_folder(root: Path, label: str) -> Path:
    """A fresh, empty folder under `root` named after the time and a sanitised label."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    slug = _folder_name(label, default="upload")[:60]
    base = f"{folder_stamp()}-{slug}"
    for i in range(10_000):
        folder = root / (base if i == 0 else f"{base}-{i}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise UploadError(label, f"no free folder name under {root}")


def _allowed(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in SUFFIXES


def _is_zip(name: str, data: bytes) -> bool:
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if suffix == ".mxl":  # compressed MusicXML is a zip too, but a score, not an archive
        return False
    return suffix == ".zip" or data[:4] in ZIP_MAGIC


def _show(name: str) -> str:
    """A member name for a message: quoted, control characters escaped, backslashes kept."""
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in name) + "'"


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def save_upload(name: str, data: bytes, dest: Path, max_bytes: int = MAX_BYTES, *,
                max_total: int | None = None, max_members: int = MAX_MEMBERS) -> SavedFiles:
    """Save one uploaded file, or the score files inside an uploaded zip, under `dest`.

    Returns the saved paths (a `SavedFiles` list whose `.skipped` says which zip members
    were left out and why). Raises `UploadError` for anything refused.
    """
    shown = str(name) or "upload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UploadError(shown, f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise UploadError(shown, f"too large ({_mb(len(data))}, the limit is {_mb(max_bytes)})")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if _is_zip(shown, data):
        total = max_total if max_total is not None else MAX_TOTAL_FACTOR * max_bytes
        return _save_zip(shown, data, dest, max_bytes, total, max_members)
    if not _allowed(shown):
        raise UploadError(shown, "not a score file (allowed: .zip, "
                                 f"{', '.join(SUFFIXES)})")
    if not data:
        raise UploadError(shown, "empty file")
    return SavedFiles([_write_unique(dest, [sanitise_name(shown)], data, [])])


def _member_parts(info: zipfile.ZipInfo) -> list[str]:
    """The member's path components, or UploadError if the path is unsafe."""
    raw = info.filename
    unsafe = UploadError(raw, "unsafe path in the zip (absolute or with '..')")
    if "\x00" in raw:
        raise unsafe
    path = raw.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise unsafe
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise unsafe
    return parts


def _member_kind(info: zipfile.ZipInfo) -> str:
    """'dir', 'file', or UploadError for a symlink or another special file."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise UploadError(info.filename, "symbolic link in the zip")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UploadError(info.filename, "special file (device, pipe or socket) in the zip")
    if info.is_dir() or kind == stat.S_IFDIR:
        return "dir"
    return "file"


def _save_zip(shown: str, data: bytes, dest: Path, max_bytes: int, max_total: int,
              max_members: int) -> SavedFiles:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UploadError(shown, "not a readable zip (damaged, or not a zip)") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise UploadError(shown, f"too many entries ({len(infos)}, the limit is "
                                     f"{max_members})")
        # First pass: refuse the whole archive on anything unsafe, before writing a byte.
        wanted: list[tuple[zipfile.ZipInfo, list[str]]] = []
        skipped: list[tuple[str, str]] = []
        declared = 0
        for info in infos:
            try:
                parts = _member_parts(info)
                kind = _member_kind(info)
            except UploadError as exc:
                raise UploadError(shown, f"{_show(exc.name)}: {exc.reason}") from None
            if kind == "dir" or not parts:
                continue
            if parts[0] == "__MACOSX" or parts[-1].startswith("._"):
                skipped.append((info.filename, "macOS metadata, not a score"))
                continue
            if not _allowed(parts[-1]):
                skipped.append((info.filename, "not a score file"))
                continue
            if info.flag_bits & 0x1:
                skipped.append((info.filename, "encrypted"))
                continue
            if info.file_size == 0:
                skipped.append((info.filename, "empty file"))
                continue
            if info.file_size > max_bytes:
                raise UploadError(shown, f"{_show(info.filename)} is too large "
                                         f"({_mb(info.file_size)}, the limit is {_mb(max_bytes)})")
            declared += info.file_size
            if declared > max_total:
                raise UploadError(shown, f"unpacks to more than {_mb(max_total)}")
            safe = [_folder_name(p) for p in parts[:-1]]
            safe = safe[-MAX_DEPTH:] + [sanitise_name(parts[-1])]
            wanted.append((info, safe))
        if not wanted:
            why = "; ".join(f"{n}: {r}" for n, r in skipped[:5]) or "it is empty"
            raise UploadError(shown, f"no score files in the zip ({why})")
        # Second pass: extract, counting the bytes actually produced.
        written: list[Path] = []
        saved = SavedFiles(skipped=skipped)
        produced = 0
        try:
            for info, safe in wanted:
                try:
                    content = _read_member(archive, info, max_bytes)
                except UploadError as exc:
                    raise UploadError(shown, f"{_show(exc.name)}: {exc.reason}") from None
                produced += len(content)
                if produced > max_total:
                    raise UploadError(shown, f"unpacks to more than {_mb(max_total)}")
                try:
                    path = _write_unique(dest, safe, content, written)
                except UploadError as exc:
                    raise UploadError(shown, f"{_show(info.filename)}: {exc.reason}") from None
                if path not in saved:
                    saved.append(path)
        except BaseException:
            _remove(written)
            raise
        return saved


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The member's bytes, refusing more than it declared or than max_bytes (zip bombs)."""
    limit = min(info.file_size, max_bytes)
    chunks, count = [], 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(CHUNK):
                count += len(chunk)
                if count > limit:
                    raise UploadError(info.filename, "holds more data than it declares")
                chunks.append(chunk)
    except UploadError:
        raise
    except NotImplementedError as exc:
        raise UploadError(info.filename, "compressed in a way this reader does not know "
                                          "(save the zip with ordinary deflate)") from exc
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError) as exc:
        raise UploadError(info.filename, "damaged data in the zip") from exc
    if count != info.file_size:
        raise UploadError(info.filename, "size differs from the declared size")
    return b"".join(chunks)


def _write_unique(dest: Path, parts: list[str], data: bytes, written: list[Path]) -> Path:
    """Write `data` at dest/parts, or at 'name-1.ext', 'name-2.ext'... if a different file is
    there; an identical file already there is returned as is."""
    root = dest.resolve()
    folder = dest.joinpath(*parts[:-1])
    target = folder / parts[-1]
    if not _inside(target, root):
        raise UploadError(parts[-1], "would be written outside the upload folder")
    for i, part in enumerate(parts[:-1], start=1):
        sub = dest.joinpath(*parts[:i])
        if not sub.exists() and not sub.is_symlink():
            sub.mkdir()
            written.append(sub)
        if not _inside(sub, root):
            raise UploadError("/".join(parts), "would be written outside the upload folder")
        if not sub.is_dir():
            raise UploadError("/".join(parts), f"a file named {part!r} is in the way")
    stem, suffix = target.stem, target.suffix
    for i in range(10_000):
        candidate = folder / (target.name if i == 0 else f"{stem}-{i}{suffix}")
        if candidate.is_symlink():
            continue
        try:
            with open(candidate, "xb") as fh:
                written.append(candidate)
                fh.write(data)
            return candidate
        except FileExistsError:
            if candidate.is_file() and candidate.stat().st_size == len(data) \
                    and candidate.read_bytes() == data:
                return candidate
    raise UploadError(target.name, "no free file name")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _remove(written: list[Path]) -> None:
    """Undo a refused upload: the files it wrote, then the folders it made (if empty)."""
    for path in reversed(written):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except OSError:
            pass


@dataclass
class UploadResult:
    """What one press of "Save upload" did: the new folder (None when nothing was kept),
    the saved files, zip members left out and whole uploads refused, each with its reason,
    and what a prepare will make of each saved file (kept with its roles, or skipped and
    why), named by its path in the folder."""

    folder: Path | None
    saved: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    checks: list[FileReport] = field(default_factory=list)


def save_uploads(files: Iterable[tuple[str, bytes]], root: Path, label: str) -> UploadResult:
    """Save uploads (name, bytes) with `save_upload` into one fresh folder under `root`, and
    check every saved file (core.data.pieces.check_file). A refused file (UploadError) does
    not stop the others; if nothing at all was saved the empty folder is removed, so the
    previous uploads listed are only folders with files in them."""
    folder = new_upload_folder(root, label)
    result = UploadResult(folder)
    for name, data in files:
        try:
            saved = save_upload(name, data, folder)
        except UploadError as exc:
            result.refused.append((exc.name, exc.reason))
            continue
        result.saved.extend(saved)
        result.skipped.extend(saved.skipped)
    if not result.saved:
        try:
            folder.rmdir()
        except OSError:
            pass
        result.folder = None
    result.checks = [replace(check_file(p), file=p.relative_to(folder).as_posix())
                     for p in result.saved]
    return result
