"""Tiny randomly initialised translation models, built offline (tests, benchmark, demo).

Their output is meaningless; they exercise exactly the code paths of the real models they
imitate: ``marian`` (a MarianMT model, one model per language pair, no language tokens),
``marian-multi`` (a multi-target OPUS-MT model: the real `MarianTokenizer` over
SentencePiece models trained here, with ``>>deu<<``-style target tokens; needs
``sentencepiece``) and ``nllb`` (an M2M-100 architecture with an `NllbTokenizer`: a
source-language token prefixed to the input and the target-language token forced as the
first output token).  ``marian`` and ``nllb`` tokenizers are BPE models with Metaspace
pre-tokenisation (the layout of a SentencePiece model) trained with `tokenizers`.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterable, Sequence

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from ..errors import ConfigError
from .codes import marian_codes, nllb_code

FAMILIES = ("marian", "marian-multi", "nllb")


def _train_bpe(texts: Iterable[str], vocab_size: int, special: Sequence[str]):
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def _marian(out: Path, texts: Iterable[str], vocab_size: int, seed: int, dims: dict) -> None:
    import torch
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    # OPUS-MT's layout: </s> = 0, <unk> = 1, ..., <pad> = the last id (the decoder starts
    # from <pad>); CTranslate2's Marian converter relies on it
    backend = _train_bpe(texts, vocab_size, ["</s>", "<unk>"])
    backend.add_special_tokens(["<pad>"])
    pad = backend.token_to_id("<pad>")
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 0)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>",
                                        unk_token="<unk>", model_max_length=dims["max_position_embeddings"])
    config = MarianConfig(vocab_size=backend.get_vocab_size(), pad_token_id=pad, eos_token_id=0,
                          decoder_start_token_id=pad, forced_eos_token_id=0, **dims)
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def _marian_multi(out: Path, texts: list[str], vocab_size: int, seed: int, dims: dict,
                  languages: Sequence[str]) -> None:
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    try:
        import sentencepiece
    except ImportError:
        raise ConfigError("a tiny marian-multi model needs sentencepiece: pip install 'polyir[translate]'") from None
    proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=proto, vocab_size=vocab_size, model_type="unigram", pad_id=-1,
        bos_id=-1, eos_id=0, unk_id=1, eos_piece="</s>", unk_piece="<unk>", hard_vocab_limit=False, minloglevel=2)
    for name in ("source.spm", "target.spm"):
        (out / name).write_bytes(proto.getvalue())
    pieces = sentencepiece.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}
    for lang in languages:  # OPUS-MT multi-target models use ISO 639-3: >>deu<<
        vocab[f">>{marian_codes(lang)[-1]}<<"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"),
                                model_max_length=dims["max_position_embeddings"])
    config = MarianConfig(vocab_size=len(vocab), pad_token_id=vocab["<pad>"], eos_token_id=0,
                          decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0, **dims)
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def _nllb(out: Path, texts: Iterable[str], vocab_size: int, seed: int, dims: dict, languages: Sequence[str]) -> None:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    codes = [nllb_code(lang) for lang in languages]
    backend = _train_bpe(texts, vocab_size, ["<s>", "<pad>", "</s>", "<unk>", *codes, "<mask>"])
    spec = json.loads(backend.to_str())["model"]
    tokenizer = NllbTokenizer(vocab=spec["vocab"], merges=[tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                                                           for m in spec["merges"]],
                              extra_special_tokens=codes, src_lang=codes[0],
                              model_max_length=dims["max_position_embeddings"])
    config = M2M100Config(vocab_size=len(tokenizer), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                          decoder_start_token_id=2, **dims)
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def build_tiny_translation_model(out_dir: str | Path, texts: Iterable[str], *, family: str = "marian",
                                 languages: Sequence[str] = (), seed: int = 0, vocab_size: int = 400,
                                 init_std: float = 1.0) -> Path:
    """Write a tiny ``family`` model + tokenizer trained on ``texts`` to ``out_dir``; returns it.

    ``languages`` (``nllb``, ``marian-multi``): the languages whose tokens the vocabulary gets.
    ``init_std``: 1.0, far above the usual 0.02, so that outputs depend on the input (at 0.02 a
    random model writes the same text for every input, which would hide mix-ups in tests).
    """
    if family not in FAMILIES:
        raise ConfigError(f"tiny model family must be one of {FAMILIES}, got {family!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dims = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                max_position_embeddings=128, init_std=init_std)
    texts = list(texts)
    if family == "marian":
        _marian(out, texts, vocab_size, seed, dims)
        return out
    if not languages:
        raise ConfigError(f"a tiny {family} model needs the languages it knows")
    if family == "marian-multi":
        _marian_multi(out, texts, vocab_size, seed, dims, languages)
    else:
        _nllb(out, texts, vocab_size, seed, dims, languages)
    return out
