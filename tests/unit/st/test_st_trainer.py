"""`SentenceTransformerTrainer` with polyir's sampler, collator, loss and composition callback:
resuming from a checkpoint trains on exactly the batches of an uninterrupted run; the example runs.

CPU only (``use_cpu=True``); tiny model.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from processes import child_env

pytest.importorskip("datasets", reason="the `st` extra (datasets, accelerate) is not installed")
pytest.importorskip("accelerate", reason="the `st` extra (datasets, accelerate) is not installed")

from polyir.st import (BatchCompositionCallback, HybridBatchSampler, HybridDataCollator,  # noqa: E402
                       MaskedInfoNCELoss, batches_for_steps, pairs_dataset)
from polyir.types import Pair  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class RecordingCollator(HybridDataCollator):
    """Remembers the queries of every batch it collates (the trainer's data loader runs in-process;
    accelerate's loader collates one batch ahead, so the last one recorded was not trained on)."""

    seen: list = field(default_factory=list)

    def __call__(self, features):
        rows = self.pair_rows(features)
        self.seen.append([row["query"] for row in rows])
        return super().__call__(features)


def make_dataset():
    pairs = [Pair(group=str(g), lang=lang, query=f"question {g} {lang}", positive=f"answer {g} {lang}")
             for g in range(20) for lang in ("de", "en", "fr")]
    return pairs_dataset(pairs)  # 20 groups, batch 4: 5 batches per epoch


def train(model_dir: Path, out: Path, steps: int, resume: str | None = None):
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments)

    model = SentenceTransformer(str(model_dir), device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=4, learning_rate=1e-3, seed=7,
        save_strategy="steps", save_steps=3, report_to=[], disable_tqdm=True, use_cpu=True, logging_steps=1,
        batch_sampler=HybridBatchSampler.using(strategy="hybrid", alpha=0.5))
    collator, composition = RecordingCollator(model.preprocess), BatchCompositionCallback()
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=make_dataset(), data_collator=collator,
                                         loss=MaskedInfoNCELoss(model), callbacks=[composition])
    trainer.train(resume_from_checkpoint=resume)
    return collator.seen, composition


def test_resume_continues_with_the_batches_of_an_uninterrupted_run(tiny_model_dir, tmp_path):
    full, composition = train(tiny_model_dir, tmp_path / "full", steps=8)
    sampler = HybridBatchSampler(make_dataset(), batch_size=4, seed=7)
    queries = make_dataset()["query"]
    expected = [[queries[i] for i in sampler.rows(step % 5, step // 5)[:4]] for step in range(8)]
    assert full[:8] == expected  # epochs 0 and 1, via the trainer's set_epoch
    assert composition.batches == 8
    assert composition.stats.state_dict() == sampler.composition(8).state_dict()
    resumed, _ = train(tiny_model_dir, tmp_path / "full", steps=8, resume=str(tmp_path / "full" / "checkpoint-6"))
    assert resumed[:2] == full[6:8]  # epoch 1, positions 1 and 2


def test_batches_for_steps():
    assert batches_for_steps(0, 1, 5) == 0
    assert batches_for_steps(7, 1, 5) == 7
    assert batches_for_steps(3, 2, 5) == 5  # steps of 2, 2 and the remaining 1 batch
    assert batches_for_steps(4, 2, 5) == 7


def test_example_trains_and_reports_the_mono_share(tmp_path):
    env = child_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "sentence_transformers_trainer.py"), "--steps", "6",
                           "--threads", "1", "--out", str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    share = float(done.stdout.split("realised share of monolingual batches:")[1].split()[0])
    assert 0.0 <= share <= 1.0
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(tmp_path / "model"), device="cpu").encode(["hello"]).shape[0] == 1
