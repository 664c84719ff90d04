"""`encode` on a CUDA device (skipped without one): pinned, non-blocking batches, outputs kept on
the device and copied back per chunk, autocast precisions.  Tolerances follow the precision:
fp32 kernels differ from the CPU's only in summation order (~1e-6 on unit vectors; 1e-4
allowed), bf16 / fp16 keep 8 / 11 significant bits (unit roundoff 2**-8 / 2**-11; a cosine
distance of 4 roundoffs allowed, as for bf16 on the CPU in test_encode.py)."""
from __future__ import annotations

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from polyir import encode_loop  # noqa: E402
from polyir.embcache import EmbeddingCache  # noqa: E402
from polyir.encode import EncodeStats, encode  # noqa: E402
from polyir.model_loading import load_model  # noqa: E402

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
COSINE_DISTANCE = {"bf16": 4 * 2.0**-8, "fp16": 4 * 2.0**-11}


@pytest.fixture(scope="module")
def texts():
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 8))) for _ in range(200)]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))) for _ in range(90)]


@pytest.fixture(scope="module")
def models(tiny_model_dir):
    return load_model(tiny_model_dir, device="cpu"), load_model(tiny_model_dir, device="cuda")


def test_cuda_fp32_equals_cpu(models, texts):
    cpu, cuda = models
    np.testing.assert_allclose(encode(cuda, texts, batch_size=16, progress=False),
                               encode(cpu, texts, batch_size=16, progress=False), atol=1e-4)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_autocast_precisions_stay_close_to_fp32(models, texts, precision):
    cpu, cuda = models
    reference = encode(cpu, texts, progress=False)
    low = encode(cuda, texts, batch_size=16, progress=False, precision=precision)
    assert low.dtype == np.float32 and not np.array_equal(low, reference)
    assert (1.0 - (low * reference).sum(axis=1)).max() <= COSINE_DISTANCE[precision]


def test_chunks_on_the_device_reach_the_cache_and_survive_an_interruption(tmp_path, models, texts, monkeypatch):
    _, cuda = models
    monkeypatch.setattr(encode_loop, "DEVICE_CHUNK_TEXTS", 20)
    real_forward, calls = cuda.module.forward, []

    def failing_forward(features, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_forward(features, **kwargs)

    with EmbeddingCache(tmp_path) as cache:
        monkeypatch.setattr(cuda.module, "forward", failing_forward)
        with pytest.raises(KeyboardInterrupt):
            encode(cuda, texts, batch_size=10, cache=cache, progress=False)
        monkeypatch.setattr(cuda.module, "forward", real_forward)
        assert cache.count(cuda.fingerprint) == 40  # two chunks of two batches were copied back and stored
        stats = EncodeStats()
        resumed = encode(cuda, texts, batch_size=10, cache=cache, stats=stats, progress=False)
    assert stats.cache_hits == 40 and stats.encoded_texts == len(texts) - 40
    np.testing.assert_allclose(resumed, encode(cuda, texts, batch_size=10, progress=False), atol=1e-6)
