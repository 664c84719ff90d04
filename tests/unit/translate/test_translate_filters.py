"""Quality filters: one constructed case per reason, per-language counts, stand-alone filtering."""
import json
import socket

import pytest

from polyir.data.pairs.pair_files import iter_pairs
from polyir.translate.filter_pairs import FilterReport, filter_pair, filter_pair_file
from polyir.translate.filters import FilterConfig, TranslationFilter, longest_loop
from polyir.translate.langid import LanguageIdentifier
from polyir.types import Pair

from translate_fixtures import shared_path, write_records

EN = "The committee approved the new budget for the city library after a long debate."
DE = "Der Ausschuss genehmigte nach langer Debatte das neue Budget für die Stadtbibliothek."
ZH = "委员会经过长时间辩论批准了市图书馆的新预算。"


@pytest.fixture(scope="module")
def checker():
    return TranslationFilter(FilterConfig(langid=True), LanguageIdentifier(["en", "de", "zh"]))


@pytest.mark.parametrize("output,tgt,reason", [
    ("   ", "de", "empty"),
    (EN.upper() + "!!", "de", "untranslated"),  # equal after normalisation
    ("Der Ausschuss der Ausschuss der Ausschuss der Ausschuss der Ausschuss genehmigte.", "de", "repetition"),
    ("委员会委员会委员会委员会委员会批准了。", "zh", "repetition"),
    ("Der Ausschuss.", "de", "length_ratio"),  # far too short
    (DE + " " + DE + " " + DE, "de", "length_ratio"),  # far too long, no loop
    ("委员会批准" * 3 + "了市图书馆的新预算" * 2 + "，" + DE, "zh", "length_ratio"),
    ("The committee has approved a new budget for the library of the city today.", "de", "language"),
    (DE, "de", None),
    (ZH, "zh", None),  # a third of the English characters: expected for Chinese
])
def test_each_reason(checker, output, tgt, reason):
    assert checker.check(output, tgt, EN, "en") == reason


def test_short_or_letterless_identical_text_is_not_untranslated(checker):
    assert checker.check("Beyoncé", "de", "Beyoncé", "en") is None  # a name
    assert checker.check("1998–2001", "de", "1998–2001", "en") is None
    assert checker.check("Super Bowl 50", "de", "Super Bowl 50", "en") == "untranslated"  # 12 normalised characters


def test_repetition_in_the_source_is_not_a_loop(checker):
    source = "He shouted: help help help help help me now please."
    assert checker.check("Er rief: Hilfe Hilfe Hilfe Hilfe Hilfe mir jetzt bitte.", "de", source, "en") is None
    assert longest_loop("ha ha ha ha") == 4 and longest_loop("ha ha ha ha", 9) == 1
    assert longest_loop("1000000 ....") == 1  # no letters: numbers and punctuation runs are not loops


def test_without_source_only_source_free_checks(checker):
    assert checker.check("Der Ausschuss.", "de") is None  # length needs the source
    assert checker.check(EN, "de") == "language"
    assert checker.check("", "de") == "empty"


def test_langid_skips_short_texts_and_unsupported_languages():
    identifier = LanguageIdentifier(["en", "de", "qaa"])
    assert identifier.unsupported == ("qaa",) and not identifier.supports("qaa")
    checker = TranslationFilter(FilterConfig(langid=True), identifier)
    assert checker.check("Hello there.", "de", "Hello there, friend.", "en") is None  # < 20 characters
    assert TranslationFilter(FilterConfig(langid=True), LanguageIdentifier(["de"])).check(EN, "de") is None


def test_langid_works_without_network(monkeypatch):
    """py3langid's model ships in the wheel: identification opens no socket."""
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    identifier = LanguageIdentifier(["en", "de", "zh", "th", "ar"])
    assert [identifier.identify(t) for t in (EN, DE, ZH, "คณะกรรมการอนุมัติงบประมาณใหม่", "وافقت اللجنة على الميزانية")] \
        == ["en", "de", "zh", "th", "ar"]


