"""What translating a BEIR corpus costs: sentences/s, and hours per million passages.

No real translation model can be downloaded here, so three things are measured side by side:

1. the corpus (``--beir DIR``): passages, sentences per passage (split as ``polyir translate``
   splits them), words per sentence;
2. ``polyir translate DIR`` end to end on the first ``--docs`` passages with a tiny random
   Marian model (d_model 32): the pipeline's own cost — reading, splitting, cache, filters,
   writing (its translations are meaningless);
3. models of the real sizes with random weights, built from their published configurations
   (no download): OPUS-MT's Marian "base" (6+6 layers, d_model 512, 58,101 tokens) and, with
   ``--nllb``, NLLB-200-distilled-600M (M2M-100, 12+12 layers, d_model 1024, 256,206 tokens).
   Batches of the corpus's real sentence lengths (``--sentences`` of them, length-sorted as
   the pipeline sorts them) are decoded with the output length forced to the input length
   (a random model never stops by itself; a translation is about as long as its source), with
   transformers (float32) and CTranslate2 (int8).  Tokens per sentence = words x
   ``--tokens-per-word`` (default 1.5: an assumption, typical of SentencePiece vocabularies on
   German and English).  Hours per million passages = 1e6 x sentences per passage / (sentences/s)
   / 3600, plus the pipeline overhead of (2).

    python benchmarks/translate_beir_cost.py --beir ../shared/data/xglue-qam-de/beir --lang de
    python benchmarks/translate_beir_cost.py --beir DIR --lang de --device cuda --nllb   # on a GPU
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from polyir.progress import show_progress

show_progress(False)  # as `polyir -q`

MARIAN_BASE = dict(vocab_size=58101, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
                   decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512)
NLLB_600M = dict(vocab_size=256206, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                 decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024)


def corpus_shape(beir: Path, lang: str, limit: int | None) -> dict:
    from polyir.data.evalsets.sentences import split_sentences
    from polyir.io import iter_jsonl

    passages, sentences = 0, []
    for _, doc in iter_jsonl(next(beir.glob("corpus.jsonl*"))):
        text = " ".join(x for x in (doc.get("title") or "", doc.get("text") or "") if x.strip())
        sentences += [len(s.split()) for s in split_sentences(text, lang)]
        passages += 1
        if limit and passages >= limit:
            break
    return {"passages": passages, "sentences_per_passage": len(sentences) / passages,
            "words_per_sentence": sum(sentences) / len(sentences), "sentence_words": sentences}


def pipeline_run(beir: Path, lang: str, docs: int, tmp: Path) -> dict:
    """``translate_beir`` on the first ``docs`` passages with a tiny Marian model, cold then cached:
    the cached re-run costs everything but the model (reading, splitting, cache look-ups, filters, writing)."""
    from polyir.translate.backends import DecodingSettings, ModelChoice, TranslatorPool
    from polyir.translate.beir_pipeline import BeirTranslateOptions, translate_beir
    from polyir.translate.cache import TranslationCache
    from polyir.translate.tiny import build_tiny_translation_model

    sliced = _slice(beir, tmp / "slice", docs)
    texts = [json.loads(line)["text"] for line in (sliced / "corpus.jsonl").read_text().splitlines()]
    model = build_tiny_translation_model(tmp / "tiny", texts, vocab_size=2000)
    options = BeirTranslateOptions(source=lang, targets=("en" if lang != "en" else "de",))
    out = {"docs": docs}
    for run in ("cold", "cached"):
        pool = TranslatorPool(ModelChoice(str(model)), DecodingSettings(num_beams=1, max_length=64))
        started = time.perf_counter()
        with TranslationCache(tmp / "cache.sqlite") as cache:
            [report] = translate_beir(sliced, tmp / f"out-{run}", options, pool, cache)
        out[f"{run}_s"] = time.perf_counter() - started
        out[f"{run}_model_calls"] = report.model_calls
    return out


def _slice(beir: Path, out: Path, docs: int) -> Path:
    """The first ``docs`` passages, every query and no judgement filtering (a benchmark input)."""
    (out / "qrels").mkdir(parents=True)
    with open(beir / "corpus.jsonl", encoding="utf-8") as f:
        lines = [next(f) for _ in range(docs)]
    (out / "corpus.jsonl").write_text("".join(lines), encoding="utf-8")
    first = json.loads(lines[0])["_id"]
    (out / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "frage"}) + "\n", encoding="utf-8")
    (out / "qrels" / "test.tsv").write_text(f"q\t{first}\t1\n")
    return out


def random_model(config: dict, family: str, out: Path) -> Path:
    """A model of the given size with random weights and a word-level tokenizer of its vocabulary size
    (what CTranslate2's converter needs)."""
    import torch
    from tokenizers import Tokenizer, models
    from transformers import M2M100Config, M2M100ForConditionalGeneration, MarianConfig, MarianMTModel
    from transformers import PreTrainedTokenizerFast

    size = config["vocab_size"]
    torch.manual_seed(0)
    if family == "marian":  # OPUS-MT's layout: </s> 0, <unk> 1, <pad> last (the decoder starts from it)
        vocab = {"</s>": 0, "<unk>": 1, **{f"t{i}": i for i in range(2, size - 1)}, "<pad>": size - 1}
        model = MarianMTModel(MarianConfig(**config, pad_token_id=size - 1, eos_token_id=0,
                                           decoder_start_token_id=size - 1))
    else:  # NLLB's layout: <s> 0, <pad> 1, </s> 2, <unk> 3 (the decoder starts from </s>)
        vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, **{f"t{i}": i for i in range(4, size)}}
        model = M2M100ForConditionalGeneration(M2M100Config(**config, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                                            decoder_start_token_id=2))
    model.save_pretrained(out)
    PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")), pad_token="<pad>",
                            eos_token="</s>", unk_token="<unk>", bos_token="<s>" if "<s>" in vocab else None
                            ).save_pretrained(out)
    return out


