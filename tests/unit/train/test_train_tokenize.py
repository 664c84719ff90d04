"""Training tokenises its texts up front in several threads, as encoding does."""
import os

from polyir.encode_loop import TOKENIZE_CHUNK
from polyir.train.setup import tokenize_upfront
from polyir.types import Pair


class RecordingFeaturizer:
    def __init__(self):
        self.calls = []

    def warm(self, texts, kind, chunk=8192, workers=1):
        self.calls.append((kind, len(texts), chunk, workers))
        return len(texts)


def test_large_training_sets_are_tokenised_in_threads_small_ones_in_one():
    n = 3 * TOKENIZE_CHUNK
    pairs = [Pair(group=str(i), lang="en", query=f"q {i}", positive=f"p {i}", dataset="syn") for i in range(n)]
    featurizer = RecordingFeaturizer()
    tokenize_upfront(featurizer, pairs, with_negatives=False)
    expected = max(1, min(8, os.cpu_count() or 1, 3))
    assert featurizer.calls == [("query", n, TOKENIZE_CHUNK, expected), ("passage", n, TOKENIZE_CHUNK, expected)]
    small = RecordingFeaturizer()
    tokenize_upfront(small, pairs[:10], with_negatives=False)
    assert [workers for *_, workers in small.calls] == [1, 1]
