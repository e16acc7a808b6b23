"""Top-k fillers for every mask of a text, with exactly the numbers of the transformers fill-mask pipeline."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from explorer.encoding import Encoding, encode
from explorer.errors import InputError
from explorer.forward import run_forward
from explorer.masked_copies import MaskedCopy, score_copies
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

    A word of several pieces gets a real probability by the chain rule, left to right (`method`
    "chain-rule-l2r"): the mask is replaced by as many masks as the word has pieces, and piece i is predicted
    with the pieces before it filled in and those after it still masked (the text's other masks stay masked).
    `piece_log_probabilities` are those steps (natural log), `log_probability` their sum. A one-piece word
    keeps the pipeline's number (`method` "single-piece"). `first_piece_probability` and `first_piece_rank` are
    the first piece's probability and rank in the mask's own distribution (one mask, as the pipeline scores it);
    where no chain was computed (`method` "first-piece-only", e.g. in a comparison), `probability` is None.
    """

    word: str
    token_ids: tuple[int, ...]
    pieces: tuple[str, ...]
    first_piece_probability: float
    first_piece_rank: int
    piece_log_probabilities: tuple[float, ...] = ()
    log_probability: float | None = None
    method: str = "first-piece-only"

    @property
    def single_token(self) -> bool:
        return len(self.token_ids) == 1

    @property
    def probability(self) -> float | None:
        if self.single_token:
            return self.first_piece_probability
        return math.exp(self.log_probability) if self.log_probability is not None else None


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
    check_target_lengths(model, encoding, target_specs)
    output = run_forward(model, encoding)
    chains = chain_rule_log_probs(model, encoding, target_specs)  # the multi-piece targets' own passes
    return build_fill_mask_result(model, encoding, output.mask_logits, top_k, target_specs, skip_special_tokens,
                                  chains)


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
        if tokenizer.unk_token_id is not None and tokenizer.unk_token_id in ids:
            # Scoring the unknown-word token would rank every unknown word alike, and high.
            shown = word if len(word) <= 40 else word[:39] + "…"
            raise InputError(f"The target {shown!r} is not in {model.info.name}'s vocabulary (it becomes "
                             f"{tokenizer.unk_token}); try another spelling or word.")
        specs.append(TargetTokens(word=word, token_ids=tuple(ids), pieces=tuple(tokenizer.convert_ids_to_tokens(ids))))
    return tuple(specs)


def to_predictions(tokenizer, ids: Sequence[int], probs: torch.Tensor) -> tuple[Prediction, ...]:
    """The ranked ids as `Prediction`s: decoded word, vocabulary piece and probability.

    Args:
        tokenizer: the model's tokenizer.
        ids: token ids, best first.
        probs: one distribution [vocab].
    """
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    return tuple(
        Prediction(token_id=i, token=tokenizer.decode([i]), piece=piece, score=float(probs[i]))
        for i, piece in zip(ids, pieces, strict=True)
    )


def unfillable_ids(tokenizer, vocab_size: int) -> list[int]:
    """Ids never offered as a filler: special tokens, and rows past the tokenizer's vocabulary (padding for speed
    in some checkpoints' heads, which decode to nothing).

    Args:
        tokenizer: the model's tokenizer.
        vocab_size: rows of the MLM head.
    Returns:
        The sorted ids.
    """
    special = {i for i in tokenizer.all_special_ids if i < vocab_size}
    return sorted(special | set(range(len(tokenizer), vocab_size)))


