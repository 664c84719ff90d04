"""The model card of a trained model: how it was made, what it scored, how to make it again.

`training_card(config, summary)` collects the facts of a finished run (base model and its
licence, polyir version, strategy and α, batch size, loss, steps and pairs, data sources with
their languages and sizes, realised batch composition, dev evaluation, the configuration);
evaluations run later (a sweep's evaluation sets, `polyir evaluate`) are added with
`with_evaluations`.  `write_model_card` writes ``README.md`` (Hugging Face model-card
metadata + the facts) and ``polyir_card.json`` (the same facts, machine-readable, so the card
can be extended later) into a sentence-transformers model directory.

sentence-transformers keeps a loaded model's ``README.md`` when it saves the model again
(it regenerates the card only after its own trainer has trained it), so the card survives
``SentenceTransformer(path).save(...)`` and ``push_to_hub``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import yaml

from .. import __version__
from ..io import atomic_write_text
from .card_text import render_card
from .train_config import TrainConfig

if TYPE_CHECKING:
    from .summary import TrainSummary

CARD_FILE = "polyir_card.json"
CARD_SCHEMA = "polyir.model_card/1"


@dataclass(frozen=True)
class CardEvaluation:
    """One evaluation of the model: macro means per setting kind and the language bias."""

    name: str  # evaluation set name
    source: str  # what was evaluated on (directory, data set format)
    how: str  # "dev set during training (step N)", "sweep evaluation", "polyir evaluate"
    languages: tuple[str, ...] = ()
    queries: int | None = None
    measure: str = "AP"
    mono: float | None = None
    cross: float | None = None
    multi: float | None = None
    rank_distance: float | None = None

    @classmethod
    def from_metrics(cls, doc: Mapping[str, Any], *, name: str, source: str, how: str,
                     measure: str = "AP") -> "CardEvaluation":
        """From a ``metrics.json`` document (`polyir.evaluate.result.EvaluationResult.to_dict`)."""
        summary = doc.get("summary") or {}
        kinds = {kind: (summary.get(kind) or {}).get(measure) for kind in ("mono", "cross", "multi")}
        return cls(name=name, source=source, how=how, languages=tuple((doc.get("languages") or {}).get("query", ())),
                   queries=(doc.get("counts") or {}).get("total_queries"), measure=measure,
                   rank_distance=summary.get("rank_distance"), **kinds)


@dataclass(frozen=True)
class BaseModelInfo:
    """The model training started from, and its licence as its own card states it."""

    name_or_path: str
    hub_id: str | None  # set when it is a Hugging Face Hub id (the card's ``base_model``)
    license: str | None  # None: not known
    license_note: str  # where the licence comes from, or why it is not known


@dataclass(frozen=True)
class ModelCard:
    base: BaseModelInfo
    polyir_version: str
    strategy: str  # label: X-X-mono, X-Y, hybrid(0.5), mixed(0.3), hybrid(0.2->0.8)
    sampler: dict[str, Any]  # SamplerConfig fields (batch size, α, weighting, temperatures, seed)
    loss: dict[str, Any]  # LossConfig fields + hard negatives per item
    optimizer: dict[str, Any]
    prompts: Any
    steps: int
    total_steps: int
    pairs: int  # training pairs seen: steps x global batch size
    epochs: float
    stopped: str
    sources: tuple[dict[str, Any], ...]  # configured sources: name, path, format
    data: dict[str, Any]  # TrainingData.describe(): per data set its languages and sizes
    composition: dict[str, Any]  # SamplingStats.summary(): realised shares
    language_pairs: dict[str, int]  # items per query-passage language pair
    selected: str  # "final model (step N)" or "best checkpoint (step N, multi/AP = x)"
    reproduce: str  # command
    config_yaml: str
    evaluations: tuple[CardEvaluation, ...] = ()
    model_name: str = ""

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.data.get("languages", ()))

    def with_evaluations(self, evaluations: Sequence[CardEvaluation]) -> "ModelCard":
        """This card with ``evaluations`` added (one of the same name and kind of run is replaced)."""
        new = {(e.name, e.how) for e in evaluations}
        kept = tuple(e for e in self.evaluations if (e.name, e.how) not in new)
        return dataclasses.replace(self, evaluations=kept + tuple(evaluations))

    def to_dict(self) -> dict[str, Any]:
        return {"schema": CARD_SCHEMA, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelCard":
        values = {k: v for k, v in data.items() if k != "schema"}
        values["base"] = BaseModelInfo(**values["base"])
        values["evaluations"] = tuple(CardEvaluation(**{**e, "languages": tuple(e["languages"])})
                                      for e in values.get("evaluations", ()))
        values["sources"] = tuple(values["sources"])
        return cls(**values)

    def front_matter(self) -> dict[str, Any]:
        """Hugging Face model-card metadata (the YAML header the Hub reads)."""
        meta: dict[str, Any] = {"language": list(self.languages)} if self.languages else {}
        if self.base.license:
            meta["license"] = self.base.license
        if self.base.hub_id:
            meta["base_model"] = self.base.hub_id
        meta.update({"library_name": "sentence-transformers", "pipeline_tag": "sentence-similarity",
                     "tags": ["sentence-transformers", "sentence-similarity", "feature-extraction", "polyir",
                              "multilingual-retrieval", f"batch-strategy-{self.sampler['strategy']}"]})
        return meta


def training_card(config: TrainConfig, summary: "TrainSummary", *, selected: str, model_name: str = "",
                  reproduce: str | None = None, dev_metrics: Mapping[str, float] | None = None,
                  dev_step: int | None = None) -> ModelCard:
    """The card of a model written by `polyir.train.train`: ``selected`` says which model of the
    run it is, ``dev_metrics`` are its metrics on the dev set (evaluated at ``dev_step``)."""
    sampler = config.seeded_sampler
    dev = (dev_evaluation(config, dev_metrics, dev_step),) if dev_metrics and config.eval.dev else ()
    return ModelCard(
        base=base_model_info(config.model.name_or_path), polyir_version=__version__,
        strategy=sampler.label, sampler=sampler.to_dict(),
        loss={**dataclasses.asdict(config.loss), "hard_negatives": config.data.hard_negatives},
        optimizer={k: v for k, v in dataclasses.asdict(config.optim).items()
                   if k in ("lr", "weight_decay", "schedule", "warmup_ratio", "warmup_steps", "max_grad_norm",
                            "gradcache_chunk")},
        prompts=config.model.prompts, steps=summary.steps, total_steps=summary.total_steps,
        pairs=summary.steps * config.sampler.batch_size, epochs=round(summary.epochs, 4), stopped=summary.stopped,
        sources=tuple({"name": s.name, "path": list(s.inputs), "format": s.format} for s in config.data.sources),
        data={k: v for k, v in summary.data.items() if k != "import_stats"}, composition=dict(summary.sampling),
        language_pairs=dict(summary.language_pairs), selected=selected,
        reproduce=reproduce or "polyir train --config config.yaml --out OUT", config_yaml=config.to_yaml(),
        evaluations=dev, model_name=model_name)


def dev_evaluation(config: TrainConfig, metrics: Mapping[str, float], step: int | None) -> CardEvaluation:
    values = {kind: metrics.get(f"{kind}/AP") for kind in ("mono", "cross", "multi")}
    when = f" (step {step})" if step is not None else ""
    return CardEvaluation(name="dev", source=str(config.eval.dev), how=f"dev set during training{when}",
                          languages=tuple(config.eval.languages), queries=config.eval.max_queries,
                          rank_distance=metrics.get("rank_distance"), **values)


def base_model_info(name_or_path: str) -> BaseModelInfo:
    """The base model and the licence its own card (README.md front matter) declares."""
    local = Path(name_or_path).is_dir()
    text = _read_card(name_or_path, local)
    hub_id = None if local else name_or_path
    if text is None:
        return BaseModelInfo(name_or_path, hub_id, None, "unknown: the base model has no model card (README.md) "
                                                          "to read a licence from")
    meta = front_matter(text)
    license = meta.get("license")
    if not license:
        return BaseModelInfo(name_or_path, hub_id, None, "unknown: the base model's card states no licence")
    named = f" ({meta['license_name']})" if license == "other" and meta.get("license_name") else ""
    return BaseModelInfo(name_or_path, hub_id, str(license), f"{license}{named}, as stated by the base model's card")


def front_matter(text: str) -> dict[str, Any]:
    """The YAML header of a model card ({} when it has none or it does not parse)."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    try:
        meta = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _read_card(name_or_path: str, local: bool) -> str | None:
    if local:
        path = Path(name_or_path) / "README.md"
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    try:  # the card the Hub download cached next to the weights (no network access here)

        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name_or_path, "README.md")
    except Exception:  # noqa: BLE001 - not a valid repository id, no cache: no card to read
        return None
    return Path(cached).read_text(encoding="utf-8", errors="replace") if isinstance(cached, str) else None


