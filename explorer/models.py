"""Loading masked language models by hub id, local folder or bundled alias, with a bounded shared cache."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, PreTrainedModel
from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from explorer.bundled import assets_dir, bundled_path, is_bundled_alias
from explorer.cache import LruCache
from explorer.errors import ExplorerError, InputError, ModelLoadError
from explorer.forward import install_position_narrowing
from explorer.limits import check_parameter_count

CACHE_SIZE_ENV = "MLM_EXPLORER_CACHE_SIZE"
DEFAULT_CACHE_SIZE = 3

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}
# Tokenizers without a real limit report a huge sentinel (1e30) as model_max_length.
_NO_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a person wants to know about a loaded model; plain values only."""

    name: str
    source: str
    architecture: str
    model_type: str
    layers: int
    heads: int
    vocab_size: int
    mask_token: str
    device: str
    dtype: str
    parameters: int
    max_length: int
    bundled: bool


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A masked LM ready for inference: the torch module in eval mode, its tokenizer and its metadata."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    info: ModelInfo


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for `device`: "auto" picks cuda, then mps, then cpu; anything else is used as given."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise InputError(f"Unknown device {device!r}; use auto, cpu, cuda, cuda:0 or mps.") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"Device {device!r} was asked for but CUDA is not available here; use --device cpu.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"Device {device!r} was asked for but MPS is not available here; use --device cpu.")
    return resolved


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    """The torch dtype for `dtype` (None means float32, which attribution and exact comparisons need)."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        if dtype in _DTYPES.values():
            return dtype
        raise InputError(f"Unsupported dtype {dtype}; use float32, float16 or bfloat16.")
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise InputError(f"Unknown dtype {dtype!r}; use float32, float16 or bfloat16.") from None


def load_model(
    name_or_path: str,
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
    *,
    trust_remote_code: bool = False,
    cache: bool = True,
    kind: str | None = None,
    max_parameters: int | None = None,
) -> LoadedModel:
    """Load a masked language model, reusing the shared cache when the same model was loaded before.

    Args:
        name_or_path: a bundled alias (`mini-bert`), a local folder, or a Hugging Face hub id.
        device: "auto" (cuda, then mps, then cpu) or an explicit torch device such as "cpu" or "cuda:1".
        dtype: None or "float32" (default), "float16" or "bfloat16".
        trust_remote_code: run custom code shipped with the checkpoint; only when the caller opts in.
        cache: False loads a private copy that bypasses the shared cache.
        kind: "bundled", "local" or "hub" to take the name as that form only (a web request's name is decided by
            its form, never by what exists in the server's working directory); None guesses as the CLI does.
        max_parameters: refuse a larger model after reading its config, before any weight is read or downloaded.
    Returns:
        The model in eval mode on `device`, with its tokenizer and a `ModelInfo`.
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise InputError('No model name given; try "mini-bert" or a hub id such as "bert-base-uncased".')
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype)
    name = name_or_path.strip()
    source = _resolve_source(name, kind)
    key = (source[0], str(torch_device), str(torch_dtype), trust_remote_code)
    if not cache:
        return _load_uncached(name, source, torch_device, torch_dtype, trust_remote_code, max_parameters)
    return MODEL_CACHE.get(key, lambda: _load_uncached(name, source, torch_device, torch_dtype, trust_remote_code,
                                                       max_parameters))


