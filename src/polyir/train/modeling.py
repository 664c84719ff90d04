"""The encoder being trained: loading with the CPU-study options, and atomic saving.

* ``freeze_embeddings``: the input word-embedding matrix gets ``requires_grad=False`` (no
  gradient is computed for it and the optimizer never sees it).
* ``truncate_layers``: keep the first N transformer layers (the saved config says N).
* ``dropout``: override every ``nn.Dropout`` probability (None keeps the model's own).
* Parameters that receive no gradient from the sentence embedding (e.g. BERT's pooler,
  which sentence-transformers never uses) are frozen after a probe forward/backward, so
  DDP needs no ``find_unused_parameters`` (which costs a graph traversal every step).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..errors import ConfigError
from ..model_loading import LoadedModel, load_model, quiet_transformers
from .train_config import ModelConfig, TrainConfig

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

LAYER_PATHS = ("encoder.layer", "encoder.layers", "layers", "transformer.layer", "layer")


def load_training_model(config: ModelConfig, *, device: str, source: str | Path | None = None) -> LoadedModel:
    """Load ``source`` (default ``config.name_or_path``) and apply the training options."""
    loaded = load_model(source or config.name_or_path, device=device, trust_remote_code=config.trust_remote_code)
    module = loaded.module
    if config.truncate_layers is not None:
        truncate_layers(module, config.truncate_layers)
    if config.dropout is not None:
        for sub in module.modules():
            if isinstance(sub, torch.nn.Dropout):
                sub.p = config.dropout
    if config.freeze_embeddings:
        embeddings = hf_model(module).get_input_embeddings()
        embeddings.weight.requires_grad_(False)
    module.train()
    return loaded


def hf_model(module: "SentenceTransformer") -> torch.nn.Module:
    """The Hugging Face model inside the first (Transformer) module."""
    first = module[0]
    inner = getattr(first, "model", None) or getattr(first, "auto_model", None)
    if inner is None:
        raise ConfigError(f"the first module of this model ({type(first).__name__}) is not a transformer; "
                          "freeze_embeddings / truncate_layers need one")
    return inner


def truncate_layers(module: "SentenceTransformer", n_layers: int) -> None:
    """Keep the first ``n_layers`` layers (no-op when the model already has exactly that many)."""
    model = hf_model(module)
    for path in LAYER_PATHS:
        owner, _, attr = path.rpartition(".")
        parent = _get_path(model, owner)
        layers = getattr(parent, attr, None) if parent is not None else None
        if isinstance(layers, torch.nn.ModuleList):
            break
    else:
        raise ConfigError(f"truncate_layers: cannot find the layer list of {type(model).__name__}")
    if n_layers > len(layers):
        raise ConfigError(f"truncate_layers={n_layers} but the model has only {len(layers)} layers")
    setattr(parent, attr, torch.nn.ModuleList(list(layers)[:n_layers]))
    model.config.num_hidden_layers = n_layers
    if hasattr(model.config, "layer_types") and isinstance(model.config.layer_types, list):
        model.config.layer_types = model.config.layer_types[:n_layers]


def _get_path(obj, dotted: str):
    for part in filter(None, dotted.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def freeze_unused_parameters(module: "SentenceTransformer", features: dict, task: str) -> list[str]:
    """Freeze parameters that get no gradient from the sentence embedding; returns their names.

    The probe runs in eval mode (no dropout: no random numbers drawn), and leaves no gradients.
    """
    was_training = module.training
    module.eval()
    try:
        module(dict(features), task=task)["sentence_embedding"].float().sum().backward()
        unused = [name for name, p in module.named_parameters() if p.requires_grad and p.grad is None]
        for name, p in module.named_parameters():
            p.grad = None
            if name in unused:
                p.requires_grad_(False)
    finally:
        module.train(was_training)
    if unused:
        log.info("frozen %d parameter tensors that do not affect the embedding (%s%s)", len(unused),
                 ", ".join(unused[:3]), ", ..." if len(unused) > 3 else "")
    return unused


def count_parameters(module: torch.nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {"parameters": total, "trainable_parameters": trainable}


def save_model(module: "SentenceTransformer", out: str | Path, config: TrainConfig | None = None,
               extra_files: dict[str, str] | None = None) -> Path:
    """Write a sentence-transformers directory at ``out`` atomically: it is written to a
    temporary sibling and renamed, so ``out`` is never half written (an older ``out`` is
    replaced only once the new one is complete).  ``config`` is saved as ``config.yaml``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".tmp-{out.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    st_logger.setLevel(logging.WARNING)  # "Saving model to <temporary name>" says nothing useful
    try:
        with quiet_transformers():
            module.save(str(tmp))
    finally:
        st_logger.setLevel(level)
    files = dict(extra_files or {})
    if config is not None:
        files["config.yaml"] = config.to_yaml()
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    replace_directory(tmp, out)
    return out


def replace_directory(tmp: Path, out: Path) -> None:
    """Move the complete directory ``tmp`` to ``out``, replacing an existing ``out``."""
    old = None
    if out.exists():
        old = out.parent / f".old-{out.name}-{os.getpid()}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
