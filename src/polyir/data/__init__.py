"""Data: loaders that turn files into validated, language-tagged records, and the synthetic
collection generator.

* `load_lareqa`: XQuAD-R / MLQA-R directories (one SQuAD+sentences JSON per language).
* `load_beir`: BEIR / MIRACL / Mr.TyDi directories (corpus.jsonl, queries.jsonl, qrels/).
* `read_squad`: validated SQuAD v1.1/v2.0 paragraphs (for importers of training data).
* `generate_synthetic` / `build_synthetic`: the offline multilingual testbed.

Names are resolved on first use, so that a module of the package (a command's options reading
the import formats) does not load the readers, the generator and numpy.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "load_beir": "evalsets.beir_reader",
    "load_lareqa": "evalsets.lareqa_reader",
    "language_files": "evalsets.lareqa_reader",
    "read_squad": "evalsets.squad_reader",
    "SquadAnswer": "evalsets.squad_reader",
    "SquadParagraph": "evalsets.squad_reader",
    "SquadQuestion": "evalsets.squad_reader",
    "generate_synthetic": "synthetic.synthetic_generator",
    "build_synthetic": "synthetic.synthetic_generator",
    "SyntheticSummary": "synthetic.synthetic_generator",
    "WorldSpec": "synthetic.synthetic_world",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
