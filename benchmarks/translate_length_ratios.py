"""Measure the characters-per-English-character table of `polyir.translate.length_ratios`.

For every language, the median over parallel texts of len(text in L) / len(English text)
(characters after NFKC and whitespace collapsing): XQuAD-R paragraphs (professional
translations of 240 English paragraphs; ar de el es hi ru th tr vi zh) where available,
else Tatoeba sentence pairs with an English side of at least 10 characters (1,000 pairs per
language, LASER test sets).  Needs ../shared/data; prints the Python table.

    python benchmarks/translate_length_ratios.py [DATA_DIR]
"""
from __future__ import annotations

import glob
import json
import statistics
import sys
import unicodedata
from pathlib import Path

from polyir.languages import normalise_language


def chars(text: str) -> int:
    return len(" ".join(unicodedata.normalize("NFKC", text).split()))


def xquad_ratios(root: Path) -> dict[str, float]:
    def paragraphs(lang: str) -> list[str]:
        data = json.loads((root / f"{lang}.json").read_text(encoding="utf-8"))
        return [p["context"] for article in data["data"] for p in article["paragraphs"]]

    english = paragraphs("en")
    out = {}
    for path in sorted(root.glob("*.json")):
        lang = path.stem
        if lang != "en":
            out[lang] = statistics.median(chars(a) / chars(b) for a, b in zip(paragraphs(lang), english))
    return out


def tatoeba_ratios(root: Path) -> dict[str, float]:
    out = {}
    for english_file in sorted(glob.glob(str(root / "tatoeba.*-eng.eng"))):
        code = english_file.split(".")[-2].split("-")[0]
        other = Path(english_file[:-3] + code).read_text(encoding="utf-8").splitlines()
        english = Path(english_file).read_text(encoding="utf-8").splitlines()
        ratios = [chars(a) / chars(b) for a, b in zip(other, english) if chars(b) >= 10 and chars(a) > 0]
        out[normalise_language(code)] = statistics.median(ratios)
    return out


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data")
    table = {**tatoeba_ratios(data / "tatoeba"), **xquad_ratios(data / "xquad-r"), "en": 1.0}
    items = [f'"{lang}": {ratio:.2f}' for lang, ratio in sorted(table.items())]
    line = "   "
    for item in items:
        if len(line) + len(item) > 108:
            print(line + ",")
            line = "   "
        line += (" " if line.strip() == "" else ", ") + item
    print(line + ",")
    print(f"# {len(table)} languages", file=sys.stderr)


if __name__ == "__main__":
    main()
