"""Segments: passages split into sentences and re-joined per target script."""
from polyir.translate.segments import Segmenter, join_segments, translated_fields
from polyir.types import Pair

PAIR = Pair(group="g", lang="en", query="Where is the cat? It is late.",
            positive="The cat sat on the mat. It was warm there. Dogs barked.",
            negatives=("One sentence only.", "Dr. Smith arrived. He left."), dataset="d")


def test_query_whole_passages_split():
    units = Segmenter(split_passages=True).units(PAIR)
    assert units == [["Where is the cat? It is late."],
                     ["The cat sat on the mat.", "It was warm there.", "Dogs barked."],
                     ["One sentence only."], ["Dr. Smith arrived.", "He left."]]  # abbreviation kept
    assert Segmenter(split_passages=False).units(PAIR)[1] == [PAIR.positive]


def test_join_per_script():
    assert join_segments(["Die Katze.", "Es war warm."], "de") == "Die Katze. Es war warm."
    assert join_segments(["猫坐着。", "很暖和。"], "zh") == "猫坐着。很暖和。"
    assert join_segments(["猫。", "犬。"], "zh-Hant") == "猫。犬。"
    assert join_segments(["แมว", "หมา"], "th") == "แมว หมา"  # Thai separates sentences by a space


def test_translated_fields_rebuild_every_field():
    units = Segmenter().units(PAIR)
    table = {s: s.upper() for field in units for s in field}
    query, positive, *negatives = translated_fields(units, table, "de")
    assert query == PAIR.query.upper()
    assert positive == "THE CAT SAT ON THE MAT. IT WAS WARM THERE. DOGS BARKED."
    assert negatives == ["ONE SENTENCE ONLY.", "DR. SMITH ARRIVED. HE LEFT."]
