"""Over-long texts are cut before tokenisation, and the model sees exactly the same tokens."""
from __future__ import annotations

import numpy as np
import pytest

from polyir.textclip import CHARS_PER_TOKEN, char_bound, clip_texts


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from polyir.model_loading import load_model

    return load_model(tiny_model_dir, device="cpu")


def ids(tokenizer, text, max_tokens):
    return tokenizer(text, truncation=True, max_length=max_tokens)["input_ids"]


def test_a_huge_text_is_cut_to_the_bound_and_keeps_its_tokens(tiny):
    tokenizer, max_tokens = tiny.module.tokenizer, tiny.module.max_seq_length
    huge = "abcde fghij klmno " * 5_000  # 90,000 characters: cut to 16,384 for 128 tokens
    short = "a question of normal length"
    (cut, same) = clip_texts([huge, short], tokenizer, max_tokens)
    assert len(cut) == char_bound(max_tokens) == CHARS_PER_TOKEN * max_tokens and same == short
    assert ids(tokenizer, cut, max_tokens) == ids(tokenizer, huge, max_tokens)


def test_text_whose_tokens_could_reach_the_cut_is_tokenised_whole(tiny, caplog):
    tokenizer, max_tokens = tiny.module.tokenizer, 8
    words = " ".join("x" * 300 for _ in range(40))  # 300-character words: one [UNK] token each
    assert clip_texts([words], tokenizer, max_tokens) == [words]
    assert "tokenised whole" in caplog.text
    assert clip_texts([words], tokenizer, None) == [words]  # a model without a maximum length: nothing cut


def test_encoding_a_huge_query_equals_sentence_transformers_on_the_whole_text(tiny):
    from polyir.encode import EncodeStats, encode

    huge = "lorem ipsum dolor " * 5_000  # 90,000 characters: cut to 16,384 for 128 tokens
    stats = EncodeStats()
    ours = encode(tiny, [huge], kind="query", prompts="none", stats=stats, progress=False)
    theirs = tiny.module.encode([huge], normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert stats.tokens == len(ids(tiny.module.tokenizer, huge, tiny.module.max_seq_length))