def card_files(card: ModelCard) -> dict[str, str]:
    """``{file name: text}`` of a card: ``polyir_card.json`` and ``README.md``."""
    return {CARD_FILE: json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n",
            "README.md": render_card(card)}


def write_model_card(model_dir: str | Path, card: ModelCard) -> Path:
    """Write ``polyir_card.json`` and ``README.md`` into ``model_dir`` (each atomically)."""
    model_dir = Path(model_dir)
    for name, text in card_files(card).items():
        atomic_write_text(model_dir / name, text)
    return model_dir / "README.md"


def read_model_card(model_dir: str | Path) -> ModelCard | None:
    """The card polyir wrote into ``model_dir`` (None for a model polyir did not train)."""
    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        return None
    return ModelCard.from_dict(json.loads(path.read_text(encoding="utf-8")))


def set_card_data(module, card: ModelCard) -> None:
    """Fill sentence-transformers' own model-card data, for code that reads it from the model."""
    data = getattr(module, "model_card_data", None)
    if data is None:
        return
    if card.languages:
        data.language = list(card.languages)
    if card.base.license:
        data.license = card.base.license
    if card.model_name:
        data.model_name = card.model_name
    data.tags = list(dict.fromkeys([*(getattr(data, "tags", None) or []), *card.front_matter()["tags"]]))

