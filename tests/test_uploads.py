"""Uploads: only score files, safe names, nothing outside the folder, no bombs, no overwrite."""
from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest

from core.data.prepare import prepare_corpus
from core.data.uploads import (
    SavedFiles,
    UploadError,
    new_upload_folder,
    sanitise_name,
    save_upload,
)
from tests.fixtures import HIGH, LOW, midi_bytes, understate_sizes, zip_bytes

MIDI = midi_bytes(LOW[:4])
OTHER_MIDI = midi_bytes(HIGH[:4])


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- single files --------------------------------------------------------------------------

def test_a_single_midi_is_saved(tmp_path):
    saved = save_upload("song.mid", MIDI, tmp_path / "up")
    assert saved == [tmp_path / "up" / "song.mid"]
    assert saved[0].read_bytes() == MIDI
    assert isinstance(saved, SavedFiles) and saved.skipped == []


@pytest.mark.parametrize("name", ["song.exe", "song.mid.exe", "notes.txt", "song", ".mid",
                                  "archive.tar.gz"])
def test_disallowed_suffix_is_refused_naming_the_file(tmp_path, name):
    with pytest.raises(UploadError) as info:
        save_upload(name, MIDI, tmp_path)
    assert name in str(info.value) and "not a score file" in str(info.value)
    assert files_under(tmp_path) == []


def test_upper_case_suffix_is_accepted_and_lowered(tmp_path):
    (path,) = save_upload("SONG.MID", MIDI, tmp_path)
    assert path.name == "SONG.mid"


def test_oversize_file_is_refused(tmp_path):
    with pytest.raises(UploadError, match="too large") as info:
        save_upload("big.mid", MIDI + b"\0" * 2000, tmp_path, max_bytes=1000)
    assert "big.mid" in str(info.value)
    assert files_under(tmp_path) == []


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(UploadError, match="empty"):
        save_upload("song.mid", b"", tmp_path)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/evil.mid", "evil.mid"),
    ("/abs/path/x.mid", "x.mid"),
    ("C:\\Users\\me\\Canción Nº 1.MID", "Cancion_No_1.mid"),
    ("my song (final) v2!.musicxml", "my_song_final_v2.musicxml"),
    (".hidden.abc", "hidden.abc"),
    ("con.mid", "con_.mid"),
    ("\u202e\u200b.mid", "upload.mid"),
])
def test_names_are_sanitised(tmp_path, name, expected):
    assert sanitise_name(name) == expected
    (path,) = save_upload(name, MIDI, tmp_path / "up")
    assert path == tmp_path / "up" / expected
    assert files_under(tmp_path) == [f"up/{expected}"]


def test_long_names_are_cut_keeping_the_suffix():
    name = sanitise_name("x" * 500 + ".musicxml")
    assert len(name) <= 100 and name.endswith(".musicxml")


def test_no_silent_overwrite_a_numeric_suffix_is_added(tmp_path):
    (first,) = save_upload("song.mid", MIDI, tmp_path)
    (second,) = save_upload("song.mid", OTHER_MIDI, tmp_path)
    (third,) = save_upload("song.mid", midi_bytes([60, 61]), tmp_path)
    assert [first.name, second.name, third.name] == ["song.mid", "song-1.mid", "song-2.mid"]
    assert first.read_bytes() == MIDI and second.read_bytes() == OTHER_MIDI
    (again,) = save_upload("song.mid", OTHER_MIDI, tmp_path)  # identical: reused, not copied
    assert again == second
    assert files_under(tmp_path) == ["song-1.mid", "song-2.mid", "song.mid"]


def test_mxl_is_saved_as_a_file_not_unpacked(tmp_path):
    mxl = zip_bytes({"META-INF/container.xml": b"<container/>", "score.xml": b"<score/>"})
    (path,) = save_upload("chorale.mxl", mxl, tmp_path)
    assert path.name == "chorale.mxl" and path.read_bytes() == mxl


# --- zips ----------------------------------------------------------------------------------

