"""The `mlm-explorer` command line: one subcommand per core computation, JSON or readable tables."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from explorer.bundled import default_model
from explorer.errors import ExplorerError, InputError
from explorer.limits import CLI_LIMITS

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 1 any other failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_libraries(args.debug)
    try:
        return int(args.run(args) or 0)
    except InputError as error:
        return _fail(args, error, EXIT_BAD_INPUT)
    except ExplorerError as error:
        return _fail(args, error, EXIT_FAILURE)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last resort: a readable line instead of a traceback
        return _fail(args, error, EXIT_FAILURE, unexpected=True)


def _quiet_libraries(debug: bool) -> None:
    """Keep stderr for our own messages: no progress bars or library warnings unless --debug."""
    if debug:
        return
    # Through the environment while transformers is not imported yet, so that a command refusing its input
    # before loading a model starts no library at all.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" not in sys.modules:
        return
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def _fail(args: argparse.Namespace, error: BaseException, status: int, unexpected: bool = False) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    prefix = f"unexpected {type(error).__name__}: " if unexpected else ""
    hint = " (run again with --debug for the traceback)" if unexpected and not args.debug else ""
    print(f"mlm-explorer: error: {prefix}{error}{hint}", file=sys.stderr)
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mlm-explorer",
        description="Look inside masked language models: predictions, attention, attributions.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=_examples(name),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        add_arguments(sub)
        sub.add_argument("--debug", action="store_true", help="show the traceback of a failure")
        sub.set_defaults(run=run)
    return parser


def add_model_arguments(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    """--model, --device, --dtype and --trust-remote-code, shared by every command that loads a model.

    With `several`, --model may be given several times and collects a list.
    """
    if several:
        parser.add_argument("--model", action="append", default=None,
                            help="a model to compare: bundled alias, folder or hub id (give it 2 to 4 times)")
    else:
        parser.add_argument(
            "--model", default=None,
            help=f"bundled alias, local folder or hub id (default: {default_model()}, or $MLM_EXPLORER_MODEL)",
        )
    parser.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default=None, help="float32 (default), float16 or bfloat16")
    parser.add_argument(
        "--trust-remote-code", action="store_true",
        help="allow checkpoints that run their own Python code (only for code you trust)",
    )


def load_from_args(args: argparse.Namespace, name: str | None = None) -> Any:
    """The model `name` (default: --model, else the default model), loaded as --device/--dtype/... say."""
    from explorer.models import load_model

    return load_model(
        name or args.model or default_model(), device=args.device, dtype=args.dtype,
        trust_remote_code=args.trust_remote_code,
    )


def model_header(info: Any) -> str:
    """The first line of a readable table: which model, on what device, in what precision."""
    return f"{info.name} ({info.architecture}, {info.device}, {info.dtype})"


def print_json(document: Any, *, indent: int | None = 2) -> None:
    """Print exactly one JSON document on stdout (`indent=None`: compact, for large arrays)."""
    json.dump(document, sys.stdout, ensure_ascii=False, indent=indent)
    sys.stdout.write("\n")


def _add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--top-k", type=int, default=5, help="fillers per mask (default 5)")
    parser.add_argument("--targets", default=None, help="comma-separated words to score at every mask")
    parser.add_argument("--skip-special-tokens", action="store_true", help="leave special tokens out of the top-k")
    parser.add_argument("--joint", action="store_true",
                        help="also fill the masks jointly: one at a time, the model re-run with each word filled in")
    parser.add_argument("--order", default="confidence",
                        help="with --joint: confidence (surest mask first, the default) or left-to-right")
    parser.add_argument("--beam", type=int, default=1,
                        help="with --joint: hypotheses kept per step, 1 to 8 (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", nargs="+", help='texts with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_predict(args: argparse.Namespace) -> int:
    # Cheap checks first: a typo is refused before torch and the model load (seconds).
    check_text_first(*args.text)
    check_positive("--top-k", args.top_k)
    from explorer.documents import predict_document
    from explorer.encoding import parse_words
    from explorer.figures.labels import filled_sentence, mask_names, percent, token_label
    from explorer.fill_mask import predict_masks

    targets = list(parse_words(args.targets)) if args.targets is not None else None
    if args.joint:
        from explorer.joint import check_joint_options

        check_joint_options(args.order, args.beam)  # before the model loads
    model = load_from_args(args)
    results = [
        predict_masks(model, text, top_k=args.top_k, targets=targets, skip_special_tokens=args.skip_special_tokens)
        for text in args.text
    ]
    joints = _joint_fills(model, args) if args.joint else None
    if args.json:
        if joints is not None:
            from explorer.documents import predict_joint_document

            print_json(predict_joint_document(model.info, results, joints))
            return 0
        print_json(predict_document(model.info, results))
        return 0
    info = model.info
    print(model_header(info))
    for index, result in enumerate(results):
        print()
        print(result.text)
        names = mask_names(result.text, len(result.masks))
        for name, mask in zip(names, result.masks, strict=True):
            print(f"  {name}:")
            width = max(len(token_label(p.token)) for p in mask.predictions) + 2
            for rank, p in enumerate(mask.predictions, start=1):
                print(f"    {rank:>3}. {token_label(p.token):<{width}} {percent(p.score):>7}   "
                      f"{p.piece!r} id {p.token_id}")
            for t in mask.targets:
                if t.single_token:
                    print(f"    target {t.word!r}: {percent(t.first_piece_probability)} (rank {t.first_piece_rank})")
                else:
                    print(f"    target {t.word!r}: {percent(t.probability)} (log {t.log_probability:.4f}; "
                          f"{len(t.pieces)} pieces {list(t.pieces)}, chain rule left to right)")
        if len(result.masks) > 1:
            print("  (each mask predicted independently, the others kept masked)")
        print(f"  filled: {filled_sentence(result)}")
        if joints is not None:
            _print_joint(joints[index])
    return 0


def _joint_fills(model: Any, args: argparse.Namespace) -> list[Any]:
    from explorer.joint import fill_jointly

    return [fill_jointly(model, text, order=args.order, beam=args.beam) for text in args.text]


def _print_joint(joint: Any) -> None:
    from explorer.figures.labels import token_label

    print(f"  jointly ({joint.order}, beam {joint.beam}): {joint.filled_text}")
    for number, step in enumerate(joint.steps, start=1):
        independent = joint.independent[step.mask]
        note = "" if not joint.differs[step.mask] else f"   (independent top-1: {token_label(independent.token)!r})"
        print(f"    step {number}: mask {step.mask + 1} (token {step.position}) <- {token_label(step.token)!r} "
              f"p={step.probability:.4f}{note}")
    print(f"    log-probability {joint.log_probability:.4f}; independent top-1s: {joint.independent_text} "
          f"(sum of their own log-probabilities {joint.independent_log_probability:.4f})")


def check_text_first(*texts: str) -> None:
    """The checks a text passes before any model loads (seconds saved on a typo): not empty, a mask typed.

    The model's own checks (its mask token, its length limit) still run after loading.
    """
    from explorer.figures.labels import mask_contexts  # imports no torch, unlike explorer.encoding

    example = "Paris is the [MASK] of France."
    for text in texts:
        if not text.strip():
            raise InputError(f'The text is empty; type a sentence with [MASK] in it, e.g. "{example}"')
        if not mask_contexts(text):
            raise InputError(f'No [MASK] in the text {text!r}; try "{example}"')


def check_positive(flag: str, value: int | None, minimum: int = 1) -> None:
    """Refuse a numeric option below `minimum` before a model loads."""
    if value is not None and value < minimum:
        raise InputError(f"{flag} must be at least {minimum}, not {value}.")


def _add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, several=True)
    parser.add_argument("--top-k", type=int, default=5, help="fillers per mask and model (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_compare(args: argparse.Namespace) -> int:
    # Cheap checks first: a typo is refused before torch and the model load (seconds).
    check_text_first(args.text)
    check_positive("--top-k", args.top_k)
    from explorer.bundled import BUNDLED_MODELS
    from explorer.compare import compare_models
    from explorer.documents import compare_document
    from explorer.figures.compare import correlation_cell
    from explorer.figures.labels import mask_names, percent, token_label

    names = args.model or [m.alias for m in BUNDLED_MODELS]
    if len(names) < 2:
        raise InputError("Compare needs at least two models; give --model twice, e.g. --model mini-bert "
                         "--model mini-roberta.")
    models = [load_from_args(args, name) for name in names]
    comparison = compare_models(models, args.text, top_k=args.top_k)
    if args.json:
        print_json(compare_document(comparison))
        return 0
    print(comparison.text)
    names = mask_names(comparison.text, len(comparison.agreement))
    for a in comparison.agreement:
        print(f"\n{names[a.mask]}")
        # Whole words: each column as wide as its longest "word  12.3%" cell
        words = [[token_label(p.token) for p in r.masks[a.mask].predictions] for r in comparison.results]
        cells = [[f"{w:<{max(map(len, ws))}} {percent(p.score):>6}" for w, p in zip(ws, r.masks[a.mask].predictions,
                                                                                 strict=True)]
                 for ws, r in zip(words, comparison.results, strict=True)]
        widths = [max([len(n), *(len(c) for c in col)]) + 3 for n, col in zip(comparison.models, cells, strict=True)]
        print("  " + "".join(f"{n:<{w}}" for n, w in zip(comparison.models, widths, strict=True)).rstrip())
        for rank in range(comparison.top_k):
            print("  " + "".join(f"{col[rank]:<{w}}" for col, w in zip(cells, widths, strict=True)).rstrip())
        for c in a.cross_probabilities:
            value = (percent(c.probability) if c.probability is not None
                     else f"first piece {percent(c.first_piece_probability)}")
            print(f"  {c.model} gives {c.word_of}'s top-1 {c.word!r}: {value} (rank {c.first_piece_rank})")
        for i, name in enumerate(comparison.models):
            for j in range(i + 1, len(comparison.models)):
                rho = correlation_cell(a.rank_correlation[i][j], a.shared_words[i][j])
                print(f"  {name} vs {comparison.models[j]}: top-k overlap {a.topk_overlap[i][j]:.0%}, "
                      f"Spearman {rho} over the words of either top-k both write as one token")
    return 0


def _add_models_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _run_models(args: argparse.Namespace) -> int:
    from explorer.catalog import list_models
    from explorer.documents import catalog_document

    entries = list_models()
    if args.json:
        print_json(catalog_document(entries))
        return 0
    if not entries:
        print("No bundled or cached masked language models found.")
    for e in entries:
        kind = "bundled" if e.bundled else "cached"
        print(f"{e.name:<36} {kind:<8} {e.architecture:<28} {e.parameters / 1e6:7.1f}M  {e.description}")
    return 0


def _add_attention_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--rollout", action="store_true", help="also compute attention rollout (Abnar & Zuidema)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help='print one JSON document {"model", "tokens", "layers", "heads", "attention", "rollout"}')
    output.add_argument("--out", metavar="FILE.npz", default=None,
                        help="write the same arrays to a NumPy .npz file (compact, for large models)")
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_attention(args: argparse.Namespace) -> int:
    # Cheap checks first: a typo is refused before torch and the model load (seconds).
    check_text_first(args.text)
    import numpy as np

    from explorer.attention import extract_attention
    from explorer.documents import attention_arrays, attention_document
    from explorer.figures.labels import mask_names, token_label
    from explorer.rollout import attention_rollout

    model = load_from_args(args)
    maps = extract_attention(model, args.text)
    if args.json:  # a large document only as arrays in a file
        CLI_LIMITS.check_attention(len(maps.tokens), maps.layers, maps.heads)
    rollout = attention_rollout(maps) if args.rollout else None
    if args.json:
        print_json(attention_document(maps, model.info, rollout=rollout), indent=None)
        return 0
    if args.out is not None:
        path = args.out if args.out.endswith(".npz") else f"{args.out}.npz"
        try:
            np.savez(path, **attention_arrays(maps, model.info, rollout=rollout))
        except OSError as error:
            raise ExplorerError(f"Cannot write {path}: {error.strerror or error}; check the folder exists.") from error
        names = "attention [layer, head, query_pos, key_pos]" + (", rollout [query_pos, key_pos]" if rollout else "")
        print(f"wrote {path}: {names}, tokens, layers, heads, model")
        return 0
    info = model.info
    print(f"{model_header(info)}: {maps.layers} layers x {maps.heads} heads, {len(maps.tokens)} tokens")
    print("tokens: " + " ".join(f"{pos}:{token_label(token)}" for pos, token in enumerate(maps.tokens)))
    weights = maps.array()  # [layer, head, query_pos, key_pos]
    names = mask_names(maps.text, len(maps.mask_positions))
    for number, pos in enumerate(maps.mask_positions, start=1):
        print(f"\n{names[number - 1]} (token {pos}) attends most to (mean of the heads):")
        for layer in range(maps.layers):
            print(f"  layer {layer:>2}: {_top_tokens(maps.tokens, weights[layer, :, pos].mean(axis=0))}")
        if rollout is not None:
            print(f"  rollout:  {_top_tokens(maps.tokens, np.array(rollout.mask_rows[number - 1]))}")
    print("\nevery weight: --json, or --out FILE.npz")
    return 0


def _top_tokens(tokens: Sequence[str], row: Any, count: int = 3) -> str:
    from explorer.figures.labels import token_label

    order = sorted(range(len(row)), key=lambda k: -float(row[k]))[:count]
    return "  ".join(f"'{token_label(tokens[k])}' ({k}) {float(row[k]):.1%}" for k in order)


def _add_attribute_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--mask", type=int, default=0, help="which mask to explain (0 = the first, the default)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--target", default=None, metavar="WORD",
                        help="the word to explain, one vocabulary piece (default: the top-1 prediction)")
    target.add_argument("--target-id", type=int, default=None, metavar="ID", help="the token id to explain")
    contrast = parser.add_mutually_exclusive_group()
    contrast.add_argument("--contrast", default=None, metavar="WORD",
                          help="explain logit(target) - logit(WORD) instead: why this word rather than that one")
    contrast.add_argument("--contrast-id", type=int, default=None, metavar="ID", help="the contrast as a token id")
    parser.add_argument("--method", default="ig",
                        help="ig (integrated gradients, the default), grad-x-input or occlusion")
    parser.add_argument("--steps", type=int, default=50, help="integration steps for ig (default 50)")
    parser.add_argument("--attributed", default="probability",
                        help="the target's probability (default) or logit; a contrast gives the logit difference")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="integration steps per forward pass (default: sized to the text, bounding memory)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_attribute(args: argparse.Namespace) -> int:
    # Cheap checks first: a typo is refused before torch and the model load (seconds).
    check_text_first(args.text)
    check_positive("--mask", args.mask, minimum=0)
    check_positive("--steps", args.steps)
    check_positive("--batch-size", args.batch_size)
    from explorer.figures.labels import mask_contexts, percent, token_label, typed_mask_name

    typed = mask_contexts(args.text)
    if args.mask >= len(typed):
        raise InputError(f"--mask {args.mask}: the text has {len(typed)} mask(s); give 0 to {len(typed) - 1}.")
    from explorer.attribution import METHOD_NAMES, METHODS, attribute_tokens, convergence_warning
    from explorer.documents import attribution_document

    if args.method not in METHODS:
        raise InputError(f"--method {args.method!r} is not one of {', '.join(METHODS)}.")
    CLI_LIMITS.check_steps(args.steps)  # Gauss-Legendre's nodes take steps^2 memory: bounded before loading
    model = load_from_args(args)
    result = attribute_tokens(
        model, args.text, mask=args.mask,
        target=args.target_id if args.target_id is not None else args.target,
        contrast=args.contrast_id if args.contrast_id is not None else args.contrast,
        method=args.method, n_steps=args.steps, internal_batch_size=args.batch_size, attributed=args.attributed,
    )
    warning = convergence_warning(result)
    if warning is not None:
        print(f"mlm-explorer: warning: {warning}", file=sys.stderr)
    if args.json:
        print_json(attribution_document(result))
        return 0
    info = model.info
    steps = f", {result.steps} steps" if result.steps is not None else ""
    print(model_header(info))
    name = typed_mask_name(args.text, result.mask_index)
    print(f"{METHOD_NAMES[result.method]} of {result.score_label} at {name} (token {result.mask_position}){steps}")
    print(f"target '{token_label(result.target.token)}' (id {result.target.token_id}): "
          f"probability {percent(result.target.probability)}")
    if result.contrast is not None:
        print(f"contrast '{token_label(result.contrast.token)}' (id {result.contrast.token_id}): "
              f"probability {percent(result.contrast.probability)}")
    print(f"baseline: {result.baseline}")
    scale = max((abs(s) for s in result.scores), default=0.0) or 1.0
    for pos, (token, score) in enumerate(zip(result.tokens, result.scores, strict=True)):
        bar = ("█" if score > 0 else "▒") * round(20 * abs(score) / scale)
        note = "  <- mask" if pos == result.mask_position else ""
        print(f"  {pos:>4} {token_label(token):<20} {score:+11.4g} {bar}{note}")
    print(f"f(x) = {result.score_input:.6g}   f(x') = {result.score_baseline:.6g}   "
          f"f(x) - f(x') = {result.change:.6g}   sum = {result.total:.6g}"
          + (f"   delta = {result.delta:.3g}" if result.delta is not None else ""))
    return 0



def _add_layers_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--top-k", type=int, default=5, help="words per layer and mask (default 5)")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON document {"model", "tokens", "layers", "masks": [{"position", "layers"}]}')
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_layers(args: argparse.Namespace) -> int:
    from explorer.documents import layers_document
    from explorer.figures.labels import mask_names, token_label
    from explorer.layers import layer_predictions

    model = load_from_args(args)
    result = layer_predictions(model, args.text, top_k=args.top_k)
    if args.json:
        print_json(layers_document(result))
        return 0
    print(f"{model_header(model.info)}: the MLM head applied after each of {result.layers} layers (0 = embeddings)")
    names = mask_names(result.text, len(result.masks))
    for name, mask in zip(names, result.masks, strict=True):
        final = mask.layers[-1].final_top1
        print(f"\n{name} (token {mask.position}); final top-1 "
              f"{token_label(final.token)!r}:")
        for entry in mask.layers:
            words = "  ".join(f"{token_label(p.token)[:14]} {p.score:.3f}" for p in entry.predictions[:5])
            print(f"  layer {entry.layer:>2}: {words:<80} final word rank {entry.final_top1.rank:>5}, "
                  f"p={entry.final_top1.score:.4f}")
    return 0


def _add_ablate_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--heads", default=None, metavar="L:H,...",
                      help="heads to remove, counted from 0: 2:5,3:7 (L:* = every head of layer L)")
    what.add_argument("--scan", action="store_true",
                      help="remove each head alone and report the change of the target's probability")
    parser.add_argument("--mode", default="zero", help="zero (the default) or mean (its mean over the text)")
    parser.add_argument("--mask", type=int, default=0, help="with --scan: which mask (0 = the first, the default)")
    parser.add_argument("--target", default=None, metavar="WORD",
                        help="with --scan: a one-piece word (default: the top-1 prediction)")
    parser.add_argument("--top-k", type=int, default=5, help="with --heads: fillers per mask (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_ablate(args: argparse.Namespace) -> int:
    from explorer.ablation import ablate_heads, check_mode, head_effects

    check_mode(args.mode)
    model = load_from_args(args)
    if args.scan:
        effects = head_effects(model, args.text, mask=args.mask, target=args.target, mode=args.mode)
        if args.json:
            from explorer.documents import head_effects_document

            print_json(head_effects_document(effects))
            return 0
        _print_head_effects(model.info, effects)
        return 0
    result = ablate_heads(model, args.text, args.heads, mode=args.mode, top_k=args.top_k)
    if args.json:
        from explorer.documents import ablation_document

        print_json(ablation_document(model.info, result))
        return 0
    _print_ablation(model, result)
    return 0


def _print_ablation(model: Any, result: Any) -> None:
    from explorer.figures.labels import mask_names, token_label
    from explorer.fill_mask import predict_masks

    fill = result.fill_mask
    plain = predict_masks(model, fill.text, top_k=len(fill.masks[0].predictions))
    removed = ", ".join(f"{layer}:{head}" for layer, head in result.ablated) or "none"
    print(f"{model_header(model.info)}; heads removed ({result.mode}): {removed}")
    names = mask_names(fill.text, len(fill.masks))
    for name, mask, before in zip(names, fill.masks, plain.masks, strict=True):
        print(f"  {name} (token {mask.position}):   with the heads"
              f"      without them")
        for rank, (p, q) in enumerate(zip(mask.predictions, before.predictions, strict=True), start=1):
            print(f"    {rank:>3}. {token_label(q.token)[:16]!r:<20} {q.score:7.4f}   "
                  f"{token_label(p.token)[:16]!r:<20} {p.score:7.4f}")
    print(f"  filled without them: {fill.filled_text}")


def _print_head_effects(info: Any, effects: Any) -> None:
    from explorer.figures.labels import token_label

    print(f"{model_header(info)}: p({token_label(effects.target)!r}) at token {effects.mask_position} = "
          f"{effects.baseline:.4f}; change when each head alone is removed ({effects.mode}):")
    heads = len(effects.effects[0])
    print("  layer " + "".join(f"{h:>9}" for h in range(heads)))
    for layer, row in enumerate(effects.effects):
        print(f"  {layer:>5} " + "".join(f"{value:+9.4f}" for value in row))
    ranked = sorted(((v, layer, h) for layer, row in enumerate(effects.effects) for h, v in enumerate(row)),
                    key=lambda item: -abs(item[0]))[:5]
    print("  strongest: " + ", ".join(f"{layer}:{h} {v:+.4f}" for v, layer, h in ranked))


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", metavar="FILE.jsonl", default=None,
                        help="stream one JSON line per item as it is done; rerun with the same file to resume")
    parser.add_argument("--engine", default="local",
                        help="local (this process, the default) or ray (a Ray Data pipeline; $RAY_ADDRESS picks "
                             "the cluster; pip install 'mlm-explorer[ray]')")
    parser.add_argument("--chunk", type=int, default=None, metavar="N",
                        help="items scored together (default 64)")
    parser.add_argument("--json", action="store_true", help="print one JSON document at the end")


def _add_score_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--metric", default="pll",
                        help="pll (Salazar et al. 2020, the default) or pll-word-l2r (Kauf & Ivanova 2023)")
    parser.add_argument("--input", metavar="FILE", default=None,
                        help="sentences from a file: one a line, or JSONL with a \"text\" field")
    _add_dataset_arguments(parser)
    parser.add_argument("text", nargs="*", help='sentences to score, e.g. "The cat sat on the mat."')


def _run_score(args: argparse.Namespace) -> int:
    from explorer.datasets import Dataset, Item, read_sentences
    from explorer.documents import score_document

    if bool(args.text) == bool(args.input):
        raise InputError('Give sentences to score, or --input FILE (not both); e.g. mlm-explorer score '
                         '"The cat sat on the mat."')
    dataset = (read_sentences(args.input) if args.input else
               Dataset("the command line", "sentences", "arguments",
                       tuple(Item(n, t) for n, t in enumerate(args.text, start=1))))
    model, entries = _run_dataset(args, dataset)
    if args.json:
        print_json(score_document(model.info.name, args.metric, entries), indent=None if args.input else 2)
        return 0
    print(f"{model_header(model.info)}, metric {args.metric}")
    shown = entries if len(entries) <= MAX_ROWS else entries[:MAX_ROWS]
    print(f"  {'total':>10} {'mean':>8} {'PPPL':>9}  sentence")
    for e in shown:
        pppl = f"{e['pseudo_perplexity']:9.2f}" if e["pseudo_perplexity"] is not None else f"{'n/a':>9}"
        print(f"  {e['total']:10.4f} {e['mean']:8.4f} {pppl}  {e['text']}")
    if len(entries) > len(shown):
        print(f"  ... and {len(entries) - len(shown)} more (all of them: --json or --output FILE.jsonl)")
    if entries:
        mean_total = sum(e["total"] for e in entries) / len(entries)
        print(f"{len(entries)} sentences, mean total log-probability {mean_total:.4f} (natural log)")
    return 0


def _add_pairs_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--metric", default="pll",
                        help="pll (the default), pll-word-l2r or crows (Nangia et al. 2020: shared tokens only)")
    parser.add_argument("--input", metavar="FILE", required=True,
                        help="a CrowS-Pairs CSV (sent_more, sent_less, bias_type), a BLiMP JSONL (sentence_good, "
                             "sentence_bad, UID) or FIRST<TAB>SECOND[<TAB>CATEGORY] lines")
    _add_dataset_arguments(parser)


def _run_pairs(args: argparse.Namespace) -> int:
    from explorer.datasets import read_pairs
    from explorer.documents import pairs_document

    dataset = read_pairs(args.input)
    model, entries = _run_dataset(args, dataset)
    document = pairs_document(model.info.name, args.metric, entries)
    if args.json:
        print_json(document, indent=None)
        return 0
    summary = document["summary"]
    print(f"{model_header(model.info)}, metric {args.metric}, {dataset.format} file")
    width = max([8, *(len(name) for name in summary["by_category"])]) + 2
    print(f"  {'category':<{width}} {'pairs':>7} {'first preferred':>16}")
    for name, row in summary["by_category"].items():
        print(f"  {(name or '(none)'):<{width}} {row['pairs']:>7} {row['first_preferred']:>16.1%}")
    print(f"  {'all':<{width}} {summary['pairs']:>7} {summary['first_preferred']:>16.1%}")
    return 0


MAX_ROWS = 50  # sentences listed in the readable table


def _run_dataset(args: argparse.Namespace, dataset: Any) -> tuple[Any, list[dict]]:
    from explorer.runner import DEFAULT_CHUNK, ModelSpec, check_run_options, run_dataset

    chunk = args.chunk if args.chunk is not None else DEFAULT_CHUNK
    check_run_options(dataset.kind, args.metric, args.engine, chunk)  # a typo is refused before the model loads
    spec = ModelSpec(args.model or default_model(), device=args.device, dtype=args.dtype,
                     trust_remote_code=args.trust_remote_code)
    model = spec.load()
    entries = run_dataset(model, dataset, args.metric, args.output, spec=spec, engine=args.engine, chunk=chunk,
                          progress=sys.stderr if getattr(args, "input", None) else None)
    return model, entries


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    # explorer.ui.options imports no gradio, so building the parser stays fast for every other command.
    from explorer.ui.options import add_serve_arguments

    add_serve_arguments(parser)


def _run_serve(args: argparse.Namespace) -> int:
    from explorer.ui.options import read_serve_options

    options = read_serve_options(args)  # a wrong flag fails before gradio's slow import
    from explorer.ui.app import serve

    serve(options)
    return 0


# Shown at the end of each command's --help (the one place for them: build_parser adds them to every command).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "predict": ('mlm-explorer predict "Paris is the [MASK] of France."',
                'mlm-explorer predict --model mini-roberta --top-k 10 --targets capital,city "Paris is the [MASK] of '
                'France."',
                'mlm-explorer predict --joint --beam 4 "The [MASK] was cold and the [MASK] was hot."'),
    "compare": ('mlm-explorer compare "Paris is the [MASK] of France."',
                'mlm-explorer compare --model mini-bert --model bert-base-uncased --top-k 10 "The cat sat on the '
                '[MASK]."',
                'mlm-explorer compare --json "She poured a cup of [MASK]." > compare.json'),
    "attention": ('mlm-explorer attention "Paris is the [MASK] of France."',
                  'mlm-explorer attention --rollout "The cat sat on the [MASK]."',
                  'mlm-explorer attention --out weights.npz --model bert-base-uncased "The cat sat on the [MASK]."'),
    "attribute": ('mlm-explorer attribute "Paris is the [MASK] of France."',
                  'mlm-explorer attribute --target capital --contrast city "Paris is the [MASK] of France."',
                  'mlm-explorer attribute --method occlusion --mask 1 "The [MASK] was cold and the [MASK] was hot."'),
    "layers": ('mlm-explorer layers "Paris is the [MASK] of France."',
               'mlm-explorer layers --top-k 10 --json "The [MASK] was cold and the [MASK] was hot."'),
    "ablate": ('mlm-explorer ablate --heads 2:5,3:7 "Paris is the [MASK] of France."',
               'mlm-explorer ablate --heads "0:*" --mode mean --json "Paris is the [MASK] of France."',
               'mlm-explorer ablate --scan --mask 1 --target hot --json "The [MASK] was cold and the [MASK] was hot."'),
    "score": ('mlm-explorer score "The doctor said that he would be late." "The doctor said that she would be late."',
              "mlm-explorer score --metric pll-word-l2r --input sentences.txt --output scores.jsonl"),
    "pairs": ("mlm-explorer pairs --metric crows --input crows_pairs_anonymized.csv --json",
              "mlm-explorer pairs --input blimp.jsonl --output blimp-pll.jsonl"),
    "models": ("mlm-explorer models", "mlm-explorer models --json"),
    "serve": ("mlm-explorer serve", "mlm-explorer serve --port 8080 --model mini-roberta",
              "mlm-explorer serve --host 0.0.0.0 --allow-local ~/models --share"),
}


def _examples(name: str) -> str | None:
    examples = EXAMPLES.get(name)
    return "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None


Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {
    "predict": ("top-k fillers of every mask", _add_predict_arguments, _run_predict),
    "compare": ("several models on the same text, side by side", _add_compare_arguments, _run_compare),
    "attention": ("every head's attention weights (and rollout) for one text", _add_attention_arguments,
                  _run_attention),
    "attribute": ("which input tokens made the model choose a word at a mask (integrated gradients)",
                  _add_attribute_arguments, _run_attribute),
    "layers": ("what the model would predict at each mask after every layer (a logit lens)", _add_layers_arguments,
               _run_layers),
    "ablate": ("predictions with attention heads removed, or every head's effect on one prediction",
               _add_ablate_arguments, _run_ablate),
    "score": ("how likely a model finds whole sentences (pseudo-log-likelihood)", _add_score_arguments,
              _run_score),
    "pairs": ("which sentence of each minimal pair a model prefers (BLiMP, CrowS-Pairs, TSV)",
              _add_pairs_arguments, _run_pairs),
    "models": ("list the bundled and locally cached models", _add_models_arguments, _run_models),
    "serve": ("start the web app", _add_serve_arguments, _run_serve),
}

if __name__ == "__main__":
    sys.exit(main())
