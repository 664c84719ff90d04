"""Language tokens of multilingual translation models, from polyir's language codes.

* **NLLB-200** names languages by FLORES-200 codes, ISO 639-3 + script (``deu_Latn``,
  ``zho_Hans``, ``arb_Arab``); the target code is forced as the first generated token and the
  source code is prefixed to the input.  `NLLB_CODES` covers all 202 FLORES-200 codes:
  macrolanguages map to the individual language NLLB was trained on (``ar`` → ``arb_Arab``,
  ``fa`` → ``pes_Arab``, ``ms`` → ``zsm_Latn``) and a script tag chooses between scripts
  (``zh`` / ``zh-Hans`` → ``zho_Hans``, ``zh-Hant`` / ``zh-TW`` → ``zho_Hant``).
* **M2M-100** uses ISO 639-1 codes wrapped as ``__de__``.
* **Marian** (OPUS-MT) is one model per language pair; multi-target models choose the
  target with a ``>>deu<<`` / ``>>de<<`` token at the start of the input.

Every code is also checked against the loaded model's vocabulary (`language_token`), so a
model that lacks a language is reported before anything is translated.
"""
from __future__ import annotations

from functools import lru_cache

import langcodes

from ..errors import ConfigError

NLLB_CODES: dict[str, str] = {
    # second scripts, by BCP 47 script tag (twi_Latn is unreachable: langcodes folds tw into ak)
    "ace-Arab": "ace_Arab", "bjn-Arab": "bjn_Arab", "ks-Deva": "kas_Deva", "kr-Arab": "knc_Arab",
    "taq-Tfng": "taq_Tfng",
    "ace": "ace_Latn", "acm": "acm_Arab", "acq": "acq_Arab", "aeb": "aeb_Arab", "af": "afr_Latn",
    "ajp": "ajp_Arab", "ak": "aka_Latn", "am": "amh_Ethi", "apc": "apc_Arab", "ar": "arb_Arab",
    "ars": "ars_Arab", "ary": "ary_Arab", "arz": "arz_Arab", "as": "asm_Beng", "ast": "ast_Latn",
    "awa": "awa_Deva", "ay": "ayr_Latn", "az": "azj_Latn", "azb": "azb_Arab", "ba": "bak_Cyrl",
    "ban": "ban_Latn", "be": "bel_Cyrl", "bem": "bem_Latn", "bg": "bul_Cyrl", "bho": "bho_Deva",
    "bjn": "bjn_Latn", "bm": "bam_Latn", "bn": "ben_Beng", "bo": "bod_Tibt", "bs": "bos_Latn",
    "bug": "bug_Latn", "ca": "cat_Latn", "ceb": "ceb_Latn", "cjk": "cjk_Latn", "ckb": "ckb_Arab",
    "crh": "crh_Latn", "cs": "ces_Latn", "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn",
    "din": "dik_Latn", "dyu": "dyu_Latn", "dz": "dzo_Tibt", "ee": "ewe_Latn", "el": "ell_Grek",
    "en": "eng_Latn", "eo": "epo_Latn", "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab",
    "fa-AF": "prs_Arab", "fi": "fin_Latn", "fil": "tgl_Latn", "tl": "tgl_Latn", "fj": "fij_Latn", "fo": "fao_Latn",
    "fon": "fon_Latn", "fr": "fra_Latn", "fur": "fur_Latn", "fuv": "fuv_Latn", "ga": "gle_Latn",
    "gd": "gla_Latn", "gl": "glg_Latn", "gn": "grn_Latn", "gu": "guj_Gujr", "ha": "hau_Latn", "he": "heb_Hebr",
    "hi": "hin_Deva", "hne": "hne_Deva", "hr": "hrv_Latn", "ht": "hat_Latn", "hu": "hun_Latn",
    "hy": "hye_Armn", "id": "ind_Latn", "ig": "ibo_Latn", "ilo": "ilo_Latn", "is": "isl_Latn",
    "it": "ita_Latn", "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kab": "kab_Latn",
    "kac": "kac_Latn", "kam": "kam_Latn", "kbp": "kbp_Latn", "kea": "kea_Latn", "kg": "kon_Latn",
    "ki": "kik_Latn", "kk": "kaz_Cyrl", "km": "khm_Khmr", "kmb": "kmb_Latn", "kn": "kan_Knda",
    "ko": "kor_Hang", "kr": "knc_Latn", "ks": "kas_Arab", "ku": "kmr_Latn", "ky": "kir_Cyrl", "lb": "ltz_Latn",
    "lg": "lug_Latn", "li": "lim_Latn", "lij": "lij_Latn", "lmo": "lmo_Latn", "ln": "lin_Latn",
    "lo": "lao_Laoo", "lt": "lit_Latn", "ltg": "ltg_Latn", "lua": "lua_Latn", "luo": "luo_Latn",
    "lus": "lus_Latn", "lv": "lvs_Latn", "mag": "mag_Deva", "mai": "mai_Deva", "mg": "plt_Latn",
    "mi": "mri_Latn", "min": "min_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl",
    "mni": "mni_Beng", "mos": "mos_Latn", "mr": "mar_Deva", "ms": "zsm_Latn", "mt": "mlt_Latn",
    "my": "mya_Mymr", "nb": "nob_Latn", "ne": "npi_Deva", "nl": "nld_Latn", "nn": "nno_Latn",
    "nso": "nso_Latn", "nus": "nus_Latn", "ny": "nya_Latn", "oc": "oci_Latn", "om": "gaz_Latn",
    "or": "ory_Orya", "pa": "pan_Guru", "pag": "pag_Latn", "pap": "pap_Latn", "pbt": "pbt_Arab",
    "pl": "pol_Latn", "pt": "por_Latn", "quy": "quy_Latn", "rn": "run_Latn", "ro": "ron_Latn",
    "ru": "rus_Cyrl", "rw": "kin_Latn", "sa": "san_Deva", "sat": "sat_Beng", "sc": "srd_Latn",
    "scn": "scn_Latn", "sd": "snd_Arab", "sg": "sag_Latn", "shn": "shn_Mymr", "si": "sin_Sinh",
    "sk": "slk_Latn", "sl": "slv_Latn", "sm": "smo_Latn", "sn": "sna_Latn", "so": "som_Latn", "sq": "als_Latn",
    "sr": "srp_Cyrl", "ss": "ssw_Latn", "st": "sot_Latn", "su": "sun_Latn", "sv": "swe_Latn", "sw": "swh_Latn",
    "szl": "szl_Latn", "ta": "tam_Taml", "taq": "taq_Latn", "te": "tel_Telu", "tg": "tgk_Cyrl",
    "th": "tha_Thai", "ti": "tir_Ethi", "tk": "tuk_Latn", "tn": "tsn_Latn", "tpi": "tpi_Latn",
    "tr": "tur_Latn", "ts": "tso_Latn", "tt": "tat_Cyrl", "tum": "tum_Latn", "tzm": "tzm_Tfng",
    "ug": "uig_Arab", "uk": "ukr_Cyrl", "umb": "umb_Latn", "ur": "urd_Arab", "uz": "uzn_Latn",
    "vec": "vec_Latn", "vi": "vie_Latn", "war": "war_Latn", "wo": "wol_Latn", "xh": "xho_Latn",
    "yi": "ydd_Hebr", "yo": "yor_Latn", "yue": "yue_Hant", "zh": "zho_Hans", "zh-Hant": "zho_Hant",
    "zu": "zul_Latn",
}

