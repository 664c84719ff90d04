"""Cut absurdly long texts before tokenisation, without changing what the model sees.

A tokenizer truncates to the model's maximum length only *after* tokenising the whole text:
one 30 MB question made ``polyir evaluate`` take minutes and 6 GB.  `clip_texts` first cuts
a text longer than ``CHARS_PER_TOKEN × max_tokens`` characters (65,536 for 512 tokens) to
that bound, then checks with the fast tokenizer's offsets that the ``max_tokens`` tokens
kept from the cut text end in its first half: a tokenizer segments words locally, so
the text beyond the cut cannot change them (and a word longer than the half, e.g.
WordPiece's ``[UNK]`` for words over 100 characters, stays that one token when cut).
Where the check fails (text made of hundreds of 100+-character "words") or cannot be
made (a slow tokenizer without offsets), the text goes to the tokenizer whole: exact, and
as slow as before, in those cases only.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 128


def char_bound(max_tokens: int | None) -> int | None:
    """The length beyond which a text is cut (None: no maximum length, nothing is cut)."""
    return None if not max_tokens else int(max_tokens) * CHARS_PER_TOKEN


def clip_texts(texts: Sequence[str], tokenizer: Any, max_tokens: int | None) -> list[str]:
    """``texts`` with every over-long one cut where that provably keeps its first ``max_tokens`` tokens."""
    bound = char_bound(max_tokens)
    out = list(texts)
    if bound is None or tokenizer is None:
        return out
    for i, text in enumerate(out):
        if len(text) > bound:
            out[i] = _clip(text, tokenizer, int(max_tokens), bound)
    return out


def _clip(text: str, tokenizer: Any, max_tokens: int, bound: int) -> str:
    clipped = text[:bound]
    if getattr(tokenizer, "is_fast", False):
        encoded = tokenizer(clipped, truncation=True, max_length=max_tokens, add_special_tokens=False,
                            return_offsets_mapping=True, return_attention_mask=False)
        if max((end for _, end in encoded["offset_mapping"]), default=0) <= bound // 2:
            return clipped
    log.warning("a text of %d characters is tokenised whole (cutting it could change its first %d tokens)",
                len(text), max_tokens)
    return text