def _cache_size_from_env() -> int:
    raw = os.environ.get(CACHE_SIZE_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CACHE_SIZE


# Shared by every caller in the process (CLI, web requests, notebooks).
MODEL_CACHE: LruCache[LoadedModel] = LruCache(_cache_size_from_env())


# The Hub's repository naming rules: "name" or "owner/name", letters, digits, "-", "_", ".", at most 96 each,
# not starting or ending with "-" or ".", and no "--" or "..".
_HUB_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
_HUB_ID = re.compile(rf"{_HUB_PART}(?:/{_HUB_PART})?")


def is_hub_id(name: str) -> bool:
    """Whether `name` is shaped like a Hugging Face hub id ("name" or "owner/name")."""
    return _HUB_ID.fullmatch(name) is not None and ".." not in name and "--" not in name


def _resolve_source(name: str, kind: str | None = None) -> tuple[str, str]:
    """(source, kind) where kind is "bundled", "local" or "hub"; a given `kind` is the only form tried."""
    if kind == "hub":
        if not is_hub_id(name) or is_bundled_alias(name):
            raise ModelLoadError(f"{name!r} is not a hub id; give one such as bert-base-uncased.")
        return name, "hub"
    if kind == "local":
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"No model folder at {name!r}; give a folder with config.json.")
        return str(path.resolve()), "local"
    folder = bundled_path(name)
    if folder is not None:
        return str(folder), "bundled"
    if is_bundled_alias(name):
        # Never fall through to the Hub: a repository there could carry the same short name.
        raise ModelLoadError(
            f"The bundled model {name!r} is not installed (no {assets_dir() / 'models' / name}/config.json); "
            f"use a full clone of MLM Explorer (or set MLM_EXPLORER_ASSETS), or pick a hub model such as "
            f"bert-base-uncased."
        )
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), "local"
    if not is_hub_id(name) or path.suffix in {".json", ".bin", ".safetensors", ".pt"}:
        raise ModelLoadError(
            f"No model folder at {name!r}; give a folder with config.json, a bundled alias (mini-bert) "
            f"or a hub id such as bert-base-uncased."
        )
    return name, "hub"


def _hub_offline() -> bool:
    import huggingface_hub.constants as hub_constants

    flag = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return bool(hub_constants.HF_HUB_OFFLINE) or flag.upper() in {"1", "ON", "YES", "TRUE"}


def _not_available_message(name: str, reason: str) -> str:
    import huggingface_hub.constants as hub_constants

    # The web app takes the server's folders out of every message (explorer.ui.errors.hide_paths).
    return (
        f"Model {name!r} is not in the local Hugging Face cache ({hub_constants.HF_HUB_CACHE}) and "
        f"{reason}. To use it offline, run `hf download {name}` on a machine with internet access, copy its "
        f"cache folder here (or point HF_HOME at it) and set HF_HUB_OFFLINE=1; or pick a bundled model "
        f"such as mini-bert."
    )


# Deadlines of every Hub request (seconds): a Hub that accepts connections and never answers fails one request
# instead of holding a worker forever ($MLM_EXPLORER_HUB_TIMEOUT sets the read deadline).
HUB_CONNECT_TIMEOUT = 3.0
HUB_READ_TIMEOUT = 10.0
HUB_TIMEOUT_ENV = "MLM_EXPLORER_HUB_TIMEOUT"


def _hub_read_timeout() -> float:
    raw = os.environ.get(HUB_TIMEOUT_ENV, "")
    try:
        return float(raw) if raw and float(raw) > 0 else HUB_READ_TIMEOUT
    except ValueError:
        return HUB_READ_TIMEOUT


def _hub_reachable(timeout: float | None = None) -> bool:
    """Whether the Hub answers one small request within its deadlines (connect and read).

    huggingface_hub's own retries take ~25 s to give up offline, and without a read deadline a Hub that accepts
    connections but never answers blocks forever. Any HTTP answer, even an error status, counts as reachable.
    Proxies from the environment are used as huggingface_hub uses them.
    """
    import huggingface_hub.constants as hub_constants

    url = hub_constants.ENDPOINT.rstrip("/") + "/api/models/bert-base-uncased"
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout or min(_hub_read_timeout(), 5.0)):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):  # refused, unresolvable, timed out (socket.timeout is an OSError)
        return False


def _install_hub_deadlines() -> None:
    """Give huggingface_hub's shared HTTP client connect and read deadlines (its default has none)."""
    global _HUB_DEADLINES_SET
    if _HUB_DEADLINES_SET:
        return
    try:
        import httpx2
        from huggingface_hub.utils import _http as hub_http
    except ImportError:  # another huggingface_hub: its own defaults apply
        return

    def client_factory() -> Any:
        return httpx2.Client(event_hooks={"request": [hub_http.hf_request_event_hook]}, follow_redirects=True,
                             timeout=httpx2.Timeout(_hub_read_timeout(), connect=HUB_CONNECT_TIMEOUT))

    hub_http.set_client_factory(client_factory)
    _HUB_DEADLINES_SET = True


_HUB_DEADLINES_SET = False


