"""What every tab does around its result: an error said in place, a Download button, and a link that reopens it.

A tab adopts the pattern in three lines (the Predict tab is the example):

    frame = ResultFrame.build(page, "predict", settings={"targets": targets})  # a message above the results
    ...  # the tab's result components
    frame.footer()                                                              # Download JSON, link, copy button

and its handler, wrapped with `frame.shows(handler, clears=[...the result components...])`, returns a dict
`{component: value}` that may hold `frame.download: path_of_json` and `frame.link: frame.query(...)`; the frame turns
them into a visible Download button and a "Link to this result" with a copy button.

When the handler raises the project's error (an `ExplorerError`), the frame shows its message (escaped) where the
result would be, clears the tab's result components, hides its Download button and link, and, when the model could
not load (`load_model_for`), says so in the page's model line; no pop-up. A link carries `view=<tab>` and the tab's
`settings` (component values under short names), which the page puts back when the link opens (`apply_links`).

A panel inside a tab (joint filling, heads switched off, the compared models side by side) takes a frame of its
own: `ResultFrame.build(page, "joint")` above its result, then `frame.footer("Download JSON (joint)", link=False)`
or no footer where it has no download. A handler that only redraws part of a result (a slider, top-k) is wrapped
with `frame.shows` too, so that its failure is said in place as well; `frame.redraws` wraps one that should do
nothing while the tab shows no result (`frame.has_result` as its first input).
"""

from __future__ import annotations

import functools
import html
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from explorer.errors import ExplorerError
from explorer.models import LoadedModel
from explorer.ui.errors import hide_paths, observed
from explorer.ui.model_picker import render_model_problem
from explorer.ui.page import Page, mask_choices
from explorer.ui.share import build_share_query

# Copies the link next to the button (as an absolute URL) and says so; a fallback for pages not on localhost/https.
COPY_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.copy-link');
  if (!button) return;
  const link = element.querySelector('a.result-link');
  if (!link) return;
  const url = new URL(link.getAttribute('href'), window.location.href).href;
  const done = () => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy link'; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(done, () => {});
  } else {
    const area = document.createElement('textarea');
    area.value = url; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); done(); } finally { area.remove(); }
  }
});
"""


class ModelProblem(ExplorerError):
    """A model named in a request could not be loaded; `name` says which."""

    def __init__(self, name: str, error: ExplorerError) -> None:
        super().__init__(f"The model {name!r} could not be loaded: {error}")
        self.name = name


def load_model_for(page: Page, name: str) -> LoadedModel:
    """`page.state.model(name)`, its failure marked as the model's (so the model line names it)."""
    try:
        return page.state.model(name)
    except ModelProblem:
        raise
    except ExplorerError as error:
        raise ModelProblem(name, error) from error


