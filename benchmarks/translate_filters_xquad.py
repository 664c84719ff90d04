"""How often the default translation filters reject *professional* translations (XQuAD-R).

XQuAD-R's 1,190 questions and 240 paragraphs were translated from English into ten
languages by professionals: every rejection is either a false positive of the filters or
a real defect of the data set.  Prints the rejections per language and reason, then each
rejected question.  Needs ../shared/data.

    python benchmarks/translate_filters_xquad.py [DATA_DIR] [--no-langid] [--length-ratio 2.0]
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from polyir.translate.filters import REASONS, FilterConfig, TranslationFilter
from polyir.translate.langid import LanguageIdentifier

LANGUAGES = ["ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh"]


def load(root: Path, lang: str) -> tuple[dict[str, str], list[str]]:
    data = json.loads((root / f"{lang}.json").read_text(encoding="utf-8"))
    questions = {qa["id"]: qa["question"] for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]}
    return questions, [p["context"] for a in data["data"] for p in a["paragraphs"]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="?", default=Path(__file__).resolve().parents[2] / "shared" / "data")
    p.add_argument("--no-langid", action="store_true")
    p.add_argument("--length-ratio", type=float, default=FilterConfig().length_ratio_factor)
    args = p.parse_args()
    root = Path(args.data) / "xquad-r"
    config = FilterConfig(langid=not args.no_langid, length_ratio_factor=args.length_ratio)
    checker = TranslationFilter(config, LanguageIdentifier(["en", *LANGUAGES]) if config.langid else None)
    en_questions, en_paragraphs = load(root, "en")
    counts, examples, checked = Counter(), [], 0
    for lang in LANGUAGES:
        questions, paragraphs = load(root, lang)
        for kind, pairs in (("question", [(en_questions[k], questions[k]) for k in en_questions]),
                            ("paragraph", list(zip(en_paragraphs, paragraphs)))):
            for source, output in pairs:
                checked += 1
                reason = checker.check(output, lang, source, "en")
                if reason:
                    counts[(lang, reason)] += 1
                    examples.append(f"{lang} {kind} {reason}: {source[:70]!r} -> {output[:70]!r}")
    print(f"{checked} translations checked (questions and paragraphs, en -> {len(LANGUAGES)} languages), "
          f"{sum(counts.values())} rejected ({100 * sum(counts.values()) / checked:.2f} %)\n")
    print("| lang | " + " | ".join(REASONS) + " |")
    print("|---|" + "---|" * len(REASONS))
    for lang in LANGUAGES:
        print(f"| {lang} | " + " | ".join(str(counts[(lang, r)]) for r in REASONS) + " |")
    print()
    print("\n".join(examples))


if __name__ == "__main__":
    main()
