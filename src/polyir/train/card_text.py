"""`render_card`: the README.md of a trained model (Hugging Face metadata header + markdown)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from ..model_loading import PROMPT_PRESETS
from ..sampling import BATCH_KINDS
from ..sampling.batch_strategy import DESCRIPTIONS, WITH_ALPHA

if TYPE_CHECKING:
    from .model_card import CardEvaluation, ModelCard

PAPER = "[Elmahdy, Lin, Ahmad 2024](https://arxiv.org/abs/2408.10536)"


def render_card(card: "ModelCard") -> str:
    header = yaml.safe_dump(card.front_matter(), sort_keys=False, allow_unicode=True)
    parts = [f"---\n{header}---\n", _title(card), _training(card), _data(card), _composition(card),
             _evaluation(card), _reproduce(card), _usage(card)]
    return "\n".join(part for part in parts if part)


def _title(card: "ModelCard") -> str:
    base = card.base.name_or_path.rstrip("/").rsplit("/", 1)[-1]
    name = card.model_name or f"{base}, {card.strategy} (polyir)"
    return (f"# {name}\n\nA dense retriever fine-tuned from `{card.base.name_or_path}` with "
            f"polyir {card.polyir_version}, batch strategy **{card.strategy}** "
            f"(hybrid batch training, {PAPER}). This card was written by polyir from the run itself: every "
            "figure below is what the run did, not what it was asked to do.\n")


def _training(card: "ModelCard") -> str:
    s, loss = card.sampler, card.loss
    alpha = "" if s["strategy"] not in WITH_ALPHA else (
        f"; α = {s['alpha']:g}" + (f" → {s['alpha_end']:g} (linear)" if s.get("alpha_end") is not None else ""))
    masks = [name for name, on in (("same parallel group", loss["mask_same_group"]),
                                   ("same positive text", loss["mask_same_positive"])) if on]
    rows = [
        ("base model", f"`{card.base.name_or_path}`" + (" (Hugging Face Hub)" if card.base.hub_id else "")),
        ("licence", card.base.license_note),
        ("polyir version", card.polyir_version),
        ("strategy", f"{card.strategy}: {DESCRIPTIONS[s['strategy']]}{alpha}"),
        ("batch size", f"{s['batch_size']} (global); mono languages: {s['language_weighting']}, "
                       f"data-set temperature {s['dataset_temperature']:g}; sampler seed {s['seed']}"),
        ("loss", f"InfoNCE, temperature {loss['temperature']:g}, in-batch negatives"
                 + (f" + {loss['hard_negatives']} hard negatives per item" if loss["hard_negatives"] else "")
                 + (f"; masked: {' or '.join(masks)}" if masks else "; no false-negative mask (the paper's loss)")
                 + (f"; symmetric weight {loss['symmetric_weight']:g}" if loss["symmetric_weight"] else "")),
        ("optimizer", ", ".join(f"{k} {v}" for k, v in card.optimizer.items() if v is not None)),
        ("prompts", "the base model's own" if card.prompts == "model" else
         f"`{json.dumps(card.prompts, ensure_ascii=False)}`"),
        ("training", f"{card.steps:,} steps × {s['batch_size']} = {card.pairs:,} pairs ({card.epochs:g} epochs of "
                     f"the sampler); {card.stopped}"),
        ("this model", card.selected),
    ]
    return "## Training\n\n" + _table(["", ""], rows)


def _data(card: "ModelCard") -> str:
    data = card.data
    rows = [(name, ", ".join(f"{lang} {n:,}" for lang, n in info["pairs_per_language"].items()),
             f"{info['pairs']:,}", f"{info['groups']:,}")
            for name, info in (data.get("per_dataset") or {}).items()]
    sources = "\n".join(f"* `{src['name'] or '(records name it)'}`: {', '.join(f'`{p}`' for p in src['path'])}"
                        f" ({src['format']})" for src in card.sources)
    leakage = data.get("leakage")
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in (leakage or {}).get("groups_by_reason", {}).items() if n)
    guard = (f"\nLeakage guard (training groups overlapping an evaluation set were dropped): "
             f"{leakage['dropped_groups']:,} groups, {leakage['dropped_pairs']:,} pairs"
             + (f" (groups by reason: {reasons})" if reasons else "") + ".\n") if leakage else ""
    return (f"### Training data\n\n{data.get('pairs', 0):,} pairs in {data.get('groups', 0):,} parallel groups, "
            f"languages {', '.join(data.get('languages', []))}.\n\n{sources}\n\n"
            + _table(["data set", "pairs per language", "pairs", "groups"], rows) + guard)


def _composition(card: "ModelCard") -> str:
    c = card.composition
    shares = ", ".join(f"{kind} {c.get(f'share_batches_{kind}', 0):.1%}" for kind in BATCH_KINDS
                       if c.get(f"share_batches_{kind}"))
    mono = ", ".join(f"{key.removeprefix('share_mono_batches_')} {value:.1%}" for key, value in c.items()
                     if key.startswith("share_mono_batches_") and value)
    pairs = ", ".join(f"{pair} {n:,}" for pair, n in sorted(card.language_pairs.items(), key=lambda kv: -kv[1])[:12])
    more = f" (and {len(card.language_pairs) - 12} more)" if len(card.language_pairs) > 12 else ""
    lines = [f"* batches: {c.get('batches', 0):,} — {shares or 'none'}",
             f"* cross-lingual items: {c.get('share_items_cross', 0):.1%}; fallback items (one-language groups "
             f"drawn cross-lingual): {c.get('share_items_fallback', 0):.1%}"]
    if mono:
        lines.append(f"* mono batches by language: {mono}")
    if pairs:
        lines.append(f"* items per query-passage language pair: {pairs}{more}")
    return "### Realised batch composition\n\n" + "\n".join(lines) + "\n"


def _evaluation(card: "ModelCard") -> str:
    if not card.evaluations:
        return ("## Evaluation\n\nNo evaluation was recorded with this model. `polyir evaluate --model THIS_DIR ...` "
                "then `polyir model card THIS_DIR --metrics OUT/metrics.json` adds one.\n")
    rows = [(e.name, e.how, f"`{e.source}`", ", ".join(e.languages) or "all", _number(e.queries, "{:,}"),
             _number(e.mono), _number(e.cross), _number(e.multi), _number(e.rank_distance, "{:.1f}"))
            for e in card.evaluations]
    measure = card.evaluations[0].measure
    return ("## Evaluation\n\nMacro means over the settings of each kind (monolingual X→X, cross-lingual X→Y, "
            f"multilingual X→all pools) of {measure}; rank distance: the language-bias measure of "
            "docs/metrics.md (lower is less biased).\n\n"
            + _table(["set", "how", "data", "languages", "queries", f"mono {measure}", f"cross {measure}",
                      f"multi {measure}", "rank distance"], rows))


def _reproduce(card: "ModelCard") -> str:
    return (f"## Reproduce\n\n```bash\n{card.reproduce}\n```\n\nwith this configuration (also `config.yaml` in "
            f"this directory):\n\n<details><summary>config.yaml</summary>\n\n```yaml\n{card.config_yaml.rstrip()}\n"
            "```\n\n</details>\n")


def _usage(card: "ModelCard") -> str:
    prompts = card.prompts if isinstance(card.prompts, dict) else None
    if isinstance(card.prompts, str) and card.prompts in PROMPT_PRESETS:
        preset = PROMPT_PRESETS[card.prompts]
        prompts = {"query": preset.query, "passage": preset.passage}
    kwargs = tuple(f", prompt={json.dumps(prompts.get(kind, ''), ensure_ascii=False)}" if prompts and prompts.get(kind)
                   else "" for kind in ("query", "passage"))
    return ("## Usage\n\n```python\nfrom sentence_transformers import SentenceTransformer\n\n"
            "model = SentenceTransformer(\"THIS_DIR\")\n"
            f"queries = model.encode([\"...\"]{kwargs[0]})\npassages = model.encode([\"...\"]{kwargs[1]})\n"
            "scores = model.similarity(queries, passages)\n```\n")


def _table(header: list[str], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _number(value: Any, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)
