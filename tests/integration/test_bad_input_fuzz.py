"""Malformed variants of valid inputs, fed to every loader through the command line.

Each case starts from inputs a command accepts, breaks ONE file in one way — cut in half,
emptied, binary, a wrong type, a missing field, an empty string, a directory or a link where
a file belongs — and runs the command in-process (`polyir.cli.main`).  Every case must end
with exactly one line on stderr starting ``polyir: error:`` that names the broken file (and
the record, where there is one), a non-zero exit, no traceback, the inputs unchanged and
nothing written where the command writes.  Huge fields are not errors: they go through
(`test_huge_fields_go_through`).  Process-level behaviour (kill -9, locks, child processes)
is tested with subprocesses in test_cli_sweep.py / test_cli_train.py / unit/test_dirlock.py.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from polyir.cli import main

BINARY = bytes(range(256)) * 8  # NUL bytes and invalid UTF-8
FILE_BREAKS = ("cut", "empty", "binary", "directory", "dangling-link", "link-to-directory")


# ---------------------------------------------------------------- running and checking

def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main(["-q", *map(str, argv)])
    except SystemExit as exit_:  # usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: a link's target, a directory, or a file's digest."""
    entries = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.name == ".polyir.lock":  # polyir's own lock files: their holder's pid changes (docs/guarantees.md)
            continue
        if path.is_symlink():
            entries[key] = ("link", str(path.readlink()))
        elif path.is_dir():
            entries[key] = "dir"
        else:
            entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return entries


def assert_refused(code, err: str, names: list[str]) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code not in (0, None), f"accepted: {err}"
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("polyir: error: "), err
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]


def break_file(path: Path, how: str, spare_dir: Path) -> None:
    """Replace ``path`` (a file) by a broken version of itself."""
    data = path.read_bytes()
    path.unlink()
    if how == "cut":
        path.write_bytes(data[:len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "binary":
        path.write_bytes(BINARY)
    elif how == "directory":
        path.mkdir()
    elif how == "dangling-link":
        path.symlink_to(path.parent / "no-such-file")
    elif how == "link-to-directory":
        spare_dir.mkdir(exist_ok=True)
        path.symlink_to(spare_dir)
    else:
        raise ValueError(how)


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(doc) or doc, ensure_ascii=False), encoding="utf-8")


def edit_jsonl(path: Path, change: Callable[[list], None]) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    change(rows)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def setting(path: tuple, value):
    """Set (or with ``value=DELETE`` remove) ``obj[path[0]][path[1]]...``."""
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


DELETE = object()


# ---------------------------------------------------------------- valid inputs

@pytest.fixture(scope="module")
def base(tmp_path_factory, synthetic_dir, synthetic_model_dir) -> Path:
    """Valid inputs of every format, small: copied per case, then broken."""
    from polyir.data.pairs.importing import import_pairs

    root = tmp_path_factory.mktemp("valid")
    shutil.copytree(synthetic_dir / "eval", root / "eval")
    shutil.copy(synthetic_dir / "train" / "qaa.json", root / "squad.json")
    shutil.copytree(synthetic_model_dir, root / "model")
    import_pairs("squad", [f"{lang}={synthetic_dir / 'train' / f'{lang}.json'}" for lang in ("qaa", "qab")],
                 root / "pairs.jsonl")
    import_pairs("squad", [f"qaa={synthetic_dir / 'train' / 'qaa.json'}"], root / "pairs.parquet")
    _beir(root / "beir")
    (root / "corpus.de").write_text("ein Hund\nzwei Katzen\ndrei Vögel\n", encoding="utf-8")
    (root / "corpus.en").write_text("a dog\ntwo cats\nthree birds\n", encoding="utf-8")
    (root / "table.csv").write_text("q,p,lang\nwhat barks?,a dog,en\nwhat purrs?,a cat,en\n", encoding="utf-8")
    # ROOT: the copy a case works on (`prepared` fills it in)
    (root / "train.yaml").write_text(yaml.safe_dump({
        "model": {"name_or_path": "ROOT/model"}, "data": {"sources": ["ROOT/pairs.jsonl"]},
        "sampler": {"strategy": "hybrid", "batch_size": 8}, "optim": {"steps": 2}}))
    (root / "sweep.yaml").write_text(yaml.safe_dump({
        "name": "fuzz", "out": "ROOT/sweep-out",
        "base": {"model": {"name_or_path": "ROOT/model"}, "data": {"sources": ["ROOT/pairs.jsonl"]},
                 "optim": {"steps": 2}},
        "grid": {"strategy": ["mono", "hybrid(0.5)"], "seed": [0]},
        "evaluate": [{"name": "syn", "dataset": "xquad-r", "data_dir": "ROOT/eval"}]}))
    _results_db(root / "results.db")
    _run_directories(root)
    return root


