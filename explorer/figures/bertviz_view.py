"""bertviz's head view and model view as self-contained HTML that draws with no network access.

bertviz loads require.js, d3 and jQuery from a CDN when a view opens, and `<script>` does not run inside
`gr.HTML`. Here each view is one standalone HTML document: d3 5.7.0 and jQuery 2.2.4 inlined from the copies
shipped in `explorer/static/`, a few-line `require` shim in place of require.js, bertviz's own view script (read
from the installed bertviz, its CDN configuration removed), and the weights. `*_html` wraps a document in an
`<iframe srcdoc=...>` that can be dropped into any page, `gr.HTML` included; it sizes itself to its content.

Safety: tokens are user input. They reach the page only as JSON data inside a script, with `<`, `>` and `&`
written as \\u escapes (so no `</script>` or `<!--` can end the script), and bertviz puts them into the SVG with
d3's `.text()`, never as markup. The whole document is then attribute-escaped into `srcdoc`. No `http://` or
`https://` appears in the output: URLs in comments are shortened and XML namespace strings that d3 needs are
written with escaped slashes (`"http:\\/\\/www.w3.org/2000/svg"`, the same string to JavaScript).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Sequence
from importlib import resources

import numpy as np

from explorer.attention import AttentionMaps
from explorer.errors import InputError
from explorer.figures.labels import escape_label, token_label

# (name, file under explorer/static/): inlined in this order, before bertviz's script.
VENDOR_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("d3", "d3-5.7.0/d3.min.js"),
    ("jquery", "jquery-2.2.4/jquery.min.js"),
)
DISPLAY_MODES = ("light", "dark")
_ROOT_ID = "bertviz"
# Weights travel as little-endian uint16 (weight * 65535) in base64: a quarter of the size of JSON numbers with
# four decimals, and steps of 1.5e-5, far below what a line's opacity can show.
_SCALE = 65535

_REQUIRE_SHIM = """
(function () {
  // bertviz calls requirejs(["jquery", "d3"], callback): hand it the globals inlined above.
  var modules = {d3: window.d3, jquery: window.jQuery};
  function require(names, callback) {
    callback.apply(null, names.map(function (name) { return modules[name]; }));
  }
  require.config = function () {};
  window.require = window.requirejs = require;
})();
"""

_DECODE_PARAMS = """
(function () {
  function decode(packed) {
    var bytes = atob(packed.b64), shape = packed.shape, at = 0, out = [];
    for (var l = 0; l < shape[0]; l++) {
      var layer = [];
      for (var h = 0; h < shape[1]; h++) {
        var head = [];
        for (var q = 0; q < shape[2]; q++) {
          var row = new Array(shape[3]);
          for (var k = 0; k < shape[3]; k++, at += 2) {
            row[k] = (bytes.charCodeAt(at) | (bytes.charCodeAt(at + 1) << 8)) / SCALE;
          }
          head.push(row);
        }
        layer.push(head);
      }
      out.push(layer);
    }
    return out;
  }
  var params = PARAMS_JSON;
  params.attention.forEach(function (view) { view.attn = decode(view.attn); });
  window.explorerParams = params;
})();
"""

_FIT_FRAME = """
(function () {
  // Inside an <iframe srcdoc>, grow or shrink the frame to the drawing (the head view changes height).
  function fit() {
    try {
      var frame = window.frameElement;
      if (frame) { frame.style.height = Math.ceil(document.body.getBoundingClientRect().height) + 4 + "px"; }
    } catch (error) { /* a cross-origin parent: keep the frame's own height */ }
  }
  if (window.ResizeObserver) { new ResizeObserver(fit).observe(document.body); }
  window.addEventListener("load", fit);
})();
"""

_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
html, body {{ margin: 0; background: {background}; color: {color}; }}
body {{ padding: 8px; font-family: 'Helvetica Neue', Helvetica, Arial, sans-serif; }}
#{root} select {{ margin: 0 0 6px 4px; }}
</style>
</head>
<body>
<div id="{root}">
<span style="user-select:none">{controls}</span>
<div id="vis"></div>
</div>
{scripts}
</body>
</html>
"""


