"""The widgets every tab shares (model, sentence, top-k, run button, model facts) and the app's shared state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from explorer.figures.labels import mask_names
from explorer.limits import count_typed_masks
from explorer.ui.state import AppState

# The top-k slider's starting value (also the API's default) and its largest value (also a shared link's).
DEFAULT_TOP_K = 5
MAX_TOP_K = 50


@dataclass(frozen=True)
class Page:
    """What a tab builder needs from the page around it."""

    state: AppState
    model: gr.Dropdown
    text: gr.Textbox
    top_k: gr.Slider
    run: gr.Button
    model_info: gr.HTML
    # Each tab's ResultFrame (explorer/ui/result_frame.py), registered as the tab is built.
    frames: list = field(default_factory=list)


@dataclass(frozen=True)
class TabRun:
    """A tab's main computation as wired to the page: handler, inputs and outputs (the page reruns it for links)."""

    fn: Callable[..., Any]
    inputs: Sequence[gr.components.Component]
    outputs: Sequence[gr.components.Component]

    def skippable(self) -> Callable[..., Any]:
        """The handler with a leading flag: when false, every output is left as it is (`gr.skip()`)."""
        def run_if(flag: bool, *args: Any) -> Any:
            if not flag:
                return tuple(gr.skip() for _ in self.outputs)
            return self.fn(*args)

        return run_if


def mask_choices(text: str | None) -> list[tuple[str, int]]:
    """(label, index) for every mask typed in `text`, for a mask menu, named as in every view ("mask 1 · 'the
    [MASK] of'"); at least the first mask."""
    count = max(1, count_typed_masks(text))
    return [(name, i) for i, name in enumerate(mask_names(text or "", count))]


def follow_masks(text: gr.Textbox, menu: gr.Dropdown) -> None:
    """Keep `menu`'s choices in step with the masks typed in `text` (no model needed, no queue)."""
    def update(value: str, current: int | None) -> gr.Dropdown:
        choices = mask_choices(value)
        keep = current if isinstance(current, int) and current < len(choices) else 0
        return gr.Dropdown(choices=choices, value=keep)

    text.change(update, inputs=[text, menu], outputs=menu, queue=False, show_progress="hidden",
                api_visibility="private")
