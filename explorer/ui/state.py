"""What the web app shares between requests: the operator's model policy and bounded caches of results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from explorer.attention import Analysis, TextPass, analysis_from_pass, run_text_pass
from explorer.attribution import Progress, TokenAttribution, attribute_tokens
from explorer.cache import LruCache
from explorer.errors import InputError
from explorer.models import LoadedModel, load_model
from explorer.ui.model_picker import check_model_name

T = TypeVar("T")

DEFAULT_RESULT_CACHE_SIZE = 32
# Attention weights are the bulk of a pass: bert-base on 512 tokens holds 150 MB of them.
PASS_CACHE_BYTES = 512 * 2**20
# Integration steps a web request may ask for (the CLI and Python have no such limit).
MAX_REQUEST_STEPS = 500


@dataclass
class AppState:
    """Shared by every tab and request of one app: allowed local folders and result caches.

    Models themselves live in the core's bounded model cache (`explorer.models.MODEL_CACHE`), shared by all users.
    """

    allowed_dirs: tuple[Path, ...] = ()
    passes: LruCache = field(
        default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE, max_bytes=PASS_CACHE_BYTES,
                                         size_of=lambda text_pass: text_pass.nbytes))
    attributions: LruCache = field(default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE))
    # Layer lens, head ablation and joint filling results (explorer/ui/layers_state.py).
    inspections: LruCache = field(default_factory=lambda: LruCache(DEFAULT_RESULT_CACHE_SIZE))

    @classmethod
    def create(cls, allow_local: Sequence[str | Path] = ()) -> AppState:
        return cls(allowed_dirs=tuple(Path(d).expanduser().resolve() for d in allow_local))

    def model(self, name: str) -> LoadedModel:
        """Load a model named in a request: checked against the policy, never with remote code."""
        return load_model(check_model_name(name, self.allowed_dirs), trust_remote_code=False)

    def text_pass(self, model: LoadedModel, text: str) -> TextPass:
        """The forward pass over `text` (logits at the masks and every attention), cached per (model, text).

        Every view of a sentence starts here: the Predict and Attention tabs, the API, the side-by-side attention,
        and every change of top-k or target words reuse the one pass.
        """
        return self.passes.get((model_key(model), text), lambda: run_text_pass(model, text))

    def analysis(self, model: LoadedModel, text: str, top_k: int, targets: Sequence[str] = ()) -> Analysis:
        """Predictions (top-k, target words) and attentions of `text`, built from its cached pass."""
        return analysis_from_pass(model, self.text_pass(model, text), top_k, list(targets) or None)

    def attribution(self, model: LoadedModel, text: str, mask: int, target: str, contrast: str, method: str,
                    steps: int, progress: Progress | None = None) -> TokenAttribution:
        """`attribute_tokens` through a bounded cache; an empty target means the top-1, an empty contrast none."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_REQUEST_STEPS:
            raise InputError(f"steps must be a whole number from 1 to {MAX_REQUEST_STEPS} here, not {steps!r}; "
                             f"the command line (mlm-explorer attribute --steps N) takes more.")
        target_word = target.strip() or None
        contrast_word = contrast.strip() or None
        key = (model_key(model), text, mask, target_word, contrast_word, method, steps)
        return self.attributions.get(key, lambda: attribute_tokens(
            model, text, mask=mask, target=target_word, contrast=contrast_word, method=method, n_steps=steps,
            progress=progress,
        ))


def model_key(model: LoadedModel) -> tuple[str, str, str]:
    """What identifies a loaded model's weights in a result cache key."""
    return (model.info.source, model.info.device, model.info.dtype)