M2M100_LANGUAGES = frozenset(
    "af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he hi hr ht hu "
    "hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl no ns oc or pa pl ps pt "
    "ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo zh zu".split())
M2M100_ALIASES = {"nb": "no", "fil": "tl", "nso": "ns"}  # polyir's normalised code -> the model's


@lru_cache(maxsize=512)
def _candidates(lang: str) -> tuple[str, ...]:
    """``lang`` itself, then language + script (``zh-TW`` -> ``zh-Hant``), then the bare language."""
    tag = langcodes.Language.get(lang)
    out = [lang]
    script = tag.maximize().script
    if script:
        out.append(f"{tag.language}-{script}")
    out.append(tag.language or lang)
    return tuple(dict.fromkeys(out))


def nllb_code(lang: str) -> str:
    """FLORES-200 code of a polyir language code (``de`` -> ``deu_Latn``, ``zh-TW`` -> ``zho_Hant``)."""
    base = tag_language(lang)
    for key in _candidates(lang):
        code = NLLB_CODES.get(key)
        # the bare language's default-script code is wrong for an explicit other script (sr-Latn)
        if code and (key != base or lang == base or _script(lang) == code.split("_")[1]):
            return code
    raise ConfigError(f"no NLLB-200 (FLORES-200) code for language {lang!r}")


def tag_language(lang: str) -> str:
    return lang.split("-")[0]


def _script(lang: str) -> str:
    return langcodes.Language.get(lang).maximize().script or ""


def m2m100_code(lang: str) -> str:
    """The M2M-100 code of a polyir language code (``zh-Hant`` -> ``zh``, ``nb`` -> ``no``)."""
    base = M2M100_ALIASES.get(tag_language(lang), tag_language(lang))
    if base not in M2M100_LANGUAGES:
        raise ConfigError(f"no M2M-100 code for language {lang!r}")
    return base


def marian_codes(lang: str) -> tuple[str, ...]:
    """Spellings OPUS-MT target tokens use for a language: ``de``, ``deu`` (``>>de<<``, ``>>deu<<``)."""
    base = tag_language(lang)
    codes = [lang.replace("-", "_"), base]
    try:
        codes.append(langcodes.Language.get(base).to_alpha3())
    except LookupError:
        pass
    if base in NLLB_CODES:
        codes.append(NLLB_CODES[base].split("_")[0])  # the individual language: ar -> arb
    return tuple(dict.fromkeys(codes))