def _run_directories(root: Path) -> None:
    """``ROOT/runs-fixture``: a sweep directory whose runs are planned (spec.json written), none run."""
    from polyir.experiments.spec import load_sweep
    from polyir.experiments.store import ResultsStore
    from polyir.experiments.sweep_driver import plan_sweep, run_commands

    resolved = root.parent / "sweep-resolved.yaml"
    resolved.write_text((root / "sweep.yaml").read_text().replace("ROOT", str(root)))
    spec = load_sweep(resolved, out=str(root / "runs-fixture"))
    run_commands(plan_sweep(spec))
    ResultsStore(spec.db_path).close()


def _beir(root: Path) -> None:
    (root / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": f"title {i}", "text": f"passage number {i} about topic {i % 3}"} for i in range(6)]
    queries = [{"_id": f"q{i}", "text": f"which passage is number {i}?"} for i in range(4)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                             + "".join(f"q{i}\td{i}\t1\n" for i in range(4)))


def _results_db(path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "expfixtures_for_fuzz", Path(__file__).parents[1] / "unit" / "experiments" / "expfixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from polyir.experiments.store import ResultsStore

    with ResultsStore(path) as store:
        module.fill(store, {"hybrid(0.5)": {}, "X-Y": {"cross": 0.1}}, seeds=(0, 1))


@dataclass
class Case:
    """One command on a copy of the valid inputs, with ``target`` to be broken."""

    argv: list[str]
    target: str  # relative to the copy
    outputs: list[str] = field(default_factory=list)  # relative paths the failed command must not create
    names: list[str] = field(default_factory=list)  # extra texts the error line must contain


COMMANDS: dict[str, Callable[[Path], Case]] = {
    "evaluate-xquad": lambda r: Case(["evaluate", "--model", r / "model", "--dataset", "xquad-r", "--data-dir",
                                      r / "eval", "--out", r / "out", "--no-cache"], "eval/qab.json", ["out"]),
    "evaluate-model": lambda r: Case(["evaluate", "--model", r / "model", "--dataset", "xquad-r", "--data-dir",
                                      r / "eval", "--out", r / "out", "--no-cache", "--max-queries", "2"],
                                     "model/config.json", ["out"]),
    "evaluate-beir": lambda r: Case(["evaluate", "--model", r / "model", "--dataset", "beir", "--data-dir", r / "beir",
                                     "--languages", "en", "--out", r / "out", "--no-cache"], "beir/corpus.jsonl",
                                    ["out"]),
    "import-squad": lambda r: Case(["data", "import", "squad", f"qaa={r / 'squad.json'}", "--out", r / "o.jsonl"],
                                   "squad.json", ["o.jsonl"]),
    "import-beir": lambda r: Case(["data", "import", "beir", f"en={r / 'beir'}", "--split", "test",
                                   "--out", r / "o.jsonl"], "beir/queries.jsonl", ["o.jsonl"]),
    "import-bitext": lambda r: Case(["data", "import", "bitext", r / "corpus.de", r / "corpus.en",
                                     "--out", r / "o.jsonl"], "corpus.de", ["o.jsonl"]),
    "import-table": lambda r: Case(["data", "import", "table", r / "table.csv", "--map", "query=q,positive=p,lang=lang",
                                    "--out", r / "o.jsonl"], "table.csv", ["o.jsonl"]),
    "data-stats": lambda r: Case(["data", "stats", r / "pairs.jsonl", "--json", r / "s.json"], "pairs.jsonl",
                                 ["s.json"]),
    "data-stats-parquet": lambda r: Case(["data", "stats", r / "pairs.parquet"], "pairs.parquet"),
    "data-split": lambda r: Case(["data", "split", r / "pairs.jsonl", "--train-out", r / "a.jsonl", "--heldout-out",
                                  r / "b.jsonl", "--fraction", "0.3"], "pairs.jsonl", ["a.jsonl", "b.jsonl"]),
    "data-leakage": lambda r: Case(["data", "leakage", r / "pairs.jsonl", "--eval", r / "eval", "--out", r / "o.jsonl"],
                                   "pairs.jsonl", ["o.jsonl"]),
    "data-filter": lambda r: Case(["data", "filter", r / "pairs.jsonl", "--source", "qaa", "--out", r / "o.jsonl"],
                                  "pairs.jsonl", ["o.jsonl"]),
    "translate": lambda r: Case(["translate", r / "pairs.jsonl", "--targets", "de", "--model", r / "no-mt-model",
                                 "--no-cache", "--out", r / "o.jsonl"], "pairs.jsonl", ["o.jsonl"]),
    "train-data": lambda r: Case(["train", "--config", r / "train.yaml", "--out", r / "run"], "pairs.jsonl", ["run"]),
    "train-config": lambda r: Case(["train", "--config", r / "train.yaml", "--out", r / "run"], "train.yaml", ["run"]),
    "sweep": lambda r: Case(["sweep", r / "sweep.yaml", "--dry-run"], "sweep.yaml", ["sweep-out"]),
    "report": lambda r: Case(["report", r / "results.db", "--out", r / "rep", "--resamples", "1000"], "results.db",
                             ["rep"]),
}


def prepared(base: Path, tmp_path: Path, command: str) -> tuple[Path, Case]:
    root = tmp_path / "in"
    shutil.copytree(base, root, symlinks=True)
    for config in ("train.yaml", "sweep.yaml"):
        (root / config).write_text((root / config).read_text().replace("ROOT", str(root)))
    return root, COMMANDS[command](root)


def run_broken(capsys, root: Path, case: Case, names: list[str]) -> str:
    before = snapshot(root)
    code, _, err = cli(capsys, *case.argv)
    line = assert_refused(code, err, names + case.names)
    assert snapshot(root) == before, "an input was changed, or an output written beside it"
    for output in case.outputs:
        assert not (root / output).exists() and not (root / output).is_symlink(), f"{output} was written"
    return line


# ---------------------------------------------------------------- the cases

@pytest.mark.parametrize("how", FILE_BREAKS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_broken_file(base, tmp_path, capsys, command, how):
    root, case = prepared(base, tmp_path, command)
    if how == "empty" and command in ("data-stats", "data-split", "data-leakage", "data-filter"):
        pytest.skip("an empty pair file is a valid file of no pairs for these commands")
    break_file(root / case.target, how, tmp_path / "elsewhere")
    if how in ("cut", "empty") and "beir" in command:
        # cut between lines (or emptied), a BEIR file is still well formed: the judgements name what it lost
        line = run_broken(capsys, root, case, [])
        assert case.target in line or ("qrels/test.tsv" in line and "judgement names unknown" in line), line
    else:
        run_broken(capsys, root, case, [case.target])


def test_the_valid_inputs_are_accepted(base, tmp_path, capsys):
    """The cases above fail because of the broken file, not because of the setup."""
    for command in ("evaluate-xquad", "evaluate-beir", "import-squad", "import-beir", "import-bitext", "import-table",
                    "data-stats", "data-split", "data-leakage", "sweep", "report"):
        root, case = prepared(base, tmp_path / command, command)
        code, _, err = cli(capsys, *case.argv)
        assert code == 0, f"{command}: {err}"
    root, case = prepared(base, tmp_path / "train", "train-config")
    code, _, err = cli(capsys, *case.argv, "--print-config")
    assert code == 0, err


QA = ("data", 0, "paragraphs", 0, "qas", 0)
PARAGRAPH = ("data", 0, "paragraphs", 0)
JSON_EDITS = {  # name -> (file change, texts the error must contain besides the file)
    "no data": (setting(("data",), DELETE), ["missing field 'data'"]),
    "data is a number": (setting(("data",), 5), ["'data' must be an array"]),
    "top level is a list": (lambda doc: [doc], ["top level"]),
    "question is a number": (setting((*QA, "question"), 7), ["qas[0]"]),
    "empty question": (setting((*QA, "question"), " "), ["qas[0]", "question"]),
    "no question id": (setting((*QA, "id"), DELETE), ["qas[0]", "'id'"]),
    "answer_start is text": (setting((*QA, "answers", 0, "answer_start"), "3"), ["qas[0]", "answer_start"]),
    "answer text elsewhere": (setting((*QA, "answers", 0, "text"), "not in the context"),
                              ["qas[0]", "does not match the context"]),
    "no context": (setting((*PARAGRAPH, "context"), DELETE), ["paragraphs[0]", "context"]),
    "context is a list": (setting((*PARAGRAPH, "context"), ["x"]), ["paragraphs[0]", "context"]),
    "paragraphs is a number": (setting(("data", 0, "paragraphs"), 3), ["data[0]", "paragraphs"]),
    "language contradicts the name": (setting(("language",), "de"), ["'language' is 'de'"]),
    "duplicate question id": (lambda doc: doc["data"][0]["paragraphs"][0]["qas"].append(
        dict(doc["data"][0]["paragraphs"][0]["qas"][0])), ["duplicate question id"]),
}


@pytest.mark.parametrize("edit", sorted(JSON_EDITS))
@pytest.mark.parametrize("command, target", [("evaluate-xquad", "eval/qaa.json"), ("import-squad", "squad.json")])
def test_a_wrong_squad_record(base, tmp_path, capsys, command, target, edit):
    root, case = prepared(base, tmp_path, command)
    change, names = JSON_EDITS[edit]
    edit_json(root / target, change)
    run_broken(capsys, root, case, [target, *names])


PAIR_EDITS = {
    "query is a number": (lambda rows: rows[2].update(query=5), ["line 3", "'query' must be a string"]),
    "no positive": (lambda rows: rows[2].pop("positive"), ["line 3", "missing field 'positive'"]),
    "empty query": (lambda rows: rows[2].update(query="  "), ["line 3", "empty 'query'"]),
    "unknown language": (lambda rows: rows[2].update(lang="xx-nope-nope"), ["line 3", "unknown language code"]),
    "negatives not a list": (lambda rows: rows[2].update(negatives="n"), ["line 3", "'negatives'"]),
    "unknown field": (lambda rows: rows[2].update(extra=1), ["line 3", "unknown field 'extra'"]),
    "a line is a list": (lambda rows: rows.__setitem__(2, [1, 2]), ["line 3", "expected a JSON object"]),
    "duplicate": (lambda rows: rows.append(dict(rows[0])), ["has language", "twice"]),
}


@pytest.mark.parametrize("edit", sorted(PAIR_EDITS))
@pytest.mark.parametrize("command", ["data-stats", "data-split", "data-leakage", "translate", "train-data"])
def test_a_wrong_pair_record(base, tmp_path, capsys, command, edit):
    root, case = prepared(base, tmp_path, command)
    change, names = PAIR_EDITS[edit]
    edit_jsonl(root / "pairs.jsonl", change)
    run_broken(capsys, root, case, ["pairs.jsonl", *names])


BEIR_EDITS = {
    ("beir/corpus.jsonl", "no _id"): (lambda rows: rows[1].pop("_id"), ["line 2", "'_id'"]),
    ("beir/corpus.jsonl", "text is a number"): (lambda rows: rows[1].update(text=3), ["line 2", "'text'"]),
    ("beir/queries.jsonl", "language contradicts"): (lambda rows: rows[0].update(lang="de"), ["line 1", "'de'"]),
    ("beir/queries.jsonl", "empty text"): (lambda rows: rows[0].update(text=""), ["line 1", "empty text"]),
}


@pytest.mark.parametrize("command", ["import-beir", "evaluate-beir"])
@pytest.mark.parametrize("target, edit", sorted(BEIR_EDITS))
def test_a_wrong_beir_record(base, tmp_path, capsys, command, target, edit):
    root, case = prepared(base, tmp_path, command)
    change, names = BEIR_EDITS[target, edit]
    if command == "evaluate-beir" and edit == "language contradicts":
        pytest.skip("a single BEIR collection lets a record's own language override --languages (docs/evaluation.md)")
    edit_jsonl(root / target, change)
    run_broken(capsys, root, case, [target, *names])


@pytest.mark.parametrize("command", ["import-beir", "evaluate-beir"])
@pytest.mark.parametrize("row, names", [("q1\td99\t1", ["line 6", "unknown corpus document 'd99'"]),
                                        ("q1\td1\tgood", ["line 6", "score"]),
                                        ("q1 d1", ["line 6", "expected 3"])])
def test_a_wrong_qrels_line(base, tmp_path, capsys, command, row, names):
    root, case = prepared(base, tmp_path, command)
    with open(root / "beir" / "qrels" / "test.tsv", "a", encoding="utf-8") as f:
        f.write(row + "\n")
    run_broken(capsys, root, case, ["qrels/test.tsv", *names])


@pytest.mark.parametrize("file", ["model.safetensors", "config.json", "tokenizer.json", "modules.json",
                                  "1_Pooling/config.json"])
@pytest.mark.parametrize("how", ["cut", "empty", "binary", "directory", "dangling-link"])
def test_a_broken_model_file(base, tmp_path, capsys, file, how):
    root, case = prepared(base, tmp_path, "evaluate-model")
    break_file(root / "model" / file, how, tmp_path / "elsewhere")
    run_broken(capsys, root, case, ["model"])


@pytest.mark.parametrize("how", ["cut", "binary"])
def test_training_from_a_broken_model(base, tmp_path, capsys, how):
    root, case = prepared(base, tmp_path, "train-config")
    break_file(root / "model" / "model.safetensors", how, tmp_path / "elsewhere")
    run_broken(capsys, root, case, ["model/model.safetensors", "corrupt or truncated weights file"])


CONFIG_EDITS = {  # train.yaml text -> texts of the error
    "not a mapping": ("- a\n- b\n", ["expected a mapping"]),
    "unknown key": ("bogus: 1\n", ["unknown key 'bogus'"]),
    "wrong type": ("optim: {lr: fast}\n", ["optim.lr", "expected a number"]),
    "bad yaml": ("optim: {lr: [\n", ["malformed YAML"]),
    "no model": ("data: {sources: [x.jsonl]}\n", ["missing required key 'model'"]),
}


@pytest.mark.parametrize("edit", sorted(CONFIG_EDITS))
def test_a_wrong_training_config(base, tmp_path, capsys, edit):
    root, case = prepared(base, tmp_path, "train-config")
    text, names = CONFIG_EDITS[edit]
    config = yaml.safe_load((root / "train.yaml").read_text())
    (root / "train.yaml").write_text(text if edit in ("not a mapping", "bad yaml", "no model")
                                     else yaml.safe_dump(config) + text)
    run_broken(capsys, root, case, ["train.yaml", *names])


SWEEP_EDITS = {
    "grid is a list": (lambda s: s.update(grid=[1]), ["grid", "expected a mapping"]),
    "seed is text": (lambda s: s["grid"].update(seed=["x"]), ["grid.seed"]),
    "sampler is a number": (lambda s: s["base"].update(sampler=5), ["base.sampler"]),
    "no evaluate": (lambda s: s.pop("evaluate"), ["evaluate"]),
    "unknown key": (lambda s: s.update(bogus=1), ["unknown key 'bogus'"]),
    "evaluate data_dir missing": (lambda s: s["evaluate"][0].update(data_dir="/no/such"), ["evaluate[0].data_dir"]),
}


@pytest.mark.parametrize("edit", sorted(SWEEP_EDITS))
def test_a_wrong_sweep_file(base, tmp_path, capsys, edit):
    root, case = prepared(base, tmp_path, "sweep")
    spec = yaml.safe_load((root / "sweep.yaml").read_text())
    SWEEP_EDITS[edit][0](spec)
    (root / "sweep.yaml").write_text(yaml.safe_dump(spec))
    run_broken(capsys, root, case, ["sweep.yaml", *SWEEP_EDITS[edit][1]])


@pytest.mark.parametrize("content", ["other-sqlite", "text", "cut-pages", "other-schema"])
def test_a_file_that_is_not_a_results_database(base, tmp_path, capsys, content):
    root, case = prepared(base, tmp_path, "report")
    db = root / "results.db"
    if content == "other-sqlite":
        db.unlink()
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE people (name TEXT)")
        conn.close()
    elif content == "text":
        db.write_text("run,AP\n1,0.5\n")
    elif content == "cut-pages":
        db.write_bytes(db.read_bytes()[:4096 * 3])
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        conn.close()
    run_broken(capsys, root, case, ["results.db"])


@pytest.mark.parametrize("command, out", [("evaluate-xquad", "out"), ("report", "rep"), ("train-config", "run"),
                                          ("import-squad", "o.jsonl"), ("data-split", "a.jsonl")])
@pytest.mark.parametrize("blocker", ["a file", "a file as parent", "a directory"])
def test_an_output_path_in_the_way(base, tmp_path, capsys, command, out, blocker):
    root, case = prepared(base, tmp_path, command)
    argv = [str(a) for a in case.argv]
    if blocker == "a file":
        if not out.endswith(".jsonl"):
            (root / out).write_text("mine")
        else:
            pytest.skip("a pair file is replaced, that is its purpose")
    elif blocker == "a file as parent":
        (root / "taken").write_text("mine")
        argv[argv.index(str(root / out))] = str(root / "taken" / out)
    else:
        if not out.endswith(".jsonl"):
            pytest.skip("an existing output directory is written into")
        (root / out).mkdir()
    before = snapshot(root)
    code, _, err = cli(capsys, *argv)
    assert_refused(code, err, ["taken" if blocker == "a file as parent" else out])
    assert snapshot(root) == before


def test_huge_fields_go_through(base, tmp_path, capsys):
    """A 4 MB question and a 4 MB passage are not errors: they are cut before tokenisation
    (polyir.textclip) and evaluated / imported like any other."""
    root, case = prepared(base, tmp_path, "evaluate-xquad")
    huge = "very long question " * 210_000
    edit_json(root / "eval" / "qab.json", setting((*QA, "question"), huge))
    code, _, err = cli(capsys, *case.argv, "--max-queries", "3")
    assert code == 0, err
    root, case = prepared(base, tmp_path / "import", "import-beir")
    edit_jsonl(root / "beir" / "corpus.jsonl", lambda rows: rows[0].update(text=huge))
    code, _, err = cli(capsys, *case.argv)
    assert code == 0, err


@pytest.mark.parametrize("how", ["cut", "empty", "binary", "directory", "dangling-link", "a list", "no kind",
                                 "hand-edited"])
@pytest.mark.parametrize("command", ["run-one", "collect"])
def test_a_broken_run_directory(base, tmp_path, capsys, command, how):
    """``sweep --run-one RUN_DIR`` reads its spec.json; ``sweep --collect`` reads finished runs' record.json."""
    root, case = prepared(base, tmp_path, "sweep")
    run_dir = next(d for d in sorted((root / "runs-fixture" / "runs").iterdir())
                   if json.loads((d / "spec.json").read_text())["kind"] == "train")
    target = run_dir / ("spec.json" if command == "run-one" else "record.json")
    if command == "collect":
        target.write_text(json.dumps({"schema": "polyir-run-record-1", "spec": json.loads(
            (run_dir / "spec.json").read_text())}))
    if how in FILE_BREAKS:
        break_file(target, how, tmp_path / "elsewhere")
    elif how == "a list":
        target.write_text("[1, 2]")
    elif how == "no kind":
        edit_json(target, lambda doc: (doc.get("spec", doc).pop("kind"), doc)[1])
    else:
        edit_json(target, lambda doc: doc.get("spec", doc)["train"].update(seed=7))  # no longer its hash
    before = snapshot(root)
    argv = ["--run-one", run_dir] if command == "run-one" else [root / "sweep.yaml", "--collect", "--out",
                                                                root / "runs-fixture"]
    code, _, err = cli(capsys, "sweep", *argv)
    assert_refused(code, err, [str(target.relative_to(root))])
    assert snapshot(root) == before


@pytest.mark.parametrize("command, target", [("evaluate-xquad", "eval/qab.json"), ("data-stats", "pairs.jsonl")])
@pytest.mark.parametrize("how", ["cut", "binary"])
def test_a_broken_gzip_file(base, tmp_path, capsys, command, target, how):
    import gzip

    root, case = prepared(base, tmp_path, command)
    data = gzip.compress((root / target).read_bytes())
    (root / target).unlink()
    gz = root / f"{target}.gz"
    gz.write_bytes(data[:len(data) // 2] if how == "cut" else BINARY)
    case.argv = [a if str(a) != str(root / target) else gz for a in case.argv]
    run_broken(capsys, root, case, [f"{target}.gz"])


@pytest.mark.parametrize("how", ["cut", "binary", "directory", "dangling-link"])
def test_a_broken_split_or_corpus_input(base, tmp_path, capsys, how):
    root, _ = prepared(base, tmp_path, "evaluate-xquad")
    break_file(root / "eval" / "qab.json", how, tmp_path / "elsewhere")
    split = Case(["data", "split-articles", root / "eval", "--train-dir", root / "tr", "--heldout-dir", root / "ho",
                  "--fraction", "0.5"], "eval/qab.json", ["tr", "ho"])
    run_broken(capsys, root, split, ["eval/qab.json"])
    init = Case(["model", "init", "--corpus", root / "eval" / "qab.json", "--out", root / "m"], "eval/qab.json", ["m"])
    run_broken(capsys, root, init, ["eval/qab.json"])
