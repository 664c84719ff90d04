import json
import os
import unicodedata
from collections import Counter

import pytest

from polyir.data import build_synthetic, generate_synthetic, load_lareqa
from polyir.data.synthetic.synthetic_language import SCRIPTS
from polyir.errors import ConfigError

SMALL = dict(n_languages=4, n_groups=60, n_eval_questions=40, seed=3)


@pytest.fixture(scope="module")
def small():
    return build_synthetic(**SMALL)


def _paragraphs(obj):
    return [p for a in obj["data"] for p in a["paragraphs"]]


def test_deterministic_and_seed_dependent(small, tmp_path):
    assert build_synthetic(**SMALL) == small
    assert build_synthetic(**{**SMALL, "seed": 4}) != small
    a = generate_synthetic(tmp_path / "a", **SMALL)
    b = generate_synthetic(tmp_path / "b", **SMALL)
    names = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*.json"))
    assert [str(n) for n in names] == ["eval/qaa.json", "eval/qab.json", "eval/qac.json", "eval/qad.json",
                                       "manifest.json", "train/qaa.json", "train/qab.json", "train/qac.json",
                                       "train/qad.json"]
    for name in names:
        if name.name != "manifest.json":  # the manifest names its own output directory
            assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes()


def test_eval_split_does_not_depend_on_training_size(small):
    assert build_synthetic(**{**SMALL, "n_groups": 200})["eval"] == small["eval"]


def test_parallel_ids_counts_and_answers(small):
    for split, n in (("eval", 40), ("train", 60)):
        ids = {lang: [q["id"] for p in _paragraphs(obj) for q in p["qas"]] for lang, obj in small[split].items()}
        assert all(len(v) == n and len(set(v)) == n for v in ids.values())
        assert len({tuple(v) for v in ids.values()}) == 1  # same ids, same order, in every language
        for obj in small[split].values():
            for p in _paragraphs(obj):
                assert p["context"] == " ".join(p["sentences"])
                assert [p["context"][b:e] for b, e in p["sentence_breaks"]] == p["sentences"]
                for q in p["qas"]:
                    answer = q["answers"][0]
                    start = answer["answer_start"]
                    assert p["context"][start:start + len(answer["text"])] == answer["text"]
                    assert sum(b <= start < e for b, e in p["sentence_breaks"]) == 1


def test_train_and_eval_subjects_are_disjoint(small):
    for lang in small["eval"]:
        eval_titles = {a["title"] for a in small["eval"][lang]["data"]}
        train_titles = {a["title"] for a in small["train"][lang]["data"]}
        assert eval_titles and train_titles and not eval_titles & train_titles


def test_scripts_names_and_vocabularies(small):
    first = {lang: obj["data"][0] for lang, obj in small["eval"].items()}
    # qaa and qac share the Latin script: names are spelled alike; other scripts transliterate them
    assert first["qaa"]["title"] == first["qac"]["title"] != first["qab"]["title"]
    assert unicodedata.name(first["qab"]["title"][0]).startswith("CYRILLIC")
    assert unicodedata.name(first["qad"]["title"][0]).startswith("GREEK")
    words = {lang: Counter(w for p in _paragraphs(obj) for s in p["sentences"] for w in s.split())
             for lang, obj in small["eval"].items()}
    names = {w for lang in ("qaa", "qac") for a in small["eval"][lang]["data"] for w in [a["title"]]}
    shared = (set(words["qaa"]) & set(words["qac"])) - names
    # beyond names (and numbers), two same-script languages share no frequent word
    assert not {w for w in shared if not w.strip(".").isdigit() and not w[:1].isupper()
                and words["qaa"][w] > 3}


def test_questions_overlap_their_answer_sentence_lexically(small):
    """Mono retrieval is partly solvable by word overlap: most answer sentences share a word
    (the name, or the verb when question and sentence pick the same synonym) with the question."""
    obj = small["eval"]["qaa"]
    overlaps = []
    for p in _paragraphs(obj):
        for q in p["qas"]:
            start = q["answers"][0]["answer_start"]
            k = next(i for i, (b, e) in enumerate(p["sentence_breaks"]) if b <= start < e)
            sentence = set(p["sentences"][k].lower().strip(".").split())
            overlaps.append(bool(sentence & set(q["question"].lower().strip("?").split())))
    assert 0.5 < sum(overlaps) / len(overlaps) < 1.0


def test_loads_with_load_lareqa(tmp_path):
    generate_synthetic(tmp_path, **SMALL)
    rs = load_lareqa(tmp_path / "eval")
    assert rs.languages == ("qaa", "qab", "qac", "qad")
    assert len(rs.qrels) == 40 and len(rs.queries) == 160
    assert all(len(rel) == 4 for rel in rs.qrels.values())
    sizes = set(rs.meta["candidates_per_language"].values())
    assert len(sizes) == 1  # exact translations: equal pools
    train = load_lareqa(tmp_path / "train")
    assert len(train.qrels) == 60 and not set(train.qrels) & set(rs.qrels)
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "eval" / "qaa.json").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    readme = (tmp_path / "README.md").read_text()
    assert "polyir data synthetic --languages 4 --groups 60 --eval-questions 40 --seed 3" in readme
    assert "| eval | qab | " in readme
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["eval"]["qaa"]["questions"] == 40 and manifest["seed"] == 3


def test_partial_has_mlqa_r_shape(tmp_path):
    generate_synthetic(tmp_path, **{**SMALL, "n_languages": 6, "n_eval_questions": 120}, partial=True)
    rs = load_lareqa(tmp_path / "eval")
    per_question = Counter(len(rel) for rel in rs.qrels.values())
    assert set(per_question) <= {2, 3, 4} and len(per_question) == 3
    assert len(rs.qrels) == 120
    assert len(set(rs.meta["candidates_per_language"].values())) > 1  # unequal pools
    train = load_lareqa(tmp_path / "train")
    assert all(len(rel) == 6 for rel in train.qrels.values())  # training stays fully parallel


def test_rerun_with_fewer_languages_removes_stale_files(tmp_path):
    generate_synthetic(tmp_path, **{**SMALL, "n_languages": 5})
    (tmp_path / "eval" / "notes.txt").write_text("mine")
    generate_synthetic(tmp_path, **{**SMALL, "n_languages": 2})
    assert sorted(p.name for p in (tmp_path / "eval").iterdir()) == ["notes.txt", "qaa.json", "qab.json"]
    assert load_lareqa(tmp_path / "eval").languages == ("qaa", "qab")


def test_all_scripts_render_and_bad_settings(small):
    many = build_synthetic(n_languages=12, n_groups=5, n_eval_questions=5)
    seen = set()
    for obj in many["eval"].values():
        text = _paragraphs(obj)[0]["context"]
        letters = [unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()]
        seen.add(Counter(letters).most_common(1)[0][0])
    assert seen == {"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "GEORGIAN", "DEVANAGARI", "ETHIOPIC"}
    assert len(SCRIPTS) == 7
    with pytest.raises(ConfigError, match="between 1 and 26"):
        build_synthetic(n_languages=27)
    with pytest.raises(ConfigError, match="at least one"):
        build_synthetic(n_groups=0)
    with pytest.raises(ConfigError, match="--partial needs at least 2 languages"):
        build_synthetic(n_languages=1, partial=True)
