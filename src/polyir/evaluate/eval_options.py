"""What to evaluate and how: `EvalData` (which set to load) and `EvalOptions` (how to encode and
score), the configuration of `polyir evaluate`, of training-time dev evaluation and of sweeps.

Kept apart from `polyir.evaluate.eval_pipeline` (which runs them) so that configurations load without
the scoring kernels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..device_checks import PRECISIONS
from ..errors import ConfigError
from ..types import CANDIDATE_TEXT_MODES

DATASET_FORMATS = ("xquad-r", "mlqa-r", "lareqa", "beir")


@dataclass(frozen=True)
class EvalData:
    """Which evaluation set to load (also a section of sweep configurations)."""

    dataset: Literal["xquad-r", "mlqa-r", "lareqa", "beir"]
    data_dir: str
    languages: tuple[str, ...] | None = None
    max_queries: int | None = None
    split: str = "test"  # BEIR qrels split
    name: str | None = None
    translations: tuple[tuple[str, str], ...] = ()  # BEIR: (lang, dir) translations of data_dir (same ids)


@dataclass(frozen=True)
class EvalOptions:
    """How to encode and score (defaults are polyir's documented defaults)."""

    candidate_text: Literal["sentence", "sentence+context"] = "sentence"
    prompts: str | None = None  # None / "model": the model's own; "e5", "paper", "none"
    query_prompt: str | None = None  # explicit overrides of the two prompts
    passage_prompt: str | None = None
    batch_size: int = 32
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # inference precision (autocast; docs/encoding.md)
    measures: tuple[str, ...] = ("AP", "RR", "R@1", "R@10", "nDCG@10")
    depth: int | None = None
    bias_k: int = 10
    backend: Literal["torch", "faiss"] = "torch"
    run_depth: int | None = None
    memory_mb: float = 1024.0

    def __post_init__(self) -> None:
        if self.candidate_text not in CANDIDATE_TEXT_MODES:
            raise ConfigError(f"candidate text must be one of {CANDIDATE_TEXT_MODES}, got {self.candidate_text!r}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_size}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    def prompt_spec(self):
        """What `polyir.model_loading.resolve_prompts` takes."""
        if self.query_prompt is not None or self.passage_prompt is not None:
            if self.prompts not in (None, "model"):
                raise ConfigError("give either a prompt preset or explicit query/passage prompts, not both")
            return {"query": self.query_prompt or "", "passage": self.passage_prompt or ""}
        return None if self.prompts in (None, "model") else self.prompts
