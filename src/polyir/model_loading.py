"""Load any sentence-transformers or Hugging Face encoder; its prompts; device and dtype.

Loading goes through `sentence_transformers.SentenceTransformer`, which reads
``modules.json`` (pooling, Normalize, Dense, Router, ...) and the model's prompts; a plain
Hugging Face checkpoint gets mean pooling.  polyir adds: one-line errors for missing
models, ``device="auto"``, a checked ``dtype``, a ``max_seq_length`` override, quiet
loading, and a content fingerprint (`polyir.fingerprint`) used as the embedding-cache key.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from safetensors import SafetensorError, safe_open

from . import fingerprint as fp
from .device_checks import single_process_device
from .errors import ConfigError, InputError
from .fingerprint import parameter_dtype
from .io import looks_like_local_path, read_json

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16")
PASSAGE_PROMPT_NAMES = ("document", "passage", "corpus")  # the order SentenceTransformer.encode_document uses


@dataclass(frozen=True)
class Prompts:
    """Text prepended to queries and to passages before tokenisation ("" = no prompt)."""

    query: str = ""
    passage: str = ""

    def for_kind(self, kind: str) -> str:
        if kind == "query":
            return self.query
        if kind == "passage":
            return self.passage
        raise ConfigError(f"text kind must be 'query' or 'passage', got {kind!r}")


PROMPT_PRESETS = {
    "none": Prompts("", ""),
    "e5": Prompts("query: ", "passage: "),  # multilingual-E5's own prefixes
    "paper": Prompts("Query: ", "Passage: "),  # Elmahdy et al. 2024 (capitalised E5 prefixes)
}


def model_prompts(model: "SentenceTransformer") -> Prompts:
    """The prompts a model declares: ``query``; for passages the first non-empty of
    ``document``, ``passage``, ``corpus`` (the names `encode_document` tries); else the
    default prompt.  Non-empty first because sentence-transformers 6 fills in ``""`` for
    missing ``query`` / ``document`` keys, which would hide an older model's ``passage``."""
    prompts: Mapping[str, str] = getattr(model, "prompts", None) or {}
    default = prompts.get(getattr(model, "default_prompt_name", None) or "", "")
    query = prompts.get("query") or default
    passage = next((prompts[name] for name in PASSAGE_PROMPT_NAMES if prompts.get(name)), default)
    return Prompts(query=query, passage=passage)


def resolve_prompts(spec: "Prompts | str | Mapping[str, str] | None", model: "SentenceTransformer") -> Prompts:
    """Prompts from a spec: ``None`` or ``"model"`` (the model's own), a preset name
    (``"none"``, ``"e5"``, ``"paper"``), a mapping with ``query`` / ``passage`` keys, or a `Prompts`."""
    if isinstance(spec, Prompts):
        return spec
    if spec is None or spec == "model":
        return model_prompts(model)
    if isinstance(spec, str):
        if spec not in PROMPT_PRESETS:
            raise ConfigError(f"unknown prompts {spec!r}; choose 'model', one of {sorted(PROMPT_PRESETS)}, "
                              "or give explicit query and passage prompts")
        return PROMPT_PRESETS[spec]
    unknown = set(spec) - {"query", "passage"}
    if unknown:
        raise ConfigError(f"prompts mapping has unknown keys {sorted(unknown)}; expected 'query' and 'passage'")
    return Prompts(query=spec.get("query", ""), passage=spec.get("passage", ""))


@dataclass(frozen=True)
class LoadedModel:
    """A loaded encoder and what identifies it.  ``module`` is the SentenceTransformer."""

    module: "SentenceTransformer"
    source: str  # the directory or hub name it was loaded from
    content_digest: str  # hash of the files it was loaded from (polyir.fingerprint)
    device: str
    prompts: Prompts  # the model's own prompts
    loaded_state: tuple = field(repr=False, default=())  # fingerprint.weights_state at load time

    @property
    def fingerprint(self) -> str:
        """The cache key; recomputed from the tensors if the weights changed since loading."""
        return model_fingerprint(self)

    @property
    def max_seq_length(self) -> int | None:
        return self.module.max_seq_length

    @property
    def dtype(self) -> str:
        return parameter_dtype(self.module)


def model_fingerprint(model: "LoadedModel | SentenceTransformer") -> str:
    """Fingerprint of a loaded model (files digest) or of an in-memory model (tensor digest).

    A `LoadedModel` whose tensors were modified in place after loading (training) falls back
    to the tensor digest, so a stale cache entry can never be served."""
    if isinstance(model, LoadedModel):
        module = model.module
        unchanged = model.content_digest and fp.weights_state(module) == model.loaded_state
        content = model.content_digest if unchanged else fp.module_digest(module)
    else:
        module, content = model, fp.module_digest(model)
    return fp.combine(content, max_seq_length=module.max_seq_length, dtype=fp.parameter_dtype(module))


def resolve_device(device: str = "auto", setting: str = "device") -> str:
    """``auto`` -> ``cuda`` when available, else ``mps`` (Apple), else ``cpu``; an explicit device
    the machine lacks is a `ConfigError` naming ``setting`` (`polyir.device_checks`)."""
    return single_process_device(device, setting)


def check_dtype(dtype: str, device: str) -> "Any":
    """The torch dtype for a name; float16 is refused on CPU (slow or unsupported kernels and
    overflow-prone; bfloat16 is the half-precision choice there)."""
    import torch

    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if dtype == "float16" and device.startswith("cpu"):
        raise ConfigError("dtype float16 needs a GPU; on CPU use bfloat16 or float32")
    return getattr(torch, dtype)


