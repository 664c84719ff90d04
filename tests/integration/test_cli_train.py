"""`polyir train` end to end: a tiny model on a generated synthetic set, flags, errors, SIGKILL + resume."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import yaml
from processes import child_env, sigkill_when

from polyir.cli import main

# pinned to the CPU: the resume test compares weights to 1e-6, a CPU property
COMMON = ["--batch-size", "16", "--lr", "1e-3", "--device", "cpu", "--set", "runtime.threads=1", "--set", "model.dropout=0.1"]


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    from polyir.data.synthetic.synthetic_generator import generate_synthetic
    from polyir.modelinit import init_model

    root = tmp_path_factory.mktemp("cli-train")
    generate_synthetic(root / "syn", n_languages=3, n_groups=200, n_eval_questions=30)
    init_model("tiny", [root / "syn" / "train"], root / "tiny", max_seq_length=64)
    return root


def run(capsys, *argv):
    code = main(["-q", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_end_to_end(tiny_setup, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, stderr = run(capsys, "train", "--model", tiny_setup / "tiny", "--data", f"syn={tiny_setup / 'syn' / 'train'}",
                               "--dev", tiny_setup / "syn" / "eval", "--strategy", "mixed", "--alpha", "0.3",
                               "--steps", "6", "--out", out, *COMMON, "--set", "eval.every=3")
    assert code == 0, stderr
    assert stdout.strip() == str(out / "final")
    assert "trained 6 steps (completed)" in stderr and "best multi/AP" in stderr
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["sampler"]["strategy"] == "mixed" and saved["sampler"]["alpha"] == 0.3
    assert saved["data"]["sources"][0]["name"] == "syn" and saved["optim"]["steps"] == 6
    assert (out / "final" / "modules.json").is_file() and (out / "best" / "best.json").is_file()
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out / "final"), device="cpu").encode(["x"]).shape == (1, 64)


def test_flags_override_the_file_and_set_overrides_flags(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("model: {name_or_path: m}\ndata: {sources: [a.jsonl]}\nsampler: {alpha: 0.2}\n"
                      "optim: {steps: 5}\n")
    code, stdout, _ = run(capsys, "train", "--config", config, "--alpha", "0.3", "--set", "sampler.alpha=0.4",
                          "--data", "x=b.jsonl", "--epochs", "2", "--print-config")
    assert code == 0
    resolved = yaml.safe_load(stdout)
    assert resolved["sampler"]["alpha"] == 0.4
    assert resolved["data"]["sources"] == [{"path": "b.jsonl", "name": "x", "format": "auto", "options": {}}]
    assert resolved["optim"]["epochs"] == 2 and resolved["optim"]["steps"] is None


@pytest.mark.parametrize("argv,message", [
    (["--model", "m", "--data", "d.jsonl", "--set", "optim.foo=1"], "--set optim.foo=1: unknown key 'foo' at optim"),
    (["--config", "CFG", "--set", "bogus.key=1"], "--set bogus.key=1: unknown key 'bogus' at top level"),
    (["--config", "CFG", "--set", "optim.lr=fast"], "--set optim.lr=fast: expected a number, got 'fast'"),
    (["--config", "CFG", "--set", "optim.lr=-1"], "optim.lr must be a positive number, got -1.0"),
    (["--config", "CFG", "--set", "optim.steps=[1]"], "--set optim.steps=[1]: [1] does not match int"),
    (["--config", "CFG", "--strategy", "mono", "--alpha", "0.3"], "--alpha: α is P(mono) of the hybrid and mixed"),
    (["--config", "CFG", "--strategy", "cross", "--set", "sampler.alpha=0.3"], "--set sampler.alpha=0.3: α is"),
    (["--model", "TINY", "--data", "MONO", "--strategy", "cross", "--out", "OUT"],
     "sampler.strategy 'cross' draws cross-lingual pairs, but no training group has more than one language"),
    (["--model", "TINY", "--data", "MONO", "--strategy", "hybrid", "--out", "OUT"],
     "no training group has more than one language"),
    (["--config", "MISSING.yaml"], "MISSING.yaml: configuration file not found"),
    (["--model", "m"], "missing required key 'data'"),
    (["--model", "m", "--set", "data.sources=[]"], "data.sources is empty"),
    (["--model", "TINY", "--data", "NOPE/train.jsonl", "--out", "OUT"], "NOPE/train.jsonl: file not found"),
    (["--model", "./no-model", "--data", "DATA", "--out", "OUT"], "--model: model.name_or_path: model directory not found: ./no-model"),
])
def test_errors_are_one_line(argv, message, tiny_setup, tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("model: {name_or_path: m}\ndata: {sources: [a.jsonl]}\n")
    (tmp_path / "mono.jsonl").write_text("".join(json.dumps({"id": f"g{i}", "lang": "en", "query": f"q {i}",
                                                             "positive": f"p {i}"}) + "\n" for i in range(40)))
    argv = [a.replace("TINY", str(tiny_setup / "tiny")).replace("OUT", str(tmp_path / "o"))
            .replace("DATA", str(tiny_setup / "syn" / "train")).replace("CFG", str(tmp_path / "c.yaml")).replace("MONO", str(tmp_path / "mono.jsonl")) for a in argv]
    code, _, stderr = run(capsys, "train", *argv)
    assert code == 2
    assert not (tmp_path / "o").exists()  # nothing written
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("polyir: error: ") and message in lines[-1], stderr
    assert "Traceback" not in stderr


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tiny_setup, tmp_path, capsys):
    from safetensors.torch import load_file

    steps = "150"
    args = ["train", "--model", str(tiny_setup / "tiny"), "--data", f"syn={tiny_setup / 'syn' / 'train'}",
            "--steps", steps, *COMMON, "--set", "checkpoint.every=5", "--set", "checkpoint.keep_last=2"]
    killed = tmp_path / "killed"
    env = child_env(HF_HUB_OFFLINE="1")
    process = subprocess.Popen([sys.executable, "-m", "polyir.cli", "-q", *args, "--out", str(killed)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sigkill_when(process, (killed / "checkpoints" / "step-00000010").exists)
    assert process.returncode == -signal.SIGKILL and not (killed / "final").exists()

    code, _, stderr = run(capsys, *args, "--out", killed, "--resume")
    assert code == 0, stderr
    code, _, stderr = run(capsys, *args, "--out", tmp_path / "reference")
    assert code == 0, stderr
    a = load_file(str(killed / "final" / "model.safetensors"))
    b = load_file(str(tmp_path / "reference" / "final" / "model.safetensors"))
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6
    resumed = [line for line in (killed / "log.jsonl").read_text().splitlines() if '"resume"' in line]
    assert len(resumed) == 1


def test_ctrl_c_says_how_to_resume_and_that_resumes(tiny_setup, tmp_path, capsys, monkeypatch):
    import polyir.train
    import polyir.train.launch

    real_train = polyir.train.train

    def interrupted(config, **kwargs):
        def stop_at_two(info):
            if info.step == 2:
                raise KeyboardInterrupt
        return real_train(config, **kwargs, callback=stop_at_two)

    args = ["train", "--model", tiny_setup / "tiny", "--data", f"syn={tiny_setup / 'syn' / 'train'}", "--steps", "4",
            "--out", tmp_path / "run", *COMMON, "--set", "checkpoint.every=100"]
    monkeypatch.setattr(polyir.train.launch, "train", interrupted)  # what `polyir train` calls
    code, _, stderr = run(capsys, *args)
    assert code == 130
    assert stderr.strip().splitlines()[-1] == (
        f"polyir: interrupted (the last finished step, if any, is checkpointed in {tmp_path / 'run'}/checkpoints; "
        "run the same command with --resume to continue)")
    monkeypatch.setattr(polyir.train.launch, "train", real_train)
    code, _, stderr = run(capsys, *args)
    assert code == 2 and "pass --resume to continue it" in stderr  # what the message warned about
    code, _, stderr = run(capsys, *args, "--resume")
    assert code == 0 and "trained 4 steps (completed)" in stderr, stderr
