"""load_model: folders, bundled aliases, the HF cache offline, refusals, devices, dtypes and the shared cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, BertModel, GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

from explorer import InputError, ModelLoadError, load_model
from explorer.models import resolve_device, resolve_dtype

REPO = Path(__file__).resolve().parent.parent


def test_info_describes_the_model(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    config = AutoConfig.from_pretrained(tiny_model_dir)
    info = model.info
    assert info.name == str(tiny_model_dir)
    assert info.architecture == config.architectures[0]
    assert info.model_type == config.model_type
    assert info.layers == config.num_hidden_layers
    assert info.heads == config.num_attention_heads
    assert info.vocab_size == config.vocab_size
    assert info.mask_token == model.tokenizer.mask_token
    assert (info.device, info.dtype) == ("cpu", "float32")
    assert info.parameters == sum(p.numel() for p in model.model.parameters()) > 0
    assert info.max_length == 128
    assert not info.bundled


def test_loads_with_eager_attention_so_weights_come_back(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    assert model.model.config._attn_implementation == "eager"
    assert not model.model.training


def test_same_model_is_loaded_once(tiny_model_dirs):
    path = str(tiny_model_dirs["bert"])
    assert load_model(path) is load_model(path)
    assert load_model(path, cache=False) is not load_model(path)


def test_missing_folder_is_refused():
    with pytest.raises(ModelLoadError, match="No model folder"):
        load_model("./no/such/folder")


def test_incomplete_folder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError):
        load_model(str(tmp_path))


def test_checkpoint_without_mlm_head_is_refused(tiny_model_dirs, tmp_path):
    source = tiny_model_dirs["bert"]
    encoder = BertModel(AutoConfig.from_pretrained(source))
    encoder.save_pretrained(tmp_path)
    for name in os.listdir(source):
        if "token" in name or name.endswith(".txt"):
            shutil.copy(source / name, tmp_path / name)
    with pytest.raises(ModelLoadError, match="no masked-LM head.*BertModel"):
        load_model(str(tmp_path))


def test_causal_lm_is_refused_naming_what_was_found(tmp_path):
    vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "ab": 3}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b\n")
    GPT2Tokenizer.from_pretrained(tmp_path).save_pretrained(tmp_path)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=1, n_embd=8, vocab_size=4, n_positions=16)).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="gpt2 checkpoint.*GPT2LMHeadModel.*without a masked-LM head"):
        load_model(str(tmp_path))


def _custom_code_model(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(
        model_type="explorer-custom-mlm",
        architectures=["CustomForMaskedLM"],
        auto_map={
            "AutoConfig": "configuration_custom.CustomConfig",
            "AutoModelForMaskedLM": "modeling_custom.CustomForMaskedLM",
        },
    )
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_custom.py").write_text(textwrap.dedent("""
        from transformers import BertConfig

        class CustomConfig(BertConfig):
            model_type = "explorer-custom-mlm"
    """))
    (folder / "modeling_custom.py").write_text(textwrap.dedent("""
        from transformers import BertForMaskedLM
        from .configuration_custom import CustomConfig

        class CustomForMaskedLM(BertForMaskedLM):
            config_class = CustomConfig
    """))
    return folder


def test_remote_code_is_refused_unless_the_caller_opts_in(tiny_model_dirs, tmp_path):
    folder = _custom_code_model(tiny_model_dirs["bert"], tmp_path / "custom")
    with pytest.raises(ModelLoadError, match="trust_remote_code=True.*--trust-remote-code"):
        load_model(str(folder))
    model = load_model(str(folder), trust_remote_code=True, cache=False)
    assert model.info.architecture == "CustomForMaskedLM"


def _fake_hub_cache(hf_home: Path, repo_id: str, source: Path) -> None:
    """Lay `source` out as huggingface_hub's cache does: models--org--name/{refs/main, snapshots/<rev>/}."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    revision = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(source, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)


def _run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
        cwd=REPO,
    )


