"""Roles: which tracks of a real file become the lead and the accompaniment, the top line of a
polyphonic track, the per-file track table, and the roles file that overrides the rule."""
from __future__ import annotations

import numpy as np
import pytest

from core.cli import main
from core.data.corpus import CorpusError
from core.data.midi import read_midi
from core.data.pieces import check_file, file_tracks, read_piece
from core.data.prepare import prepare_corpus
from core.data.roles import (
    ACCOMPANIMENT,
    IGNORE,
    LEAD,
    ROLES_FILE,
    RolesError,
    assign_roles,
    load_roles,
    propose_roles,
    save_roles,
    set_file_roles,
    skyline,
    table_roles,
)
from tests.fixtures import work_parts, write_multitrack, write_piano


@pytest.fixture(scope="module")
def works():
    """The first measures of real multi-part works from music21's corpus."""
    return {"chorale": work_parts("bach/bwv66.6", 4),
            "trio": work_parts("corelli/opus3no1/1grave", 8),
            "quartet": work_parts("haydn/opus74no1/movement3", 8),
            "madrigal": work_parts("monteverdi/madrigal.3.1.mxl", 6)}


def roles_of(path, overrides=None) -> dict[str, str]:
    """{track name: role} of a file."""
    notes = read_midi(path)
    roles = propose_roles(notes, overrides)
    return {t.name: roles[t.index] for t in notes.tracks}


def arrays(notes):
    return tuple(np.array(column, np.int64) for column in zip(*notes))


# --- the automatic rule ---------------------------------------------------------------------

def test_a_chorale_gives_soprano_lead_and_lower_voices_merged(works, tmp_path):
    path = write_multitrack(tmp_path / "chorale.mid", works["chorale"])
    assert roles_of(path) == {"Soprano": LEAD, "Alto": ACCOMPANIMENT, "Tenor": ACCOMPANIMENT,
                              "Bass": ACCOMPANIMENT}
    _, report = read_piece(path, "chorale.mid")
    assert (report.lead, report.accompaniment) == ("Soprano (#1)",
                                                   "Alto (#2) + Tenor (#3) + Bass (#4)")


def test_without_names_the_melody_score_still_finds_the_soprano(works, tmp_path):
    unnamed = [(f"Track {i}", notes) for i, (_, notes) in enumerate(works["chorale"], start=1)]
    assert roles_of(write_multitrack(tmp_path / "unnamed.mid", unnamed))["Track 1"] == LEAD


def test_a_quartet_with_a_band_keeps_its_first_violin_over_pad_and_drums(works, tmp_path):
    path = write_multitrack(tmp_path / "quartet.mid", works["quartet"], drums=True, pad=True)
    roles = roles_of(path)
    assert roles["Violin 1"] == LEAD  # the pad sounds higher, but holds chords
    assert roles["Strings pad"] == ACCOMPANIMENT and roles["Drums"] == IGNORE
    assert [r for r in roles.values()].count(ACCOMPANIMENT) == 4


def test_a_madrigal_follows_the_part_named_canto(works, tmp_path):
    roles = roles_of(write_multitrack(tmp_path / "madrigal.mid", works["madrigal"]))
    assert roles["Canto"] == LEAD and list(roles.values()).count(ACCOMPANIMENT) == 4


def test_a_trio_sonata_leads_with_a_violin_not_the_continuo(works, tmp_path):
    roles = roles_of(write_multitrack(tmp_path / "trio.mid", works["trio"]))
    assert roles["Violone e Organo"] == ACCOMPANIMENT
    assert sorted(roles.values()) == [ACCOMPANIMENT, ACCOMPANIMENT, LEAD]


def test_one_piano_track_is_split_into_top_line_and_the_rest(works, tmp_path):
    path = write_piano(tmp_path / "piano.mid", works["chorale"])
    notes = read_midi(path)
    split = assign_roles(notes)
    assert split.lead_label == "Piano (#1), top line"
    assert split.accompaniment_label == "Piano (#1), lower notes"
    start, end, pitch = split.lead
    assert np.all(start[1:] >= end[:-1])  # one note at a time
    soprano = [n for name, part in works["chorale"] if name == "Soprano" for n in part]
    assert pitch.tolist() == [p for _, _, p in sorted(soprano)]  # the top line is the tune


def test_skyline_keeps_a_held_melody_note_over_moving_lower_notes():
    # (onset, end, pitch) in 16ths: a half note melody over a running bass
    melody = [(0, 8, 72), (8, 12, 74)]
    bass = [(0, 2, 48), (2, 4, 50), (4, 6, 52), (6, 8, 53), (8, 12, 55)]
    (start, end, pitch), rest = skyline(*arrays(melody + bass))
    assert list(zip(start.tolist(), end.tolist(), pitch.tolist())) == [(0, 8, 72), (8, 12, 74)]
    assert sorted(rest[2].tolist()) == [48, 50, 52, 53, 55]


