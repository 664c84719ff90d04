import json

import pytest

from polyir.errors import ConfigError, InputError
from polyir.data.pairs.pair_files import iter_pairs, pair_from_record, write_pairs
from polyir.types import Pair

from pair_fixtures import record, write_lines

PAIRS = [Pair("g1", "en", "q en", "p en", ("n1", "n2"), "set-a"),
         Pair("g1", "de", "q de", "p de", (), "set-a"),
         Pair("g2", "en", "q2 en", "p2 en", ("n3",), "set-b")]


@pytest.mark.parametrize("name", ["pairs.jsonl", "pairs.jsonl.gz", "pairs.parquet"])
def test_round_trip_every_format(tmp_path, name):
    path = tmp_path / name
    assert write_pairs(PAIRS, path, row_group_size=2) == 3
    assert list(iter_pairs(path)) == PAIRS
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_parquet_is_written_in_row_groups(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    write_pairs((Pair(f"g{i}", "en", f"q{i}", f"p{i}") for i in range(10)), path, row_group_size=3)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 4 and meta.num_rows == 10
    assert pq.ParquetFile(path).schema_arrow.names == ["id", "lang", "query", "positive", "negatives", "dataset"]


def test_jsonl_line_is_the_documented_schema(tmp_path):
    path = tmp_path / "p.jsonl"
    write_pairs(PAIRS[:1], path)
    assert json.loads(path.read_text()) == {"id": "g1", "lang": "en", "query": "q en", "positive": "p en",
                                            "negatives": ["n1", "n2"], "dataset": "set-a"}


def test_reading_normalises_languages_and_defaults_dataset_to_stem(tmp_path):
    path = write_lines(tmp_path / "mydata.jsonl", [json.dumps(record(lang="deu"))])
    (pair,) = iter_pairs(path)
    assert pair.lang == "de" and pair.dataset == "mydata" and pair.negatives == ()
    (renamed,) = iter_pairs(path, dataset="other")
    assert renamed.dataset == "other"


@pytest.mark.parametrize("obj, message", [
    ({"lang": "en", "query": "q", "positive": "p"}, "missing field 'id'"),
    (record(query="   "), "empty 'query'"),
    (record(positive=""), "empty 'positive'"),
    (record(lang="xx-nonsense"), "unknown language code"),
    (record(query=3), "field 'query' must be a string"),
    (record(id=7), "field 'id' must be a string"),
    (record(negatives="n1"), "'negatives' must be a list"),
    (record(negatives=["ok", ""]), "negatives[1] must be a non-empty string"),
    (record(negative=["n"]), "unknown field 'negative'"),
])
def test_invalid_records_name_file_and_record(tmp_path, obj, message):
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(record(id="ok")), json.dumps(obj)])
    with pytest.raises(InputError) as err:
        list(iter_pairs(path))
    text = str(err.value)
    assert message in text and str(path) in text and "line 2" in text
    assert "\n" not in text


def test_malformed_json_and_non_object_lines(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(record()), "{not json"])
    with pytest.raises(InputError, match="line 2: malformed JSON"):
        list(iter_pairs(path))
    path = write_lines(tmp_path / "list.jsonl", ["[1, 2]"])
    with pytest.raises(InputError, match="line 1: expected a JSON object"):
        list(iter_pairs(path))


def test_duplicate_group_language_is_an_error_naming_both_records(tmp_path):
    lines = [json.dumps(record(id="a")), json.dumps(record(id="b")), json.dumps(record(id="a", query="other"))]
    path = write_lines(tmp_path / "dup.jsonl", lines)
    with pytest.raises(InputError, match=r"line 3: group 'a' has language 'en' twice \(first at line 1\)"):
        list(iter_pairs(path))
    # the same id in another language or another data set is not a duplicate
    ok = [json.dumps(record(id="a")), json.dumps(record(id="a", lang="de")),
          json.dumps(record(id="a", dataset="other"))]
    assert len(list(iter_pairs(write_lines(tmp_path / "ok.jsonl", ok)))) == 3


def test_write_validates_and_leaves_no_file_on_error(tmp_path):
    path = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match="pair 2 id='g9': empty 'query'"):
        write_pairs([PAIRS[0], Pair("g9", "en", " ", "p")], path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="twice"):
        write_pairs([PAIRS[0], PAIRS[0]], path)
    unnamed = Pair("g", "en", "q", "p")  # data set "" (read back as the file stem)
    with pytest.raises(InputError, match=r"pair 3: group 'g' has language 'en' twice \(first at pair 1\)"):
        write_pairs([unnamed, PAIRS[0], unnamed], path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_write_keeps_the_old_file_when_the_new_one_fails(tmp_path):
    path = tmp_path / "out.parquet"
    write_pairs(PAIRS, path)
    with pytest.raises(InputError):
        write_pairs([PAIRS[0], PAIRS[0]], path)
    assert list(iter_pairs(path)) == PAIRS


def test_reader_is_lazy(tmp_path):
    """The first pair arrives before a broken record at the end of the file is reached."""
    lines = [json.dumps(record(id=f"g{i}")) for i in range(5000)] + ["{broken"]
    pairs = iter_pairs(write_lines(tmp_path / "big.jsonl", lines))
    assert next(pairs).group == "g0"
    with pytest.raises(InputError, match="line 5001"):
        list(pairs)


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="must end in"):
        write_pairs(PAIRS, tmp_path / "out.txt")
    with pytest.raises(InputError, match="file not found"):
        list(iter_pairs(tmp_path / "absent.jsonl"))


def test_pair_from_record_accepts_dataset_default():
    pair = pair_from_record(record(), default_dataset="d")
    assert pair == Pair("g1", "en", "what is it?", "it is a thing.", (), "d")


def test_non_utf8_and_broken_gzip_name_the_file(tmp_path):
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps(record(query="caf\u00e9")).encode("latin-1").replace(b"\\u00e9", b"\xe9"))
    with pytest.raises(InputError, match=r"latin\.jsonl: not UTF-8 text"):
        list(iter_pairs(latin))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"this is not gzip data")
    with pytest.raises(InputError, match=r"broken\.jsonl\.gz: cannot read file"):
        list(iter_pairs(broken))


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.gz", "p.parquet"])
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_pair_files_get_the_permissions_of_a_new_file_under_the_umask(tmp_path, name, umask):
    import os
    import stat

    previous = os.umask(umask)
    try:
        write_pairs([Pair(group="a", lang="en", query="q", positive="p")], tmp_path / name)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


def test_writing_where_a_directory_or_a_file_is_in_the_way(tmp_path):
    (tmp_path / "d.jsonl").mkdir()
    pairs = [Pair(group="a", lang="en", query="q", positive="p")]
    with pytest.raises(InputError, match="d.jsonl: cannot write this file: it is a directory"):
        write_pairs(pairs, tmp_path / "d.jsonl")
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="f: is not a directory, so .*f/sub cannot be created"):
        write_pairs(pairs, tmp_path / "f" / "sub" / "p.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "f"]


def test_a_failed_write_leaves_no_directory_it_created(tmp_path):
    bad = [Pair(group="a", lang="en", query="q", positive="p"), Pair(group="a", lang="en", query="q", positive="p")]
    with pytest.raises(InputError, match="twice"):
        write_pairs(bad, tmp_path / "new" / "deeper" / "p.jsonl")
    assert list(tmp_path.iterdir()) == []
