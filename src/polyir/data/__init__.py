"""Data: loaders that turn files into validated, language-tagged records, and the synthetic
collection generator.

* `load_lareqa`: XQuAD-R / MLQA-R directories (one SQuAD+sentences JSON per language).
* `load_beir`: BEIR / MIRACL / Mr.TyDi directories (corpus.jsonl, queries.jsonl, qrels/).
* `read_squad`: validated SQuAD v1.1/v2.0 paragraphs (for importers of training data).
* `generate_synthetic` / `build_synthetic`: the offline multilingual testbed.
"""
from .evalsets.beir_reader import load_beir
from .evalsets.lareqa_reader import language_files, load_lareqa
from .evalsets.squad_reader import SquadAnswer, SquadParagraph, SquadQuestion, read_squad
from .synthetic.synthetic_generator import SyntheticSummary, build_synthetic, generate_synthetic
from .synthetic.synthetic_world import WorldSpec

__all__ = ["load_beir", "load_lareqa", "language_files", "read_squad", "SquadAnswer", "SquadParagraph",
           "SquadQuestion", "generate_synthetic", "build_synthetic", "SyntheticSummary", "WorldSpec"]
