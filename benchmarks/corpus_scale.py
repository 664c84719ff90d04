"""Corpus scale: encode + exact search + metrics over a generated BEIR corpus streamed from disk.

    python benchmarks/corpus_scale.py --passages 100000 [--queries 1000] [--k 100] [--threads 2]

Prints one JSON line: ``passages``, ``seconds`` (encode + search + metrics, torch backend),
``peak_rss_mb``, ``baseline_mb`` (peak RSS with the model loaded and warmed up, before the
corpus is read; ``baseline_rss_now_mb``: the RSS at that moment, lower because large buffers
go back to the operating system between forward passes),
``embedding_mb`` (the passages x dim float32 matrix), ``growth_ratio`` = (peak - baseline) /
embedding (target <= 1.5), the seconds of each stage, the metrics, and the FAISS backend's
metrics and lists compared with torch's.

The corpus (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``) and a tiny encoder (the
``tiny`` preset of `polyir.modelinit`, its tokenizer trained on a sample of the same text)
are generated on first use under ``build/corpus-scale/`` (git-ignored) and reused.  Passages
are 8-24 words drawn from a Zipf-distributed 2,000-word vocabulary; each query is a 4-8 word
span of one passage, which is its relevant document.  The measurement runs in a fresh
process, so that its peak RSS is the pipeline's alone.  Before the baseline is taken the
backends search once (imports, thread pools and buffers that stay) and the model encodes
one full batch of the longest passages the generator makes (its largest working memory at
this batch size): none of that grows with the corpus.  Chunk sizes grow with the corpus, bounded: see ``_sizes``.

The child runs with ``MALLOC_MMAP_THRESHOLD_=65536``: glibc otherwise raises its mmap
threshold after the first large free (up to 32 MB), so the forward passes' buffers, whose
sizes change with every batch width, are then carved from the heap and kept: RSS grows by
~200 MB over the first few hundred batches and then stays (bounded by the widths the model
can see, not by the corpus; measured with ``--default-malloc``).  A fixed threshold returns
those buffers to the system at once.  Use the same setting (or jemalloc) when encoding a
large corpus on a CPU.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "build" / "corpus-scale"
MEASURES = ("nDCG@10", "R@10", "R@100", "RR", "AP")
LANG = "en"
MIN_WORDS, MAX_WORDS = 8, 24  # passage length
MMAP_THRESHOLD = 65536  # bytes; see the module doc


def _vocabulary(seed: int = 0, size: int = 2000) -> tuple[list[str], list[float]]:
    rng = random.Random(seed)
    syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
    words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(size * 2)})[:size]
    rng.shuffle(words)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))  # Zipf
    return words, weights


def _passages(seed: int):
    words, cumulative = _vocabulary()
    rng = random.Random(seed)
    while True:
        yield rng.choices(words, cum_weights=cumulative, k=rng.randint(MIN_WORDS, MAX_WORDS))


def generate(out: Path, passages: int, queries: int, seed: int = 1) -> None:
    """Write a BEIR directory; written to ``out.tmp`` first, so a present ``out`` is complete."""
    tmp = out.with_name(out.name + ".tmp")
    (tmp / "qrels").mkdir(parents=True, exist_ok=True)
    targets = set(random.Random(seed + 1).sample(range(passages), queries))
    rng = random.Random(seed + 2)
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as corpus, \
            open(tmp / "queries.jsonl", "w", encoding="utf-8") as query_file, \
            open(tmp / "qrels" / "test.tsv", "w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for i, words in zip(range(passages), _passages(seed)):
            doc = f"d{i:08d}"
            corpus.write(json.dumps({"_id": doc, "title": "", "text": " ".join(words)}) + "\n")
            if i in targets:
                length = rng.randint(4, 8)
                start = rng.randint(0, max(0, len(words) - length))
                query_file.write(json.dumps({"_id": f"q{i:08d}", "text": " ".join(words[start:start + length])}) + "\n")
                qrels.write(f"q{i:08d}\t{doc}\t1\n")
    tmp.rename(out)


def build_model(out: Path) -> None:
    from polyir.modelinit import init_model

    sample = out.with_name("tokenizer-sample.txt")
    sample.write_text("".join(" ".join(words) + "\n" for words in itertools.islice(_passages(99), 20000)))
    init_model("tiny", [sample], out, seed=0)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sizes(passages: int, dim: int) -> dict:
    """Chunks that keep the per-chunk memory a small share of the embedding matrix."""
    embedding_mb = passages * dim * 4 / 2**20
    return {"chunk": min(16384, max(1024, passages // 64)), "search_chunk": min(65536, max(4096, passages // 16)),
            "memory_mb": max(4.0, min(64.0, embedding_mb / 16))}


def measure(corpus_dir: Path, model_dir: Path, *, k: int, threads: int, batch_size: int, backends: list[str],
            trace_memory: bool = False) -> dict:
    import numpy as np
    import torch

    from polyir.data.evalsets.beir_reader import read_beir_queries
    from polyir.encode import encode
    from polyir.evaluate.streamed import EncodedCorpus, count_passages, encode_corpus, run_metrics, search_corpus
    from polyir.model_loading import load_model

    torch.set_num_threads(threads)
    if "faiss" in backends:
        import faiss  # noqa: F401  (imported before the baseline: a library, not corpus memory)
    model = load_model(model_dir, device="cpu")
    # warm-up: a search per backend (its buffers and thread pools stay), then one full batch of
    # the longest passages the generator makes (the forward pass's largest working memory at
    # this batch size, on top of what the search keeps)
    dim = encode(model, ["warm up"], kind="query", progress=False).shape[1]
    fake = np.random.default_rng(0).standard_normal((512, dim)).astype(np.float32)
    for backend in backends:
        search_corpus(fake[:8], EncodedCorpus(np.asarray([f"w{i}".encode() for i in range(len(fake))]), fake),
                      k, backend=backend, chunk=128)
    words, cumulative = _vocabulary()
    rng = random.Random(7)
    warm = [" ".join(rng.choices(words, cum_weights=cumulative, k=MAX_WORDS)) for _ in range(batch_size)]
    encode(model, warm, kind="passage", batch_size=batch_size, progress=False)
    baseline, baseline_now = _peak_rss_mb(), _rss_mb()  # the peak: large buffers go back to the OS between uses

    started = time.perf_counter()
    judged = read_beir_queries(corpus_dir, LANG)
    query_emb = encode(model, [q.text for q in judged.queries], kind="query", batch_size=batch_size, progress=False)
    sizes = _sizes(count_passages(corpus_dir), query_emb.shape[1])
    if trace_memory:
        tracemalloc.start()
    corpus = encode_corpus(model, corpus_dir, LANG, batch_size=batch_size, chunk=sizes["chunk"], progress=False)
    traced_mb = tracemalloc.get_traced_memory()[0] / 2**20 if trace_memory else None
    tracemalloc.stop()
    encoded = time.perf_counter()
    qids = [q.id for q in judged.queries]
    results, seconds = {}, {"encode": encoded - started}
    for backend in backends:
        tick = time.perf_counter()
        scores, rows = search_corpus(query_emb, corpus, k, backend=backend, chunk=sizes["search_chunk"],
                                     memory_mb=sizes["memory_mb"])
        searched = time.perf_counter()
        values = run_metrics(rows, qids, judged.qrels, corpus, MEASURES)
        seconds[f"search_{backend}"], seconds[f"metrics_{backend}"] = searched - tick, time.perf_counter() - searched
        results[backend] = (rows, {m: float(np.nanmean(v)) for m, v in values.items()})
    peak = _peak_rss_mb()
    embedding_mb = corpus.embeddings.nbytes / 2**20
    first = backends[0]
    out = {"passages": len(corpus.ids), "queries": len(qids), "dim": int(corpus.embeddings.shape[1]), "k": k,
           "seconds": round(seconds["encode"] + seconds[f"search_{first}"] + seconds[f"metrics_{first}"], 2),
           "peak_rss_mb": round(peak, 1), "baseline_mb": round(baseline, 1), "baseline_rss_now_mb": round(baseline_now, 1),
           "embedding_mb": round(embedding_mb, 1),
           "growth_ratio": round((peak - baseline) / embedding_mb, 3),
           "stage_seconds": {k_: round(v, 2) for k_, v in seconds.items()},
           "metrics": results[first][1], "threads": threads, "batch_size": batch_size, **sizes,
           "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_", "glibc default (dynamic)")}
    if "faiss" in results and "torch" in results:
        # FAISS sums in its own order: near-tied neighbours (last-bit score differences) may swap
        differ = results["faiss"][0] != results["torch"][0]
        out["faiss_metrics"] = results["faiss"][1]
        out["faiss_max_metric_difference"] = max(abs(results["faiss"][1][m] - results["torch"][1][m]) for m in MEASURES)
        out["faiss_identical_lists_share"] = round(float(1 - differ.any(axis=1).mean()), 4)
        out["faiss_differing_positions_share"] = round(float(differ.mean()), 5)
    if trace_memory:
        # what Python holds after encoding (the matrix, the ids, their order), and what RSS keeps
        # above the baseline once the corpus and its results are freed (native: not corpus data)
        del corpus, results
        gc.collect()
        out["python_traced_after_encoding_mb"] = round(traced_mb, 1)
        out["rss_kept_after_free_mb"] = round(_rss_mb() - baseline_now, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, required=True)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--backends", nargs="+", choices=("torch", "faiss"), default=["torch", "faiss"])
    parser.add_argument("--dir", type=Path, default=ROOT, help="where corpora and the model are generated")
    parser.add_argument("--trace-memory", action="store_true",
                        help="also report Python's own memory after encoding (tracemalloc: slows the encoding) "
                             "and the RSS kept once the corpus is freed")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's dynamic mmap threshold (see the module doc)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    corpus_dir, model_dir = args.dir / f"beir-{args.passages}-{args.queries}", args.dir / "model"
    if args.measure:
        print(json.dumps(measure(corpus_dir, model_dir, k=args.k, threads=args.threads, batch_size=args.batch_size,
                                 backends=args.backends, trace_memory=args.trace_memory)), flush=True)
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    if not (model_dir / "modules.json").exists():
        build_model(model_dir)
    if not corpus_dir.exists():
        print(f"generating {corpus_dir} ...", file=sys.stderr)
        generate(corpus_dir, args.passages, min(args.queries, args.passages))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1] / "src"),
                                                                      os.environ.get("PYTHONPATH")])),
           **({} if args.default_malloc else {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)})}
    child = subprocess.run([sys.executable, __file__, "--measure", *(argv if argv is not None else sys.argv[1:])],
                           env=env, check=False)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
