"""The `mlm-explorer` command line: one subcommand per core computation, JSON or readable tables."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from explorer.bundled import default_model
from explorer.errors import ExplorerError, InputError

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
        sub = commands.add_parser(name, help=help_text, description=help_text)
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


def load_from_args(args: argparse.Namespace) -> Any:
    """The model named by --model (or the default), loaded as --device/--dtype/--trust-remote-code say."""
    from explorer.models import load_model

    return load_model(
        args.model or default_model(), device=args.device, dtype=args.dtype,
        trust_remote_code=args.trust_remote_code,
    )


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--top-k", type=int, default=5, help="fillers per mask (default 5)")
    parser.add_argument("--targets", default=None, help="comma-separated words to score at every mask")
    parser.add_argument("--skip-special-tokens", action="store_true", help="leave special tokens out of the top-k")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", nargs="+", help='texts with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_predict(args: argparse.Namespace) -> int:
    from explorer.documents import predict_document
    from explorer.fill_mask import predict_masks

    targets = [w for w in args.targets.split(",")] if args.targets is not None else None
    model = load_from_args(args)
    results = [
        predict_masks(model, text, top_k=args.top_k, targets=targets, skip_special_tokens=args.skip_special_tokens)
        for text in args.text
    ]
    if args.json:
        print_json(predict_document(model.info, results))
        return 0
    info = model.info
    print(f"{info.name} ({info.architecture}, {info.device}, {info.dtype})")
    for result in results:
        print()
        print(result.text)
        for number, mask in enumerate(result.masks, start=1):
            label = f"mask {number} of {len(result.masks)}" if len(result.masks) > 1 else "mask"
            print(f"  {label} (token {mask.position}):")
            for rank, p in enumerate(mask.predictions, start=1):
                print(f"    {rank:>3}. {p.token!r:<24} {p.score:8.4f}")
            for t in mask.targets:
                if t.single_token:
                    print(f"    target {t.word!r}: {t.first_piece_probability:.4f} (rank {t.first_piece_rank})")
                else:
                    print(f"    target {t.word!r} is {len(t.pieces)} pieces {list(t.pieces)}: first piece "
                          f"{t.first_piece_probability:.4f} (rank {t.first_piece_rank})")
        if len(result.masks) > 1:
            print("  (each mask predicted independently, the others kept masked)")
        print(f"  filled: {result.filled_text}")
    return 0


def _add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, several=True)
    parser.add_argument("--top-k", type=int, default=5, help="fillers per mask and model (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("text", help='a text with [MASK], e.g. "Paris is the [MASK] of France."')


def _run_compare(args: argparse.Namespace) -> int:
    from explorer.bundled import BUNDLED_MODELS
    from explorer.compare import compare_models
    from explorer.documents import compare_document
    from explorer.models import load_model

    names = args.model or [m.alias for m in BUNDLED_MODELS]
    if len(names) < 2:
        raise InputError("Compare needs at least two models; give --model twice, e.g. --model mini-bert "
                         "--model mini-roberta.")
    models = [load_model(n, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code)
              for n in names]
    comparison = compare_models(models, args.text, top_k=args.top_k)
    if args.json:
        print_json(compare_document(comparison))
        return 0
    print(comparison.text)
    for a in comparison.agreement:
        print(f"\nmask {a.mask + 1} of {len(comparison.agreement)}")
        width = max(len(n) for n in comparison.models) + 2
        print("  " + "".join(f"{n:<{width}}" for n in comparison.models))
        for rank in range(comparison.top_k):
            cells = []
            for result in comparison.results:
                p = result.masks[a.mask].predictions[rank]
                cells.append(f"{p.token.strip()[:width - 9]} {p.score:.3f}".ljust(width))
            print("  " + "".join(cells))
        for c in a.cross_probabilities:
            value = (f"{c.probability:.4f}" if c.probability is not None
                     else f"first piece {c.first_piece_probability:.4f}")
            print(f"  {c.model} gives {c.word_of}'s top-1 {c.word!r}: {value} (rank {c.first_piece_rank})")
        for i, name in enumerate(comparison.models):
            for j in range(i + 1, len(comparison.models)):
                rho = a.rank_correlation[i][j]
                rho_text = f"{rho:.2f}" if rho is not None else "n/a (under 3 shared words)"
                print(f"  {name} vs {comparison.models[j]}: top-k overlap {a.topk_overlap[i][j]:.0%}, "
                      f"Spearman {rho_text}")
    return 0


def _add_models_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _run_models(args: argparse.Namespace) -> int:
    from explorer.catalog import catalog_document, list_models

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


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from explorer.ui.app import add_serve_arguments

    add_serve_arguments(parser)


def _run_serve(args: argparse.Namespace) -> int:
    from explorer.ui.app import serve

    serve(args)
    return 0


Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {
    "predict": ("top-k fillers of every mask", _add_predict_arguments, _run_predict),
    "compare": ("several models on the same text, side by side", _add_compare_arguments, _run_compare),
    "models": ("list the bundled and locally cached models", _add_models_arguments, _run_models),
    "serve": ("start the web app", _add_serve_arguments, _run_serve),
}

if __name__ == "__main__":
    sys.exit(main())
