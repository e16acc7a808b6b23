"""Tiny, randomly initialised masked language models for the tests, one per architecture family.

Each builder writes a model *and* a tokenizer of the family's own kind into a folder with ``save_pretrained``, so
the tests load them back the way users load a checkpoint: ``from_pretrained(folder)``. Nothing is downloaded.
The weights are random but deterministic (fixed seed), float32, 2 layers, tiny widths; the vocabularies are small
hand-written or trained-on-the-spot ones, so predictions are meaningless but shapes and token handling are real.

Mask token and tokenizer per architecture (each mirrors the hub checkpoint of its family):

- ``bert``, ``distilbert``, ``electra``: WordPiece, uncased (``BertTokenizer`` / ``DistilBertTokenizer``);
  mask ``[MASK]``. Whitespace never becomes a token, so "the [MASK]" and "the[MASK]" encode alike.
- ``roberta``: byte-level BPE (``RobertaTokenizer``); mask ``<mask>`` with ``lstrip=True`` (as roberta-base):
  the mask swallows the space before it, and the filler it stands for is a space-led token such as "Ġcat".
- ``modernbert``: byte-level BPE with BERT-style specials appended after the learnt vocabulary and a
  "[CLS] $A [SEP]" post-processor, loaded as the generic ``TokenizersBackend`` (as ModernBERT-base);
  mask ``[MASK]`` with ``lstrip=True``.
- ``xlm-roberta``: SentencePiece Unigram, cased (``XLMRobertaTokenizer``); mask ``<mask>`` with ``lstrip=True``.
- ``albert``: SentencePiece Unigram, uncased (``AlbertTokenizer``); mask ``[MASK]`` with ``lstrip=True``.
- ``deberta-v2``: SentencePiece Unigram, cased (``DebertaV2Tokenizer``, as deberta-v3); mask ``[MASK]``
  without ``lstrip`` (its normaliser strips the space before the mask instead).

In the three SentencePiece families a mask followed by punctuation ("the [MASK].") yields a stray "▁" token
between the mask and the "." (the segment after an added token gets its own "▁" prefix; these tiny vocabularies
have no "▁." piece, so it stays a token of its own).

Test sentences (``SENTENCES``) are written with the literal ``[MASK]``; replace it with the tokenizer's
``mask_token`` before use (``sentence.replace("[MASK]", tokenizer.mask_token)``).

Every tokenizer's positional limit is ``MAX_LENGTH`` tokens (``tokenizer.model_max_length``); RoBERTa and XLM-R
keep ``max_position_embeddings = MAX_LENGTH + 2`` because their position ids start at ``pad_token_id + 1``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer
from transformers import (
    AlbertConfig,
    AlbertTokenizer,
    AutoModelForMaskedLM,
    BertConfig,
    BertTokenizer,
    DebertaV2Config,
    DebertaV2Tokenizer,
    DistilBertConfig,
    DistilBertTokenizer,
    ElectraConfig,
    ModernBertConfig,
    PretrainedConfig,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaTokenizer,
    XLMRobertaConfig,
    XLMRobertaTokenizer,
)

ARCHITECTURES: tuple[str, ...] = (
    "bert",
    "roberta",
    "distilbert",
    "albert",
    "electra",
    "xlm-roberta",
    "deberta-v2",
    "modernbert",
)

MAX_LENGTH = 128
SEED = 0

# Written with the literal "[MASK]": swap in tokenizer.mask_token before use. The last one has two masks.
SENTENCES: tuple[str, ...] = (
    "the cat sat on the [MASK].",
    "paris is the [MASK] of france.",
    "she went to the [MASK] to buy some bread.",
    "the [MASK] was cold and the [MASK] was hot.",
)

# In every tokenizer here "cat" is one token (" cat" for byte-level BPE, "▁cat" for SentencePiece) ...
SINGLE_PIECE_WORD = "cat"
# ... and these words are several, starting with a whole word: "sun" + "f" "l" ... ("sun" alone is one token).
MULTI_PIECE_WORD: dict[str, str] = {arch: "sunflower" for arch in ARCHITECTURES}

# Used by the sanity checks: must round-trip through encode/decode and tokenise without unknowns.
ROUND_TRIP_SENTENCE = "the cat sat on the mat."

# ~150 common lowercase English words: the vocabulary of the WordPiece and SentencePiece tokenizers.
_WORD_LIST = """
    the a an and or but of to in on at for with from by as is are was were be been being have has had do does
    did not no yes it its this that these those he she they we you i me him her them us my your his our their
    what which who where when why how all some any many much more most other one two three four five first last
    new old good bad big small long short hot cold warm high low great little best man woman child children
    people friend family cat cats dog dogs bird fish horse cow mat hat bed table chair door house home room
    school city town country world paris france london england capital river sea sun moon sky rain water food
    bread milk tea coffee apple car bus train road book word name day night week year time morning
    go went goes going come came see saw look make made take took give gave get got buy bought eat ate sit sat
    run ran walk say said know think like love want play read write live work sleep open
    very too also then there here now up down out over under after before again just only
