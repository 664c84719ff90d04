"""The language-independent content of the synthetic data set: entities, facts, articles, questions.

An article is about one person (its subject) and lists facts ``(subject, relation, value)``
in paragraphs of 4-6 sentences.  The subject has each relation at most once, so a question
"relation of subject?" has exactly one answer sentence.  Distractors arise as in real text:
the other sentences of the article share the subject's name; sentences of other articles
share the relation's verb (and places and organisations, which come from shared pools); a
few sentences are about another person of the article (same relation, other entity);
later sentences may refer to the subject by a pronoun, so the answer sentence alone does
not always name the person asked about (the paragraph does).

Everything here is abstract (concept keys, syllable names, numbers); `synthetic_language`
writes it in each language, so all languages are exact translations of each other.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from ...errors import ConfigError
from .synthetic_language import N_CONSONANTS, N_VOWELS, Concept, Syllable


@dataclass(frozen=True)
class Relation:
    key: str
    kind: str  # person | place | org | year | count | an attribute class


RELATIONS = tuple(Relation(key, kind) for key, kind in (
    ("born_in", "place"), ("lives_in", "place"), ("visited", "place"), ("died_in", "place"),
    ("married", "person"), ("met", "person"), ("taught", "person"), ("admired", "person"),
    ("founded", "org"), ("works_for", "org"), ("studied_at", "org"), ("left", "org"),
    ("born_year", "year"), ("moved_year", "year"), ("retired_year", "year"),
    ("wrote_books", "count"), ("won_prizes", "count"), ("has_children", "count"),
    ("profession", "profession"), ("likes_colour", "colour"), ("plays", "instrument"),
    ("eats", "food"), ("keeps", "animal"),
))
ATTRIBUTE_CLASSES = ("profession", "colour", "instrument", "food", "animal")
ATTRIBUTE_VALUES = 10  # per class
ORG_TYPES = 3  # "institute", "company", "school": the word after an organisation's name
ADVERBS = 8  # "also", "later", "famously", ...: sentence noise that questions never repeat
VERB_SYNONYMS = 2  # each relation has two verbs; sentence and question pick independently
QUESTION_KINDS = ("person", "place", "org", "year", "count", "attribute")


def concepts() -> tuple[Concept, ...]:
    """Every word a language needs, in a fixed order (so lexicons are reproducible)."""
    words = [Concept(f"verb.{r.key}", forms=VERB_SYNONYMS) for r in RELATIONS]
    words += [Concept(f"{c}.{i}") for c in ATTRIBUTE_CLASSES for i in range(ATTRIBUTE_VALUES)]
    words += [Concept(f"org.{i}") for i in range(ORG_TYPES)]
    words += [Concept(f"adverb.{i}") for i in range(ADVERBS)]
    words += [Concept(f"ask.{k}", function_word=True) for k in QUESTION_KINDS]
    words.append(Concept("pronoun", function_word=True))
    return tuple(words)


@dataclass(frozen=True)
class Entity:
    kind: str  # person | place | org
    syllables: tuple[Syllable, ...]
    org_type: int = 0


Value = Entity | int | str  # entity, year/count, or attribute concept key


@dataclass(frozen=True)
class Fact:
    subject: Entity
    relation: Relation
    value: Value
    verb_form: int
    adverbs: tuple[int, ...]
    pronoun: bool  # the sentence says "he/she" instead of the subject's name


@dataclass(frozen=True)
class Question:
    id: str  # shared by all languages
    fact: int  # index into the paragraph's facts
    ask: str  # "object" (the value) or "subject" (the person)
    verb_form: int


@dataclass(frozen=True)
class Paragraph:
    facts: tuple[Fact, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Article:
    subject: Entity
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class WorldSpec:
    paragraphs_per_article: int = 3
    sentences_per_paragraph: tuple[int, int] = (4, 6)
    pronoun_rate: float = 0.25
    secondary_rate: float = 0.15
    shared_places: int = 40
    shared_orgs: int = 30


class NameFactory:
    """Unique names (syllable sequences) across the whole data set."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._used: set[tuple[Syllable, ...]] = set()

    def new(self, kind: str) -> Entity:
        while True:
            n = self._rng.choice((2, 3, 3))
            name = tuple((self._rng.randrange(N_CONSONANTS), self._rng.randrange(N_VOWELS)) for _ in range(n))
            if name not in self._used:
                self._used.add(name)
                return Entity(kind, name, self._rng.randrange(ORG_TYPES) if kind == "org" else 0)