def head_view_document(
    maps: AttentionMaps,
    *,
    layer: int = 0,
    heads: Sequence[int] | None = None,
    layers: Sequence[int] | None = None,
) -> str:
    """bertviz's head view of one text as a standalone HTML document (all scripts inlined).

    Args:
        maps: the attention weights of one text.
        layer: the layer shown first (the page has a layer menu).
        heads: the heads selected at first (default: all; each head can be toggled on the page).
        layers: only these layers in the menu (default: all); fewer layers make a smaller page on long texts.
    Returns:
        The HTML document, UTF-8 text.
    """
    included = _check_layers(maps, layers)
    if layer not in included:
        raise InputError(f"Layer {layer} is not among the layers shown ({_list(included)}); pick one of them.")
    selected = _check_heads(maps, heads)
    params = {
        "attention": [_view_data(maps, included, list(range(maps.heads)))],
        "default_filter": "0",
        "root_div_id": _ROOT_ID,
        "layer": layer,
        "heads": selected if heads is not None else None,
        "include_layers": included,
    }
    return _document(maps, "head_view.js", params, "Layer: <select id=\"layer\"></select>", "light", "head view")


def model_view_document(
    maps: AttentionMaps,
    *,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    display_mode: str = "light",
) -> str:
    """bertviz's model view (a thumbnail of every head of every layer; click one to enlarge) as a standalone
    HTML document.

    Args:
        maps: the attention weights of one text.
        layers: only these layers (default: all).
        heads: only these heads (default: all).
        display_mode: "light" or "dark".
    Returns:
        The HTML document, UTF-8 text.
    """
    if display_mode not in DISPLAY_MODES:
        raise InputError(f"Unknown display mode {display_mode!r}; use light or dark.")
    included_layers = _check_layers(maps, layers)
    included_heads = _check_heads(maps, heads)
    params = {
        "attention": [_view_data(maps, included_layers, included_heads)],
        "default_filter": "0",
        "display_mode": display_mode,
        "root_div_id": _ROOT_ID,
        "include_layers": included_layers,
        "include_heads": included_heads,
        "total_heads": len(included_heads),
    }
    return _document(maps, "model_view.js", params, "", display_mode, "model view")


def head_view_html(
    maps: AttentionMaps,
    *,
    layer: int = 0,
    heads: Sequence[int] | None = None,
    layers: Sequence[int] | None = None,
) -> str:
    """The head view in an `<iframe srcdoc>` for `gr.HTML` or any page; arguments as `head_view_document`."""
    document = head_view_document(maps, layer=layer, heads=heads, layers=layers)
    height = 80 + int(len(maps.tokens) * 22.5)
    return iframe_html(document, title=f"Attention head view: {maps.text}", height=height)


def model_view_html(
    maps: AttentionMaps,
    *,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    display_mode: str = "light",
) -> str:
    """The model view in an `<iframe srcdoc>` for `gr.HTML` or any page; arguments as `model_view_document`."""
    document = model_view_document(maps, layers=layers, heads=heads, display_mode=display_mode)
    n_layers = len(layers) if layers is not None else maps.layers
    n_heads = len(heads) if heads is not None else maps.heads
    # bertviz's own layout: thumbnails 7 * 12 / heads px per token, a detail panel 18 px per token.
    thumbnails = n_layers * (len(maps.tokens) * 7 * 12 / n_heads + 10) + 38
    detail = len(maps.tokens) * 18 + 55
    return iframe_html(document, title=f"Attention model view: {maps.text}", height=int(max(thumbnails, detail)) + 40)


def iframe_html(document: str, *, title: str, height: int) -> str:
    """`document` inside an `<iframe srcdoc>` of the given starting height (the document may resize it).

    Args:
        document: a whole HTML document.
        title: the frame's accessible title (escaped here).
        height: starting height in CSS pixels.
    Returns:
        One `<iframe>` element as HTML text.
    """
    return (
        f'<iframe title="{html.escape(title, quote=True)}" srcdoc="{html.escape(document, quote=True)}" '
        f'style="width:100%;height:{int(height)}px;border:0;display:block" loading="eager"></iframe>'
    )