def count_parameters(config: Any) -> int | None:
    """The parameters of the masked LM that `config` describes, counted on the meta device (nothing allocated);
    None when it is not a masked LM this transformers knows."""
    if type(config) not in MODEL_FOR_MASKED_LM_MAPPING:
        return None
    with torch.device("meta"):
        shell = AutoModelForMaskedLM.from_config(config)
    return sum(p.numel() for p in shell.parameters())


def _load_parts(source: str, kind: str, trust_remote_code: bool,
                max_parameters: int | None = None) -> tuple[Any, Any, bool]:
    """Config, tokenizer and whether they came from local files only (then the weights must too).

    The local cache is tried first, so a cached hub model never touches the network. With `max_parameters`, a
    larger model is refused from its config, before the tokenizer or any weight is read.
    """
    if kind == "hub":
        _install_hub_deadlines()
    attempts = [True] if kind != "hub" or _hub_offline() else [True, False]
    last_error: Exception | None = None
    for local_only in attempts:
        try:
            config = AutoConfig.from_pretrained(
                source, trust_remote_code=trust_remote_code, local_files_only=local_only
            )
            _check_parameters(config, source, max_parameters)
            tokenizer = AutoTokenizer.from_pretrained(
                source, trust_remote_code=trust_remote_code, local_files_only=local_only
            )
            return config, tokenizer, local_only
        except ValueError as error:
            if "trust_remote_code" in str(error):
                raise ModelLoadError(
                    f"Model {source!r} needs to run custom code from its repository, which MLM Explorer "
                    f"never does on its own. If you trust that code, load it with "
                    f"load_model(..., trust_remote_code=True) or the CLI flag --trust-remote-code."
                ) from error
            raise ModelLoadError(
                f"Could not load {source!r} ({error}); check that the folder or hub id is a masked language model."
            ) from error
        except OSError as error:
            last_error = error
            if local_only and len(attempts) > 1 and not _hub_reachable():
                break
    if kind == "snapshot":
        raise ModelLoadError(f"The hub model's files are incomplete in the local cache: {last_error}") \
            from last_error
    if kind != "hub":
        raise ModelLoadError(
            f"The folder {source!r} is not a complete model (config.json and tokenizer files are needed): "
            f"{last_error}"
        ) from last_error
    reason = "HF_HUB_OFFLINE is set" if _hub_offline() else "the Hugging Face Hub could not be reached"
    raise ModelLoadError(_not_available_message(source, reason)) from last_error


def _exists_here(name: str) -> bool:
    try:
        return Path(name).exists()
    except OSError:
        return False


# The files of a snapshot that loading needs (no duplicate weights in other frameworks' formats).
_SNAPSHOT_FILES = ["*.json", "*.txt", "*.model", "*.safetensors", "*.tiktoken", "spiece*", "sentencepiece*"]