def test_zip_with_nested_folders_happy_path(tmp_path):
    data = zip_bytes({
        "blues/": b"",
        "blues/boogie/one.mid": MIDI,
        "blues/boogie/two.MIDI": OTHER_MIDI,
        "classical/bach.musicxml": b"<score-partwise/>",
        "tune.abc": b"X:1\nK:C\nCDEF|\n",
        "readme.txt": b"skip me",
        "__MACOSX/blues/._one.mid": b"junk",
        "cover.jpg": b"\xff\xd8",
    })
    dest = tmp_path / "up"
    saved = save_upload("corpus.zip", data, dest)
    assert files_under(dest) == ["blues/boogie/one.mid", "blues/boogie/two.midi",
                                 "classical/bach.musicxml", "tune.abc"]
    assert sorted(p.relative_to(dest).as_posix() for p in saved) == files_under(dest)
    assert (dest / "blues/boogie/one.mid").read_bytes() == MIDI
    assert {name for name, _ in saved.skipped} == {"readme.txt", "__MACOSX/blues/._one.mid",
                                                   "cover.jpg"}
    assert all(reason for _, reason in saved.skipped)


def test_a_zip_is_recognised_by_its_magic_bytes(tmp_path):
    saved = save_upload("upload.bin", zip_bytes({"a.mid": MIDI}), tmp_path)
    assert [p.name for p in saved] == ["a.mid"]


def test_an_unzipped_upload_is_usable_as_a_corpus(tmp_path):
    data = zip_bytes({"set/a.mid": MIDI, "set/b.mid": OTHER_MIDI})
    folder = new_upload_folder(tmp_path / "uploads", "My set")
    save_upload("set.zip", data, folder)
    corpus = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1)
    assert {p.name for p in corpus.pieces} == {"set/a.mid", "set/b.mid"}


def test_zip_with_nothing_usable_is_refused(tmp_path):
    with pytest.raises(UploadError, match="no score files") as info:
        save_upload("junk.zip", zip_bytes({"a.txt": b"x", "b.exe": b"y"}), tmp_path)
    assert "junk.zip" in str(info.value) and "a.txt" in str(info.value)


def test_a_zip_name_with_bad_content_is_refused(tmp_path):
    with pytest.raises(UploadError, match="not a readable zip") as info:
        save_upload("songs.zip", b"this is not a zip", tmp_path)
    assert "File is not a zip file" not in str(info.value)  # zipfile's own words stay out


@pytest.mark.parametrize("member", ["../evil.mid", "a/../../evil.mid", "/abs.mid",
                                    "\\\\server\\share\\evil.mid", "C:/evil.mid",
                                    "..\\evil.mid"])
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path, member):
    dest = tmp_path / "dest"
    dest.mkdir()
    data = zip_bytes([("good.mid", MIDI), (member, OTHER_MIDI)])
    with pytest.raises(UploadError, match="unsafe path") as info:
        save_upload("slip.zip", data, dest)
    assert "slip.zip" in str(info.value) and member in str(info.value)
    assert files_under(tmp_path) == []


def test_symlink_member_is_refused(tmp_path):
    data = zip_bytes({"good.mid": MIDI}, symlinks={"link.mid": "/etc/passwd"})
    with pytest.raises(UploadError, match="symbolic link") as info:
        save_upload("links.zip", data, tmp_path)
    assert "link.mid" in str(info.value)
    assert files_under(tmp_path) == []


def test_special_file_member_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("fifo.mid")
        info.create_system = 3
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(info, b"")
    with pytest.raises(UploadError, match="special file"):
        save_upload("odd.zip", buffer.getvalue(), tmp_path)


def test_writing_through_a_symlinked_folder_is_refused(tmp_path):
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    os.symlink(outside, dest / "sub")
    with pytest.raises(UploadError, match="outside the upload folder"):
        save_upload("s.zip", zip_bytes({"sub/x.mid": MIDI}), dest)
    assert files_under(outside) == []


def test_oversize_member_is_refused(tmp_path):
    data = zip_bytes({"small.mid": MIDI, "huge.mid": b"\0" * 50_000})
    with pytest.raises(UploadError, match="too large") as info:
        save_upload("big.zip", data, tmp_path, max_bytes=20_000)
    assert "huge.mid" in str(info.value)
    assert files_under(tmp_path) == []