def script_json(value: object) -> str:
    """`value` as JSON that is safe inside an HTML `<script>`: no `<`, `>` or `&` (so no `</script>`, `<!--`)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(raw, escaped)
    return text


def display_tokens(tokens: Sequence[str]) -> list[str]:
    """Tokens as every other view shows them (`token_label`: no Ġ or ▁ marks, WordPiece's ## kept)."""
    # `token_label` without `escape_label` on purpose: bertviz lays out one text per position and writes it with
    # d3's .text(), so the tokens travel raw in JSON (script_json keeps them inert); HTML entities would be drawn
    # literally.
    return [token_label(t.replace("</w>", "")) for t in tokens]


def _view_data(maps: AttentionMaps, layers: list[int], heads: list[int]) -> dict:
    weights = maps.array()[layers][:, heads]  # [layer, head, query_pos, key_pos]
    packed = np.rint(np.clip(weights, 0.0, 1.0) * _SCALE).astype("<u2")
    tokens = display_tokens(maps.tokens)
    return {
        "name": None,
        "attn": {"b64": base64.b64encode(packed.tobytes()).decode("ascii"), "shape": list(weights.shape)},
        "left_text": tokens,
        "right_text": tokens,
    }


def _document(maps: AttentionMaps, view_script: str, params: dict, controls: str, mode: str, kind: str) -> str:
    if not maps.tokens:
        raise InputError("There are no tokens to draw; type a sentence with [MASK].")
    decode = _DECODE_PARAMS.replace("SCALE", str(_SCALE)).replace("PARAMS_JSON", script_json(params))
    scripts = [*_vendor_scripts(), _REQUIRE_SHIM, decode, _FIT_FRAME, _bertviz_script(view_script)]
    background, color = ("white", "black") if mode == "light" else ("black", "#ccc")
    return _DOCUMENT.format(
        title=escape_label(f"{maps.model_name}: {kind} of {maps.text}"),
        background=background, color=color, root=_ROOT_ID, controls=controls,
        scripts="\n".join(f"<script>\n{s}\n</script>" for s in scripts),
    )  # fmt: skip


@functools.cache
def _vendor_scripts() -> tuple[str, ...]:
    static = resources.files("explorer") / "static"
    return tuple(offline_script(name, (static / path).read_text(encoding="utf-8")) for name, path in VENDOR_SCRIPTS)


@functools.cache
def _bertviz_script(name: str) -> str:
    source = (resources.files("bertviz") / name).read_text(encoding="utf-8")
    # The CDN paths for require.js: the shim above needs no configuration.
    source, configs = re.subn(r"require\.config\(\{.*?\}\);", "", source, count=1, flags=re.DOTALL)
    marker = "const params = PYTHON_PARAMS;"
    if configs != 1 or source.count(marker) != 1:
        raise RuntimeError(
            f"bertviz's {name} no longer has the shape MLM Explorer expects (require.config and "
            f"{marker!r}); install bertviz 1.4.x."
        )
    return offline_script(name, source.replace(marker, "const params = window.explorerParams;"))


def offline_script(name: str, source: str) -> str:
    """A script's text made fit to inline and free of `http(s)://` without changing what it does.

    A URL inside a string literal (d3's XML namespaces) gets escaped slashes, which JavaScript reads as the
    same string; any other URL (in a comment) loses its scheme.
    """
    source = re.sub(r"""(["'`])(https?):/{2}""", r"\1\2:\\/\\/", source, flags=re.IGNORECASE)
    source = re.sub(r"https?://", "", source, flags=re.IGNORECASE)
    if re.search(r"</script|<!--", source, flags=re.IGNORECASE):
        raise RuntimeError(f"{name} contains </script or <!-- and cannot be inlined as it is.")
    return source


def _check_layers(maps: AttentionMaps, layers: Sequence[int] | None) -> list[int]:
    return _check_indices(layers, maps.layers, "layers")


def _check_heads(maps: AttentionMaps, heads: Sequence[int] | None) -> list[int]:
    return _check_indices(heads, maps.heads, "heads")


def _check_indices(values: Sequence[int] | None, count: int, noun: str) -> list[int]:
    """Distinct 0-based indices below `count` (all of them when `values` is None), or an error naming `noun`."""
    chosen = list(range(count)) if values is None else [int(v) for v in values]
    if not chosen or any(not 0 <= v < count for v in chosen) or len(set(chosen)) != len(chosen):
        raise InputError(f"Choose distinct {noun} from 0 to {count - 1}, not {_list(chosen) or 'none'}.")
    return chosen


def _list(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values)