def length_batches(words: list[int], n: int, batch_size: int, tokens_per_word: float, seed: int = 0) -> list[list[int]]:
    """``n`` sentences in batches of one length each (drawn from the corpus's sentence lengths, in
    tokens): the pipeline sorts a chunk's thousands of sentences by length, so its batches are
    close to uniform."""
    rng = random.Random(seed)
    batches = []
    for start in range(0, n, batch_size):
        length = max(2, round(rng.choice(words) * tokens_per_word))
        batches.append([length] * min(batch_size, n - start))
    return batches


def transformers_decoder(model_dir: Path, device: str, tmp: Path):
    """A function decoding batches of lengths with the model loaded (loading is not timed)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device).eval()
    vocab, pad = model.config.vocab_size, model.config.pad_token_id

    def decode(batches, beams: int) -> None:
        for lengths in batches:
            ids = torch.full((len(lengths), max(lengths)), pad, dtype=torch.long)
            for row, n in enumerate(lengths):
                ids[row, :n] = torch.randint(4, vocab - 1, (n,))
            ids = ids.to(device)
            with torch.inference_mode():
                model.generate(input_ids=ids, attention_mask=(ids != pad).long(), num_beams=beams, do_sample=False,
                               min_new_tokens=max(lengths), max_new_tokens=max(lengths))
    return decode


def ctranslate2_decoder(model_dir: Path, device: str, tmp: Path):
    """The same with the model converted to CTranslate2 int8 (None when CTranslate2 is not installed)."""
    try:
        import ctranslate2
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        return None
    converted = TransformersConverter(str(model_dir)).convert(str(tmp / f"{model_dir.name}-ct2"), quantization="int8",
                                                              force=True)
    translator = ctranslate2.Translator(converted, device=device.split(":")[0],
                                        compute_type="int8" if device == "cpu" else "int8_float16")
    rng = random.Random(1)

    def decode(batches, beams: int) -> None:
        for lengths in batches:
            tokens = [[f"t{rng.randrange(4, 5000)}" for _ in range(n)] for n in lengths]
            translator.translate_batch(tokens, beam_size=beams, min_decoding_length=max(lengths),
                                       max_decoding_length=max(lengths))
    return decode


def timed(decode, batches, beams: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process over all its threads) of decoding ``batches``,
    after one warm-up batch."""
    decode(batches[-1:], beams)
    wall, cpu = time.perf_counter(), time.process_time()
    decode(batches, beams)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--beir", required=True, help="BEIR directory whose corpus shape is measured")
    p.add_argument("--lang", required=True, help="its language (for sentence splitting)")
    p.add_argument("--docs", type=int, default=300, help="passages translated end to end by the tiny model")
    p.add_argument("--sentences", type=int, default=64, help="sentences decoded by each real-size model")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--tokens-per-word", type=float, default=1.5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--nllb", action="store_true", help="also NLLB-600M's size (slow on a CPU)")
    p.add_argument("--json", help="also write the numbers as JSON")
    args = p.parse_args()
    import torch

    shape = corpus_shape(Path(args.beir), args.lang, None)
    batches = length_batches(shape.pop("sentence_words"), args.sentences, args.batch_size, args.tokens_per_word)
    per_passage = shape["sentences_per_passage"]
    print(f"corpus {args.beir}: {shape['passages']} passages, {per_passage:.2f} sentences per passage, "
          f"{shape['words_per_sentence']:.1f} words per sentence; x {args.tokens_per_word} tokens per word (assumed); "
          f"device {args.device}, torch threads {torch.get_num_threads()}; {args.sentences} sentences per model, "
          f"batches of {args.batch_size}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pipe = pipeline_run(Path(args.beir), args.lang, args.docs, tmp)
        floor_h = pipe["cached_s"] / args.docs * 1e6 / 3600
        print(f"pipeline, tiny model, {args.docs} passages: cold {pipe['cold_s']:.1f} s ({pipe['cold_model_calls']} "
              f"model calls), cached re-run {pipe['cached_s']:.2f} s ({pipe['cached_model_calls']} model calls) = "
              f"{floor_h:.2f} h per million passages outside the model (added to the hours below)\n")
        print("| model | beams | backend | sentences/s (wall) | hours per million passages (wall) | "
              "CPU core-hours per million passages (model) |")
        print("|---|---|---|---|---|---|", flush=True)
        rows = []
        sizes = [("OPUS-MT Marian base (74M)", "marian", MARIAN_BASE)] + (
            [("NLLB-200-distilled-600M", "m2m100", NLLB_600M)] if args.nllb else [])
        for label, family, config in sizes:
            model_dir = random_model(config, family, tmp / family)
            decoders = [("transformers fp32", transformers_decoder(model_dir, args.device, tmp)),
                         ("CTranslate2 int8", ctranslate2_decoder(model_dir, args.device, tmp))]
            for beams in (4, 1):
                for backend, decode in decoders:
                    if decode is None:
                        continue
                    wall, cpu = timed(decode, batches, beams)
                    r = {"model": label, "beams": beams, "backend": backend, "wall_s": wall, "cpu_s": cpu,
                         "sentences_per_s": args.sentences / wall,
                         "hours_per_million": 1e6 * per_passage * wall / args.sentences / 3600 + floor_h,
                         "core_hours_per_million": 1e6 * per_passage * cpu / args.sentences / 3600}
                    rows.append(r)
                    print(f"| {r['model']} | {r['beams']} | {r['backend']} | {r['sentences_per_s']:.1f} | "
                          f"{r['hours_per_million']:,.0f} | {r['core_hours_per_million']:,.0f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"shape": shape, "pipeline": pipe, "rows": rows}, indent=1))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