def test_zip_bomb_by_declared_total_is_refused(tmp_path):
    members = {f"part{i}.mid": b"\0" * 9_000 for i in range(20)}  # 180 kB from a few hundred B
    data = zip_bytes(members)
    assert len(data) < 20_000
    with pytest.raises(UploadError, match="unpacks to more than"):
        save_upload("bomb.zip", data, tmp_path, max_bytes=10_000, max_total=50_000)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_zip_bomb_declaring_less_than_it_holds_is_refused(tmp_path, compression):
    data = zip_bytes([("a.mid", MIDI), ("bomb.mid", b"\0" * 200_000)], compression=compression)
    lying = understate_sizes(data, "bomb.mid", declared=100)
    assert [i.file_size for i in zipfile.ZipFile(io.BytesIO(lying)).infolist()] == [len(MIDI), 100]
    with pytest.raises(UploadError) as info:
        save_upload("bomb.zip", lying, tmp_path, max_bytes=300_000)
    assert "bomb.mid" in str(info.value)
    assert files_under(tmp_path) == []  # a.mid, written first, was taken back


def test_too_many_members_is_refused(tmp_path):
    data = zip_bytes({f"s{i}.mid": MIDI for i in range(12)})
    with pytest.raises(UploadError, match="too many entries"):
        save_upload("many.zip", data, tmp_path, max_members=10)
    assert len(save_upload("many.zip", data, tmp_path, max_members=12)) == 12


def test_zip_members_do_not_overwrite_and_identical_ones_are_reused(tmp_path):
    (tmp_path / "a.mid").write_bytes(OTHER_MIDI)
    saved = save_upload("set.zip", zip_bytes([("a.mid", MIDI), ("./a.mid", MIDI),
                                              ("dir/a.mid", MIDI)]), tmp_path)
    assert (tmp_path / "a.mid").read_bytes() == OTHER_MIDI
    assert [p.relative_to(tmp_path).as_posix() for p in saved] == ["a-1.mid", "dir/a.mid"]


def test_member_names_are_sanitised(tmp_path):
    saved = save_upload("s.zip", zip_bytes({"Mis canciones/Canción 1.MID": MIDI,
                                            ".hidden/x.mid": MIDI}), tmp_path)
    assert files_under(tmp_path) == ["Mis_canciones/Cancion_1.mid", "hidden/x.mid"]
    assert len(saved) == 2


# --- upload folders ------------------------------------------------------------------------

def test_new_upload_folder_is_fresh_and_unique(tmp_path):
    first = new_upload_folder(tmp_path / "uploads", "Boogie set ../../x")
    second = new_upload_folder(tmp_path / "uploads", "Boogie set ../../x")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent == second.parent == tmp_path / "uploads"
    assert ".." not in first.name and "/" not in first.name and "Boogie_set" in first.name
    assert list(first.iterdir()) == []
    assert new_upload_folder(tmp_path / "uploads", "").name.endswith("upload")


def test_bytes_are_counted_while_extracting_whatever_the_reader_returns(tmp_path, monkeypatch):
    """Even a zip reader that yields more than the declared size cannot fill the disk."""
    data = zip_bytes({"a.mid": MIDI})
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, info, *a, **k: io.BytesIO(b"\0" * 1_000_000))
    with pytest.raises(UploadError, match="holds more data than it declares"):
        save_upload("bomb.zip", data, tmp_path)
    assert files_under(tmp_path) == []


def test_a_dangling_symlink_folder_or_a_file_in_the_way_is_refused(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(tmp_path / "nowhere", dest / "sub")
    with pytest.raises(UploadError, match="outside the upload folder") as info:
        save_upload("s.zip", zip_bytes({"sub/x.mid": MIDI}), dest)
    assert "s.zip" in str(info.value) and "sub/x.mid" in str(info.value)
    assert not (tmp_path / "nowhere").exists()
    (dest / "notes").write_bytes(b"a file without a suffix")
    with pytest.raises(UploadError, match="in the way"):
        save_upload("t.zip", zip_bytes({"a.mid": MIDI, "notes/x.mid": MIDI}), dest)
    assert files_under(dest) == ["notes"]  # a.mid, written first, was taken back
