"""Build an encoder from scratch, offline: a tokenizer trained on a corpus plus a randomly
initialised transformer, saved as a sentence-transformers directory.

Used by tests and the demo (no network), and by users who want a from-scratch baseline.
The tokenizer is a Unigram model (as XLM-R / multilingual-E5) with NFKC normalisation and
lower-casing, trained with the `tokenizers` library; the encoder is a BERT architecture
(the architecture of multilingual-E5) built from a config; pooling is the mean of token
embeddings followed by L2 normalisation (cosine similarity, as in the paper).
"""
from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from .errors import ConfigError, InputError
from .io import iter_jsonl, open_text, read_json

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
DEFAULT_PROMPTS = {"query": "query: ", "document": "passage: "}


@dataclass(frozen=True)
class Preset:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int


PRESETS = {
    # ~0.25M parameters with the full 2,000-piece vocabulary: seconds per epoch on a laptop CPU;
    # used by tests and the demo
    "tiny": Preset(vocab_size=2000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=256, max_position_embeddings=256),
    # ~7.5M parameters with the full 16,000-piece vocabulary
    "small": Preset(vocab_size=16000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                    intermediate_size=1024, max_position_embeddings=512),
}


def iter_corpus_lines(paths: Iterable[str | Path]) -> Iterator[str]:
    """Lines of text from files or directories (recursively): plain text, JSON/JSONL (every
    string value in the document), and ``.gz`` versions of these."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError("corpus file or directory not found", path=p)
    if not files:
        raise InputError("no corpus files found", path=", ".join(map(str, paths)))
    for f in files:
        name = f.name[:-3] if f.name.endswith(".gz") else f.name
        if name.endswith(".json"):
            yield from _strings(read_json(f))
        elif name.endswith(".jsonl"):
            for _, obj in iter_jsonl(f):
                yield from _strings(obj)
        else:
            try:
                with open_text(f) as fh:
                    for line in fh:
                        if line.strip():
                            yield line.rstrip("\n")
            except UnicodeDecodeError:
                raise InputError("not a UTF-8 text file", path=f) from None


def _strings(obj) -> Iterator[str]:
    if isinstance(obj, str):
        if obj.strip() and not obj.isdigit():
            yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def train_tokenizer(lines: Iterable[str], vocab_size: int, max_length: int):
    """A Unigram tokenizer (XLM-R style) as a `transformers.PreTrainedTokenizerFast`."""
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                      unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    tok = _round_unigram_scores(tok)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=max_length)


def _round_unigram_scores(tok, digits: int = 9):
    """Make the trained tokenizer a function of its corpus.  The multi-threaded Unigram
    trainer leaves ~1e-15 noise in piece scores, and appends the characters it must keep as
    fallback pieces in hash-set order, with scores min − k·1e-4 given in that (random) order;
    pieces of equal score also come out in varying order.  Rounding, giving the fallback
    characters their scores in sorted order, and sorting the learned pieces by (score
    descending, piece) makes the saved tokenizer — hence the ids — identical across runs."""
    spec = json.loads(tok.to_str())
    vocab = [[piece, round(score, digits)] for piece, score in spec["model"]["vocab"]]
    special = [entry for entry in vocab if entry[0] in SPECIAL_TOKENS]
    if vocab[:len(special)] != special:
        raise AssertionError("the special tokens are expected first in the trained vocabulary")
    learned = vocab[len(special):]
    # the appended block: single characters 1e-4 apart, possibly followed by one piece of equal score
    start = len(learned) - 1
    while start > 0 and len(learned[start - 1][0]) == 1 and learned[start - 1][1] - learned[start][1] <= 1.0001e-4:
        start -= 1
    if start < len(learned) - 1:
        tail = learned[start:]
        learned[start:] = [[piece, score] for piece, (_, score) in
                           zip(sorted(p for p, _ in tail), sorted(tail, key=lambda e: -e[1]))]
    spec["model"]["vocab"] = special + sorted(learned, key=lambda e: (-e[1], e[0]))
    return Tokenizer.from_str(json.dumps(spec))


def _check_replaceable(out: Path) -> None:
    """``out`` is replaced: allow that only for a missing or empty directory or an earlier model."""
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a directory", path=out)
    if out.is_dir() and any(out.iterdir()) and not (out / "modules.json").is_file():
        raise InputError("output directory is not empty and is not a model directory; refusing to replace it",
                         path=out)


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' and sentence-transformers' progress bars and info messages while
    saving and re-loading a model we just built (they report nothing the user can act on)."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    st_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        st_logger.setLevel(st_level)
        if bars:
            hf_logging.enable_progress_bar()


def init_model(preset: str, corpus: Iterable[str | Path], out: str | Path, *, seed: int = 0,
               max_seq_length: int = 128, vocab_size: int | None = None,
               prompts: dict[str, str] | None = None) -> Path:
    """Train a tokenizer on ``corpus`` and save a freshly initialised encoder at ``out``.

    Deterministic for a given (preset, corpus, seed). Returns ``out``.
    """
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    spec = PRESETS[preset]
    if max_seq_length < 1:
        raise ConfigError(f"max_seq_length must be positive, got {max_seq_length}")
    out = Path(out)
    _check_replaceable(out)
    lines = list(iter_corpus_lines(corpus))
    if not lines:
        raise InputError("corpus has no text", path=", ".join(map(str, corpus)))
    # imported after the input is checked, so that bad input fails in milliseconds, not seconds
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    tokenizer = train_tokenizer(lines, vocab_size or spec.vocab_size, spec.max_position_embeddings - 2)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=spec.hidden_size,
                        num_hidden_layers=spec.num_hidden_layers, num_attention_heads=spec.num_attention_heads,
                        intermediate_size=spec.intermediate_size,
                        max_position_embeddings=spec.max_position_embeddings,
                        pad_token_id=tokenizer.pad_token_id, type_vocab_size=1)
    # with the pooler (unused: pooling is the mean) so that re-loading finds every weight
    bert = BertModel(config)
    with tempfile.TemporaryDirectory() as tmp, _quiet_transformers():
        bert.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=min(max_seq_length, spec.max_position_embeddings - 2))
        pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
        model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu",
                                    prompts=dict(prompts or DEFAULT_PROMPTS))
        if out.exists():
            shutil.rmtree(out)
        model.save(str(out))
    n_params = sum(p.numel() for p in bert.parameters())
    (out / "polyir_init.json").write_text(json.dumps(
        {"preset": preset, **asdict(spec), "vocab_size": len(tokenizer), "seed": seed,
         "parameters": n_params, "corpus_lines": len(lines)}, indent=2) + "\n")
    log.info("wrote %s: %s preset, %d parameters, vocabulary %d", out, preset, n_params, len(tokenizer))
    return out
