"""A synthetic multilingual parallel QA collection in XQuAD-R format, for tests and the demo.

``generate_synthetic(out)`` writes::

    out/eval/<lang>.json    evaluation articles (XQuAD-R format: SQuAD JSON + sentences +
                            sentence_breaks; question ids shared by all languages)
    out/train/<lang>.json   training articles, same format, different subjects (no leakage)
    out/README.md           what was generated: command, seed, languages, counts, examples
    out/manifest.json       the same, machine-readable

The languages (``qaa``, ``qab``, ... from the ISO 639 private-use range) share meaning but
not surface form (see `synthetic_language`); the content is described in `synthetic_world`.
Deterministic: the same arguments give byte-identical files.  See docs/data.md for what the
generator models and what it does not.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ...io import atomic_write_json, atomic_write_text, output_directory, read_json
from ...languages import synthetic_language_codes
from .synthetic_language import Language, make_language
from .synthetic_readme import readme_text
from .synthetic_render import render_question, render_sentence
from .synthetic_world import Article, WorldSpec, build_world, concepts

MAX_LANGUAGES = 26
_OUR_FILE = re.compile(r"(eval|train)/q[a-t][a-z]\.json")
Presence = dict[tuple[int, int], frozenset[str]]  # (article, paragraph) or question id -> languages


@dataclass(frozen=True)
class SyntheticSummary:
    out_dir: Path
    languages: tuple[str, ...]
    counts: dict = field(default_factory=dict)  # split -> lang -> {articles, paragraphs, sentences, questions}
    command: str = ""


def make_languages(n_languages: int, seed: int) -> tuple[Language, ...]:
    if not 1 <= n_languages <= MAX_LANGUAGES:
        raise ConfigError(f"number of synthetic languages must be between 1 and {MAX_LANGUAGES}, got {n_languages}")
    taken: set[str] = set()
    words = concepts()
    return tuple(make_language(i, code, seed, words, taken)
                 for i, code in enumerate(synthetic_language_codes(n_languages)))


def build_synthetic(*, n_languages: int = 4, n_groups: int = 1500, n_eval_questions: int = 300, seed: int = 0,
                    partial: bool = False, spec: WorldSpec = WorldSpec()) -> dict[str, dict[str, dict]]:
    """``{"eval" | "train": {lang: SQuAD JSON object}}`` without writing anything."""
    if n_groups < 1 or n_eval_questions < 1:
        raise ConfigError("need at least one training group and one evaluation question")
    if partial and n_languages < 2:
        raise ConfigError("--partial needs at least 2 languages (each question is in 2 to 4 of them)")
    languages = make_languages(n_languages, seed)
    evaluation, training = build_world(seed, n_eval_questions, n_groups, spec)
    codes = [lang.code for lang in languages]
    presence = _partial_presence(evaluation, codes, seed) if partial else None
    return {"eval": {lang.code: squad_json(lang, evaluation, presence) for lang in languages},
            "train": {lang.code: squad_json(lang, training, None) for lang in languages}}


def squad_json(lang: Language, articles: tuple[Article, ...], presence: Presence | None) -> dict:
    """One language's file.  With ``presence`` (MLQA-R shape) a paragraph or question appears
    only in the languages listed for it; articles left without paragraphs are dropped."""
    data = []
    for a, article in enumerate(articles):
        paragraphs = [_paragraph_json(lang, para, presence)
                      for p, para in enumerate(article.paragraphs)
                      if presence is None or lang.code in presence[a, p]]
        if paragraphs:
            data.append({"title": lang.name(article.subject.syllables), "paragraphs": paragraphs})
    return {"version": "polyir-synthetic-1", "language": lang.code, "data": data}


def _paragraph_json(lang: Language, paragraph, presence: Presence | None) -> dict:
    rendered = [render_sentence(lang, fact) for fact in paragraph.facts]
    breaks, offset = [], 0
    for sentence in rendered:
        breaks.append([offset, offset + len(sentence.text)])
        offset += len(sentence.text) + 1
    context = " ".join(s.text for s in rendered)
    qas = []
    for q in paragraph.questions:
        if presence is not None and lang.code not in presence[q.id]:
            continue
        sentence = rendered[q.fact]
        start, end = sentence.value_span if q.ask == "object" else sentence.subject_span
        answer_start = breaks[q.fact][0] + start
        qas.append({"id": q.id, "question": render_question(lang, paragraph.facts[q.fact], q),
                    "answers": [{"text": context[answer_start:answer_start + end - start],
                                 "answer_start": answer_start}]})
    return {"context": context, "sentences": [s.text for s in rendered], "sentence_breaks": breaks, "qas": qas}


def _partial_presence(articles: tuple[Article, ...], codes: list[str], seed: int) -> Presence:
    """MLQA-R shape: each paragraph exists in a random subset of the languages (so pools differ in
    size) and each question in 2 to 4 of its paragraph's languages."""
    rng = random.Random(f"polyir-synthetic:{seed}:partial")
    n = len(codes)
    presence: Presence = {}
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(article.paragraphs):
            langs = rng.sample(codes, rng.randint(min(n, max(2, n - 2)), n))
            presence[a, p] = frozenset(langs)
            for q in paragraph.questions:
                presence[q.id] = frozenset(rng.sample(langs, rng.randint(2, min(4, len(langs)))))
    return presence