def _hub_snapshot(repo_id: str, trust_remote_code: bool, max_parameters: int | None) -> str:
    """The local snapshot folder of hub repository `repo_id` (from the cache, else downloaded), read by path."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, allow_patterns=_SNAPSHOT_FILES, local_files_only=True)
    except Exception as error:  # not cached (LocalEntryNotFoundError and the like)
        cached_error = error
    if _hub_offline() or not _hub_reachable():
        reason = "HF_HUB_OFFLINE is set" if _hub_offline() else "the Hugging Face Hub could not be reached"
        raise ModelLoadError(_not_available_message(repo_id, reason)) from cached_error
    _install_hub_deadlines()
    try:
        config_folder = snapshot_download(repo_id, allow_patterns=["config.json"])
        _check_parameters(AutoConfig.from_pretrained(config_folder, trust_remote_code=trust_remote_code,
                                                     local_files_only=True), repo_id, max_parameters)
        return snapshot_download(repo_id, allow_patterns=_SNAPSHOT_FILES)
    except ExplorerError:
        raise
    except Exception as error:
        raise ModelLoadError(_not_available_message(repo_id, "it could not be downloaded")) from error


def _check_parameters(config: Any, name: str, max_parameters: int | None) -> None:
    if max_parameters is None:
        return
    count = count_parameters(config)
    if count is not None:
        check_parameter_count(count, max_parameters, name)


def _load_uncached(name: str, resolved: tuple[str, str], device: torch.device, dtype: torch.dtype,
                   trust_remote_code: bool, max_parameters: int | None = None) -> LoadedModel:
    source, kind = resolved
    if kind == "hub" and _exists_here(source):
        # transformers would open the folder of that name in the working directory instead of the Hub repository:
        # read the repository's own snapshot, so a hub id never reveals (or loads) what exists on the server.
        source = _hub_snapshot(source, trust_remote_code, max_parameters)
        kind = "snapshot"
    config, tokenizer, local_only = _load_parts(source, kind, trust_remote_code, max_parameters)
    if type(config) not in MODEL_FOR_MASKED_LM_MAPPING and not _has_remote_mlm(config, trust_remote_code):
        found = ", ".join(getattr(config, "architectures", None) or [config.model_type])
        raise ModelLoadError(
            f"{name!r} is a {config.model_type} checkpoint ({found}) without a masked-LM head, so it cannot "
            f"fill masks; choose a masked language model such as mini-bert or bert-base-uncased."
        )
    if tokenizer.mask_token is None or tokenizer.mask_token_id is None:
        raise ModelLoadError(
            f"The tokenizer of {name!r} defines no mask token, so it cannot fill masks; choose a masked language "
            f"model such as mini-bert or bert-base-uncased."
        )
    try:
        model, loading_info = AutoModelForMaskedLM.from_pretrained(
            source,
            config=config,
            attn_implementation="eager",  # sdpa silently returns no attention weights
            dtype=dtype,
            trust_remote_code=trust_remote_code,
            local_files_only=local_only,
            output_loading_info=True,
        )
    except OSError as error:
        if kind in ("hub", "snapshot"):
            raise ModelLoadError(_not_available_message(name, "its weights could not be read or downloaded")) \
                from error
        raise ModelLoadError(
            f"Could not read the weights of {name!r} ({error}); check that the folder holds model.safetensors "
            f"or pytorch_model.bin."
        ) from error
    missing = [k for k in loading_info.get("missing_keys", ()) if k]
    if missing:
        found = ", ".join(getattr(config, "architectures", None) or [config.model_type])
        raise ModelLoadError(
            f"{name!r} holds no masked-LM head (found {found}; missing weights such as {missing[0]}), so its "
            f"predictions would be random; choose a masked language model such as mini-bert or bert-base-uncased."
        )
    model.to(device)
    model.eval()
    install_position_narrowing(model)
    _install_inspection_hooks(model)
    _install_output_hooks(model)
    return LoadedModel(model=model, tokenizer=tokenizer, info=_describe(name, source, kind, model, tokenizer))


def _install_inspection_hooks(model: PreTrainedModel) -> None:
    """The layer lens's and head ablation's hooks, idle until a call asks; installed before the model is shared."""
    from explorer.ablation import install_head_ablation
    from explorer.layers import install_layer_lens

    install_layer_lens(model)
    install_head_ablation(model)


def _install_output_hooks(model: PreTrainedModel) -> None:
    """Install transformers' output-capturing hooks now, before the model is shared between threads.

    transformers 5 adds them lazily on the first forward that asks for attentions; done here, no request ever
    sees a model whose hooks are half installed (attribution copies the module tree while others run).
    """
    try:
        from transformers.utils.output_capturing import maybe_install_capturing_hooks
    except ImportError:  # older or newer transformers without lazy hooks: nothing to prepare
        return
    maybe_install_capturing_hooks(model)


def _has_remote_mlm(config: Any, trust_remote_code: bool) -> bool:
    auto_map = getattr(config, "auto_map", None) or {}
    return trust_remote_code and "AutoModelForMaskedLM" in auto_map


def _describe(name: str, source: str, kind: str, model: PreTrainedModel, tokenizer: Any) -> ModelInfo:
    config = model.config
    limits = [n for n in (tokenizer.model_max_length, getattr(config, "max_position_embeddings", None))
              if isinstance(n, int) and 0 < n < _NO_LIMIT]
    first_param = next(model.parameters())
    return ModelInfo(
        name=name,
        source=source,
        architecture=type(model).__name__,
        model_type=config.model_type,
        layers=int(config.num_hidden_layers),
        heads=int(config.num_attention_heads),
        vocab_size=int(config.vocab_size),
        mask_token=str(tokenizer.mask_token),
        device=str(first_param.device),
        dtype=str(first_param.dtype).removeprefix("torch."),
        parameters=sum(p.numel() for p in model.parameters()),
        max_length=min(limits) if limits else 512,
        bundled=kind == "bundled",
    )
