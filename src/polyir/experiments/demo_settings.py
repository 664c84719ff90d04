"""`DemoOptions`: the settings of ``polyir demo`` (`polyir.experiments.demo_study`), apart from the demo
so that the command's options read them without loading it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..sampling import DEFAULT_ALPHA, STRATEGIES, Strategy

DEMO_STRATEGIES = tuple(Strategy.of(name, DEFAULT_ALPHA).label for name in STRATEGIES)  # each at the default α
SCRATCH_LR = 1e-3  # a randomly initialised encoder needs a large learning rate
PRETRAINED_LR = 3e-5  # the paper's, for fine-tuning a pre-trained encoder


@dataclass(frozen=True)
class DemoOptions:
    out: Path = Path("demo-out")
    data: tuple[str, ...] = ()  # training sources (NAME=PATH or PATH); empty: the synthetic set
    eval_dir: str | None = None  # evaluation directory; None: the synthetic set's eval split
    eval_format: str = "xquad-r"
    model: str | None = None  # None: a tiny encoder initialised on the training data
    strategies: tuple[str, ...] = DEMO_STRATEGIES  # as a sweep's grid takes them (``hybrid``: the default α)
    seeds: int = 2
    steps: int = 300
    batch_size: int = 64
    lr: float | None = None  # None: SCRATCH_LR for the tiny encoder, PRETRAINED_LR for --model
    jobs: int = 2
    threads: int = 1
    languages: int = 4  # synthetic languages
    groups: int = 1500  # synthetic training groups
    eval_questions: int = 300  # synthetic evaluation questions
    max_queries: int | None = None
    resamples: int = 10_000
    measures: tuple[str, ...] = ("AP", "R@1", "R@10")

    @classmethod
    def quick(cls, **overrides) -> "DemoOptions":
        """Small sizes for tests and smoke checks (``polyir demo --quick``): seconds, not minutes."""
        values = dict(languages=3, groups=200, eval_questions=40, steps=30, batch_size=16, seeds=1,
                      resamples=1000)
        values.update(overrides)
        return cls(**values)