def build_fill_mask_result(
    model: LoadedModel,
    encoding: Encoding,
    mask_logits: torch.Tensor,
    top_k: int,
    targets: Sequence[TargetTokens] = (),
    skip_special_tokens: bool = False,
    chains: Mapping[tuple[int, str], tuple[float, ...]] | None = None,
) -> FillMaskResult:
    """Turn the logits at the masks [mask, vocab] into a `FillMaskResult` (the to-result stage: no model run).

    `chains` is `chain_rule_log_probs(model, encoding, targets)`, needed when a target is several pieces.
    """
    tokenizer = model.tokenizer
    chains = chains or {}
    missing = [t.word for t in targets if len(t.token_ids) > 1 and (0, t.word) not in chains]
    if missing:
        raise ValueError(f"multi-piece targets {missing} need their chain_rule_log_probs")
    probs = mask_logits.float().softmax(dim=-1)  # [mask, vocab]
    log_probs = mask_logits.float().log_softmax(dim=-1)  # [mask, vocab]
    ranking = probs
    if skip_special_tokens:
        ranking = probs.clone()
        ranking[:, unfillable_ids(tokenizer, ranking.shape[-1])] = -1.0
    top_values, top_ids = ranking.topk(top_k, dim=-1)  # [mask, top_k]
    masks = []
    filled_ids = list(encoding.input_ids)
    for row, position in enumerate(encoding.mask_positions):
        ids = top_ids[row].tolist()
        predictions = to_predictions(tokenizer, ids, probs[row])
        scores = score_targets(targets, probs[row], log_probs[row], {t.word: chains[row, t.word] for t in targets
                                                                     if (row, t.word) in chains})
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


def score_targets(
    targets: Sequence[TargetTokens],
    probs: torch.Tensor,
    log_probs: torch.Tensor | None = None,
    chains: dict[str, tuple[float, ...]] | None = None,
) -> tuple[TargetScore, ...]:
    """Each target's probability and rank in one mask's distribution `probs` [vocab].

    Args:
        targets: the target words.
        probs: the mask's probabilities [vocab].
        log_probs: the same as log-probabilities [vocab] (default: the log of `probs`).
        chains: per multi-piece word, its chain-rule piece log-probabilities (`chain_rule_log_probs`); a
            multi-piece word without one gets no probability (method "first-piece-only").
    """
    chains = chains or {}
    scores = []
    for target in targets:
        first = target.token_ids[0]
        if len(target.token_ids) == 1:
            value = float(log_probs[first]) if log_probs is not None else float(probs[first].log())
            pieces, total, method = (value,), value, "single-piece"
        elif target.word in chains:
            pieces = chains[target.word]
            total, method = math.fsum(pieces), "chain-rule-l2r"
        else:
            pieces, total, method = (), None, "first-piece-only"
        scores.append(TargetScore(
            word=target.word,
            token_ids=target.token_ids,
            pieces=target.pieces,
            first_piece_probability=float(probs[first]),
            first_piece_rank=int((probs > probs[first]).sum()) + 1,
            piece_log_probabilities=pieces,
            log_probability=total,
            method=method,
        ))
    return tuple(scores)


def check_target_lengths(model: LoadedModel, encoding: Encoding, targets: Sequence[TargetTokens]) -> None:
    """Refuse a multi-piece target whose masks would make the text longer than the model reads."""
    limit = model.info.max_length
    for target in targets:
        length = len(encoding.input_ids) + len(target.token_ids) - 1
        if length > limit:
            raise InputError(
                f"The target {target.word[:40]!r} is {len(target.token_ids)} pieces; with one mask per piece the "
                f"text is {length} tokens, more than the {limit} {model.info.name} reads. Try a shorter word or text."
            )


def chain_rule_log_probs(
    model: LoadedModel, encoding: Encoding, targets: Sequence[TargetTokens]
) -> dict[tuple[int, str], tuple[float, ...]]:
    """Left-to-right chain-rule log-probabilities of every multi-piece target at every mask, in one batched run.

    At mask m the mask becomes one mask per piece; step i predicts piece i with pieces 0..i-1 filled in and
    the later pieces and the text's other masks still masked.

    Returns:
        (mask index, word) -> the natural-log probability of each piece, for the multi-piece targets only.
    """
    multi = [t for t in targets if len(t.token_ids) > 1]
    if not multi:
        return {}
    check_target_lengths(model, encoding, multi)
    ids = encoding.input_ids
    copies, keys = [], []
    for row, position in enumerate(encoding.mask_positions):
        for target in multi:
            k = len(target.token_ids)
            expanded = (*ids[:position], *target.token_ids, *ids[position + 1:])
            others = tuple(q if q < position else q + k - 1 for q in encoding.mask_positions if q != position)
            for i in range(k):
                masked = (*others, *range(position + i, position + k))
                copies.append(MaskedCopy(expanded, masked, position + i))
            keys.append(((row, target.word), k))
    values = iter(score_copies(model, copies))
    return {key: tuple(next(values) for _ in range(k)) for key, k in keys}