def load_model(name_or_path: str | Path, *, device: str = "auto", dtype: str = "float32",
               max_seq_length: int | None = None, trust_remote_code: bool = False,
               revision: str | None = None) -> LoadedModel:
    """Load a sentence-transformers directory, a plain Hugging Face checkpoint (mean pooling),
    or a hub name.  Raises `InputError` (one line) when the model cannot be found or read."""
    source = str(name_or_path)
    local = _local_model_dir(source)
    device = resolve_device(device)
    torch_dtype = check_dtype(dtype, device)
    if max_seq_length is not None and max_seq_length < 1:
        raise ConfigError(f"max_seq_length must be positive, got {max_seq_length}")
    module = _load_sentence_transformer(str(local) if local else source, device=device, torch_dtype=torch_dtype,
                                        trust_remote_code=trust_remote_code, revision=revision)
    if max_seq_length is not None:
        module.max_seq_length = max_seq_length
    directory = local or _hub_snapshot(source, revision)
    loaded = LoadedModel(module=module, source=source, device=device, prompts=model_prompts(module),
                         content_digest=fp.directory_digest(directory) if directory else fp.module_digest(module),
                         loaded_state=fp.weights_state(module))
    log.info("loaded %s on %s (%s, max_seq_length %s)", source, device, dtype, module.max_seq_length)
    return loaded


def _local_model_dir(source: str) -> Path | None:
    """The local directory for ``source``, ``None`` for a hub name; `InputError` for a path
    that does not exist or is not a model."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError("not a model directory (it is a file)", path=path)
        if not ((path / "modules.json").exists() or (path / "config.json").exists()):
            raise InputError("not a model directory (no modules.json or config.json)", path=path)
        check_model_files(path)
        return path
    if looks_like_local_path(source):
        raise InputError("model directory not found", path=source)
    return None


MODEL_JSON_FILES = ("config.json", "config_sentence_transformers.json", "sentence_bert_config.json",
                    "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def check_model_files(path: Path) -> None:
    """Check the files of a local model before a library reads them, so that a truncated,
    binary or misplaced file is reported by name (the libraries fail on them with anything
    from a `TypeError` to a Rust panic, or silently skip them)."""
    modules = _json_object(path / "modules.json", required=False, kind=list) or []
    for i, module in enumerate(modules):
        if not (isinstance(module, dict) and isinstance(module.get("path"), str)
                and isinstance(module.get("type"), str)):
            raise InputError(f"entry {i} must be an object with string 'path' and 'type'", path=path / "modules.json")
    directories = [path] + [path / m["path"] for m in modules if m["path"]]
    for directory in directories:
        for name in MODEL_JSON_FILES + (("config.json",) if directory != path else ()):
            _json_object(directory / name, required=False)
    for name in WEIGHT_FILES:
        if (path / name).exists() and not (path / name).is_file():
            raise InputError("expected a weights file, found a directory", path=path / name)
    weights = path / "model.safetensors"
    if weights.is_file():
        _check_safetensors(weights)


def _json_object(path: Path, *, required: bool, kind: type = dict):
    if not path.exists() and not path.is_symlink():
        if required:
            raise InputError("file not found", path=path)
        return None
    if not path.is_file():
        raise InputError("expected a JSON file, found a directory" if path.is_dir() else "not a readable file",
                         path=path)
    value = read_json(path)
    if not isinstance(value, kind):
        raise InputError(f"expected a JSON {'array' if kind is list else 'object'}, got {type(value).__name__}",
                         path=path)
    return value


def _check_safetensors(path: Path) -> None:
    """Reads the header only: a truncated or overwritten file fails here, not mid-load."""
    try:
        with safe_open(str(path), framework="pt"):
            pass
    except (SafetensorError, OSError) as err:
        raise InputError(f"corrupt or truncated weights file: {err}", path=path) from None


def _load_sentence_transformer(source: str, *, device: str, torch_dtype, trust_remote_code: bool,
                               revision: str | None) -> "SentenceTransformer":
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_transformers():
            # loading directly in half precision halves peak memory; float32 is the default anyway
            model_kwargs = {} if torch_dtype == torch.float32 else {"dtype": torch_dtype}
            model = SentenceTransformer(source, device=device, trust_remote_code=trust_remote_code,
                                        revision=revision, model_kwargs=model_kwargs)
            getattr(model, "preprocess", model.tokenize)(["polyir"])  # a tokenizer that cannot tokenise fails here
    except Exception as err:  # noqa: BLE001 - the libraries raise anything on a broken model; --debug shows it
        first_line = (str(err).strip().splitlines() or [""])[0]
        raise InputError(f"cannot load model: {type(err).__name__}: {first_line}", path=source) from err
    return model.to(torch_dtype)  # modules after the transformer (Dense, ...) too


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and weight-loading progress bar, then restore them."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _hub_snapshot(name: str, revision: str | None) -> Path | None:
    """The local snapshot directory of a hub model SentenceTransformer just downloaded."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, revision=revision, local_files_only=True))
    except Exception as err:  # noqa: BLE001 - any failure: fingerprint the loaded tensors instead
        log.debug("no local snapshot for %s (%s); fingerprinting the loaded weights", name, err)
        return None
