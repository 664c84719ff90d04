import argparse
import json

import pytest
from pair_fixtures import squad_doc, write_json, write_lines

from polyir.cli import handler
from polyir.cli.data_options import register_data_commands
from polyir.data.pairs.importing import FORMATS, ImportOptions, import_pairs
from polyir.data.pairs.pair_files import iter_pairs
from polyir.errors import ConfigError, InputError


def run(argv):
    parser = argparse.ArgumentParser(prog="polyir data")
    register_data_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return handler(args.handler)(args)


def test_cli_formats_match_library():
    parser = argparse.ArgumentParser(prog="polyir data")
    register_data_commands(parser.add_subparsers(dest="command"))
    importing = parser._subparsers._group_actions[0].choices["import"]
    assert next(a.choices for a in importing._actions if a.dest == "format") == FORMATS


def test_import_with_exclusion_and_min_languages(tmp_path):
    en = write_json(tmp_path / "en.json", squad_doc("en"))
    de_doc = squad_doc("de")
    de_doc["data"][1]["paragraphs"] = []  # article 1 only in English
    de = write_json(tmp_path / "de.json", de_doc)
    evaluation = squad_doc("en", n_articles=1, paragraphs=1)  # the eval set holds q0-0-*
    write_json(tmp_path / "eval" / "xx.json", evaluation)
    result = import_pairs("squad", [str(en), str(de)], tmp_path / "out.jsonl", ImportOptions(dataset="toy"),
                          exclude=[tmp_path / "eval"], min_languages=2)
    groups = sorted({p.group for p in iter_pairs(tmp_path / "out.jsonl")})
    assert groups == ["q0-1-0", "q0-1-1"] and result.pairs == 4
    assert result.leakage.groups_by_reason["id"] == 2 and result.leakage.dropped_pairs == 4
    assert result.stats["skipped: group in fewer than 2 languages"] == 4  # article 1, English only