def build_world(seed: int, n_eval: int, n_train: int, spec: WorldSpec = WorldSpec()
                ) -> tuple[tuple[Article, ...], tuple[Article, ...]]:
    """Evaluation and training articles with ``n_eval`` and ``n_train`` questions.

    The two splits have disjoint subjects (no leakage); places and organisations are shared,
    as in the real world.  The evaluation split depends only on ``seed`` and ``n_eval``.
    """
    if spec.paragraphs_per_article * spec.sentences_per_paragraph[1] > len(RELATIONS):
        raise ConfigError(f"an article can state at most {len(RELATIONS)} facts about its subject "
                          "(one per relation): fewer paragraphs or sentences per paragraph")
    names = NameFactory(random.Random(f"polyir-synthetic:{seed}:names"))
    pools = {"place": [names.new("place") for _ in range(spec.shared_places)],
             "org": [names.new("org") for _ in range(spec.shared_orgs)]}
    evaluation = _articles(random.Random(f"polyir-synthetic:{seed}:eval"), names, pools, "eval", n_eval, 2, spec)
    training = _articles(random.Random(f"polyir-synthetic:{seed}:train"), names, pools, "train", n_train, 3, spec)
    return evaluation, training


def _articles(rng: random.Random, names: NameFactory, pools: dict, split: str, n_questions: int,
              per_paragraph: int, spec: WorldSpec) -> tuple[Article, ...]:
    articles: list[Article] = []
    left = n_questions
    while left > 0:
        article = _article(rng, names, pools, spec)
        paragraphs = []
        for p, para in enumerate(article.paragraphs):
            questions = _questions(rng, para.facts, min(per_paragraph, left), f"{split}-{len(articles):05d}-{p}")
            left -= len(questions)
            paragraphs.append(Paragraph(para.facts, questions))
        articles.append(Article(article.subject, tuple(paragraphs)))
    return tuple(articles)


def _article(rng: random.Random, names: NameFactory, pools: dict, spec: WorldSpec) -> Article:
    subject = names.new("person")
    relations = iter(rng.sample(RELATIONS, len(RELATIONS)))
    others: dict[Entity, set[str]] = {}  # the article's other persons -> relations stated about them
    paragraphs = []
    for _ in range(spec.paragraphs_per_article):
        facts = []
        for k in range(rng.randint(*spec.sentences_per_paragraph)):
            if k > 0 and others and rng.random() < spec.secondary_rate:
                facts.append(_secondary_fact(rng, names, pools, others))
                continue
            relation = next(relations)
            value = _value(rng, names, pools, relation)
            if relation.kind == "person":
                others[value] = set()
            facts.append(_fact(rng, subject, relation, value, pronoun=k > 0 and rng.random() < spec.pronoun_rate))
        paragraphs.append(Paragraph(tuple(facts), ()))
    return Article(subject, tuple(paragraphs))


def _secondary_fact(rng: random.Random, names: NameFactory, pools: dict, others: dict[Entity, set[str]]) -> Fact:
    person = rng.choice(list(others))
    relation = rng.choice([r for r in RELATIONS if r.kind != "person" and r.key not in others[person]])
    others[person].add(relation.key)
    return _fact(rng, person, relation, _value(rng, names, pools, relation), pronoun=False)


def _fact(rng: random.Random, subject: Entity, relation: Relation, value: Value, pronoun: bool) -> Fact:
    adverbs = tuple(rng.sample(range(ADVERBS), rng.choice((0, 0, 1, 1, 2))))
    return Fact(subject, relation, value, rng.randrange(VERB_SYNONYMS), adverbs, pronoun)


def _value(rng: random.Random, names: NameFactory, pools: dict, relation: Relation) -> Value:
    kind = relation.kind
    if kind == "person":
        return names.new("person")  # a person of this article only: "who married X?" has one answer
    if kind in pools:
        return rng.choice(pools[kind])
    if kind == "year":
        return rng.randint(1650, 2020)
    if kind == "count":
        return rng.randint(2, 60)
    return f"{kind}.{rng.randrange(ATTRIBUTE_VALUES)}"


def _questions(rng: random.Random, facts: tuple[Fact, ...], n: int, id_prefix: str) -> tuple[Question, ...]:
    """Questions about ``n`` different facts of a paragraph; "who <verb> X?" for a named person's
    person-valued fact half of the time, otherwise "<relation> of <subject>?"."""
    chosen = sorted(rng.sample(range(len(facts)), min(n, len(facts))))
    questions = []
    for i, f in enumerate(chosen):
        fact = facts[f]
        by_value = fact.relation.kind == "person" and not fact.pronoun and rng.random() < 0.5
        questions.append(Question(f"{id_prefix}-{i}", f, "subject" if by_value else "object",
                                  rng.randrange(VERB_SYNONYMS)))
    return tuple(questions)