def generate_synthetic(out_dir: str | Path, *, n_languages: int = 4, n_groups: int = 1500,
                       n_eval_questions: int = 300, seed: int = 0, partial: bool = False,
                       spec: WorldSpec = WorldSpec()) -> SyntheticSummary:
    """Write the collection under ``out_dir`` (see the module docstring); returns what was written.

    Files from an earlier run in ``out_dir`` that this run would not write (e.g. more
    languages) are removed, so that the directory always loads as one consistent set.
    """
    out_dir = output_directory(out_dir, create=False)
    files = build_synthetic(n_languages=n_languages, n_groups=n_groups, n_eval_questions=n_eval_questions,
                            seed=seed, partial=partial, spec=spec)
    command = (f"polyir data synthetic --languages {n_languages} --groups {n_groups} --eval-questions "
               f"{n_eval_questions} --seed {seed}{' --partial' if partial else ''} --out {out_dir}")
    counts = {split: {lang: _counts(obj) for lang, obj in by_lang.items()} for split, by_lang in files.items()}
    _remove_stale(out_dir, files)
    for split, by_lang in files.items():
        for lang, obj in by_lang.items():
            atomic_write_json(out_dir / split / f"{lang}.json", obj, indent=None)
    languages = make_languages(n_languages, seed)
    summary = SyntheticSummary(out_dir, tuple(files["eval"]), counts, command)
    atomic_write_json(out_dir / "manifest.json", {
        "generator": "polyir-synthetic-1", "command": command, "seed": seed, "partial": partial,
        "files": sorted(f"{split}/{lang}.json" for split, by_lang in files.items() for lang in by_lang),
        "languages": {lang.code: {"script": lang.script.name, "word_order": lang.word_order} for lang in languages},
        "counts": counts})
    atomic_write_text(out_dir / "README.md", readme_text(summary, languages, files, spec))
    return summary


def _counts(obj: dict) -> dict[str, int]:
    paragraphs = [p for a in obj["data"] for p in a["paragraphs"]]
    return {"articles": len(obj["data"]), "paragraphs": len(paragraphs),
            "sentences": sum(len(p["sentences"]) for p in paragraphs),
            "questions": sum(len(p["qas"]) for p in paragraphs)}


def _remove_stale(out_dir: Path, files: dict[str, dict[str, dict]]) -> None:
    manifest = out_dir / "manifest.json"
    if not manifest.is_file():
        return
    old = read_json(manifest).get("files", [])
    new = {f"{split}/{lang}.json" for split, by_lang in files.items() for lang in by_lang}
    for name in old:
        if isinstance(name, str) and _OUR_FILE.fullmatch(name) and name not in new and (out_dir / name).is_file():
            (out_dir / name).unlink()
