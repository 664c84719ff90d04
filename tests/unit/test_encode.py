import random
import shutil

import numpy as np
import pytest

from polyir.embcache import EmbeddingCache
from polyir.encode import EncodeStats, encode, plan_batches, token_lengths
from polyir.errors import ConfigError, InputError
from polyir.model_loading import load_model


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_model(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def texts():
    """Texts of very different lengths, in random order (so sorting really reorders them)."""
    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 8))) for _ in range(200)]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))) for _ in range(70)]


def _stats(model, texts, **kw):
    stats = EncodeStats()
    return encode(model, texts, stats=stats, progress=False, **kw), stats


def test_equals_sentence_transformers_encode(tiny, texts):
    for kind, prompt in (("query", "query: "), ("passage", "passage: ")):
        ours = encode(tiny, texts, kind=kind, batch_size=16, progress=False)
        reference = tiny.module.encode(texts, prompt=prompt, batch_size=16, convert_to_numpy=True)
        assert ours.dtype == np.float32 and ours.shape == (len(texts), 64)
        np.testing.assert_allclose(ours, reference, atol=1e-5)
    no_prompt = encode(tiny, texts, prompts="none", progress=False)
    np.testing.assert_allclose(no_prompt, tiny.module.encode(texts, batch_size=16), atol=1e-5)
    assert not np.allclose(no_prompt, ours, atol=1e-3)


def test_order_preserved_under_length_sorting(tiny, texts):
    batched, stats = _stats(tiny, texts, batch_size=8)
    one_by_one = np.stack([encode(tiny, [t], progress=False)[0] for t in texts[:12]])
    np.testing.assert_allclose(batched[:12], one_by_one, atol=1e-5)
    assert stats.forward_batches == 9  # ceil(70 / 8)
    lengths = token_lengths(tiny.module, texts, "query: ")
    assert stats.tokens == lengths.sum()
    assert stats.padded_tokens < 1.2 * stats.tokens  # sorted batches: little padding


def test_token_lengths_count_prompt_and_special_tokens(tiny):
    tokenizer = tiny.module.tokenizer
    expected = len(tokenizer("query: abc def")["input_ids"])
    assert token_lengths(tiny.module, ["abc def"], "query: ").tolist() == [expected]
    assert token_lengths(tiny.module, ["a " * 500], "").tolist() == [tiny.max_seq_length]  # truncated


def test_plan_batches_by_count_and_token_budget():
    assert plan_batches([9, 8, 7, 3, 2], batch_size=2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert plan_batches([10, 10, 4, 4, 4, 4], batch_size=8, max_tokens=16) == [
        slice(0, 1), slice(1, 2), slice(2, 6)]
    assert plan_batches([50, 3], batch_size=4, max_tokens=10) == [slice(0, 1), slice(1, 2)]  # never empty
    assert plan_batches([], batch_size=4) == []


def test_token_budget_gives_same_embeddings(tiny, texts):
    plain, plain_stats = _stats(tiny, texts, batch_size=32)
    budget, budget_stats = _stats(tiny, texts, batch_size=32, max_tokens=256)
    np.testing.assert_allclose(budget, plain, atol=1e-5)
    assert budget_stats.forward_batches > plain_stats.forward_batches
    assert budget_stats.padded_tokens <= plain_stats.padded_tokens


def test_normalisation_for_a_model_without_normalize_module(tiny, texts):
    from sentence_transformers import SentenceTransformer

    unnormalised = SentenceTransformer(modules=list(tiny.module)[:2], device="cpu")
    normed = encode(unnormalised, texts, prompts="none", progress=False)
    reference = unnormalised.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(normed, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(normed, axis=1), 1.0, rtol=1e-5)
    raw = encode(unnormalised, texts, prompts="none", normalize=False, progress=False)
    np.testing.assert_allclose(raw, unnormalised.encode(texts), atol=1e-5)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)