def test_pair_level_counts_and_negatives():
    checker = TranslationFilter(FilterConfig())
    source = Pair("g1", "en", EN, EN, negatives=(EN, "A second, different negative sentence here."), dataset="d")
    report = FilterReport()
    good = Pair("g1", "de", DE, DE, negatives=("", DE), dataset="d")
    kept = filter_pair(checker, good, source, report)
    assert kept is not None and kept.negatives == (DE,)  # the empty negative is removed, the pair kept
    assert filter_pair(checker, Pair("g1", "zh", ZH, EN, dataset="d"), source, report) is None
    assert filter_pair(checker, Pair("g1", "fr", "", "x", dataset="d"), source, report) is None
    assert report.checked == {"de": 1, "zh": 1, "fr": 1} and report.kept == {"de": 1}
    assert report.dropped == {("zh", "untranslated"): 1, ("fr", "empty"): 1}
    assert report.negatives_dropped == {("de", "empty"): 1}
    table = report.format_table().splitlines()
    assert table[0].split() == ["lang", "checked", "kept", "empty", "untranslated", "repetition", "length_ratio",
                                "language", "neg.", "dropped"]
    assert table[-1].split() == ["all", "3", "1", "1", "1", "0", "0", "0", "1"]
    assert report.to_dict()["per_language"]["zh"]["dropped"] == {"untranslated": 1}


def test_standalone_filter_of_a_pair_file(tmp_path):
    rec = lambda gid, lang, q, p: {"id": gid, "lang": lang, "query": q, "positive": p, "dataset": "d"}
    records = [rec("a", "en", EN, EN), rec("a", "de", DE, DE), rec("a", "zh", ZH, EN),  # zh untranslated
               rec("b", "en", EN, EN), rec("b", "de", "Der Ausschuss.", DE),  # query too short
               rec("c", "de", DE, "Wort Wort Wort Wort Wort Wort.")]  # no English pair: loop still found
    src = write_records(tmp_path / "in.jsonl", records)
    report = filter_pair_file(src, tmp_path / "out.jsonl", "en")
    kept = [(p.group, p.lang) for p in iter_pairs(tmp_path / "out.jsonl")]
    assert kept == [("a", "en"), ("a", "de"), ("b", "en")]  # a group keeps its other languages
    assert report.dropped == {("zh", "untranslated"): 1, ("de", "length_ratio"): 1, ("de", "repetition"): 1}
    assert report.without_source == {"de": 1}
    json.dumps(report.to_dict())


@pytest.mark.shared_data
def test_professional_translations_pass_the_default_filters():
    """XQuAD-R's human translations of 1,190 questions and 240 paragraphs (en -> 10 languages):
    the default filters with language identification drop under 0.1 % (measured: 9 of 14,300,
    among them 3 Greek questions left in English and a Hindi question with a paragraph pasted in)."""
    root = shared_path("xquad-r")
    languages = ["ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh"]
    checker = TranslationFilter(FilterConfig(langid=True), LanguageIdentifier(["en", *languages]))
    en_questions, en_paragraphs = _xquad(root, "en")
    dropped, checked = [], 0
    for lang in languages:
        questions, paragraphs = _xquad(root, lang)
        texts = [(en_questions[k], questions[k]) for k in en_questions] + list(zip(en_paragraphs, paragraphs))
        for source, output in texts:
            checked += 1
            reason = checker.check(output, lang, source, "en")
            if reason:
                dropped.append((lang, reason, output[:40]))
    assert checked == 14300
    assert len(dropped) <= 14, dropped
    assert ("el", "untranslated", "What have studies on income inequality s") in dropped


def _xquad(path, lang):
    data = json.loads((path / f"{lang}.json").read_text(encoding="utf-8"))
    questions = {qa["id"]: qa["question"] for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]}
    return questions, [p["context"] for a in data["data"] for p in a["paragraphs"]]