def test_skyline_takes_a_lower_note_played_legato_as_the_next_melody_note():
    legato = [(0, 5, 67), (4, 9, 65), (8, 12, 64)]  # each overlaps the next by a 16th
    (start, end, pitch), rest = skyline(*arrays(legato))
    assert pitch.tolist() == [67, 65, 64] and end.tolist() == [4, 8, 12]
    assert len(rest[0]) == 0


def test_skyline_of_chords_is_their_top_notes():
    chords = [(0, 4, p) for p in (60, 64, 67)] + [(4, 4, p) for p in (62, 65, 71)]
    (_, _, pitch), (_, _, rest) = skyline(*arrays(chords))
    assert pitch.tolist() == [67, 71] and sorted(rest.tolist()) == [60, 62, 64, 65]


# --- the track table and the upload check ----------------------------------------------------

def test_track_table_lists_features_and_proposed_roles(works, tmp_path):
    path = write_multitrack(tmp_path / "band.mid", works["chorale"], drums=True)
    table = file_tracks(path)
    assert list(table.columns) == ["track", "name", "program", "drums", "notes", "mean_pitch",
                                   "polyphony", "onsets", "kind", "proposed", "role"]
    assert table["track"].tolist() == [1, 2, 3, 4, 5]
    assert table["proposed"].tolist() == [LEAD] + [ACCOMPANIMENT] * 3 + [IGNORE]
    assert table["kind"].tolist() == ["melodic"] * 3 + ["bass", "drums"]
    assert table.attrs["confidence"] == 1.0 and table.attrs["doubt"] == ""  # named Soprano
    assert table["drums"].tolist() == [False] * 4 + [True]
    soprano, bass = table.iloc[0], table.iloc[3]
    assert soprano["mean_pitch"] > bass["mean_pitch"] and soprano["polyphony"] == 1.0
    overridden = file_tracks(path, {4: LEAD})
    assert overridden["role"].tolist()[:4] == [ACCOMPANIMENT] * 3 + [LEAD]
    assert overridden["proposed"].tolist() == table["proposed"].tolist()


def test_check_file_says_kept_or_why_not(works, tmp_path):
    good = write_multitrack(tmp_path / "good.mid", works["chorale"])
    assert check_file(good).status == "kept"
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"RIFF....not midi")
    report = check_file(bad)
    assert (report.status, report.reason) == ("skipped", "not a MIDI file")


# --- overrides: the roles file ----------------------------------------------------------------

def test_roles_file_round_trip_and_plain_errors(tmp_path):
    overrides = {"a.mid": {2: LEAD, 1: IGNORE}, "b/c.mid": {3: ACCOMPANIMENT}}
    path = save_roles(tmp_path / ROLES_FILE, overrides, names={("a.mid", 2): "Bass"})
    text = path.read_text().splitlines()
    assert text[0] == "file,track,name,role"
    assert text[1:] == ["a.mid,1,,ignore", "a.mid,2,Bass,lead", "b/c.mid,3,,accompaniment"]
    assert load_roles(path) == {"a.mid": {1: IGNORE, 2: LEAD}, "b/c.mid": {3: ACCOMPANIMENT}}
    (tmp_path / "bad.csv").write_text("file,track,role\na.mid,1,melody\n")
    with pytest.raises(RolesError, match="line 2: role must be one of lead, accompaniment"):
        load_roles(tmp_path / "bad.csv")
    (tmp_path / "bad.csv").write_text("file,track,role\na.mid,first,lead\n")
    with pytest.raises(RolesError, match="line 2: needs a file and a track number"):
        load_roles(tmp_path / "bad.csv")


def test_overrides_decide_before_the_rule(works, tmp_path):
    path = write_multitrack(tmp_path / "chorale.mid", works["chorale"])
    bass_leads = roles_of(path, {4: LEAD})
    assert bass_leads == {"Soprano": ACCOMPANIMENT, "Alto": ACCOMPANIMENT,
                          "Tenor": ACCOMPANIMENT, "Bass": LEAD}
    no_soprano = roles_of(path, {1: IGNORE})
    assert no_soprano["Soprano"] == IGNORE and no_soprano["Alto"] == LEAD  # the next highest
    with pytest.raises(RolesError, match="no track left for the lead"):
        assign_roles(read_midi(path), {i: IGNORE for i in range(1, 5)})