@dataclass
class ResultFrame:
    """One tab's message, Download button and link; see the module docstring."""

    page: Page
    view: str
    message: gr.HTML
    # Whether the tab shows a result (true after a success, false after a failure): redraws skip without one.
    has_result: gr.State
    settings: Mapping[str, gr.components.Component] = field(default_factory=dict)
    download: gr.DownloadButton | None = None
    link: gr.HTML | None = None

    @classmethod
    def build(cls, page: Page, view: str, settings: Mapping[str, gr.components.Component] | None = None
              ) -> ResultFrame:
        """Place the tab's (empty) message here, above its results; `settings` go into its link."""
        message = gr.HTML(elem_id=f"{view}-message", elem_classes=["result-message"])
        frame = cls(page=page, view=view, message=message, has_result=gr.State(False), settings=dict(settings or {}))
        page.frames.append(frame)
        return frame

    def footer(self, label: str = "Download JSON", link: bool = True) -> None:
        """Place the Download button and (unless `link` is false) the link, both hidden until a result shows."""
        with gr.Row(elem_classes=["result-footer"]):
            self.download = gr.DownloadButton(label, visible=False, elem_id=f"{self.view}-download",
                                              scale=0, min_width=160)
            if link:
                self.link = gr.HTML(elem_id=f"{self.view}-share", js_on_load=COPY_JS)

    @property
    def outputs(self) -> list[gr.components.Component]:
        """The frame's own components, to add to the tab's outputs."""
        own = [self.message, self.has_result, self.download, self.link, self.page.model_info]
        return [component for component in own if component is not None]

    def query(self, model: str, text: str, **values: Any) -> str:
        """The link's query: model, text, `view=` and the tab's settings (`values` keyed by setting name)."""
        extra = {key: str(value) for key, value in values.items() if value not in (None, "")}
        return build_share_query(model, text, view=self.view, settings=extra)

    def shows(self, handler: Callable[..., dict], clears: Sequence[gr.components.Component]) -> Callable[..., dict]:
        """Wrap `handler` (returning `{component: value}`) so that a result shows with its Download and link, and
        an error shows in place of it (`clears` emptied, Download and link hidden)."""

        watched = observed(handler)  # the request's deadline and log line

        @functools.wraps(handler)
        def run(*args: Any, **kwargs: Any) -> dict:
            try:
                shown = watched(*args, **kwargs)
            except ExplorerError as error:
                return self.failed(error, clears)
            shown = dict(shown)
            shown[self.message] = ""
            shown[self.has_result] = True
            if self.download is not None and self.download in shown:
                shown[self.download] = gr.DownloadButton(value=shown[self.download], visible=True)
            if self.link is not None and self.link in shown:
                shown[self.link] = render_link(shown[self.link])
            return shown

        return run

    def redraws(self, handler: Callable[..., dict], clears: Sequence[gr.components.Component]
                ) -> Callable[..., dict]:
        """`shows(handler, clears)` with `has_result` as a first argument: nothing happens while no result shows
        (a redraw of a result never asked for would run the forward pass the tab's button runs)."""
        shown = self.shows(handler, clears)

        @functools.wraps(handler)
        def run(has_result: bool, *args: Any, **kwargs: Any) -> dict:
            return shown(*args, **kwargs) if has_result else gr.skip()

        # Gradio reads the handler's signature (its inputs, a gr.Progress): the handler's, with has_result first.
        signature = inspect.signature(handler)
        flag = inspect.Parameter("has_result", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        run.__signature__ = signature.replace(parameters=[flag, *signature.parameters.values()])  # type: ignore
        return run

    def failed(self, error: ExplorerError, clears: Sequence[gr.components.Component]) -> dict:
        """The updates that say `error` in place of this tab's result."""
        updates: dict = {component: _cleared(component) for component in clears}
        updates[self.message] = render_message(str(error))
        updates[self.has_result] = False
        if self.download is not None:
            updates[self.download] = gr.DownloadButton(value=None, visible=False)
        if self.link is not None:
            updates[self.link] = ""
        if isinstance(error, ModelProblem):
            updates[self.page.model_info] = render_model_problem(str(error))
        return updates


def render_message(message: str) -> str:
    """The one message a tab shows in place of its result; no server folder in it, escaped."""
    return f"<div class='result-error' role='alert'>⚠ {html.escape(hide_paths(message))}</div>"


def render_link(query: str) -> str:
    """"Link to this result" (relative, so it works behind any host name) and its copy button; escaped."""
    return (f"<div class='share-link'><a class='result-link' href='{html.escape(query, quote=True)}' target='_blank' "
            f"rel='noopener'>Link to this result</a> <button type='button' class='copy-link'>Copy link</button></div>")


def _cleared(component: gr.components.Component) -> Any:
    if isinstance(component, gr.DownloadButton):  # a tab's second download: hidden with the result
        return gr.DownloadButton(value=None, visible=False)
    if isinstance(component, gr.Plot):
        return None
    if isinstance(component, gr.Column):  # a column of a result (one compared model's): hidden with it
        return gr.Column(visible=False)
    if isinstance(component, gr.HTML):
        return ""
    return gr.skip()


def apply_links(load: Any, page: Page) -> Any:
    """After `load` (the page's opening event), put a link's settings into every tab's setting components."""
    frames = list(page.frames)
    components = [c for frame in frames for c in frame.settings.values()]
    if not components:
        return load

    def fill(request: gr.Request) -> tuple:
        params = dict(request.query_params) if request is not None else {}
        view = params.get("view")
        values = []
        for frame in frames:
            for name, component in frame.settings.items():
                raw = params.get(name) if view == frame.view else None
                values.append(_setting_value(component, raw, params.get("text") or ""))
        return tuple(values)

    return load.then(fill, outputs=components, api_visibility="private", show_progress="hidden")


def _setting_value(component: gr.components.Component, raw: str | None, text: str) -> Any:
    """A link's value for one setting, or `gr.skip()` when the link has none or it makes no sense."""
    if raw is None or len(raw) > 200:
        return gr.skip()
    if isinstance(component, gr.Slider):
        try:
            number = float(raw)
        except ValueError:
            return gr.skip()
        # The layer and head sliders learn their range from the model: widen it until the tab runs.
        number = max(number, component.minimum)
        return gr.Slider(value=number, maximum=max(number, component.maximum))
    if isinstance(component, gr.Dropdown) and raw.isdigit():  # a mask menu: its choices follow the link's text
        choices = mask_choices(text)
        return gr.Dropdown(choices=choices, value=int(raw)) if int(raw) < len(choices) else gr.skip()
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        choices = [c[1] if isinstance(c, tuple) else c for c in (component.choices or [])]
        return next((choice for choice in choices if str(choice) == raw), gr.skip())
    return raw
