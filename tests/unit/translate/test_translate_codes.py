"""Language codes of NLLB-200 / M2M-100 / OPUS-MT and how a loaded model is told the languages."""
import pytest

from polyir.errors import ConfigError
from polyir.translate.codes import M2M100_LANGUAGES, NLLB_CODES, m2m100_code, marian_codes, nllb_code
from polyir.translate.language_tokens import PairTokens, detect_family, pair_tokens

PAPER_AND_XQUAD_R = ["en", "ar", "zh", "de", "es", "ru", "th", "tr", "hi", "el", "vi"]


def test_every_nllb_code_is_a_flores200_code_of_the_tokenizer():
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    assert set(NLLB_CODES.values()) <= set(FAIRSEQ_LANGUAGE_CODES)
    # every FLORES-200 code is reachable but twi_Latn (langcodes folds tw into ak: aka_Latn)
    assert set(FAIRSEQ_LANGUAGE_CODES) - set(NLLB_CODES.values()) == {"twi_Latn"}
    assert nllb_code("ace-Arab") == "ace_Arab" and nllb_code("ace") == "ace_Latn"


def test_m2m100_codes_match_the_tokenizer():
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    assert M2M100_LANGUAGES == set(FAIRSEQ_LANGUAGE_CODES["m2m100"])


@pytest.mark.parametrize("lang,nllb,m2m", [
    ("en", "eng_Latn", "en"), ("ar", "arb_Arab", "ar"), ("zh", "zho_Hans", "zh"), ("zh-Hant", "zho_Hant", "zh"),
    ("zh-TW", "zho_Hant", "zh"), ("de", "deu_Latn", "de"), ("th", "tha_Thai", "th"), ("hi", "hin_Deva", "hi"),
    ("el", "ell_Grek", "el"), ("vi", "vie_Latn", "vi"), ("ko", "kor_Hang", "ko"), ("fa", "pes_Arab", "fa"),
    ("nb", "nob_Latn", "no"), ("fil", "tgl_Latn", "tl"), ("de-AT", "deu_Latn", "de"),
])
def test_codes(lang, nllb, m2m):
    assert nllb_code(lang) == nllb and m2m100_code(lang) == m2m


def test_paper_languages_are_covered_by_all_families():
    for lang in PAPER_AND_XQUAD_R:
        assert nllb_code(lang) and m2m100_code(lang) and lang in marian_codes(lang)


def test_explicit_other_script_is_not_mapped_to_the_default_script():
    with pytest.raises(ConfigError, match="sr-Latn"):
        nllb_code("sr-Latn")  # NLLB has only srp_Cyrl
    with pytest.raises(ConfigError, match="no M2M-100 code for language 'qaa'"):
        m2m100_code("qaa")


class FakeTokenizer:
    def __init__(self, vocab):
        self.vocab = {t: i for i, t in enumerate(vocab)}

    def get_vocab(self):
        return self.vocab


def test_family_detection_and_pair_tokens():
    nllb = FakeTokenizer(["<s>", "eng_Latn", "deu_Latn"])
    m2m = FakeTokenizer(["<s>", "__en__", "__de__"])
    multi = FakeTokenizer(["</s>", ">>deu<<", ">>fra<<"])
    plain = FakeTokenizer(["</s>", "hello"])
    assert [detect_family(t) for t in (nllb, m2m, multi, plain)] == ["nllb", "m2m100", "marian-multi", "pair"]
    assert pair_tokens(nllb, "nllb", "en", "de", "m") == PairTokens(src_lang="eng_Latn", forced_token="deu_Latn")
    assert pair_tokens(m2m, "m2m100", "en", "de", "m") == PairTokens(src_lang="en", forced_token="__de__")
    assert pair_tokens(multi, "marian-multi", "en", "de", "m") == PairTokens(prefix=">>deu<< ")
    assert pair_tokens(plain, "pair", "en", "de", "m") == PairTokens()
    with pytest.raises(ConfigError, match="does not know language 'zh' \\(no token 'zho_Hans'\\)"):
        pair_tokens(nllb, "nllb", "en", "zh", "m")
    with pytest.raises(ConfigError, match="does not know target language 'zh'"):
        pair_tokens(multi, "marian-multi", "en", "zh", "m")
