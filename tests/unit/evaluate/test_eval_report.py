"""metrics.json document and the markdown + heatmap report."""
from __future__ import annotations

import json

import numpy as np
import pytest

from polyir.evaluate import evaluate_embeddings, write_report
from polyir.evaluate.result import SCHEMA

from evalfixtures import tiny_case


@pytest.fixture(scope="module")
def tiny():
    return evaluate_embeddings(*tiny_case(), measures=["AP", "R@1", "R@10"], bias_k=2)


def test_metrics_json_document(tiny):
    doc = json.loads(json.dumps(tiny.to_dict(), allow_nan=False))  # strict JSON: no NaN
    assert doc["schema"] == SCHEMA == "polyir.metrics/1"
    assert doc["measures"] == ["AP", "R@1", "R@10"]
    assert doc["trec_names"] == {"AP": "map", "R@1": "recall_1", "R@10": "recall_10"}
    assert doc["counts"]["queries"] == {"en": 3, "de": 2} and doc["counts"]["candidates"] == {"en": 3, "de": 2}
    assert doc["summary"]["cross"]["AP"] == pytest.approx(0.75)
    assert doc["summary"]["rank_distance"] == pytest.approx(1.25)
    assert doc["settings"]["en-de"] == {"kind": "cross", "query_lang": "en", "pool": "de", "n_queries": 2,
                                        "n_skipped": 1, "AP": 0.75, "R@1": 0.5, "R@10": 1.0}
    assert doc["pairs"]["AP"]["en"]["en"] == pytest.approx(2.5 / 3)
    assert doc["per_language"]["de"]["multi"]["AP"] == pytest.approx(7 / 12)
    assert doc["bias"]["k"] == 2
    assert doc["bias"]["per_language"]["en"]["strong_alignment"] == pytest.approx(2 / 3)


def test_report_files(tiny, tmp_path):
    report, heatmap = write_report(tiny, tmp_path, title="Tiny check")
    text = report.read_text()
    assert text.startswith("# Tiny check")
    assert "| AP | 0.792 | 0.750 | 0.597 |" in text  # mono (0.833+0.75)/2, cross, multi
    assert "| rank distance |  |  | 1.2 |" in text  # 1.25, rounded half to even
    assert "| en | 3 | 0.833 | 0.667 | 0.750 | 0.500 | 0.611 | 1.000 | 1.5 |" in text
    assert "![AP heatmap](heatmap.png)" in text
    data = heatmap.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_report_for_a_single_language_set(make_parallel_set, tmp_path):
    rset, qe, ce = make_parallel_set(2, langs=("en",), partial=False)
    result = evaluate_embeddings(rset, qe, ce)
    report, heatmap = write_report(result, tmp_path)
    text = report.read_text()
    assert "Rank distance" not in text and "| en |" in text
    assert "cross" not in text.split("## Per query language")[1].split("##")[0]
    assert heatmap.stat().st_size > 0
    assert not np.isnan(result.pair_matrix("AP")).any()
