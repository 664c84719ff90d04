"""Language identification for the translation filter: py3langid vs lingua, on XQuAD-R.

The first 300 questions and 300 candidate sentences of each of the 11 XQuAD-R languages
(6,600 texts, many short, many with English names in them): errors and time, with the
detector restricted to the 11 languages (what polyir does) and open-set.  lingua is
optional (``pip install lingua-language-detector``).  Needs ../shared/data.

    python benchmarks/translate_langid_compare.py [DATA_DIR]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

LANGUAGES = "ar de el en es hi ru th tr vi zh".split()


def texts(root: Path) -> list[tuple[str, str]]:
    out = []
    for lang in LANGUAGES:
        data = json.loads((root / f"{lang}.json").read_text(encoding="utf-8"))
        paragraphs = [p for a in data["data"] for p in a["paragraphs"]]
        out += [(lang, qa["question"]) for p in paragraphs for qa in p["qas"]][:300]
        out += [(lang, s) for p in paragraphs for s in p["sentences"]][:300]
    return out


def py3langid_detector(restricted: bool):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    if restricted:
        model.set_languages(LANGUAGES)
    return lambda batch: [model.classify(t)[0] for t in batch]


def lingua_detector(restricted: bool):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    builder = (LanguageDetectorBuilder.from_iso_codes_639_1(*[IsoCode639_1.from_str(c) for c in LANGUAGES])
               if restricted else LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models())
    detector = builder.build()
    return lambda batch: [r.iso_code_639_1.name.lower() if r else None
                          for r in detector.detect_languages_in_parallel_of(batch)]


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data") / "xquad-r"
    data = texts(root)
    print(f"{len(data)} texts\n\n| detector | languages | load s | detect s | errors |\n|---|---|---|---|---|")
    for name, make in (("py3langid", py3langid_detector), ("lingua", lingua_detector)):
        for restricted in (True, False):
            try:
                started = time.perf_counter()
                detect = make(restricted)
            except ImportError:
                print(f"| {name} | — | not installed | | |")
                break
            loaded = time.perf_counter()
            predicted = detect([t for _, t in data])
            done = time.perf_counter()
            errors = sum(p != lang for (lang, _), p in zip(data, predicted))
            scope = "the 11" if restricted else "all"
            print(f"| {name} | {scope} | {loaded - started:.2f} | {done - loaded:.2f} | {errors} |")


if __name__ == "__main__":
    main()
