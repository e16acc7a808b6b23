"""The tiny test models load back from their folders like real checkpoints and behave like their families."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import (
    ARCHITECTURES,
    MAX_LENGTH,
    MULTI_PIECE_WORD,
    SENTENCES,
    SINGLE_PIECE_WORD,
    build_tiny_model,
    word_form,
)
from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, pipeline


def _masked(sentence: str, tokenizer) -> str:
    return sentence.replace("[MASK]", tokenizer.mask_token)


def test_sentences_are_well_formed():
    assert all(s.count("[MASK]") >= 1 for s in SENTENCES)
    assert sum(s.count("[MASK]") == 2 for s in SENTENCES) == 1
    assert set(MULTI_PIECE_WORD) == set(ARCHITECTURES)


def test_tokenizer_loads_back(tiny_model_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = AutoConfig.from_pretrained(tiny_model_dir)
    assert len(tokenizer) == config.vocab_size
    assert tokenizer.model_max_length == MAX_LENGTH
    assert tokenizer.pad_token_id == config.pad_token_id
    for name in ("mask_token_id", "cls_token_id", "sep_token_id", "pad_token_id"):
        token_id = getattr(tokenizer, name)
        assert token_id is not None and token_id != tokenizer.unk_token_id, name
    for sentence in SENTENCES:
        ids = tokenizer(_masked(sentence, tokenizer))["input_ids"]
        assert ids.count(tokenizer.mask_token_id) == sentence.count("[MASK]")
        assert tokenizer.unk_token_id not in ids


def test_attentions_per_layer_with_eager(tiny_model_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForMaskedLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    assert next(model.parameters()).dtype == torch.float32
    batch = tokenizer([_masked(s, tokenizer) for s in SENTENCES[:2]], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, output_attentions=True)
    batch_size, seq_len = batch["input_ids"].shape
    assert out.logits.shape == (batch_size, seq_len, len(tokenizer))
    assert len(out.attentions) == model.config.num_hidden_layers == 2
    for layer in out.attentions:  # [batch, head, query_pos, key_pos]
        assert layer.shape == (batch_size, model.config.num_attention_heads, seq_len, seq_len)
        assert torch.allclose(layer.sum(-1), torch.ones(()), atol=1e-4)


def test_full_length_input_fits_the_positions(tiny_model_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForMaskedLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    long_text = " ".join(SENTENCES).replace("[MASK]", "cat") * 10
    batch = tokenizer(long_text, truncation=True, return_tensors="pt")
    assert batch["input_ids"].shape == (1, MAX_LENGTH)
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (1, MAX_LENGTH, len(tokenizer))
    assert torch.isfinite(logits).all()


def test_fill_mask_pipeline_top5(tiny_model_dir: Path):
    fill_mask = pipeline("fill-mask", model=str(tiny_model_dir))
    mask = fill_mask.tokenizer.mask_token
    for sentence in SENTENCES:
        result = fill_mask(_masked(sentence, fill_mask.tokenizer), top_k=5)
        per_mask = [result] if sentence.count("[MASK]") == 1 else result
        assert len(per_mask) == sentence.count("[MASK]")
        for candidates in per_mask:
            assert len(candidates) == 5
            scores = [c["score"] for c in candidates]
            assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
            assert all(0 <= c["token"] < len(fill_mask.tokenizer) for c in candidates)
            assert all(isinstance(c["token_str"], str) for c in candidates)
            # "sequence" drops special tokens with one mask; with several it keeps them (the other masks too).
            # Random weights may even predict the mask token itself.
            for c in candidates:
                if len(per_mask) == 1:
                    assert mask not in c["sequence"]
                else:
                    predicted_mask = c["token"] == fill_mask.tokenizer.mask_token_id
                    assert c["sequence"].count(mask) == len(per_mask) - 1 + predicted_mask


def test_single_and_multi_piece_words(tiny_model_dir: Path):
    arch = tiny_model_dir.name
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    def pieces(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    assert len(pieces(word_form(arch, SINGLE_PIECE_WORD))) == 1
    assert len(pieces(word_form(arch, MULTI_PIECE_WORD[arch]))) > 1
    # The same counts mid-sentence, without knowing the family's word-boundary convention.
    prefix = len(pieces("the"))
    assert len(pieces(f"the {SINGLE_PIECE_WORD}")) - prefix == 1
    assert len(pieces(f"the {MULTI_PIECE_WORD[arch]}")) - prefix > 1


@pytest.mark.parametrize("arch", ["bert", "xlm-roberta", "modernbert"])
def test_build_is_deterministic(arch: str, tiny_model_dirs, tmp_path: Path):
    again = build_tiny_model(arch, tmp_path / arch)
    first, second = (load_file(folder / "model.safetensors") for folder in (tiny_model_dirs[arch], again))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert (tiny_model_dirs[arch] / "tokenizer.json").read_text() == (again / "tokenizer.json").read_text()


def test_tiny_model_dirs_covers_every_architecture(tiny_model_dirs):
    assert tuple(tiny_model_dirs) == ARCHITECTURES
    assert all((tiny_model_dirs[arch] / "config.json").is_file() for arch in ARCHITECTURES)


def test_unknown_architecture_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown architecture"):
        build_tiny_model("gpt2", tmp_path)
