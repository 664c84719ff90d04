"""polyir inside `SentenceTransformerTrainer`: hybrid batches, group-masked InfoNCE, composition logging.

    from polyir.st import (BatchCompositionCallback, HybridBatchSampler, HybridDataCollator,
                           MaskedInfoNCELoss, pairs_dataset)

    args = SentenceTransformerTrainingArguments(output_dir=..., per_device_train_batch_size=32, seed=0,
                                                batch_sampler=HybridBatchSampler.using(strategy="hybrid", alpha=0.5))
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs_dataset(pairs),
                                         data_collator=HybridDataCollator(model.preprocess),
                                         loss=MaskedInfoNCELoss(model, temperature=0.05),
                                         callbacks=[BatchCompositionCallback()])

Needs the ``st`` extra (datasets, accelerate).  See docs/sentence-transformers.md.
"""
from .columns import DatasetColumns, index_from_dataset, pairs_dataset
from .composition import BatchCompositionCallback, batches_for_steps
from .hybrid_sampler import HybridBatchSampler
from .masked_loss import MaskedInfoNCELoss
from .pair_collator import HybridDataCollator

__all__ = ["BatchCompositionCallback", "DatasetColumns", "HybridBatchSampler", "HybridDataCollator",
           "MaskedInfoNCELoss", "batches_for_steps", "index_from_dataset", "pairs_dataset"]
