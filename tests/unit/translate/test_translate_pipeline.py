"""The translate pipeline with a tiny random Marian / NLLB model: ids, cache, batching, sentences."""
from dataclasses import replace

import pytest

from polyir.data.pairs.pair_files import iter_pairs, pair_from_record
from polyir.errors import ConfigError, InputError
from polyir.translate.backends import ModelChoice, TranslatorPool
from polyir.translate.cache import TranslationCache
from polyir.translate.filters import FilterConfig
from polyir.translate.pairs_pipeline import TranslateOptions, translate_file
from polyir.translate.segments import Segmenter

from translate_fixtures import TOY_DECODING, toy_records, write_records

NO_FILTER = TranslateOptions(source="en", targets=("de", "fr"), batch_size=8, filters=FilterConfig(quality=False))


def run(model, src, out, cache_path, options=NO_FILTER, settings=TOY_DECODING):
    pool = TranslatorPool(ModelChoice(str(model)), settings)
    with TranslationCache(cache_path) as cache:
        report = translate_file(src, out, options, pool, cache)
    return report, pool


def test_ids_datasets_and_order(tiny_marian, toy_file, tmp_path):
    """One Marian model per pair through a {src}/{tgt} template, as with Helsinki-NLP/opus-mt-{src}-{tgt}."""
    for tgt in ("de", "fr"):
        (tmp_path / f"opus-mt-en-{tgt}").symlink_to(tiny_marian, target_is_directory=True)
    report, pool = run(tmp_path / "opus-mt-{src}-{tgt}", toy_file, tmp_path / "out.jsonl", tmp_path / "c.sqlite")
    inputs, out = list(iter_pairs(toy_file)), list(iter_pairs(tmp_path / "out.jsonl"))
    assert [(p.group, p.lang) for p in out] == [(p.group, lang) for p in inputs for lang in ("en", "de", "fr")]
    assert all(p.dataset == "toy" for p in out)
    for source, de, fr in zip(out[0::3], out[1::3], out[2::3]):
        assert source in inputs
        assert len(de.negatives) == len(fr.negatives) == len(source.negatives) == 1
        assert de.query != source.query and de.positive != source.positive
    segments = {s for p in inputs for s in Segmenter().segments(p)}
    assert report.directions["de"].segments == len(segments) == report.directions["de"].translated
    assert report.model_calls == 2 * -(-len(segments) // 8) and pool.models_loaded == 2
    assert report.written_pairs == 3 * len(inputs)


def test_rerun_costs_no_model_call_and_loads_no_model(tiny_marian, toy_file, tmp_path):
    first, _ = run(tiny_marian, toy_file, tmp_path / "a.jsonl", tmp_path / "c.sqlite")
    again, pool = run(tiny_marian, toy_file, tmp_path / "b.jsonl", tmp_path / "c.sqlite")
    assert first.model_calls > 0
    assert again.model_calls == 0 and pool.models_loaded == 0
    assert again.directions["de"].cached == again.directions["de"].segments > 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_overlapping_data_translates_only_new_segments(tiny_marian, tmp_path):
    old, new = toy_records(6, seed=1), toy_records(4, seed=2)
    write_records(tmp_path / "old.jsonl", old)
    shared = [dict(r, id=r["id"] + "-copy", dataset="other") for r in old[:3]]  # same texts, other groups
    write_records(tmp_path / "new.jsonl", shared + new)
    options = replace(NO_FILTER, targets=("de",))
    run(tiny_marian, tmp_path / "old.jsonl", tmp_path / "old-out.jsonl", tmp_path / "c.sqlite", options)
    report, _ = run(tiny_marian, tmp_path / "new.jsonl", tmp_path / "new-out.jsonl", tmp_path / "c.sqlite", options)
    new_segments = {s for r in new for s in Segmenter().segments(pair_from_record(r))}
    assert report.directions["de"].translated == len(new_segments)
    assert report.directions["de"].cached == report.directions["de"].segments - len(new_segments) > 0
    old_de = {p.group: p for p in iter_pairs(tmp_path / "old-out.jsonl") if p.lang == "de"}
    copies = [p for p in iter_pairs(tmp_path / "new-out.jsonl") if p.lang == "de" and p.dataset == "other"]
    assert len(copies) == 3
    for copy in copies:
        original = old_de[copy.group.removesuffix("-copy")]
        assert (copy.query, copy.positive, copy.negatives) == (original.query, original.positive, original.negatives)


def test_batch_size_does_not_change_the_output(tiny_marian, tmp_path):
    src = write_records(tmp_path / "in.jsonl", toy_records(5, seed=3))
    outputs = set()
    for batch_size in (1, 3, 64):
        options = replace(NO_FILTER, targets=("de",), batch_size=batch_size)
        run(tiny_marian, src, tmp_path / f"out{batch_size}.jsonl", ":memory:", options)
        outputs.add((tmp_path / f"out{batch_size}.jsonl").read_bytes())
    assert len(outputs) == 1


def test_passages_are_translated_sentence_by_sentence(tiny_marian, tmp_path):
    record = toy_records(1, seed=4, sentences=(3, 3))[0]
    src = write_records(tmp_path / "in.jsonl", [record])
    pool = TranslatorPool(ModelChoice(str(tiny_marian)), TOY_DECODING)
    translator = pool.get("en", "de")
    sentences = Segmenter().passage(record["positive"], "en")
    assert len(sentences) == 3
    options = replace(NO_FILTER, targets=("de",))
    run(tiny_marian, src, tmp_path / "split.jsonl", ":memory:", options)
    run(tiny_marian, src, tmp_path / "whole.jsonl", ":memory:", replace(options, split_passages=False))
    split = next(p for p in iter_pairs(tmp_path / "split.jsonl") if p.lang == "de")
    whole = next(p for p in iter_pairs(tmp_path / "whole.jsonl") if p.lang == "de")
    assert split.positive == " ".join(translator.translate([s], "en", "de")[0] for s in sentences)
    assert whole.positive == translator.translate([record["positive"]], "en", "de")[0]
    assert split.query == whole.query == translator.translate([record["query"]], "en", "de")[0]


def test_leakage_guard_runs_before_translation(tiny_marian, tmp_path):
    records = toy_records(6, seed=5)
    src = write_records(tmp_path / "in.jsonl", records)
    evaluation = write_records(tmp_path / "eval.jsonl", [dict(r, lang="de", query=f"Frage {i}?", positive="Antwort.")
                                                         for i, r in enumerate(records[:2])])  # same ids
    options = replace(NO_FILTER, targets=("de",), exclude=(str(evaluation),))
    report, _ = run(tiny_marian, src, tmp_path / "out.jsonl", tmp_path / "c.sqlite", options)
    assert report.leakage.groups_by_reason == {"id": 2} and report.leakage.dropped_pairs == 2
    assert {p.group for p in iter_pairs(tmp_path / "out.jsonl")} == {r["id"] for r in records[2:]}
    leaked = {s for r in records[:2] for s in (r["query"], r["negatives"][0])}
    with TranslationCache(tmp_path / "c.sqlite") as cache:  # no leaked text was ever translated
        fingerprint = TranslatorPool(ModelChoice(str(tiny_marian)), TOY_DECODING).fingerprint("en", "de")
        assert cache.lookup(fingerprint, "en", "de", leaked) == {}
        assert cache.count(fingerprint) == report.directions["de"].segments


def test_existing_languages_are_kept_and_translations_only(tiny_marian, tmp_path):
    records = toy_records(3, seed=6)
    german = dict(records[0], lang="de", query="Schon übersetzt?", positive="Ja.")
    src = write_records(tmp_path / "in.jsonl", records + [german])
    options = replace(NO_FILTER, targets=("de",), include_input=False)
    report, _ = run(tiny_marian, src, tmp_path / "out.jsonl", ":memory:", options)
    out = list(iter_pairs(tmp_path / "out.jsonl"))
    assert [(p.group, p.lang) for p in out] == [(r["id"], "de") for r in records[1:]]
    assert report.directions["de"].already_present == 1


class FakeTranslator:
    """Upper-cases; leaves texts containing 'keep' untranslated for French."""

    def __init__(self, name, settings):
        self.name, self.model_calls = name, 0

    def check_pair(self, src, tgt):
        pass

    def token_lengths(self, texts, src, tgt):
        return [len(t.split()) for t in texts]

    def translate(self, texts, src, tgt):
        self.model_calls += 1
        return [t if tgt == "fr" and "keep" in t else f"{tgt}: {t.upper()}" for t in texts]


def test_filters_drop_only_the_failing_language(tmp_path):
    records = toy_records(3, seed=7)
    records[1]["query"] = "Why does this keep happening to the committee?"
    src = write_records(tmp_path / "in.jsonl", records)
    pool = TranslatorPool(ModelChoice(str(tmp_path)), TOY_DECODING, loader=FakeTranslator)
    options = replace(NO_FILTER, filters=FilterConfig())
    with TranslationCache(":memory:") as cache:
        report = translate_file(src, tmp_path / "out.jsonl", options, pool, cache)
    out = [(p.group, p.lang) for p in iter_pairs(tmp_path / "out.jsonl")]
    group = records[1]["id"]
    assert (group, "en") in out and (group, "de") in out and (group, "fr") not in out
    assert report.filters.dropped == {("fr", "untranslated"): 1}
    assert report.filters.kept == {"de": 3, "fr": 2}


def test_nllb_one_model_for_all_targets(tiny_nllb, tmp_path):
    src = write_records(tmp_path / "in.jsonl", toy_records(3, seed=8))
    options = replace(NO_FILTER, targets=("de", "zh"))
    report, pool = run(tiny_nllb, src, tmp_path / "out.jsonl", ":memory:", options)
    out = list(iter_pairs(tmp_path / "out.jsonl"))
    assert pool.models_loaded == 1
    assert report.model_calls == sum(-(-d.translated // 8) for d in report.directions.values()) >= 2
    de = [p.query for p in out if p.lang == "de"]
    zh = [p.query for p in out if p.lang == "zh"]
    assert len(de) == len(zh) == 3 and de != zh  # the forced target token changes the output


def test_model_without_the_language_fails_before_translating(tiny_nllb, tmp_path):
    src = write_records(tmp_path / "in.jsonl", toy_records(2, seed=9))
    with pytest.raises(ConfigError, match="does not know language 'th' \\(no token 'tha_Thai'\\)"):
        run(tiny_nllb, src, tmp_path / "out.jsonl", tmp_path / "c.sqlite", replace(NO_FILTER, targets=("de", "th")))
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        assert cache.count() == 0  # German was not translated first
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("change,error,message", [
    (dict(targets=("xx-yy-zz",)), ConfigError, "unknown language code 'xx-yy-zz'"),
    (dict(targets=("en",)), ConfigError, "the source language 'en' is also a target"),
    (dict(source="es"), InputError, "no pairs in the source language 'es'"),
    (dict(batch_size=0), ConfigError, "batch size must be positive"),
])
def test_option_errors(tiny_marian, toy_file, tmp_path, change, error, message):
    with pytest.raises(error, match=message.replace("(", "\\(")):
        run(tiny_marian, toy_file, tmp_path / "out.jsonl", ":memory:", replace(NO_FILTER, **change))


def test_input_and_model_errors(tiny_marian, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "lang": "en", "query": "q?"}\n')
    with pytest.raises(InputError, match="bad.jsonl: line 1: missing field 'positive'"):
        run(tiny_marian, bad, tmp_path / "out.jsonl", ":memory:")
    with pytest.raises(InputError, match="no-such-model: translation model directory not found"):
        run(tmp_path / "no-such-model", write_records(tmp_path / "in.jsonl", toy_records(1)), tmp_path / "o.jsonl",
            ":memory:")


class EmptyForFrench(FakeTranslator):
    def translate(self, texts, src, tgt):
        self.model_calls += 1
        return ["" if tgt == "fr" and "keep" in t else t for t in texts]  # untranslated, or empty


def test_without_quality_filters_empty_outputs_are_still_dropped(tmp_path):
    records = toy_records(3, seed=12)
    records[2]["query"] = "Why does this keep happening to the committee?"
    src = write_records(tmp_path / "in.jsonl", records)
    pool = TranslatorPool(ModelChoice(str(tmp_path)), TOY_DECODING, loader=EmptyForFrench)
    with TranslationCache(":memory:") as cache:
        report = translate_file(src, tmp_path / "out.jsonl", NO_FILTER, pool, cache)
    out = [(p.group, p.lang) for p in iter_pairs(tmp_path / "out.jsonl")]
    assert len(out) == 8 and (records[2]["id"], "fr") not in out  # untranslated copies are kept
    assert report.filters.dropped == {("fr", "empty"): 1}
