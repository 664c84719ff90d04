"""Writing the synthetic world's facts and questions in one synthetic language.

A sentence is its subject (S), verb (V) and object/value (O) noun phrases in the language's
word order, with sentence adverbs at the start or before the verb and, in verb-final
languages, case particles after S and O.  A question replaces the asked slot with a question
word, which moves to the front in verb-medial/initial languages and stays in place (with a
final question particle) in verb-final ones.
"""
from __future__ import annotations

from dataclasses import dataclass

from .synthetic_language import Language
from .synthetic_world import Entity, Fact, Question, Value


@dataclass(frozen=True)
class RenderedSentence:
    text: str
    subject_span: tuple[int, int]  # character span of the subject noun phrase (name or pronoun)
    value_span: tuple[int, int]  # character span of the value noun phrase (the usual answer)


def render_value(lang: Language, value: Value) -> str:
    if isinstance(value, Entity):
        name = lang.name(value.syllables)
        return f"{name} {lang.word(f'org.{value.org_type}')}" if value.kind == "org" else name
    if isinstance(value, int):
        return str(value)
    return lang.word(value)


def render_sentence(lang: Language, fact: Fact) -> RenderedSentence:
    subject = lang.word("pronoun") if fact.pronoun else lang.name(fact.subject.syllables)
    slots = {"S": _noun_phrase(lang, subject, "subject"), "V": [lang.word(f"verb.{fact.relation.key}", fact.verb_form)],
             "O": _noun_phrase(lang, render_value(lang, fact.value), "object")}
    adverbs = [lang.word(f"adverb.{a}") for a in fact.adverbs]
    pieces: list[tuple[str, str]] = []  # (slot, word)
    if lang.adverbs_first:
        pieces += [("A", a) for a in adverbs]
    for slot in lang.word_order:
        if slot == "V" and not lang.adverbs_first:
            pieces += [("A", a) for a in adverbs]
        pieces += [(slot, w) for w in slots[slot]]
    text, spans = _join(lang, pieces, lang.script.full_stop)
    return RenderedSentence(text, spans["S"], spans["O"])


def render_question(lang: Language, fact: Fact, question: Question) -> str:
    asked = "O" if question.ask == "object" else "S"
    kind = "attribute" if fact.relation.kind not in ("person", "place", "org", "year", "count") else fact.relation.kind
    slots = {"S": _noun_phrase(lang, lang.name(fact.subject.syllables), "subject"),
             "V": [lang.word(f"verb.{fact.relation.key}", question.verb_form)],
             "O": _noun_phrase(lang, render_value(lang, fact.value), "object")}
    slots[asked] = _noun_phrase(lang, lang.word(f"ask.{kind}"), "subject" if asked == "S" else "object")
    order = list(lang.word_order)
    if lang.wh_fronting:
        order.remove(asked)
        order.insert(0, asked)
    pieces = [(slot, w) for slot in order for w in slots[slot]]
    if not lang.wh_fronting:
        pieces.append(("Q", lang.word("particle.question")))
    return _join(lang, pieces, lang.script.question_mark)[0]


def _noun_phrase(lang: Language, head: str, role: str) -> list[str]:
    return [head, lang.word(f"particle.{role}")] if lang.case_particles else [head]


def _join(lang: Language, pieces: list[tuple[str, str]], stop: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """Space-joined words plus the final stop; spans of the S and O noun heads (not particles)."""
    words, spans, offset = [], {}, 0
    for i, (slot, word) in enumerate(pieces):
        if i == 0 and lang.script.cased:
            word = word[:1].upper() + word[1:]
        if slot in ("S", "O") and slot not in spans:
            spans[slot] = (offset, offset + len(word))
        words.append(word)
        offset += len(word) + 1
    return " ".join(words) + stop, spans
