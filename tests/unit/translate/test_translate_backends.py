"""Backends and cache keys: fingerprints, the CTranslate2 backend, model choice per language pair."""
import shutil
from dataclasses import replace

import pytest

from polyir.errors import ConfigError
from polyir.translate.backends import DecodingSettings, ModelChoice, TranslatorPool, load_translator
from polyir.translate.fingerprints import translation_fingerprint

from translate_fixtures import TOY_DECODING, toy_records


def test_fingerprint_follows_content_and_output_changing_settings(tiny_marian, tmp_path):
    copy = shutil.copytree(tiny_marian, tmp_path / "copy")
    base = translation_fingerprint(str(tiny_marian), TOY_DECODING)
    assert translation_fingerprint(str(copy), TOY_DECODING) == base  # moved / copied: same cache
    assert translation_fingerprint(str(copy), replace(TOY_DECODING, device="cuda")) == base  # device is not
    assert translation_fingerprint(str(copy), replace(TOY_DECODING, num_beams=4)) != base
    assert translation_fingerprint(str(copy), replace(TOY_DECODING, max_length=13)) != base
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("\"d_model\": 32", "\"d_model\":32"))
    assert translation_fingerprint(str(copy), TOY_DECODING) != base  # any file change
    assert translation_fingerprint(str(tmp_path / "missing"), TOY_DECODING) is None


def test_model_choice_templates_and_overrides():
    choice = ModelChoice("Helsinki-NLP/opus-mt-{src}-{tgt}", (("zh", "my/zh-model"),))
    assert choice.name_for("en", "de") == "Helsinki-NLP/opus-mt-en-de"
    assert choice.name_for("en", "zh") == "my/zh-model"
    assert ModelChoice("facebook/nllb-200-distilled-600M").name_for("en", "th") == "facebook/nllb-200-distilled-600M"
    with pytest.raises(ConfigError, match="may only use"):
        ModelChoice("x-{lang}").name_for("en", "de")


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="backend must be one of"):
        DecodingSettings(backend="onnx")
    with pytest.raises(ConfigError, match="must be positive"):
        DecodingSettings(num_beams=0)
    with pytest.raises(ConfigError, match="unknown dtype"):
        load_translator("unused", DecodingSettings(dtype="float7"))


def test_pool_loads_each_model_once_and_only_on_demand(tiny_marian):
    loads = []

    def loader(name, settings):
        loads.append(name)
        return load_translator(name, settings)

    pool = TranslatorPool(ModelChoice(str(tiny_marian)), TOY_DECODING, loader=loader)
    pool.fingerprint("en", "de")
    assert loads == []  # a local model is fingerprinted from its files
    pool.get("en", "de"), pool.get("en", "fr")
    assert loads == [str(tiny_marian)] and pool.models_loaded == 1


def test_ctranslate2_backend(tiny_marian, tmp_path):
    ctranslate2 = pytest.importorskip("ctranslate2")
    from ctranslate2.converters import TransformersConverter

    ct2_dir = TransformersConverter(str(tiny_marian), copy_files=["tokenizer.json", "tokenizer_config.json"]) \
        .convert(str(tmp_path / "ct2"), force=True)
    texts = [r["query"] for r in toy_records(12, seed=21)]
    reference = load_translator(str(tiny_marian), TOY_DECODING).translate(texts, "en", "de")
    settings = replace(TOY_DECODING, backend="ctranslate2")
    translator = load_translator(ct2_dir, settings)
    outputs = translator.translate(texts, "en", "de")
    assert translator.model_calls == 1 and len(outputs) == len(texts)
    # the same network: transformers stops one token earlier at max_length (it forces </s> there)
    assert sum(out.startswith(ref) for out, ref in zip(outputs, reference)) >= 10
    assert translation_fingerprint(ct2_dir, settings) != translation_fingerprint(str(tiny_marian), TOY_DECODING)
    assert ctranslate2.__version__


def test_ctranslate2_missing_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ctranslate2(name, *args, **kwargs):
        if name == "ctranslate2":
            raise ImportError("No module named 'ctranslate2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ctranslate2)
    with pytest.raises(ConfigError, match=r"pip install 'polyir\[ctranslate2\]'"):
        load_translator("any", DecodingSettings(backend="ctranslate2"))


def test_multi_target_opus_mt_model_with_a_real_marian_tokenizer(tmp_path):
    """The MarianTokenizer of OPUS-MT (SentencePiece models trained here) with >>deu<< / >>fra<< tokens."""
    pytest.importorskip("sentencepiece")
    from polyir.translate.tiny import build_tiny_translation_model

    texts = [f"{r['query']} {r['positive']}" for r in toy_records(80, seed=31)]
    model = build_tiny_translation_model(tmp_path / "opus-mt-en-mul", texts, family="marian-multi",
                                         languages=["de", "fr"], vocab_size=150)
    translator = load_translator(str(model), TOY_DECODING)
    assert translator.family == "marian-multi" and type(translator.tokenizer).__name__ == "MarianTokenizer"
    ids = translator.tokenizer(">>deu<< " + texts[0])["input_ids"]
    assert translator.tokenizer.convert_ids_to_tokens(ids[0]) == ">>deu<<"
    german, french = (translator.translate(texts[:4], "en", tgt) for tgt in ("de", "fr"))
    assert german != french  # the target token steers the same network
    with pytest.raises(ConfigError, match="does not know target language 'zh'"):
        translator.translate(texts[:1], "en", "zh")
