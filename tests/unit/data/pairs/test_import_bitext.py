import pytest

from polyir.data.pairs.collection import ParallelCollection
from polyir.data.pairs.importers.bitext_import import iter_bitext_pairs
from polyir.data.pairs.sources import Source, parse_sources
from polyir.errors import InputError

from pair_fixtures import write_lines


def sources(*paths):
    return parse_sources([str(p) for p in paths], require_lang=False, infer_from_name=False)


def test_line_pairs_become_two_language_groups(tmp_path):
    de = write_lines(tmp_path / "tatoeba.deu-eng.deu", ["Hallo Welt.", "Guten Morgen."])
    en = write_lines(tmp_path / "tatoeba.deu-eng.eng", ["Hello world.", "Good morning."])
    es = write_lines(tmp_path / "tatoeba.spa-eng.spa", ["Hola."])
    en2 = write_lines(tmp_path / "tatoeba.spa-eng.eng", ["Hello."])
    pairs = list(iter_bitext_pairs(sources(de, en, es, en2), dataset="tatoeba"))
    assert [(p.group, p.lang, p.query, p.positive) for p in pairs[:2]] == [
        ("tatoeba.deu-eng:1", "de", "Hallo Welt.", "Hallo Welt."),
        ("tatoeba.deu-eng:1", "en", "Hello world.", "Hello world.")]
    c = ParallelCollection.from_pairs(pairs)
    assert c.languages == ("de", "en", "es") and c.n_groups == 3
    assert c.coverage().tolist() == [[2, 2, 0], [2, 3, 1], [0, 1, 1]]


def test_three_way_and_explicit_languages(tmp_path):
    a = write_lines(tmp_path / "c.x", ["a1"])
    b = write_lines(tmp_path / "c.y", ["b1"])
    z = write_lines(tmp_path / "c.z", ["c1"])
    pairs = list(iter_bitext_pairs([Source(a, "fr"), Source(b, "it"), Source(z, "pt")]))
    assert [p.lang for p in pairs] == ["fr", "it", "pt"] and len({p.group for p in pairs}) == 1


def test_unequal_lengths_name_the_short_file(tmp_path):
    de = write_lines(tmp_path / "t.deu", ["a", "b", "c"])
    en = write_lines(tmp_path / "t.eng", ["a", "b"])
    with pytest.raises(InputError, match=r"t\.eng: has 2 lines but its parallel files have more"):
        list(iter_bitext_pairs(sources(de, en)))


def test_empty_line_is_an_error_or_skipped(tmp_path):
    de = write_lines(tmp_path / "t.deu", ["a", "  ", "c"])
    en = write_lines(tmp_path / "t.eng", ["a", "b", "c"])
    with pytest.raises(InputError, match=r"t\.deu: line 2: empty line"):
        list(iter_bitext_pairs(sources(de, en)))
    from collections import Counter
    stats = Counter()
    pairs = list(iter_bitext_pairs(sources(de, en), stats=stats, skip_invalid=True))
    assert [p.group for p in pairs] == ["t:1", "t:1", "t:3", "t:3"] and stats["skipped: invalid record"] == 1


def test_set_errors(tmp_path):
    lone = write_lines(tmp_path / "solo.deu", ["a"])
    with pytest.raises(InputError, match="has only one file"):
        list(iter_bitext_pairs(sources(lone)))
    bad = write_lines(tmp_path / "t.notalang", ["a"])
    with pytest.raises(InputError, match="unknown language code 'notalang'"):
        list(iter_bitext_pairs(sources(bad, write_lines(tmp_path / "t.eng", ["a"]))))
    twice = [Source(write_lines(tmp_path / "u.a", ["x"]), "en"), Source(write_lines(tmp_path / "u.b", ["y"]), "en")]
    with pytest.raises(InputError, match="two files in the same language"):
        list(iter_bitext_pairs(twice))


def test_crlf_endings_and_stray_carriage_returns(tmp_path):
    de = tmp_path / "w.deu"
    de.write_bytes("eins\r\nzwei mit \r darin\r\n".encode())
    en = write_lines(tmp_path / "w.eng", ["one", "two"])
    pairs = list(iter_bitext_pairs(sources(de, en)))
    assert [p.query for p in pairs if p.lang == "de"] == ["eins", "zwei mit \r darin"]