"""
WORDS: tuple[str, ...] = tuple(_WORD_LIST.split())
assert len(set(WORDS)) == len(WORDS) >= 150, "duplicate or missing words in WORDS"

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATION = tuple(".,!?'\"-:;()")
SUFFIXES = ("s", "es", "ed", "ing", "er", "ly", "y")

# A few dozen everyday sentences to train the byte-level BPE vocabularies on.
BPE_CORPUS: tuple[str, ...] = (
    "The cat sat on the mat.",
    "The cat sat on the mat and the dog sat on the bed.",
    "A cat is a small animal and a dog is a good friend.",
    "My cat likes to sleep in the sun.",
    "The dog ran after the cat in the garden.",
    "Paris is the capital of France.",
    "London is the capital of England.",
    "The river runs through the city to the sea.",
    "She went to the shop to buy some bread and milk.",
    "He went to the market to buy apples and fish.",
    "We went home after school.",
    "They live in a big house near the river.",
    "The children play in the park every day.",
    "I like to read a good book at night.",
    "You can see the moon and the stars in the sky.",
    "The sun was hot and the water was cold.",
    "The weather was cold and the wind was strong.",
    "It was a long day at work.",
    "My friend made tea and coffee for the family.",
    "The man and the woman walked down the road.",
    "The train came into the station on time.",
    "There is a table and a chair in the room.",
    "Open the door and look out of the window.",
    "The bird sang in the morning.",
    "We eat bread with butter in the morning.",
    "The old man sat on the chair and read the paper.",
    "Our teacher said that we should write every day.",
    "The horse and the cow are in the field.",
    "The car was parked outside the house.",
    "What time is it now?",
    "Where did you go last week?",
    "I think the cat is on the mat again.",
    "The cat, the dog and the bird are friends.",
    "It is raining, so take a coat.",
    "The city is very big and the town is very small.",
    "People love to walk by the sea in summer.",
    "We saw a lion and a monkey at the zoo.",
) * 3  # repeated so that frequent pairs clearly win


# --------------------------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------------------------


def _wordpiece_vocab() -> dict[str, int]:
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces += list(PUNCTUATION) + list("0123456789") + list(LETTERS)
    pieces += [f"##{c}" for c in LETTERS] + [f"##{s}" for s in SUFFIXES if len(s) > 1]
    pieces += [w for w in WORDS if w not in pieces]
    return {piece: i for i, piece in enumerate(pieces)}


def _wordpiece(cls: type[BertTokenizer]) -> PreTrainedTokenizerBase:
    # transformers 5: `vocab_file=` is silently ignored by BertTokenizer(Fast); pass the vocabulary as a dict.
    return cls(vocab=_wordpiece_vocab(), do_lower_case=True, model_max_length=MAX_LENGTH)


def _unigram_pieces(*, cased: bool) -> list[tuple[str, float]]:
    """(piece, log-prob) pairs: whole words beat suffix pieces beat single characters."""
    pieces: list[tuple[str, float]] = [(f"▁{w}", -6.0 - i / 1000) for i, w in enumerate(WORDS)]
    pieces += [(s, -8.0) for s in SUFFIXES]
    pieces += [("▁", -9.0)] + [(p, -9.5) for p in PUNCTUATION]
    letters = LETTERS + (LETTERS.upper() if cased else "")
    pieces += [(f"▁{c}", -9.8) for c in letters]  # so a new word's first piece is "▁z", not a bare "▁"
    pieces += [(c, -10.0) for c in letters + "0123456789"]
    return pieces


def _mask(token: str) -> AddedToken:
    # As roberta-base, xlm-roberta-base, albert-base-v2 and ModernBERT-base ship it: the mask swallows the
    # space before it, so "is <mask>" and "is<mask>" both encode as [..., "Ġis", "<mask>"].
    return AddedToken(token, lstrip=True, rstrip=False, normalized=False, special=True)


def _train_byte_level_bpe(special_tokens: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(
        vocab_size=700,
        min_frequency=2,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(BPE_CORPUS, trainer=trainer)
    return tokenizer


def _roberta_tokenizer() -> PreTrainedTokenizerBase:
    trained = _train_byte_level_bpe(["<s>", "<pad>", "</s>", "<unk>"])  # ids 0..3 as in roberta-base
    model = json.loads(trained.to_str())["model"]
    vocab: dict[str, int] = dict(model["vocab"])
    vocab["<mask>"] = len(vocab)  # last, as in roberta-base
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    # transformers 5: `vocab_file=`/`merges_file=` are silently ignored; pass vocab and merges themselves.
    return RobertaTokenizer(vocab=vocab, merges=merges, mask_token=_mask("<mask>"), model_max_length=MAX_LENGTH)


def _modernbert_tokenizer() -> PreTrainedTokenizerBase:
    # Like answerdotai/ModernBERT-base: a GPT-style byte-level BPE with BERT-style specials appended after the
    # learnt vocabulary, a "[CLS] $A [SEP]" post-processor, loaded as a generic PreTrainedTokenizerFast.
    tokenizer = _train_byte_level_bpe([])
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]
    tokenizer.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in specials])
    tokenizer.add_special_tokens([_mask("[MASK]")])
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token=_mask("[MASK]"),
        model_max_length=MAX_LENGTH,
        model_input_names=["input_ids", "attention_mask"],
    )


def _xlm_roberta_tokenizer() -> PreTrainedTokenizerBase:
    # The class hard-codes unk_id=3: keep xlm-roberta-base's order <s> <pad> </s> <unk> ... <mask>.
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + _unigram_pieces(cased=True)
    vocab.append(("<mask>", 0.0))
    return XLMRobertaTokenizer(vocab=vocab, mask_token=_mask("<mask>"), model_max_length=MAX_LENGTH)


def _albert_tokenizer() -> PreTrainedTokenizerBase:
    # The class hard-codes unk_id=1: keep albert-base-v2's order <pad> <unk> [CLS] [SEP] [MASK].
    vocab = [("<pad>", 0.0), ("<unk>", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[MASK]", 0.0)]
    vocab += _unigram_pieces(cased=False)
    return AlbertTokenizer(vocab=vocab, mask_token=_mask("[MASK]"), model_max_length=MAX_LENGTH)


def _deberta_v2_tokenizer() -> PreTrainedTokenizerBase:
    # deberta-v3-base's order: [PAD] [CLS] [SEP] [UNK] ... [MASK] (its mask has no lstrip).
    vocab = [("[PAD]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[UNK]", 0.0)] + _unigram_pieces(cased=True)
    vocab.append(("[MASK]", 0.0))
    return DebertaV2Tokenizer(vocab=vocab, model_max_length=MAX_LENGTH)


def _require(condition: bool, message: str) -> None:
    # Not `assert`: these checks must also run under `python -O`.
    if not condition:
        raise RuntimeError(f"tiny tokenizer is broken: {message}")


def _check_tokenizer(arch: str, tokenizer: PreTrainedTokenizerBase) -> None:
    """Fail loudly on the silent failure modes (e.g. a vocabulary that was ignored and maps all to unk)."""
    _require(len(tokenizer) > 150, f"{arch}: tokenizer has only {len(tokenizer)} tokens")
    for name in ("mask_token", "cls_token", "sep_token", "pad_token"):
        token = getattr(tokenizer, name)
        _require(token is not None, f"{arch}: no {name}")
        token_id = tokenizer.convert_tokens_to_ids(token)
        _require(token_id is not None and token_id != tokenizer.unk_token_id, f"{arch}: {name} {token!r} unknown")
    ids = tokenizer(ROUND_TRIP_SENTENCE)["input_ids"]
    _require(ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id, f"{arch}: no cls/sep: {ids}")
    _require(tokenizer.unk_token_id not in ids, f"{arch}: unknown tokens in {tokenizer.convert_ids_to_tokens(ids)}")
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    _require(decoded.strip() == ROUND_TRIP_SENTENCE, f"{arch}: round trip gave {decoded!r}")
    masked = tokenizer(f"the cat sat on the {tokenizer.mask_token}.")["input_ids"]
    _require(masked.count(tokenizer.mask_token_id) == 1, f"{arch}: mask not one token in {masked}")
    single, multi = word_form(arch, SINGLE_PIECE_WORD), word_form(arch, MULTI_PIECE_WORD[arch])
    _require(len(tokenizer.tokenize(single)) == 1, f"{arch}: {single!r} -> {tokenizer.tokenize(single)}")
    multi_ids = tokenizer(multi, add_special_tokens=False)["input_ids"]
    _require(len(multi_ids) > 1, f"{arch}: {multi!r} -> {tokenizer.convert_ids_to_tokens(multi_ids)}")
    # Its first piece must carry a letter, not be a bare word-boundary marker ("Ġ" / "▁").
    _require(bool(tokenizer.decode(multi_ids[:1]).strip()), f"{arch}: {tokenizer.convert_ids_to_tokens(multi_ids)}")
    _require(tokenizer.model_max_length == MAX_LENGTH, f"{arch}: model_max_length {tokenizer.model_max_length}")


def word_form(arch: str, word: str) -> str:
    """The word as it appears mid-sentence: byte-level BPE folds the leading space into the token."""
    return f" {word}" if arch in ("roberta", "modernbert") else word


# --------------------------------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------------------------------


def _ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id}


def _bert_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return BertConfig(
        **_ids(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH, initializer_range=0.08,
    )  # fmt: skip


def _roberta_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return RobertaConfig(
        **_ids(tok), bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH + tok.pad_token_id + 1, type_vocab_size=1, initializer_range=0.08,
    )  # fmt: skip


def _distilbert_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return DistilBertConfig(
        **_ids(tok), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=MAX_LENGTH, initializer_range=0.08,
    )  # fmt: skip


def _albert_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return AlbertConfig(
        **_ids(tok), bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
        embedding_size=16, hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH, initializer_range=0.08,
    )  # fmt: skip


def _electra_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return ElectraConfig(
        **_ids(tok), embedding_size=32, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
        intermediate_size=64, max_position_embeddings=MAX_LENGTH, initializer_range=0.08,
    )  # fmt: skip


def _xlm_roberta_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    return XLMRobertaConfig(
        **_ids(tok), bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
        hidden_size=48, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH + tok.pad_token_id + 1, type_vocab_size=1, initializer_range=0.08,
    )  # fmt: skip


def _deberta_v2_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    # deberta-v3-base's attention setup (relative positions, p2c|c2p, shared keys), shrunk.
    return DebertaV2Config(
        **_ids(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH, initializer_range=0.08, type_vocab_size=0,
        relative_attention=True, position_biased_input=False, pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1, position_buckets=32, norm_rel_ebd="layer_norm", share_att_key=True,
    )  # fmt: skip


def _modernbert_config(tok: PreTrainedTokenizerBase) -> PretrainedConfig:
    # Layer 0 global attention, layer 1 sliding-window (32 tokens wide), as ModernBERT alternates them.
    return ModernBertConfig(
        **_ids(tok), bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
        cls_token_id=tok.cls_token_id, sep_token_id=tok.sep_token_id,
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=MAX_LENGTH, initializer_range=0.08,
        global_attn_every_n_layers=2, local_attention=32,
    )  # fmt: skip


_BUILDERS: dict[
    str, tuple[Callable[[], PreTrainedTokenizerBase], Callable[[PreTrainedTokenizerBase], PretrainedConfig]]
] = {
    "bert": (lambda: _wordpiece(BertTokenizer), _bert_config),
    "roberta": (_roberta_tokenizer, _roberta_config),
    "distilbert": (lambda: _wordpiece(DistilBertTokenizer), _distilbert_config),
    "albert": (_albert_tokenizer, _albert_config),
    "electra": (lambda: _wordpiece(BertTokenizer), _electra_config),
    "xlm-roberta": (_xlm_roberta_tokenizer, _xlm_roberta_config),
    "deberta-v2": (_deberta_v2_tokenizer, _deberta_v2_config),
    "modernbert": (_modernbert_tokenizer, _modernbert_config),
}
assert tuple(_BUILDERS) == ARCHITECTURES


def build_tokenizer(arch: str) -> PreTrainedTokenizerBase:
    """The checked tokenizer for ``arch`` (not saved anywhere)."""
    if arch not in _BUILDERS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHITECTURES)}")
    tokenizer = _BUILDERS[arch][0]()
    _check_tokenizer(arch, tokenizer)
    return tokenizer


def build_tiny_model(arch: str, folder: Path) -> Path:
    """Build the tiny ``arch`` model and its tokenizer, save both into ``folder`` and return ``folder``."""
    tokenizer = build_tokenizer(arch)
    config = _BUILDERS[arch][1](tokenizer)
    torch.manual_seed(SEED)
    model = AutoModelForMaskedLM.from_config(config, dtype=torch.float32)
    model.eval()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