def test_prepare_reads_the_folders_roles_file(works, tmp_path):
    folder = tmp_path / "songs"
    write_multitrack(folder / "a.mid", works["chorale"])
    write_multitrack(folder / "b.mid", works["trio"])
    cache = tmp_path / "cache"
    automatic = prepare_corpus(folder, cache_dir=cache, workers=1)
    save_roles(folder / ROLES_FILE, {"a.mid": {4: LEAD, 3: IGNORE}})
    chosen = prepare_corpus(folder, cache_dir=cache, workers=1)
    assert chosen.key != automatic.key
    report = {r.file: r for r in chosen.report}
    assert (report["a.mid"].lead, report["a.mid"].accompaniment) == \
        ("Bass (#4)", "Soprano (#1) + Alto (#2)")
    assert chosen.piece("b.mid") == automatic.piece("b.mid")
    bass = [str(p) for _, _, p in works["chorale"][3][1]]
    assert chosen.piece("a.mid").lead.pitch[:4] == bass[:4]
    (folder / ROLES_FILE).write_text("file,track,role\na.mid,1,sing\n")
    with pytest.raises(CorpusError, match="role must be one of"):
        prepare_corpus(folder, cache_dir=cache, workers=1)


def test_cli_prepare_takes_roles_and_states_each_files_roles(works, tmp_path, capsys):
    folder = tmp_path / "songs"
    write_multitrack(folder / "quartet.mid", works["quartet"], drums=True)
    write_piano(folder / "piano.mid", works["chorale"])
    (folder / "notes.mid").write_bytes(b"hello")
    roles = tmp_path / "mine.csv"
    save_roles(roles, {"quartet.mid": {4: LEAD}})
    code = main(["prepare", "--corpus", str(folder), "--cache", str(tmp_path / "cache"),
                 "--roles", str(roles)])
    out = capsys.readouterr().out
    assert code == 0
    assert "2 kept, 1 skipped" in out
    assert "kept quartet.mid: lead Violoncello (#4); accompaniment Violin 1 (#1) + " \
           "Violin 2 (#2) + Viola (#3)" in out
    assert "kept piano.mid: lead Piano (#1), top line; accompaniment Piano (#1), lower notes" \
        in out
    assert "skipped notes.mid: not a MIDI file" in out
    assert load_roles(folder / ROLES_FILE) == {"quartet.mid": {4: LEAD}}  # kept with the corpus
    bad = tmp_path / "bad.csv"
    bad.write_text("file,track,role\nquartet.mid,1,boss\n")
    assert main(["prepare", "--corpus", str(folder), "--roles", str(bad)]) == 2
    assert "role must be one of" in capsys.readouterr().err


def test_an_edited_track_table_pins_every_pitched_track_or_none(works, tmp_path):
    path = write_multitrack(tmp_path / "band.mid", works["chorale"], drums=True)
    table = file_tracks(path)
    assert table_roles(table) == {}                        # as proposed: nothing to save
    bass = table.assign(role=[ACCOMPANIMENT, ACCOMPANIMENT, IGNORE, LEAD, IGNORE])
    pinned = table_roles(bass)
    assert pinned == {1: ACCOMPANIMENT, 2: ACCOMPANIMENT, 3: IGNORE, 4: LEAD}  # not the drums
    assert propose_roles(read_midi(path), pinned) == {**pinned, 5: IGNORE}
    with pytest.raises(RolesError, match="no track is set to lead"):
        table_roles(table.assign(role=[ACCOMPANIMENT] * 4 + [IGNORE]))
    with pytest.raises(RolesError, match=r"track 5 \(Drums\) has no pitched notes"):
        table_roles(table.assign(role=[LEAD] + [ACCOMPANIMENT] * 4))


def test_one_files_roles_are_replaced_and_the_others_kept_with_their_names(tmp_path):
    path = tmp_path / ROLES_FILE
    save_roles(path, {"a.mid": {1: LEAD}, "b.mid": {2: LEAD, 1: IGNORE}},
               names={("a.mid", 1): "Flute", ("b.mid", 2): "Oboe"})
    saved = set_file_roles(path, "b.mid", {3: LEAD, 2: ACCOMPANIMENT}, {3: "Horn"})
    assert saved == load_roles(path) == {"a.mid": {1: LEAD}, "b.mid": {2: ACCOMPANIMENT, 3: LEAD}}
    assert path.read_text().splitlines()[1:] == ["a.mid,1,Flute,lead",
                                                 "b.mid,2,Oboe,accompaniment",
                                                 "b.mid,3,Horn,lead"]
    assert set_file_roles(path, "b.mid", {}) == {"a.mid": {1: LEAD}}   # back to the rule
    assert set_file_roles(tmp_path / "new.csv", "c.mid", {1: LEAD}) == {"c.mid": {1: LEAD}}
    path.write_text("file,track,role\na.mid,1,sing\n")
    with pytest.raises(RolesError, match="line 2"):
        set_file_roles(path, "b.mid", {1: LEAD})
    assert path.read_text() == "file,track,role\na.mid,1,sing\n"         # left as it was
