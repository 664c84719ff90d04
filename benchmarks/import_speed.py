"""Import speed (records/s) and peak memory of `polyir data import squad`.

Finds the largest SQuAD-format file in ../shared/data (by decompressed size), imports it, then
imports a file made of that one's articles repeated ``--scale`` times (to show memory stays
flat as the input grows), each in a fresh process, and compares with the obvious
alternative: ``json.load`` of the whole file followed by the same loop.

    python benchmarks/import_speed.py [--data ../shared/data] [--scale 8]

Peak memory is the process's maximum resident set size (``ru_maxrss``), which includes
the interpreter and imported libraries (numpy, sentencex, ijson).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("POLYIR_SHARED_DATA") or ROOT.parent / "shared" / "data")
# the language of each ../shared/data folder (xquad-r files are named by language)
FOLDER_LANGUAGE = {"squad-es": "es", "squad-it": "it", "korquad": "ko", "cmrc2018": "zh", "jsquad": "ja",
                   "drcd": "zh", "arcd": "ar"}


def language_of(path: Path) -> str:
    return FOLDER_LANGUAGE.get(path.parent.name) or path.name.split(".")[0].split("-")[-1]


def decompressed_size(path: Path) -> int:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))
    return path.stat().st_size


def largest_squad_file(data: Path) -> Path:
    files = [p for p in data.rglob("*") if p.name.endswith((".json", ".json.gz"))]
    if not files:
        sys.exit(f"no SQuAD-format .json files under {data}")
    return max(files, key=decompressed_size)


def scaled_copy(source: Path, scale: int, out: Path) -> Path:
    """The source's articles repeated ``scale`` times, question ids made unique per copy."""
    opener = gzip.open if source.name.endswith(".gz") else open
    with opener(source, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    with open(out, "w", encoding="utf-8") as f:
        f.write('{"version": "1.1", "data": [')
        for copy in range(scale):
            for i, article in enumerate(doc["data"]):
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        qa["id"] = f"{qa['id'].split('#')[0]}#{copy}"
                f.write(("," if copy or i else "") + json.dumps(article, ensure_ascii=False))
        f.write("]}")
    return out


def child(mode: str, lang: str, path: str, out: str) -> None:
    """Run one import in this (fresh) process and print a JSON line of measurements."""
    import resource

    sys.path.insert(0, str(ROOT / "src"))
    from polyir.progress import show_progress

    show_progress(False)  # as `polyir -q`
    from polyir.data.pairs.importers.squad_import import _Paragraph, _paragraph_pairs, iter_squad_pairs
    from polyir.data.pairs.importers.import_common import Skipper
    from polyir.data.pairs.pair_files import write_pairs
    from polyir.data.pairs.sources import Source

    start = time.perf_counter()
    if mode == "polyir":
        count = write_pairs(iter_squad_pairs([Source(Path(path), lang)], skip_invalid=True), out)
    else:  # json.load the whole file, then the same per-paragraph code
        from collections import Counter

        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
        stats = Counter()

        def pairs():
            for a, article in enumerate(doc["data"]):
                for p, raw in enumerate(article["paragraphs"]):
                    paragraph = _Paragraph(raw, lang, path, f"data[{a}].paragraphs[{p}]")
                    yield from _paragraph_pairs(paragraph, dataset="", positive="sentence", keep_unanswerable=False,
                                                stats=stats, skipper=Skipper(True, stats))
        count = write_pairs(pairs(), out)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"records": count, "seconds": seconds, "peak_rss_mib": peak_kib / 1024}))


def measure(mode: str, lang: str, path: Path, workdir: Path) -> dict:
    out = workdir / f"out-{mode}-{path.stem}.jsonl"
    done = subprocess.run([sys.executable, __file__, "--child", mode, lang, str(path), str(out)],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{mode} import of {path} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["mib_in"] = decompressed_size(path) / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=int, default=8, help="repeat the largest file's articles this often")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    largest = largest_squad_file(args.data)
    lang = language_of(largest)
    print(f"largest SQuAD-format file: {largest} ({decompressed_size(largest) / 2**20:.1f} MiB decompressed, "
          f"language {lang}); positive = answer sentence (sentencex)")
    print(f"{'input':<34} {'MiB':>6} {'loader':<10} {'records':>8} {'records/s':>10} {'peak RSS MiB':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        scaled = scaled_copy(largest, args.scale, workdir / f"x{args.scale}-{largest.name.removesuffix('.gz')}")
        for path in (largest, scaled):
            for mode in ("polyir", "json.load"):
                r = measure(mode, lang, path, workdir)
                print(f"{path.name[:34]:<34} {r['mib_in']:6.1f} {mode:<10} {r['records']:8d} "
                      f"{r['records'] / r['seconds']:10.0f} {r['peak_rss_mib']:13.1f}")


if __name__ == "__main__":
    main()
