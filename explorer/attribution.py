"""Which input tokens made the model choose a word at a mask: integrated gradients, gradient × input, occlusion.

Every method explains one number, the *attributed score* f at one mask: the target's probability (default), its
logit, or with a contrast word the logit difference target − contrast. Integrated gradients integrate along a
straight path in the output space of the model's embedding block (word + position + type embeddings after their
LayerNorm: Captum's `LayerIntegratedGradients` on the `*Embeddings` module) from a baseline x' to the input x,
where x' is the input with every non-special token replaced by the mask token. The attributions then add up to
f(x) − f(x') (completeness); Captum's convergence delta is how far they miss it.

Attribution never touches the shared, cached model: each call works on a private shell of it (its own module
objects, so Captum's hooks stay invisible to other threads; parameters shared without gradient tracking, or
float32 copies when the model runs in half precision), and the MLM head runs at the mask only (`narrow_positions`).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from explorer.encoding import Encoding, encode
from explorer.errors import ExplorerError, InputError
from explorer.fill_mask import encode_targets
from explorer.forward import model_inputs, narrow_positions
from explorer.models import LoadedModel

METHODS: tuple[str, ...] = ("ig", "grad-x-input", "occlusion")
METHOD_NAMES: dict[str, str] = {
    "ig": "integrated gradients",
    "grad-x-input": "gradient × input",
    "occlusion": "occlusion",
}
ATTRIBUTED: tuple[str, ...] = ("probability", "logit", "logit_difference")
DEFAULT_STEPS = 50
# Tokens per internal batch when `internal_batch_size` is not given. It bounds the activations kept for the backward
# pass (bert-base, float32: about 0.7 MB per token, measured: +360 MB at 4 steps x 128 tokens, +1.4 GB at 16); on a
# CPU larger batches were no faster (50 steps x 128 tokens took the same time in batches of 4, 16 and 50).
TOKEN_BUDGET = 512
# |delta| above this share of |f(x) − f(x')| means the integral is not converged: more steps are needed.
DELTA_TOLERANCE = 0.01
# Below this |f(x) − f(x')| the relative delta is noise; compare the delta to this floor instead.
_CHANGE_FLOOR = 1e-6

Progress = Callable[[float], Any]


@dataclass(frozen=True, slots=True)
class AttributedToken:
    """A vocabulary item at the mask: its id, the decoded token (as the pipeline's token_str), its vocab piece,
    and its probability at the mask in the input."""

    token_id: int
    token: str
    piece: str
    probability: float


@dataclass(frozen=True, slots=True)
class TokenAttribution:
    """How much each input token contributed to one score at one mask.

    `scores[i]` belongs to `tokens[i]`; a positive score pushed f up. For integrated gradients
    `sum(scores) = score_input − score_baseline + delta`. Special tokens ([CLS], <s>, ...) and masks are the same
    in input and baseline, so integrated gradients and occlusion give them exactly 0.
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]  # [pos] vocabulary pieces, as FillMaskResult.tokens
    token_texts: tuple[str, ...]  # [pos] each token decoded on its own (" cat" for "Ġcat"), for display
    token_ids: tuple[int, ...]
    special: tuple[bool, ...]  # [pos] True where the token is kept in the baseline
    scores: tuple[float, ...]  # [pos]
    mask_position: int  # indexes tokens
    mask_index: int  # which mask of the text (0 = the first)
    target: AttributedToken
    contrast: AttributedToken | None
    attributed: str  # "probability" | "logit" | "logit_difference"
    score_input: float  # f(x)
    score_baseline: float  # f(x')
    delta: float | None  # Captum's convergence delta; None for methods without one
    method: str  # one of METHODS
    steps: int | None  # integration steps (integrated gradients only)
    baseline: str  # what x' is, in words

    @property
    def total(self) -> float:
        """The sum of the token scores."""
        return math.fsum(self.scores)

    @property
    def change(self) -> float:
        """f(x) − f(x'): what integrated gradients distribute over the tokens."""
        return self.score_input - self.score_baseline

    @property
    def relative_delta(self) -> float | None:
        """|delta| / |f(x) − f(x')| (against a small floor when both scores are nearly equal); None without delta."""
        if self.delta is None:
            return None
        return abs(self.delta) / max(abs(self.change), _CHANGE_FLOOR)

    @property
    def score_label(self) -> str:
        """What f is, in words: "p(capital)", "logit(capital)" or "logit(capital) − logit(city)"."""
        target = _readable(self.target)
        if self.attributed == "probability":
            return f"p({target})"
        if self.attributed == "logit":
            return f"logit({target})"
        contrast = _readable(self.contrast) if self.contrast is not None else "?"
        return f"logit({target}) − logit({contrast})"


