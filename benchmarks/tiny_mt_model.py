"""Build a tiny random Marian translation model offline (and its CTranslate2 conversion), with a
tokenizer trained on a BEIR corpus — to run ``polyir translate BEIR_DIR`` end to end where no real
model can be downloaded.  Its translations are meaningless; the pipeline around them is real.

    python benchmarks/tiny_mt_model.py --corpus ../shared/data/xglue-qam-de/beir/corpus.jsonl --out /tmp/tiny-mt
    # -> /tmp/tiny-mt/hf (transformers) and /tmp/tiny-mt/ct2 (CTranslate2, when installed)
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    from polyir.io import iter_jsonl
    from polyir.translate.tiny import build_tiny_translation_model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True, help="corpus.jsonl whose texts train the tokenizer")
    p.add_argument("--out", required=True)
    p.add_argument("--vocab-size", type=int, default=2000)
    args = p.parse_args()
    out = Path(args.out)
    texts = [f"{doc.get('title') or ''} {doc.get('text') or ''}".strip() for _, doc in iter_jsonl(args.corpus)]
    model = build_tiny_translation_model(out / "hf", texts, vocab_size=args.vocab_size)
    print(f"transformers: {model}")
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        print("(ctranslate2 not installed: no conversion)")
        return
    converted = TransformersConverter(str(model), copy_files=["tokenizer.json", "tokenizer_config.json"]) \
        .convert(str(out / "ct2"), force=True)
    print(f"ctranslate2: {converted}")


if __name__ == "__main__":
    main()