def test_hub_id_loads_offline_from_the_hf_cache(tiny_model_dirs, tmp_path):
    _fake_hub_cache(tmp_path, "tiny-org/tiny-roberta", tiny_model_dirs["roberta"])
    code = (
        "from explorer import load_model, predict_masks\n"
        "m = load_model('tiny-org/tiny-roberta')\n"
        "r = predict_masks(m, 'the [MASK] sat.')\n"
        "print(m.info.name, m.info.architecture, r.tokens[r.masks[0].position])\n"
    )
    done = _run_python(code, {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["tiny-org/tiny-roberta", "RobertaForMaskedLM", "<mask>"]


def test_uncached_hub_id_offline_says_where_and_how(tmp_path):
    code = (
        "from explorer import load_model, ModelLoadError\n"
        "try:\n    load_model('bert-base-uncased')\n"
        "except ModelLoadError as e:\n    print(e)\n"
    )
    done = _run_python(code, {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert "not in the local Hugging Face cache" in message
    assert str(tmp_path / "hub") in message
    assert "hf download bert-base-uncased" in message
    assert "HF_HUB_OFFLINE" in message


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type in {expected, "mps"}
    with pytest.raises(InputError, match="Unknown device"):
        resolve_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            resolve_device("cuda")


def test_dtypes(tiny_model_dirs):
    assert resolve_dtype(None) is torch.float32
    assert resolve_dtype("bf16") is torch.bfloat16
    with pytest.raises(InputError, match="Unknown dtype"):
        resolve_dtype("int3")
    model = load_model(str(tiny_model_dirs["bert"]), dtype="bfloat16", cache=False)
    assert model.info.dtype == "bfloat16"
    assert next(model.model.parameters()).dtype is torch.bfloat16


def test_empty_name_is_refused():
    with pytest.raises(InputError, match="No model name"):
        load_model("  ")


def test_unreachable_hub_fails_fast_with_the_same_advice(tmp_path):
    code = (
        "from explorer import load_model, ModelLoadError\n"
        "try:\n    load_model('bert-base-uncased')\n"
        "except ModelLoadError as e:\n    print(e)\n"
    )
    # A closed local port stands in for a Hub that cannot be reached (no retries should follow).
    done = _run_python(code, {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
    assert "could not be reached" in done.stdout
    assert "hf download bert-base-uncased" in done.stdout
    assert "Retrying" not in done.stderr


class _OnlineOnly:
    """Stands in for an Auto class: nothing is cached locally, a download returns the tiny model's files."""

    def __init__(self, real, folder: Path, calls: list) -> None:
        self.real, self.folder, self.calls = real, folder, calls

    def from_pretrained(self, source, *args, local_files_only=False, **kwargs):
        self.calls.append((self.real.__name__, local_files_only))
        if local_files_only:
            raise OSError(f"{source} is not in the cache")
        return self.real.from_pretrained(str(self.folder), *args, **kwargs)


def test_a_hub_model_not_cached_yet_is_downloaded_whole(monkeypatch, tiny_model_dirs):
    import explorer.models as models

    calls: list = []
    for name in ("AutoConfig", "AutoTokenizer", "AutoModelForMaskedLM"):
        monkeypatch.setattr(models, name, _OnlineOnly(getattr(models, name), tiny_model_dirs["bert"], calls))
    monkeypatch.setattr(models, "_hub_offline", lambda: False)
    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=3.0: True)
    model = load_model("some-org/not-cached-yet", cache=False)
    assert model.info.name == "some-org/not-cached-yet"
    assert calls == [("AutoConfig", True), ("AutoConfig", False), ("AutoTokenizer", False),
                     ("AutoModelForMaskedLM", False)]


def test_a_bundled_alias_without_its_files_never_goes_to_the_hub(monkeypatch, tmp_path):
    monkeypatch.setenv("MLM_EXPLORER_ASSETS", str(tmp_path))
    with pytest.raises(ModelLoadError, match="bundled model 'mini-bert' is not installed"):
        load_model("mini-bert")


@pytest.mark.parametrize("name", ["config.json", "a/b/c", "bad name", "-lead"])
def test_names_that_are_neither_folders_nor_hub_ids_are_refused(name):
    with pytest.raises(ModelLoadError, match="No model folder"):
        load_model(name)
