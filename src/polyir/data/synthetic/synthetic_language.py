"""The languages of the synthetic data set: scripts, word order, lexicons, and rendering.

Every language gets its own vocabulary of generated syllable words (its own consonant and
vowel subset and syllable shapes) in one of seven scripts from distinct Unicode blocks —
alphabets (Latin, Cyrillic, Greek, Armenian, Georgian), an abugida (Devanagari) and a
syllabary (Ethiopic) — plus a word order, a question strategy and optional case particles.
Names are the one shared surface: a name is a sequence of abstract syllables written in
each script by a fixed transliteration table, so languages that share a script write names
identically (as real names are) and other languages write them in a learnable, consistent
transliteration.  Numbers are written with ASCII digits everywhere, as in most real text.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping, Sequence

N_CONSONANTS = 14  # abstract consonants b d f g k l m n p r s t v z
N_VOWELS = 5  # abstract vowels a e i o u
Syllable = tuple[int, int]  # (consonant, vowel)


@dataclass(frozen=True)
class Script:
    name: str
    syllables: tuple[tuple[str, ...], ...]  # [consonant][vowel] -> written syllable
    codas: tuple[str, ...]  # [consonant] -> syllable-closing consonant
    full_stop: str
    question_mark: str
    cased: bool  # whether names and sentences start with a capital letter

    def write(self, syllables: Sequence[Syllable], coda: int | None = None) -> str:
        text = "".join(self.syllables[c][v] for c, v in syllables)
        return text + (self.codas[coda] if coda is not None else "")


def _alphabet(name: str, consonants: str, vowels: str, stops: str = ".?", cased: bool = True) -> Script:
    cons, vows = consonants.split(), vowels.split()
    return Script(name, tuple(tuple(c + v for v in vows) for c in cons), tuple(cons), stops[0], stops[1], cased)


def _devanagari() -> Script:
    cons = "ब द फ ग क ल म न प र स त व ज".split()
    signs = ("", "\u0947", "\u093f", "\u094b", "\u0941")  # inherent a, e, i, o, u
    return Script("Devanagari", tuple(tuple(c + s for s in signs) for c in cons),
                  tuple(c + "\u094d" for c in cons), "\u0964", "?", False)


def _ethiopic() -> Script:
    rows = (0x1260, 0x12F0, 0x1348, 0x1308, 0x12A8, 0x1208, 0x1218, 0x1290, 0x1350, 0x1228, 0x1230, 0x1270,
            0x1268, 0x12D8)
    orders = (3, 4, 2, 6, 1)  # a e i o u among the seven vowel orders of a row
    return Script("Ethiopic", tuple(tuple(chr(r + o) for o in orders) for r in rows),
                  tuple(chr(r + 5) for r in rows), "\u1362", "\u1367", False)


SCRIPTS: Mapping[str, Script] = {s.name: s for s in (
    _alphabet("Latin", "b d f g k l m n p r s t v z", "a e i o u"),
    _alphabet("Cyrillic", "б д ф г к л м н п р с т в з", "а е и о у"),
    _alphabet("Greek", "β δ φ γ κ λ μ ν π ρ σ τ θ ζ", "α ε ι ο υ", stops=".;"),
    _alphabet("Armenian", "բ դ ֆ գ կ լ մ ն պ ր ս տ վ զ", "ա ե ի ո ը", stops="\u0589?"),
    _alphabet("Georgian", "ბ დ ფ გ კ ლ მ ნ პ რ ს ტ ვ ზ", "ა ე ი ო უ", cased=False),
    _devanagari(),
    _ethiopic(),
)}

# Language i uses SCRIPT_CYCLE[i % 9] and ORDER_CYCLE[i % 6]: with 4 languages qaa and qac share
# the Latin script (names spelled alike), qab is Cyrillic and qad Greek; orders SVO SOV VSO SOV.
SCRIPT_CYCLE = ("Latin", "Cyrillic", "Latin", "Greek", "Devanagari", "Armenian", "Cyrillic", "Georgian", "Ethiopic")
ORDER_CYCLE = ("SVO", "SOV", "VSO", "SOV", "SVO", "VOS")


@dataclass(frozen=True)
class Concept:
    key: str
    forms: int = 1  # number of synonyms
    function_word: bool = False  # short (one syllable)


@dataclass(frozen=True)
class Language:
    code: str
    script: Script
    word_order: str  # a permutation of "SVO"
    wh_fronting: bool  # question word first (else in the questioned slot, as in SOV languages)
    case_particles: bool  # subject and object particles after the noun phrase
    adverbs_first: bool  # sentence adverbs at the start (else just before the verb)
    lexicon: Mapping[str, tuple[str, ...]]

    def word(self, key: str, form: int = 0) -> str:
        forms = self.lexicon[key]
        return forms[form % len(forms)]

    def name(self, syllables: Sequence[Syllable]) -> str:
        text = self.script.write(syllables)
        return text[:1].upper() + text[1:] if self.script.cased else text


# particles that every lexicon has besides the world's concepts
GRAMMAR_CONCEPTS = (Concept("particle.subject", function_word=True), Concept("particle.object", function_word=True),
                    Concept("particle.question", function_word=True))


def make_language(index: int, code: str, seed: int, concepts: Sequence[Concept], taken: set[str]) -> Language:
    """Language number ``index``; its words avoid (and are added to) ``taken``, the words
    already used by earlier languages, so that only names and digits are shared surface."""
    rng = random.Random(f"polyir-synthetic:{seed}:language:{index}")
    script = SCRIPTS[SCRIPT_CYCLE[index % len(SCRIPT_CYCLE)]]
    order = ORDER_CYCLE[index % len(ORDER_CYCLE)]
    phonology = _Phonology(consonants=sorted(rng.sample(range(N_CONSONANTS), 10)),
                           vowels=sorted(rng.sample(range(N_VOWELS), 4)), coda_rate=rng.choice((0.0, 0.3, 0.6)))
    lexicon: dict[str, tuple[str, ...]] = {}
    for concept in (*concepts, *GRAMMAR_CONCEPTS):
        lexicon[concept.key] = tuple(_new_word(rng, script, phonology, concept.function_word, taken)
                                     for _ in range(concept.forms))
    verb_final = order.index("V") == 2
    return Language(code, script, order, wh_fronting=not verb_final, case_particles=verb_final,
                    adverbs_first=rng.random() < 0.5, lexicon=lexicon)


@dataclass(frozen=True)
class _Phonology:
    consonants: list[int]
    vowels: list[int]
    coda_rate: float


def _new_word(rng: random.Random, script: Script, phonology: _Phonology, short: bool, taken: set[str]) -> str:
    for attempt in range(10_000):
        # function words are one syllable; once those run out (many languages in one script), two
        n = (1 if attempt < 50 else 2) if short else rng.choice((2, 2, 3))
        syllables = [(rng.choice(phonology.consonants), rng.choice(phonology.vowels)) for _ in range(n)]
        coda = rng.choice(phonology.consonants) if rng.random() < phonology.coda_rate else None
        word = script.write(syllables, coda)
        if word not in taken:
            taken.add(word)
            return word
    raise RuntimeError("no unused word left")  # unreachable for the supported number of languages