def test_cli_import_stats_leakage_and_splits(tmp_path, capsys):
    src = tmp_path / "xq"
    for lang in ("en", "de"):
        write_json(src / f"{lang}.json", squad_doc(lang, n_articles=4))
    assert run(["split-articles", str(src), "--train-dir", str(tmp_path / "tr"), "--heldout-dir",
                str(tmp_path / "ho"), "--fraction", "0.25", "--seed", "1"]) == 0
    assert run(["import", "squad", str(tmp_path / "tr" / "en.json"), str(tmp_path / "tr" / "de.json"),
                "--out", str(tmp_path / "train.parquet")]) == 0
    assert "wrote 24 pairs" in capsys.readouterr().err
    pairs = list(iter_pairs(tmp_path / "train.parquet"))
    assert {p.dataset for p in pairs} == {"train"}  # default name: the output stem
    assert run(["stats", str(tmp_path / "train.parquet"), "--json", str(tmp_path / "s.json")]) == 0
    assert "pairs 24   groups 12   languages 2" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["coverage"] == [[12, 12], [12, 12]]
    # held-out articles leak nothing into the training part; the whole source leaks everything
    assert run(["leakage", str(tmp_path / "train.parquet"), "--eval", str(tmp_path / "ho"),
                "--out", str(tmp_path / "clean.jsonl")]) == 0
    assert len(list(iter_pairs(tmp_path / "clean.jsonl"))) == 24
    assert run(["leakage", str(tmp_path / "train.parquet"), "--eval", str(src), "--out",
                str(tmp_path / "none.jsonl"), "--report", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["groups_by_reason"] == {"id": 12}
    assert run(["split", str(tmp_path / "train.parquet"), "--train-out", str(tmp_path / "a.jsonl"),
                "--heldout-out", str(tmp_path / "b.jsonl"), "--fraction", "0.5"]) == 0


def test_cli_table_and_bitext_and_per_input_datasets(tmp_path):
    write_lines(tmp_path / "c.deu", ["Hallo", "Welt"])
    write_lines(tmp_path / "c.eng", ["Hello", "World"])
    assert run(["import", "bitext", str(tmp_path / "c.deu"), str(tmp_path / "c.eng"), "--out",
                str(tmp_path / "bt.jsonl"), "--dataset", "tatoeba"]) == 0
    assert [(p.group, p.lang) for p in iter_pairs(tmp_path / "bt.jsonl")][:2] == [("c:1", "de"), ("c:1", "en")]
    write_lines(tmp_path / "a.csv", ["q,a", "Q1,A1"])
    write_lines(tmp_path / "b.csv", ["q,a", "Q1,A1"])
    assert run(["import", "table", f"en={tmp_path / 'a.csv'}", f"de={tmp_path / 'b.csv'}", "--map",
                "query=q,positive=a", "--dataset", "set-a", "set-b", "--out", str(tmp_path / "t.jsonl")]) == 0
    assert [(p.dataset, p.lang) for p in iter_pairs(tmp_path / "t.jsonl")] == [("set-a", "en"), ("set-b", "de")]


def test_cli_errors_are_polyir_errors(tmp_path):
    with pytest.raises(InputError, match="cannot tell the language"):
        run(["import", "squad", str(write_json(tmp_path / "dev.json", squad_doc("en"))), "--out",
             str(tmp_path / "o.jsonl")])
    with pytest.raises(ConfigError, match="column mapping"):
        run(["import", "table", "en=x.csv", "--out", str(tmp_path / "o.jsonl")])
    with pytest.raises(ConfigError, match="--queries LANG=PATH"):
        run(["import", "mmarco", "ids.tsv", "--out", str(tmp_path / "o.jsonl")])
    with pytest.raises(InputError, match="file not found"):
        run(["stats", str(tmp_path / "absent.jsonl")])
    with pytest.raises(ConfigError, match="bitext takes one data-set name"):
        run(["import", "bitext", "a.de", "a.en", "--dataset", "x", "y", "--out", str(tmp_path / "o.jsonl")])
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_mmarco_layout(tmp_path):
    write_lines(tmp_path / "triples.ids.tsv", ["1\t10\t11", "2\t12\t10"])
    for lang in ("en", "es"):
        write_lines(tmp_path / f"{lang}_queries.tsv", [f"1\t{lang} q1", f"2\t{lang} q2"])
        write_lines(tmp_path / f"{lang}_collection.tsv", [f"{p}\t{lang} p{p}" for p in (10, 11, 12)])
    assert run(["import", "mmarco", str(tmp_path / "triples.ids.tsv"), "--queries", f"en={tmp_path / 'en_queries.tsv'}",
                f"es={tmp_path / 'es_queries.tsv'}", "--collection", f"en={tmp_path / 'en_collection.tsv'}",
                f"es={tmp_path / 'es_collection.tsv'}", "--max-groups", "1", "--out", str(tmp_path / "m.jsonl")]) == 0
    pairs = list(iter_pairs(tmp_path / "m.jsonl"))
    assert [(p.group, p.lang, p.positive, p.negatives) for p in pairs] == [("1", "en", "en p10", ("en p11",)),
                                                                           ("1", "es", "es p10", ("es p11",))]


def test_an_import_of_nothing_is_an_error_and_writes_nothing(tmp_path):
    empty = write_json(tmp_path / "en.json", {"version": "1.1", "data": []})
    with pytest.raises(InputError, match="en.json: nothing to import: 0 pairs \\(no records found\\); .*out.jsonl was "
                                         "not written"):
        import_pairs("squad", [str(empty)], tmp_path / "out.jsonl")
    doc = squad_doc("en", n_articles=1, paragraphs=1, questions=1)
    doc["data"][0]["paragraphs"][0]["qas"][0]["question"] = ""
    invalid = write_json(tmp_path / "x.json", doc)
    with pytest.raises(InputError, match="nothing to import: 0 pairs \\(skipped: invalid record: 1\\)"):
        import_pairs("squad", [f"en={invalid}"], tmp_path / "out.jsonl", ImportOptions(skip_invalid=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en.json", "x.json"]
