"""Model cards: the trained model's README.md states how it was made, survives sentence-transformers'
own saving, and takes `polyir evaluate` results.  CPU, tiny model, dropout off (exact embeddings)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from trainfixtures import base_config

from polyir.cli import main
from polyir.train import build_config, train
from polyir.train.model_card import (CARD_FILE, ModelCard, base_model_info, front_matter, read_model_card,
                                     write_model_card)

TEXTS = ["qaa zebu", "a passage about something", "another query"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_dir, train_model_dir):
    out = tmp_path_factory.mktemp("card-run") / "run"
    config = build_config(base_config(train_model_dir, synthetic_dir / "train", out,
                                      eval={"dev": str(synthetic_dir / "eval"), "every": 4, "max_queries": 20}))
    seen = {}

    def callback(info):
        if info.step == config.optim.steps:
            seen["embeddings"] = info.module.encode(TEXTS, convert_to_numpy=True)

    summary = train(config, progress=False, callback=callback)
    return config, summary, seen["embeddings"]


def test_the_card_states_how_the_model_was_made(trained):
    config, summary, _ = trained
    text = (summary.final_model / "README.md").read_text()
    meta = front_matter(text)
    assert meta["language"] == ["qaa", "qab", "qac"] and "polyir" in meta["tags"]
    assert meta["library_name"] == "sentence-transformers" and "license" not in meta  # the base states none
    assert "licence | unknown: the base model's card states no licence" in text
    assert "**hybrid(0.5)**" in text and "α = 0.5" in text and "16 (global)" in text
    assert "InfoNCE, temperature 0.05" in text and "same parallel group or same positive text" in text
    assert f"{summary.steps} steps × 16 = {summary.steps * 16} pairs" in text
    per_language = summary.data["per_dataset"]["syn"]["pairs_per_language"]
    assert f"| syn | {', '.join(f'{k} {v}' for k, v in per_language.items())} |" in text
    assert f"mono {summary.sampling['share_batches_mono']:.1%}" in text
    dev_row = next(line for line in text.splitlines() if line.startswith("| dev |"))
    assert f"{summary.last_metrics['multi/AP']:.3f}" in dev_row and "(step 8)" in dev_row
    assert config.to_yaml().rstrip() in text and "polyir train --config config.yaml" in text
    card = read_model_card(summary.final_model)
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card
    assert card.composition == summary.sampling and card.pairs == summary.steps * 16


def test_the_best_checkpoint_has_its_own_card(trained):
    _, summary, _ = trained
    best = json.loads((summary.best_model / "best.json").read_text())
    text = (summary.best_model / "README.md").read_text()
    assert f"the best checkpoint by multi/AP on the dev set: step {best['step']}" in text
    assert f"(step {best['step']})" in next(line for line in text.splitlines() if line.startswith("| dev |"))


def test_the_model_loads_unchanged_and_sentence_transformers_keeps_the_card(trained, tmp_path):
    from sentence_transformers import SentenceTransformer

    _, summary, embeddings = trained
    model = SentenceTransformer(str(summary.final_model), device="cpu")
    np.testing.assert_allclose(model.encode(TEXTS, convert_to_numpy=True), embeddings, atol=1e-6)
    model.save(str(tmp_path / "resaved"))
    assert (tmp_path / "resaved" / "README.md").read_text() == (summary.final_model / "README.md").read_text()


def test_polyir_evaluate_results_go_into_the_card(trained, tmp_path, capsys, synthetic_dir):
    _, summary, _ = trained
    model_dir = tmp_path / "model"
    import shutil

    shutil.copytree(summary.final_model, model_dir)
    assert main(["evaluate", "--model", str(model_dir), "--dataset", "xquad-r", "--data-dir",
                 str(synthetic_dir / "eval"), "--out", str(tmp_path / "eval"), "--no-cache",
                 "--max-queries", "20"]) == 0
    assert main(["model", "card", str(model_dir), "--metrics", str(tmp_path / "eval"), "--name", "heldout"]) == 0
    doc = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    row = next(line for line in (model_dir / "README.md").read_text().splitlines() if line.startswith("| heldout |"))
    assert "polyir evaluate" in row and f"{doc['summary']['cross']['AP']:.3f}" in row
    assert f"{doc['summary']['rank_distance']:.1f}" in row and str(synthetic_dir / "eval") in row
    capsys.readouterr()
    assert main(["model", "card", str(tmp_path)]) == 2
    assert f"no {CARD_FILE}: not a model trained by polyir" in capsys.readouterr().err


def test_the_licence_comes_from_the_base_models_card(tmp_path):
    with_licence, without_card, without_licence = (tmp_path / name for name in ("a", "b", "c"))
    for path in (with_licence, without_card, without_licence):
        path.mkdir()
    (with_licence / "README.md").write_text("---\nlicense: mit\nlanguage: [en]\n---\n# A model\n")
    (without_licence / "README.md").write_text("---\ntags: [x]\n---\n# A model\n")
    assert base_model_info(str(with_licence)).license == "mit"
    assert "mit, as stated by the base model's card" == base_model_info(str(with_licence)).license_note
    assert base_model_info(str(without_card)).license_note.startswith("unknown: the base model has no model card")
    assert base_model_info(str(without_licence)).license_note == "unknown: the base model's card states no licence"
    assert base_model_info("no-such-org/no-such-model").hub_id == "no-such-org/no-such-model"


def test_a_known_licence_and_hub_base_reach_the_metadata(trained, tmp_path):
    import dataclasses

    _, summary, _ = trained
    card = read_model_card(summary.final_model)
    card = dataclasses.replace(card, base=dataclasses.replace(card.base, hub_id="intfloat/multilingual-e5-small",
                                                              license="mit", license_note="mit"))
    write_model_card(tmp_path, card)
    meta = yaml.safe_load((tmp_path / "README.md").read_text().split("---")[1])
    assert meta["license"] == "mit" and meta["base_model"] == "intfloat/multilingual-e5-small"
