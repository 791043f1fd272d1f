"""`python -m core prepare`: read, encode, split and cache a corpus, and report each file."""
from __future__ import annotations

import time
from pathlib import Path

from core.cli.flags import add_config_fields, config_from
from core.cli.progress import progress_bar
from core.data.corpus import CorpusError, is_default_corpus
from core.data.prepare import corpus_for
from core.folders import cache_dir
from core.nets.config import CORPUS_FIELDS

REPORT_LINES = 200


def cmd_prepare(args) -> None:
    from core.data.cache import cache_path, report_path

    started = time.perf_counter()
    config = config_from(args)
    roles = _save_roles(args.roles, config.corpus) if args.roles else None
    with progress_bar("reading files", None,
                      "{task.fields[kept]} kept, {task.fields[skipped]} skipped") as update:
        corpus = corpus_for(config, args.cache, roles=roles,
                            progress=lambda p: update(p.done, p.total, kept=p.kept,
                                                      skipped=p.skipped))
    kept = sum(r.status == "kept" for r in corpus.report)
    uncertain = sum(r.uncertain for r in corpus.report)
    print(f"{corpus.corpus_id}: {kept} kept, {len(corpus.report) - kept} skipped, "
          f"{len(corpus.split('validation'))} held out, key {corpus.key[:16]} "
          f"({time.perf_counter() - started:.1f} s)")
    if uncertain:
        print(f"{uncertain} of {kept} kept files have an uncertain lead (marked below): check "
              "them in the Corpus page's roles editor or set their lead in --roles")
    for line in corpus.report[:REPORT_LINES]:
        print(f"  {_report_line(line)}")
    if len(corpus.report) > REPORT_LINES:
        path = report_path(cache_path(args.cache, corpus.corpus_id, corpus.key))
        print(f"  ... {len(corpus.report) - REPORT_LINES} more files in {path}")


def _report_line(r) -> str:
    """One file of the prepare report: kept with its roles, or skipped with the reason."""
    if r.status != "kept":
        return f"skipped {r.file}: {r.reason}"
    notes = [f"{r.moved_onsets:.1%} of onsets moved to the 16th grid"] if r.moved_onsets else []
    notes += [f"{r.capped_notes} over-long notes cut"] if r.capped_notes else []
    accompaniment = r.accompaniment or "none"
    doubt = f" [uncertain lead, confidence {r.confidence:.2f}: {r.doubt}]" if r.uncertain else ""
    return (f"kept {r.file}: lead {r.lead}; accompaniment {accompaniment}"
            + (f" ({', '.join(notes)})" if notes else "") + doubt)


def _save_roles(roles: Path, corpus: str) -> Path:
    """Check a roles CSV and keep a copy in the corpus folder, where every later prepare of
    that folder (training's included) reads it."""
    from core.data.roles import ROLES_FILE, RolesError, load_roles, save_roles

    if is_default_corpus(corpus):
        raise CorpusError("--roles applies to a folder of your own files, not the default "
                          "corpus")
    try:
        overrides = load_roles(roles)
    except RolesError as exc:
        raise CorpusError(str(exc)) from exc
    target = Path(corpus) / ROLES_FILE
    if not target.exists() or not target.samefile(roles):
        save_roles(target, overrides)
        print(f"roles saved to {target} (every prepare of this folder uses them)")
    return target


def add_prepare(sub) -> None:
    p = sub.add_parser("prepare", help="read, encode, split and cache a corpus (--corpus: a "
                                       "folder of MIDI files, or the default; --max-pieces 0: all)")
    add_config_fields(p, CORPUS_FIELDS)
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.add_argument("--roles", type=Path,
                   help="CSV of file, track, role (lead / accompaniment / ignore) overriding "
                        "the automatic roles; kept in the folder as roles.csv")
    p.set_defaults(func=cmd_prepare)

