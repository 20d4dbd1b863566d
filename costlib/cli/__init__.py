"""``python -m costlib``: one figure with your own assumptions.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``; add the module's name to :data:`SUBCOMMANDS` to wire it in.
Every error (bad number, unknown GPU or model id, an impossible fit) exits with status 2 and
one line on stderr.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Sequence

from ..errors import CostlibError
from ..units import parse_quantity

SUBCOMMANDS = ["catalog", "train", "infer", "serve", "memory", "optimize", "enterprise", "audit"]
"""Modules of :mod:`costlib.cli` that register subcommands, in help order."""


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so the CLI prints one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (handled in main)
        raise UsageError(f"{self.prog}: {message}")


def quantity(parameter: str):
    """An argparse ``type`` that accepts 7e9, 7B, 2T, 500M."""

    def parse(text: str) -> float:
        return parse_quantity(text, parameter)

    parse.__name__ = parameter
    return parse


_SUBPARSERS: dict = {}
"""Subcommand name -> its parser (filled by :func:`build_parser`; ``--explain`` rebuilds the command from it)."""


def emit(args, payload: dict, render_text) -> None:
    """Print ``payload`` as JSON with ``--json``, else ``render_text(payload)``.

    With ``--explain`` the answer's basis (:func:`costlib.explain.basis`: formula, inputs with source and date,
    the command that reproduces it) follows the text, or is the ``basis`` key of the JSON.
    """
    basis = None
    if getattr(args, "explain", False):
        from ..explain import basis as make_basis

        basis = make_basis(args, payload, _SUBPARSERS.get(getattr(args, "command", None)))
    if getattr(args, "json", False):
        out = payload if basis is None else {**payload, "basis": basis}
        print(json.dumps(out, indent=2, sort_keys=False, default=_json_default))
    else:
        print(render_text(payload))
        if basis is not None:
            from ..explain import render as render_basis

            print(render_basis(basis))


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def build_parser() -> Parser:
    parser = Parser(prog="costlib", description="Cost of training, fine-tuning and serving language models.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    for name, sub in subparsers.choices.items():  # every subcommand can print its basis
        if "--explain" not in sub._option_string_actions:
            sub.add_argument("--explain", action="store_true",
                             help="also print the basis: formula, inputs with source and date, command that reproduces it")
        _SUBPARSERS[name] = sub
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.handler(args)
    except (UsageError, CostlibError) as exc:
        message = str(exc).replace("\n", " ")
        print(f"costlib: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    return 0
