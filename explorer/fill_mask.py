"""Top-k fillers for every mask of a text, with exactly the numbers of the transformers fill-mask pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.encoding import Encoding, encode
from explorer.errors import InputError
from explorer.forward import run_forward
from explorer.models import LoadedModel


@dataclass(frozen=True, slots=True)
class Prediction:
    """One candidate filler: vocabulary id, the decoded token (as the pipeline's token_str), its vocab piece."""

    token_id: int
    token: str
    piece: str
    score: float


@dataclass(frozen=True, slots=True)
class TargetScore:
    """How likely a word the user asked about is at one mask.

    A word that the tokenizer splits into several pieces cannot fill one mask: then `probability` is None
    and `first_piece_probability` is the probability of its first piece only, labelled as such.
    """

    word: str
    token_ids: tuple[int, ...]
    pieces: tuple[str, ...]
    first_piece_probability: float
    first_piece_rank: int

    @property
    def single_token(self) -> bool:
        return len(self.token_ids) == 1

    @property
    def probability(self) -> float | None:
        return self.first_piece_probability if self.single_token else None


@dataclass(frozen=True, slots=True)
class MaskPrediction:
    """The predictions at one mask; `position` indexes the result's `tokens`."""

    position: int
    predictions: tuple[Prediction, ...]
    targets: tuple[TargetScore, ...] = ()


@dataclass(frozen=True, slots=True)
class FillMaskResult:
    """Top-k fillers of every mask in one text.

    With several masks each distribution is computed independently from one forward pass in which all the
    other masks stay masked (as the transformers pipeline does); `independent_masks` records that, so a
    reader never takes the top-1 words together as a joint prediction.
    """

    model_name: str
    text: str
    model_text: str
    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    masks: tuple[MaskPrediction, ...]
    filled_text: str
    independent_masks: bool = True


@dataclass(frozen=True, slots=True)
class TargetTokens:
    """A target word as the model's tokenizer writes it where a word starts."""

    word: str
    token_ids: tuple[int, ...]
    pieces: tuple[str, ...]


def predict_masks(
    model: LoadedModel,
    text: str,
    top_k: int = 5,
    targets: Sequence[str] | None = None,
    *,
    skip_special_tokens: bool = False,
) -> FillMaskResult:
    """Predict the top-k fillers of every mask in `text` with one forward pass.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks ([MASK], <mask> or the model's own token).
        top_k: how many fillers per mask, 1 to the vocabulary size.
        targets: words whose probability to report at every mask.
        skip_special_tokens: leave special tokens ([SEP], <s>, ...) and ids past the tokenizer out of the top-k
            (off: exactly the pipeline's list).
    Returns:
        A `FillMaskResult`; its scores are probabilities.
    """
    check_top_k(model, top_k)
    encoding = encode(model, text)
    target_specs = encode_targets(model, targets or ())
    output = run_forward(model, encoding)
    return build_fill_mask_result(model, encoding, output.mask_logits, top_k, target_specs, skip_special_tokens)


def check_top_k(model: LoadedModel, top_k: int) -> None:
    """Refuse a top-k that is not an integer between 1 and the vocabulary size."""
    vocab = model.info.vocab_size
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab:
        raise InputError(f"top_k must be a whole number from 1 to {vocab} (the vocabulary size), not {top_k!r}.")


def encode_targets(model: LoadedModel, words: Sequence[str]) -> tuple[TargetTokens, ...]:
    """Tokenise target words in the form they take when they start a word (leading space for BPE)."""
    if isinstance(words, str):
        words = [words]
    tokenizer = model.tokenizer
    specs = []
    for raw in words:
        word = raw.strip() if isinstance(raw, str) else ""
        if not word:
            raise InputError("A target word is empty; give words such as capital,city.")
        if any(c.isspace() for c in word):
            raise InputError(f"The target {raw!r} contains spaces; give one word per target.")
        # get_vocab() builds a dict of the whole vocabulary (0.2 s on XLM-R): look up the one piece instead.
        piece_id = tokenizer.convert_tokens_to_ids(word) if word.startswith(("Ġ", "▁", "##")) else None
        if piece_id is not None and piece_id != tokenizer.unk_token_id:
            ids = [piece_id]  # the user named an exact vocabulary piece
        else:
            ids = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
            # Some SentencePiece tokenizers emit a lone word-boundary piece for the leading space.
            if len(ids) > 1 and not tokenizer.decode(ids[:1]).strip():
                ids = ids[1:]
        if not ids:
            raise InputError(f"The target {word!r} tokenises to nothing for this model; try another word.")
        specs.append(TargetTokens(word=word, token_ids=tuple(ids), pieces=tuple(tokenizer.convert_ids_to_tokens(ids))))
    return tuple(specs)


def build_fill_mask_result(
    model: LoadedModel,
    encoding: Encoding,
    mask_logits: torch.Tensor,
    top_k: int,
    targets: Sequence[TargetTokens] = (),
    skip_special_tokens: bool = False,
) -> FillMaskResult:
    """Turn the logits at the masks [mask, vocab] into a `FillMaskResult` (the to-result stage)."""
    tokenizer = model.tokenizer
    probs = mask_logits.float().softmax(dim=-1)  # [mask, vocab]
    ranking = probs
    if skip_special_tokens:
        ranking = probs.clone()
        special = [i for i in tokenizer.all_special_ids if i < ranking.shape[-1]]
        ranking[:, special] = -1.0
        # Rows past the tokenizer's vocabulary (padding for speed in some checkpoints) decode to nothing.
        ranking[:, len(tokenizer):] = -1.0
    top_values, top_ids = ranking.topk(top_k, dim=-1)  # [mask, top_k]
    masks = []
    filled_ids = list(encoding.input_ids)
    for row, position in enumerate(encoding.mask_positions):
        ids = top_ids[row].tolist()
        pieces = tokenizer.convert_ids_to_tokens(ids)
        predictions = tuple(
            Prediction(token_id=i, token=tokenizer.decode([i]), piece=piece, score=float(probs[row, i]))
            for i, piece in zip(ids, pieces, strict=True)
        )
        scores = score_targets(targets, probs[row])
        masks.append(MaskPrediction(position=position, predictions=predictions, targets=scores))
        filled_ids[position] = ids[0]
    return FillMaskResult(
        model_name=model.info.name,
        text=encoding.text,
        model_text=encoding.model_text,
        tokens=encoding.tokens,
        token_ids=encoding.input_ids,
        masks=tuple(masks),
        filled_text=tokenizer.decode(filled_ids, skip_special_tokens=True).strip(),
    )


def score_targets(targets: Sequence[TargetTokens], probs: torch.Tensor) -> tuple[TargetScore, ...]:
    """Each target's probability and rank in one mask's distribution `probs` [vocab]."""
    scores = []
    for target in targets:
        first = target.token_ids[0]
        scores.append(TargetScore(
            word=target.word,
            token_ids=target.token_ids,
            pieces=target.pieces,
            first_piece_probability=float(probs[first]),
            first_piece_rank=int((probs > probs[first]).sum()) + 1,
        ))
    return tuple(scores)