def _readable(token: AttributedToken) -> str:
    """The token as a word for labels; its vocabulary piece (or id) when the decoded text would be invisible."""
    # Not explorer.figures.labels.token_label: `score_label` must name the target ("p(Ġ)", "p(id 7)"), where
    # token_label would write "∅" or "␣", and it has the piece and id to do so; the core imports no figures.
    text = token.token.strip()
    if text and text.isprintable():
        return text
    return token.piece if token.piece.strip() and token.piece.isprintable() else f"id {token.token_id}"


def attribute_tokens(
    model: LoadedModel,
    text: str,
    mask: int = 0,
    target: str | int | None = None,
    contrast: str | int | None = None,
    method: str = "ig",
    n_steps: int = DEFAULT_STEPS,
    internal_batch_size: int | None = None,
    attributed: str = "probability",
    *,
    progress: Progress | None = None,
) -> TokenAttribution:
    """Attribute the model's score for `target` at one mask of `text` to the input tokens, in float32.

    Args:
        model: a model from `load_model` (any dtype; attribution runs on a private float32 view of it).
        text: a sentence with one or more masks; the other masks stay masked.
        mask: which mask to explain, 0 for the first.
        target: the word to explain (one vocabulary piece, encoded as `predict_masks` encodes targets), a token
            id, or None for the top-1 prediction at that mask.
        contrast: a second word or token id; then the attributed score is logit(target) − logit(contrast).
        method: "ig" (integrated gradients, with a convergence delta), "grad-x-input" (gradient × embedding
            output) or "occlusion" (the drop of the score when each token in turn is replaced by the mask token).
        n_steps: integration steps for "ig" (Gauss-Legendre); at least 1.
        internal_batch_size: integration steps (or occluded copies) per forward pass; None picks one that keeps
            about `TOKEN_BUDGET` tokens per batch, so memory stays bounded on long texts.
        attributed: "probability" (default) or "logit" of the target; ignored when `contrast` is given.
        progress: called with the fraction done (0 to 1) as the batches run, e.g. a Gradio progress.
    Returns:
        A `TokenAttribution`; `scores` has one entry per token.
    """
    # Encode: checks and tokens, no tensor math.
    _check_method(method)
    _check_positive_int(n_steps, "n_steps", "the number of integration steps, e.g. 50")
    if internal_batch_size is not None:
        _check_positive_int(internal_batch_size, "internal_batch_size", "integration steps per forward pass")
    encoding = encode(model, text)
    position = _mask_position(encoding, mask)
    target_id = _token_id(model, target, "target") if target is not None else None
    contrast_id = _token_id(model, contrast, "contrast") if contrast is not None else None
    if contrast_id is not None and contrast_id == target_id:
        raise InputError("The contrast is the target itself, so their logit difference is always 0; "
                         "choose a different contrast word.")
    kind = _attributed_kind(attributed, contrast_id is not None)
    special = _special_flags(model, encoding)
    baseline_ids = tuple(
        token_id if keep else model.tokenizer.mask_token_id
        for token_id, keep in zip(encoding.input_ids, special, strict=True)
    )
    batch_size = internal_batch_size or max(1, TOKEN_BUDGET // len(encoding.input_ids))
    report = _ProgressCounter(progress, _expected_calls(method, n_steps, batch_size, len(encoding.input_ids)))

    # Forward: float32 on a private shell of the model, gradients only with respect to the embedding output.
    # inference_mode(False): a caller inside inference mode must not turn our tensors into inference tensors.
    with torch.inference_mode(False):
        with torch.no_grad():
            module = private_float32_model(model.model)
        embeddings = find_embeddings(module)
        inputs = model_inputs(model, encoding)
        input_ids = inputs.pop("input_ids")  # [1, pos]
        baseline = torch.tensor([baseline_ids], device=input_ids.device)  # [1, pos]
        names = tuple(inputs)
        rest = tuple(inputs[name] for name in names)

        with torch.no_grad():
            both = torch.cat([input_ids, baseline])  # [2, pos]
            logits = _mask_logits(module, position, both, names, tuple(t.expand(2, -1) for t in rest))  # [2, vocab]
            if target_id is None:
                target_id = int(logits[0].argmax())
            probs = logits[0].softmax(-1)  # [vocab]
            scores = _score(logits, kind, target_id, contrast_id)  # [2]
        report.step()

        def forward(ids: torch.Tensor, *other: torch.Tensor) -> torch.Tensor:
            report.step()
            logits = _mask_logits(module, position, ids, names, other)  # [batch, vocab]
            return _score(logits, kind, target_id, contrast_id)  # [batch]

        with torch.enable_grad():
            token_scores, delta = _run_method(
                method, forward, embeddings, input_ids, baseline, rest, n_steps, batch_size, scores
            )  # [pos]
    report.done()

    # To result: plain numbers.
    tokenizer = model.tokenizer
    return TokenAttribution(
        model_name=model.info.name,
        text=encoding.text,
        tokens=encoding.tokens,
        token_texts=tuple(_token_text(tokenizer, token_id, piece)
                          for token_id, piece in zip(encoding.input_ids, encoding.tokens, strict=True)),
        token_ids=encoding.input_ids,
        special=special,
        scores=tuple(float(s) + 0.0 for s in token_scores.detach().float().cpu()),  # + 0.0: no -0.0 in documents
        mask_position=position,
        mask_index=mask,
        target=_attributed_token(tokenizer, target_id, probs),
        contrast=_attributed_token(tokenizer, contrast_id, probs) if contrast_id is not None else None,
        attributed=kind,
        score_input=float(scores[0]),
        score_baseline=float(scores[1]),
        delta=delta,
        method=method,
        steps=n_steps if method == "ig" else None,
        baseline=_describe_baseline(method, tokenizer.mask_token, int((input_ids != baseline).sum())),
    )


def _run_method(
    method: str,
    forward: Callable[..., torch.Tensor],
    embeddings: nn.Module,
    input_ids: torch.Tensor,
    baseline: torch.Tensor,
    rest: tuple[torch.Tensor, ...],
    n_steps: int,
    batch_size: int,
    scores: torch.Tensor,
) -> tuple[torch.Tensor, float | None]:
    """Captum's attribution of `forward` for one input [1, pos] -> (one score per token [pos], delta or None).

    `scores` [2] holds f(x) and f(x'), already computed: integrated gradients take their delta from them.
    """
    if method == "ig":
        from captum.attr import LayerIntegratedGradients

        attributions = LayerIntegratedGradients(forward, embeddings).attribute(
            input_ids, baselines=baseline, additional_forward_args=rest, n_steps=n_steps,
            internal_batch_size=batch_size,
        )  # [1, pos, hidden]
        # Captum's convergence delta, as Attribution.compute_convergence_delta computes it (float32 throughout):
        # the sum of every attribution minus (f(x) − f(x')). return_convergence_delta=True would run f(x) and f(x')
        # again for the same two numbers.
        with torch.no_grad():
            delta = attributions.reshape(1, -1).sum(1) - (scores[0] - scores[1])  # [1]
        return attributions.sum(-1)[0], float(delta[0])  # [pos]
    if method == "grad-x-input":
        from captum.attr import LayerGradientXActivation

        attributions = LayerGradientXActivation(forward, embeddings).attribute(
            input_ids, additional_forward_args=rest
        )  # [1, pos, hidden]
        return attributions.sum(-1)[0], None  # [pos]
    from captum.attr import FeatureAblation

    with torch.no_grad():
        drops = FeatureAblation(forward).attribute(
            input_ids, baselines=baseline, additional_forward_args=rest, perturbations_per_eval=batch_size
        )[0]  # [pos]
    # Replacing a token by itself changes nothing; batched evaluation would show float noise there.
    return drops.masked_fill(input_ids[0] == baseline[0], 0.0), None  # [pos]


def convergence_warning(result: TokenAttribution, tolerance: float = DELTA_TOLERANCE) -> str | None:
    """A sentence telling the user to use more steps when |delta| is large against f(x) − f(x'); else None."""
    relative = result.relative_delta
    if relative is None or relative <= tolerance:
        return None
    steps = result.steps or DEFAULT_STEPS
    return (
        f"The attributions miss f(x) − f(x') = {result.change:.4g} by |delta| = {abs(result.delta or 0):.2g} "
        f"({relative:.0%} of it): {steps} integration steps are too few for them to add up. "
        f"Try {max(2 * steps, 100)} or more steps."
    )


def find_embeddings(model: nn.Module) -> nn.Module:
    """The embedding block of a masked LM: its base model's `*Embeddings` module (word + position + type)."""
    base = getattr(model, "base_model", model)
    block = getattr(base, "embeddings", None)
    if isinstance(block, nn.Module):
        return block
    found = [child for _, child in base.named_children() if type(child).__name__.endswith("Embeddings")]
    if len(found) == 1:
        return found[0]
    raise ExplorerError(
        f"{type(model).__name__} has no single embeddings block (a module named *Embeddings in its base model), "
        f"so token attribution cannot be computed for it; it works for BERT-like models such as bert-base-uncased."
    )


def private_float32_model(model: nn.Module) -> nn.Module:
    """A copy of `model`'s module tree that other users of `model` can never observe.

    The copy has its own module objects (hooks registered on it stay on it) and its own parameter objects with
    `requires_grad=False`. Float32 parameters share their storage with `model` (no memory is copied); half- or
    double-precision parameters and buffers become float32 copies. Call under `torch.no_grad()`.
    """
    memo: dict[int, Any] = {}
    for param in model.parameters():
        data = param.detach()
        if data.is_floating_point() and data.dtype != torch.float32:
            data = data.float()
        memo[id(param)] = nn.Parameter(data, requires_grad=False)
    for buffer in model.buffers():
        if id(buffer) not in memo:
            floating = buffer.is_floating_point() and buffer.dtype != torch.float32
            memo[id(buffer)] = buffer.float() if floating else buffer
    # load_model installs transformers' lazy output hooks up front, so no other thread changes the tree now.
    return copy.deepcopy(model, memo)


def _mask_logits(
    module: nn.Module, position: int, ids: torch.Tensor, names: tuple[str, ...], rest: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """Logits at `position` for a batch of inputs [batch, pos] -> [batch, vocab], float32."""
    inputs = dict(zip(names, rest, strict=True))
    with narrow_positions(module, [position]) as narrowing:
        logits = narrowing.select(module(input_ids=ids, **inputs, return_dict=True).logits)  # [batch, 1, vocab]
    return logits[:, 0].float()  # [batch, vocab]


def _score(logits: torch.Tensor, kind: str, target_id: int, contrast_id: int | None) -> torch.Tensor:
    """The attributed score of every row of `logits` [batch, vocab] -> [batch]."""
    if kind == "probability":
        return logits.softmax(-1)[:, target_id]
    if kind == "logit":
        return logits[:, target_id]
    return logits[:, target_id] - logits[:, contrast_id]


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InputError(f"Unknown attribution method {method!r}; use one of {', '.join(METHODS)}.")


def _check_positive_int(value: Any, name: str, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a whole number of at least 1 ({meaning}), not {value!r}.")


def _mask_position(encoding: Encoding, mask: int) -> int:
    count = len(encoding.mask_positions)
    if isinstance(mask, bool) or not isinstance(mask, int) or not 0 <= mask < count:
        which = "the text has one mask, so mask must be 0" if count == 1 else (
            f"the text has {count} masks, so mask must be 0 to {count - 1} (0 = the first)")
        raise InputError(f"No mask number {mask!r}: {which}.")
    return encoding.mask_positions[mask]


def _token_id(model: LoadedModel, value: str | int, role: str) -> int:
    """The vocabulary id of a target or contrast given as a one-piece word or as an id."""
    vocab = model.info.vocab_size
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"The {role} must be a word or a token id, not {value!r}.")
    if isinstance(value, int):
        if not 0 <= value < vocab:
            raise InputError(f"The {role} token id {value} is outside the vocabulary; use 0 to {vocab - 1}.")
        return value
    (spec,) = encode_targets(model, [value])  # refuses a word that would become the unknown token
    if len(spec.token_ids) != 1:
        raise InputError(
            f"The {role} {spec.word!r} is {len(spec.token_ids)} pieces for {model.info.name} "
            f"({' '.join(spec.pieces)}), but one mask holds one vocabulary item; choose a word that is one piece "
            f"(e.g. a top prediction) or give a token id."
        )
    return spec.token_ids[0]


def _attributed_kind(attributed: str, has_contrast: bool) -> str:
    if has_contrast:
        return "logit_difference"
    if attributed == "logit_difference":
        raise InputError("A logit difference needs a contrast word; give one, or attribute the probability.")
    if attributed not in ATTRIBUTED:
        raise InputError(f"Unknown attributed score {attributed!r}; use probability or logit.")
    return attributed


def _special_flags(model: LoadedModel, encoding: Encoding) -> tuple[bool, ...]:
    """[pos] True for the tokenizer's structural tokens ([CLS], [SEP], <s>, pad, ...), which the baseline keeps.

    The mask token and the unknown token stand for words of the text, so they are not special here.
    """
    tokenizer = model.tokenizer
    structural = set(tokenizer.all_special_ids) - {tokenizer.mask_token_id, tokenizer.unk_token_id}
    return tuple(token_id in structural for token_id in encoding.input_ids)


def _attributed_token(tokenizer: Any, token_id: int, probs: torch.Tensor) -> AttributedToken:
    return AttributedToken(
        token_id=token_id,
        token=tokenizer.decode([token_id]),
        piece=str(tokenizer.convert_ids_to_tokens(token_id)),
        probability=float(probs[token_id]),
    )


def _token_text(tokenizer: Any, token_id: int, piece: str) -> str:
    """One token decoded on its own; its vocabulary piece when that alone is not valid text (a partial UTF-8
    byte of a byte-level BPE)."""
    # Decoding, not labelling: the text keeps its spaces (" cat"); figures apply token_label when they show it.
    text = tokenizer.decode([token_id])
    return piece if "\ufffd" in text else text


def _describe_baseline(method: str, mask_token: str, replaced: int) -> str:
    words = f"{replaced} non-special token{'s' if replaced != 1 else ''}"  # masks already are: not counted
    if method == "ig":
        return f"the text with its {words} replaced by {mask_token} (special tokens kept)"
    if method == "occlusion":
        return (f"each of the {words} replaced by {mask_token} in turn; f(x') replaces all of them "
                f"(special tokens kept)")
    return (f"none (gradient × embedding output at the input); f(x') is the score with the {words} replaced by "
            f"{mask_token}, for reference")


def _expected_calls(method: str, n_steps: int, batch_size: int, length: int) -> int:
    """Forward calls one attribution makes, for the progress fraction (an estimate is enough)."""
    if method == "ig":
        return 1 + 2 + math.ceil(n_steps / batch_size)  # scores, layer evals, step batches
    if method == "occlusion":
        return 1 + 1 + math.ceil(length / batch_size)
    return 2


class _ProgressCounter:
    """Turns forward calls into a progress fraction; a no-op without a callback."""

    def __init__(self, callback: Progress | None, expected: int) -> None:
        self._callback = callback
        self._expected = max(1, expected)
        self._calls = itertools.count(1)

    def step(self) -> None:
        if self._callback is not None:
            self._callback(min(0.99, next(self._calls) / self._expected))

    def done(self) -> None:
        if self._callback is not None:
            self._callback(1.0)
