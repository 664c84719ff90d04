"""The loader on the real XQuAD-R (skipped when ../shared/data is absent)."""
import pytest

from shared_paths import shared_data
from polyir.data import load_lareqa

CANDIDATES = {"ar": 1222, "de": 1276, "el": 1234, "en": 1180, "es": 1215, "hi": 1244, "ru": 1219, "th": 852,
              "tr": 1167, "vi": 1209, "zh": 1196}


@pytest.mark.shared_data
def test_xquad_r_counts_match_the_published_figures():
    rs = load_lareqa(shared_data("xquad-r"))
    assert rs.meta["candidates_per_language"] == CANDIDATES
    assert rs.meta["queries_per_language"] == {lang: 1190 for lang in CANDIDATES}
    assert len(rs.candidates) == 13014 and len(rs.queries) == 13090 and len(rs.qrels) == 1190
    assert all(len(rel) == 11 for rel in rs.qrels.values())
    # two tr.json spans are shifted by a mis-encoded character in the context (kept, and counted)
    assert rs.meta["span_text_mismatches"] == 2
    panthers = rs.qrels["56beb4343aeaaa14008c925b"]  # "How many points did the Panthers defense surrender?"
    assert panthers["en/0/0/0"] == 1 and len(panthers) == 11
    assert next(c for c in rs.candidates if c.id == "en/0/0/0").text.startswith("The Panthers defense gave up")
