"""What the web app shares between requests: the operator's model policy and bounded caches of results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from explorer.attention import Analysis, AttentionMaps, TextPass, analysis_from_pass, run_text_pass
from explorer.attribution import Progress, TokenAttribution, attribute_tokens
from explorer.cache import LruCache
from explorer.compare import Comparison, check_comparison, comparison_from_logits
from explorer.errors import InputError
from explorer.limits import Limits
from explorer.models import LoadedModel, load_model
from explorer.ui.deadline import check_deadline
from explorer.ui.model_picker import classify_model_name

T = TypeVar("T")

DEFAULT_RESULT_CACHE_SIZE = 32
# Attention weights are the bulk of a pass: bert-base on 512 tokens holds 150 MB of them.
PASS_CACHE_BYTES = 512 * 2**20


@dataclass
class AppState:
    """Shared by every tab and request of one app: allowed local folders and result caches.

    Models themselves live in the core's bounded model cache (`explorer.models.MODEL_CACHE`), shared by all users.
    """

    allowed_dirs: tuple[Path, ...] = ()
    limits: Limits = field(default_factory=Limits)
    models: tuple[str, ...] | None = None  # the operator's --models: only these may be loaded
    hub: bool = True  # False with --no-hub
    passes: LruCache = field(
        default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE, max_bytes=PASS_CACHE_BYTES,
                                         size_of=lambda text_pass: text_pass.nbytes))
    attributions: LruCache = field(default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE))
    # Layer lens, head ablation and joint filling results (explorer/ui/layers_state.py).
    inspections: LruCache = field(default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE))

    @classmethod
    def create(cls, allow_local: Sequence[str | Path] = (), *, limits: Limits | None = None,
               models: Sequence[str] | None = None, hub: bool = True) -> AppState:
        return cls(allowed_dirs=tuple(Path(d).expanduser().resolve() for d in allow_local),
                   limits=limits or Limits(), models=tuple(models) if models is not None else None, hub=hub)

    def model(self, name: str) -> LoadedModel:
        """Load a model named in a request: checked against the policy (form, --models, --no-hub, size), never
        with remote code."""
        source, kind = classify_model_name(name, self.allowed_dirs, models=self.models, hub=self.hub)
        model = load_model(source, trust_remote_code=False, kind=kind, max_parameters=self.limits.max_model_params)
        self.limits.check_parameters(model.info.parameters, name)  # also when another caller loaded it before
        check_deadline()
        return model

    def text_pass(self, model: LoadedModel, text: str) -> TextPass:
        """The forward pass over `text` (logits at the masks and every attention), cached per (model, text).

        Every view of a sentence starts here: the Predict and Attention tabs, the API, the side-by-side attention,
        and every change of top-k or target words reuse the one pass (a target word of several pieces runs its
        own chain-rule pass each time).
        """
        self.limits.check_text(text)  # before tokenising, whichever tab or API name asked
        return self.passes.get((model_key(model), text), lambda: run_text_pass(model, text))

    def analysis(self, model: LoadedModel, text: str, top_k: int, targets: Sequence[str] = ()) -> Analysis:
        """Predictions (top-k, target words) and attentions of `text`, built from its cached pass."""
        self.limits.check_request(text=text, top_k=top_k, words=list(targets))
        return analysis_from_pass(model, self.text_pass(model, text), top_k, list(targets) or None)

    def comparison(self, models: Sequence[LoadedModel], text: str, top_k: int) -> Comparison:
        """`compare_models` from each model's cached pass: a new top-k (or a model compared again, or one the
        Predict tab ran) costs no forward pass; the inputs are checked before any pass runs."""
        check_comparison(models, text, top_k)
        passes = [self.text_pass(model, text) for model in models]
        return comparison_from_logits(models, text, [p.encoding for p in passes], [p.mask_logits for p in passes],
                                      top_k)

    def attribution(self, model: LoadedModel, text: str, mask: int, target: str, contrast: str, method: str,
                    steps: int, progress: Progress | None = None) -> TokenAttribution:
        """`attribute_tokens` through a bounded cache; an empty target means the top-1, an empty contrast none."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= self.limits.max_steps:
            raise InputError(f"steps must be a whole number from 1 to {self.limits.max_steps} here, not {steps!r}; "
                             f"the command line (mlm-explorer attribute --steps N) takes more.")
        self.limits.check_text(text)
        target_word = self.limits.check_word(target, "target") or None
        contrast_word = self.limits.check_word(contrast, "contrast") or None

        def report(fraction: float) -> None:
            check_deadline()  # between batches: a request past its deadline (or cancelled) stops here
            if progress is not None:
                progress(fraction)

        key = (model_key(model), text, mask, target_word, contrast_word, method, steps)
        return self.attributions.get(key, lambda: attribute_tokens(
            model, text, mask=mask, target=target_word, contrast=contrast_word, method=method, n_steps=steps,
            progress=report,
        ))

    def attention(self, model: LoadedModel, text: str) -> AttentionMaps:
        """The attention weights of `text`, refused when the answer would be over `limits.max_attention_weights`."""
        maps = self.text_pass(model, text).attention
        self.limits.check_attention(len(maps.tokens), maps.layers, maps.heads)
        return maps


def model_key(model: LoadedModel) -> tuple[str, str, str]:
    """What identifies a loaded model's weights in a result cache key."""
    return (model.info.source, model.info.device, model.info.dtype)
