"""What runtime.precision: auto resolves to, and that a run records what it ran in."""
import json

import pytest
import torch
from trainfixtures import base_config

from polyir.train.setup import CPU_BF16_FLAGS, cpu_has_native_bf16, training_precision

CPUINFO = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 avx512f {extra}\n\nprocessor\t: 1\n"


@pytest.mark.parametrize("flag", CPU_BF16_FLAGS)
def test_a_cpu_with_native_bf16_is_recognised_by_its_flags(flag):
    assert cpu_has_native_bf16(CPUINFO.format(extra=flag))


def test_a_cpu_without_bf16_flags_or_without_a_flags_line_is_not():
    assert not cpu_has_native_bf16(CPUINFO.format(extra="avx512_vnni"))
    assert not cpu_has_native_bf16("processor\t: 0\nmodel name\t: Apple M2\n")
    assert not cpu_has_native_bf16("")


def test_an_explicit_precision_is_kept_whatever_the_device():
    assert training_precision("fp32", torch.device("cpu")) == "fp32"
    assert training_precision("bf16", torch.device("cpu")) == "bf16"


def test_auto_on_the_cpu_follows_the_cpu_flags(monkeypatch):
    import polyir.train.setup as setup
    monkeypatch.setattr(setup, "cpu_has_native_bf16", lambda cpuinfo=None: True)
    assert training_precision("auto", torch.device("cpu")) == "bf16"
    monkeypatch.setattr(setup, "cpu_has_native_bf16", lambda cpuinfo=None: False)
    assert training_precision("auto", torch.device("cpu")) == "fp32"
    assert training_precision("auto", torch.device("mps")) == "fp32"


def test_auto_trains_in_what_it_resolves_to_and_the_summary_says_so(tmp_path, monkeypatch, train_model_dir,
                                                                      synthetic_dir):
    import polyir.train.setup as setup
    from polyir.train import build_config, train

    seen = []
    real_autocast = torch.autocast

    def autocast(*args, **kwargs):
        if "dtype" in kwargs:  # autocast(..., enabled=False) regions record nothing
            seen.append(kwargs["dtype"])
        return real_autocast(*args, **kwargs)

    monkeypatch.setattr(torch, "autocast", autocast)
    summaries = {}
    for native in (True, False):
        monkeypatch.setattr(setup, "cpu_has_native_bf16", lambda cpuinfo=None, native=native: native)
        config = base_config(train_model_dir, synthetic_dir / "train", tmp_path / str(native),
                             optim={"lr": 1e-3, "steps": 2, "warmup_ratio": 0.0},
                             runtime={"threads": 1, "device": "cpu", "precision": "auto"})
        summaries[native] = train(build_config(config), progress=False)
        if native:
            assert seen and set(seen) == {torch.bfloat16}  # every step under bf16 autocast
            seen.clear()
    assert not seen  # no bf16 autocast in fp32
    assert (summaries[True].precision, summaries[True].device) == ("bf16", "cpu")
    assert (summaries[False].precision, summaries[False].device) == ("fp32", "cpu")
    assert json.loads((tmp_path / "True" / "summary.json").read_text())["precision"] == "bf16"
