"""Hybrid batches in sentence-transformers' own trainer (offline: synthetic data, a tiny model).

    python examples/sentence_transformers_trainer.py [--strategy hybrid] [--alpha 0.5] [--steps 120]

Generates a small synthetic multilingual collection and a tiny encoder (both offline, into
--out or a temporary directory), then trains with `SentenceTransformerTrainer` using polyir's
hybrid batch sampler, the collator that pairs cross-lingual items, and InfoNCE with
parallel-group masking; prints the realised share of monolingual batches (≈ α for hybrid)
and saves the model.  About 100 CPU seconds (a minute on 2 idle cores).  Needs the `st` extra
(datasets, accelerate).  docs/sentence-transformers.md explains each piece.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments

from polyir.data import generate_synthetic
from polyir.modelinit import init_model
from polyir.st import BatchCompositionCallback, HybridBatchSampler, HybridDataCollator, MaskedInfoNCELoss, pairs_dataset
from polyir.train.train_config import DataConfig
from polyir.train.train_data import load_training_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="hybrid", choices=("mono", "cross", "hybrid", "mixed"))
    parser.add_argument("--alpha", type=float, default=0.5, help="P(mono) per batch (hybrid) or per item (mixed)")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="working directory (default: a temporary one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        share, model_dir = run(out, args)
        print(f"realised share of monolingual batches: {share:.3f} (strategy {args.strategy}, alpha {args.alpha})")
        print(f"model: {model_dir}" if args.out else "model: (temporary directory, removed; use --out to keep it)")


def run(out: Path, args) -> tuple[float, Path]:
    # 1. data: synthetic parallel QA pairs in 3 languages -> a datasets.Dataset (query, positive, lang, group, dataset)
    generate_synthetic(out / "data", n_languages=3, n_groups=400, n_eval_questions=20, seed=0)
    pairs = load_training_data(DataConfig(sources=(f"synthetic={out / 'data' / 'train'}",))).collection.pairs
    dataset = pairs_dataset(pairs)
    # 2. a tiny encoder with a tokenizer trained on the data (a hub model works the same way)
    model = SentenceTransformer(str(init_model("tiny", [out / "data" / "train"], out / "tiny-base")), device="cpu")
    # 3. polyir's sampler, collator and loss inside sentence-transformers' trainer
    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "trainer"), max_steps=args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=1e-3, warmup_ratio=0.1, seed=0, save_strategy="no", report_to=[], logging_steps=20,
        disable_tqdm=True, use_cpu=True,
        batch_sampler=HybridBatchSampler.using(strategy=args.strategy, alpha=args.alpha))
    composition = BatchCompositionCallback()
    trainer = SentenceTransformerTrainer(
        model=model, args=training_args, train_dataset=dataset,
        data_collator=HybridDataCollator(model.preprocess), loss=MaskedInfoNCELoss(model, temperature=0.05),
        callbacks=[composition])
    trainer.train()
    model_dir = out / "model"
    model.save(str(model_dir))
    return composition.stats.summary()["share_batches_mono"], model_dir


if __name__ == "__main__":
    main()