def test_second_run_is_all_cache_hits(tmp_path, tiny, texts):
    with EmbeddingCache(tmp_path) as cache:
        first, stats1 = _stats(tiny, texts, cache=cache, batch_size=16)
        second, stats2 = _stats(tiny, texts, cache=cache, batch_size=16)
        passages, stats3 = _stats(tiny, texts, cache=cache, kind="passage")
    assert stats1.forward_batches == 5 and stats1.cache_hits == 0
    assert stats2.forward_batches == 0 and stats2.encoded_texts == 0 and stats2.cache_hits == len(texts)
    np.testing.assert_array_equal(first, second)
    assert stats3.forward_batches > 0  # other prompt, other key


def test_weight_change_invalidates_and_copy_keeps_cache(tmp_path, tiny_model_dir, tiny, texts):
    import torch

    with EmbeddingCache(tmp_path / "cache") as cache:
        original, _ = _stats(tiny, texts, cache=cache)
        shutil.copytree(tiny_model_dir, tmp_path / "copy")
        _, copied = _stats(load_model(tmp_path / "copy", device="cpu"), texts, cache=cache)
        assert copied.forward_batches == 0 and copied.cache_hits == len(texts)
        changed = load_model(tmp_path / "copy", device="cpu")
        with torch.no_grad():
            next(changed.module.parameters())[:] *= 1.5
        changed.module.save(str(tmp_path / "changed"))
        reloaded, stats = _stats(load_model(tmp_path / "changed", device="cpu"), texts, cache=cache)
        assert stats.cache_hits == 0 and stats.encoded_texts == len(texts)
        assert not np.allclose(reloaded, original, atol=1e-4)
        in_place, stats = _stats(changed, texts, cache=cache)  # loaded from the copy, then modified in memory
        assert stats.cache_hits == 0  # the copy's entries are not served: keyed by the tensor digest now
        np.testing.assert_allclose(in_place, reloaded, atol=1e-6)


def test_duplicates_are_encoded_once(tiny):
    out, stats = _stats(tiny, ["abc def", "ghi", "abc def", "abc def"])
    assert stats.texts == 4 and stats.unique_texts == 2 and stats.encoded_texts == 2
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], out[3])
    assert not np.allclose(out[0], out[1])


def test_interrupted_encode_keeps_finished_batches(tmp_path, tiny_model_dir, texts, monkeypatch):
    model = load_model(tiny_model_dir, device="cpu")
    real_forward, calls = model.module.forward, []

    def failing_forward(features, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_forward(features, **kwargs)

    with EmbeddingCache(tmp_path) as cache:
        monkeypatch.setattr(model.module, "forward", failing_forward)
        with pytest.raises(KeyboardInterrupt):
            _stats(model, texts, cache=cache, batch_size=10)
        monkeypatch.undo()
        assert cache.count(model.fingerprint) == 20
        resumed, stats = _stats(model, texts, cache=cache, batch_size=10)
    assert stats.cache_hits == 20 and stats.forward_batches == 5 and stats.encoded_texts == 50
    np.testing.assert_allclose(resumed, encode(model, texts, progress=False), atol=1e-6)


def test_empty_list_and_bad_texts(tiny):
    out, stats = _stats(tiny, [])
    assert out.shape == (0, 64) and out.dtype == np.float32 and stats.forward_batches == 0
    with pytest.raises(InputError, match=r"query text \[1\]: empty text"):
        encode(tiny, ["abc", "  "], progress=False)
    with pytest.raises(InputError, match="expected a string"):
        encode(tiny, ["abc", None], progress=False)
    with pytest.raises(ConfigError):
        encode(tiny, ["abc"], kind="document", progress=False)
    with pytest.raises(ConfigError):
        encode(tiny, ["abc"], batch_size=0, progress=False)


def test_training_model_is_encoded_in_eval_mode_and_restored(tiny_model_dir, texts, tmp_path):
    import torch

    model = load_model(tiny_model_dir, device="cpu").module
    for layer in model.modules():
        if isinstance(layer, torch.nn.Dropout):
            layer.p = 0.5  # would make training-mode embeddings random
    model.train()
    with EmbeddingCache(tmp_path) as cache:
        first, _ = _stats(model, texts[:10], cache=cache)
        assert model.training
        model.eval()
        np.testing.assert_allclose(first, encode(model, texts[:10], progress=False), atol=1e-6)
        with torch.no_grad():
            next(model.parameters())[0] += 1.0  # a training step, in memory
        _, stats = _stats(model, texts[:10], cache=cache)
    assert stats.cache_hits == 0 and stats.forward_batches == 1


# bf16 keeps 8 significant bits: unit roundoff u = 2**-8.  Each layer's products round their
# inputs once; over the tiny model's 2 layers the embedding's direction moves by a few u at
# most, so a cosine distance of 4u (0.016) bounds it with room to spare.
BF16_COSINE_DISTANCE = 4 * 2.0**-8


def test_bf16_precision_is_close_to_fp32_and_cached_under_its_own_key(tmp_path, tiny, texts):
    fp32 = encode(tiny, texts, progress=False)
    with EmbeddingCache(tmp_path) as cache:
        first, stats = _stats(tiny, texts, precision="bf16", cache=cache)
        assert stats.forward_batches > 0
        assert not np.array_equal(first, fp32)  # autocast really ran
        assert (1.0 - (first * fp32).sum(axis=1)).max() <= BF16_COSINE_DISTANCE
        again, stats = _stats(tiny, texts, precision="bf16", cache=cache)
        assert stats.forward_batches == 0 and stats.cache_hits == len(texts)
        np.testing.assert_array_equal(again, first)
        as_fp32, stats = _stats(tiny, texts, cache=cache)  # the bf16 entries are not served to fp32
        assert stats.cache_hits == 0
        np.testing.assert_array_equal(as_fp32, fp32)
    with pytest.raises(ConfigError, match="fp16 needs a GPU"):
        encode(tiny, texts[:2], precision="fp16", progress=False)
    with pytest.raises(ConfigError, match="precision must be one of"):
        encode(tiny, texts[:2], precision="fp64", progress=False)


def test_each_text_is_tokenised_once(tiny, monkeypatch):
    """One tokenizer pass gives the lengths and the ids (only the first 64 texts go through
    `preprocess` as well, to check the shortcut)."""
    rng = random.Random(2)
    many = [" ".join(rng.choice("abcdefgh") * rng.randint(1, 5) for _ in range(rng.randint(1, 30)))
            for _ in range(300)]
    tokenizer_class = type(tiny.module.tokenizer)
    real_call, seen = tokenizer_class.__call__, []

    def counting_call(self, text, *args, **kwargs):
        seen.append(len(text) if isinstance(text, list) else 1)
        return real_call(self, text, *args, **kwargs)

    monkeypatch.setattr(tokenizer_class, "__call__", counting_call)
    out, stats = _stats(tiny, many, batch_size=16)
    monkeypatch.undo()
    assert stats.encoded_texts == len(set(many)) and stats.forward_batches > 10
    assert sum(seen) <= len(set(many)) + 2 * 64  # before: every text twice (lengths, then each batch)
    np.testing.assert_allclose(out, tiny.module.encode(many, prompt="query: ", batch_size=16), atol=1e-5)


def test_parallel_tokenisation_gives_the_same_ids(tiny, texts):
    from polyir.model_loading import Prompts
    from polyir.featurize import Featurizer

    many = [f"{t} {i}" for i, t in enumerate(texts * 6)]
    serial, threaded = Featurizer(tiny.module, Prompts("q: ", "p: ")), Featurizer(tiny.module, Prompts("q: ", "p: "))
    assert serial.warm(many, "query", chunk=50) == threaded.warm(many, "query", chunk=50, workers=3) == len(many)
    assert serial.tokenized_texts == threaded.tokenized_texts
    for a, b in zip(serial.rows(many, "query"), threaded.rows(many, "query")):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
