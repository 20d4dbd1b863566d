"""``python -m costlib``: one figure with your own assumptions.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``; add the module's name to :data:`SUBCOMMANDS` to wire it in (and its
subcommand names to :data:`COMMAND_MODULES`, so a one-shot run imports only that module).
Every error (bad number, unknown GPU or model id, an impossible fit) exits with status 2 and
one line on stderr. JSON output is strict (``allow_nan=False``): an undefined quantity is
``null`` and the object that holds it gets a ``null_reasons`` entry saying why; the text output
never prints ``nan`` or ``inf``.

Subcommands that take ``--model`` can take ``--config PATH`` (a local Hugging Face
``config.json``, read by :func:`costlib.models.from_hf_config`) through :func:`add_config_argument`
(one line next to ``--model``) or :func:`add_model_arguments`; :func:`resolve_model` returns the
model either way.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
from typing import Sequence

from ..errors import CostlibError, InputError
from ..units import parse_quantity

SUBCOMMANDS = ["catalog", "train", "infer", "serve", "memory", "optimize", "enterprise", "plan", "audit"]
"""Modules of :mod:`costlib.cli` that register subcommands, in help order."""

COMMAND_MODULES = {
    "gpus": "catalog", "models": "catalog", "prices": "catalog", "train": "train", "finetune": "train", "infer": "infer",
    "memory": "memory", "speculative": "optimize", "quantize": "optimize", "enterprise": "enterprise", "audit": "audit",
    "serve": "serve", "plan": "plan",
}
"""Subcommand -> the module of this package that registers it. A one-shot run imports only that module
(and so only the catalogs it uses); a subcommand not listed here makes the CLI import every module."""


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so the CLI prints one line."""


_NEGATIVE_NUMBER = re.compile(r"^-(?:\d+\.?\d*(?:e[+-]?\d+)?[kmbgtp]?|\.\d+(?:e[+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)
"""Values like -1e9, -7B, -inf are read as (bad) values of the option before them, so the error names the rule,
not "expected one argument"."""


_CHECK_WIDTH = 80
"""Width of the formatters argparse builds only to check arguments (never printed)."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message):  # one line, exit 2 (handled in main)
        raise UsageError(f"{self.prog}: {message}")

    _printing = False

    def _get_formatter(self):
        """argparse makes a formatter for every ``add_argument`` (to check a metavar against nargs) and asks the
        terminal's width each time, which imports shutil (and zlib, bz2, lzma): about 3 ms of every one-shot.
        The width matters only for text a reader sees (help, usage), so only :meth:`format_help` /
        :meth:`format_usage` ask for it."""
        if self._printing:
            return super()._get_formatter()
        return self.formatter_class(prog=self.prog, width=_CHECK_WIDTH)

    def format_help(self):
        return self._with_terminal_width(super().format_help)

    def format_usage(self):
        return self._with_terminal_width(super().format_usage)

    def _with_terminal_width(self, render):
        self._printing = True
        try:
            return render()
        finally:
            self._printing = False

    def _get_value(self, action, arg_string):  # say what is allowed, not only "invalid int value"
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError:
            if action.choices:
                allowed = "choose from " + ", ".join(map(str, action.choices))
            elif action.type is int:
                allowed = "a whole number"
            elif action.type is float:
                allowed = "a number"
            else:
                raise
            raise argparse.ArgumentError(action, f"{arg_string!r} is not allowed: {allowed}") from None


def quantity(parameter: str):
    """An argparse ``type`` that accepts 7e9, 7B, 2T, 500M."""

    def parse(text: str) -> float:
        try:
            return parse_quantity(text, parameter)
        except InputError as exc:  # keep the message (argparse would say only "invalid value")
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = parameter
    return parse


def whole_number(name: str, value, minimum: int = 1) -> int | None:
    """``value`` (a float from :func:`quantity`) as an int; 1.9 or 0 is an error naming ``name``, not a silent 1."""
    if value is None:
        return None
    if not math.isfinite(value) or value != int(value) or value < minimum:
        raise InputError(name, value, f"a whole number >= {minimum}")
    return int(value)


# --- --config PATH: a local Hugging Face config.json wherever --model is taken ------------------------------------
class _ConfigAction(argparse.Action):
    """Stores the path in ``args.config`` and the model it describes in ``args.model``."""

    def __call__(self, parser, namespace, values, option_string=None):
        from ..models import from_hf_config

        spec = from_hf_config(values)  # InputError naming the key -> one line, exit 2
        setattr(namespace, self.dest, values)
        setattr(namespace, "model", spec)


CONFIG_HELP = ("a local Hugging Face config.json (instead of --model): the architecture is read from it, "
               "every field checked")


def add_config_argument(group) -> None:
    """Add ``--config PATH`` to a parser or to the mutually exclusive group that holds ``--model``."""
    group.add_argument("--config", action=_ConfigAction, default=None, metavar="PATH", help=CONFIG_HELP)


def add_model_arguments(parser, *, required: bool = True):
    """``--model ID`` or ``--config PATH`` (one of them); returns the group so ``--params`` can join it."""
    who = parser.add_mutually_exclusive_group(required=required)
    who.add_argument("--model", help="a model id from `costlib models`")
    add_config_argument(who)
    return who


def resolve_model(args, parameter: str = "model"):
    """The model of ``--model ID`` or ``--config PATH`` (a :class:`~costlib.models.ModelSpec`)."""
    from ..models import get_model

    value = getattr(args, "model", None)
    if value is None:
        raise InputError(parameter, value, "--model ID (see `costlib models`) or --config PATH")
    return get_model(value, parameter)


# --- output ---------------------------------------------------------------------------------------------------
_SUBPARSERS: dict = {}
"""Subcommand name -> its parser (filled by :func:`build_parser`; ``--explain`` rebuilds the command from it)."""

_NONFINITE_TEXT = re.compile(r"(?<![A-Za-z0-9_.])[-+]?(?:nan|inf)(?![A-Za-z0-9_])")
"""How Python and numpy print a non-finite float (lower case; "Infinity Fabric" in a note is left alone)."""


def _why(value: float) -> str:
    if math.isnan(value):
        return "undefined for these inputs (the formula has no value here)"
    return "unbounded for these inputs (the formula diverges here)"


def strict_data(obj):
    """``obj`` as plain JSON data with every NaN/infinity replaced by ``None``; each object that held one gets
    ``null_reasons: {key: reason}`` (a reason already given by the payload is kept)."""
    np = _numpy()
    if np is not None and isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif np is not None and isinstance(obj, np.generic):
        obj = obj.item()
    elif _has(obj, "total_params") and _has(obj, "id"):  # a model (e.g. from --config): its id
        return str(obj.id)
    elif _has(obj, "as_dict") and not isinstance(obj, dict):
        obj = obj.as_dict()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        out, reasons = {}, {}
        floats, sequences = ((float, np.floating), (list, tuple, np.ndarray)) if np is not None else ((float,), (list, tuple))
        for key, value in obj.items():
            clean = strict_data(value)
            if clean is None and isinstance(value, floats) and not math.isfinite(value):
                reasons[str(key)] = _why(float(value))
            elif isinstance(value, sequences) and _has_nonfinite(value):
                reasons[str(key)] = "some elements are " + _why(float("nan")).split(" (")[0] + " (null)"
            out[key] = clean
        if reasons:
            given = out.get("null_reasons") if isinstance(out.get("null_reasons"), dict) else {}
            out["null_reasons"] = {**reasons, **given}
        return out
    if isinstance(obj, (list, tuple)):
        return [strict_data(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _has(obj, name: str) -> bool:
    try:
        return hasattr(obj, name)
    except CostlibError:  # a stand-in model that raises for what it does not know
        return False


def _has_nonfinite(values) -> bool:
    for v in values:
        if isinstance(v, (list, tuple)):
            if _has_nonfinite(v):
                return True
        elif isinstance(v, float) and not math.isfinite(v):
            return True
    np = _numpy()
    if np is None:
        return False
    try:
        return bool(isinstance(values, np.ndarray) and values.dtype.kind == "f" and not np.all(np.isfinite(values)))
    except Exception:  # noqa: BLE001
        return False


def _numpy():
    """numpy if something has imported it, else None: a payload can hold no numpy value when numpy was never
    imported, so the JSON writer does not import it (``costlib gpus --json`` needs no numpy; ~75 ms of start-up)."""
    return sys.modules.get("numpy")


def dumps(payload) -> str:
    """Strict JSON text of ``payload`` (no NaN, no Infinity: see :func:`strict_data`)."""
    return json.dumps(strict_data(payload), indent=2, sort_keys=False, allow_nan=False)


def finite_text(text: str) -> str:
    """``text`` with any ``nan``/``inf`` a renderer let through written as ``n/a``."""
    return _NONFINITE_TEXT.sub("n/a", text)


def emit(args, payload: dict, render_text) -> None:
    """Print ``payload`` as JSON with ``--json``, else ``render_text(payload)``.

    With ``--explain`` the answer's basis (:func:`costlib.explain.basis`: formula, inputs with source and date,
    the command that reproduces it) follows the text, or is the ``basis`` key of the JSON.
    """
    basis = None
    if getattr(args, "explain", False):
        from ..present.explain import basis as make_basis  # only with --explain: keeps start-up light

        basis = make_basis(args, payload, _SUBPARSERS.get(getattr(args, "command", None)))
    if getattr(args, "json", False):
        out = payload if basis is None else {**payload, "basis": basis}
        print(dumps(out))
    else:
        print(finite_text(render_text(payload)))
        if basis is not None:
            from ..present.explain import render as render_basis  # only with --explain

            print(finite_text(render_basis(basis)))


def _json_default(obj):  # kept for callers that serialise with json.dumps(default=...)
    return strict_data(obj)


# --- parser ---------------------------------------------------------------------------------------------------
def _modules_for(argv: Sequence[str] | None) -> list[str]:
    """The modules to import for ``argv``: the one registering its subcommand, or all of them."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)
    module = COMMAND_MODULES.get(command or "")
    return [module] if module in SUBCOMMANDS else list(SUBCOMMANDS)


def build_parser(argv: Sequence[str] | None = ()) -> Parser:
    """The CLI parser; with ``argv`` naming a known subcommand only its module is imported
    (``build_parser()`` with no argument registers every subcommand)."""
    parser = Parser(prog="costlib", description="Cost of training, fine-tuning and serving language models.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in (_modules_for(argv) if argv != () else SUBCOMMANDS):
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    for name, sub in subparsers.choices.items():  # every subcommand can print its basis
        if "--explain" not in sub._option_string_actions:
            sub.add_argument("--explain", action="store_true",
                             help="also print the basis: formula, inputs with source and date, command that reproduces it")
        _SUBPARSERS[name] = sub
    return parser


ID_OPTIONS = {"model": "a model id from `costlib models`", "gpu": "a device id from `costlib gpus`",
              "finetune_gpu": "a device id from `costlib gpus`", "precision": "a precision such as bf16 (see --help)",
              "engine": "an engine class (see --help)", "method": "full | lora | qlora", "claim": "a claim id from `costlib audit`"}
"""Options that name a catalog id or a choice: an empty or blank value is refused, never read as "none" or "all"."""


def _check_ids(args) -> None:
    for name, what in ID_OPTIONS.items():
        value = getattr(args, name, None)
        if isinstance(value, str) and not value.strip():
            raise InputError(name, value, f"a non-empty value: {what}")


def _check_context(args) -> None:
    """Prompt + output tokens (or ``--context``) within the model's maximum context, for every subcommand that
    takes a model and tokens (:func:`costlib.validate.context_within`, the rule the library paths share)."""
    model = getattr(args, "model", None)
    if model is None or (isinstance(model, str) and not model.strip()):
        return
    prompt, output = getattr(args, "prompt_tokens", None), getattr(args, "output_tokens", None)
    if isinstance(prompt, (int, float)) and isinstance(output, (int, float)):
        tokens, name = prompt + output, "prompt_tokens + output_tokens"
    elif isinstance(getattr(args, "context", None), (int, float)):
        tokens, name = args.context, "context"
    else:
        return
    if not (math.isfinite(tokens) and tokens > 0):
        return  # the subcommand's own check names the bad flag
    from ..models import get_model
    from ..validate import context_within

    spec = get_model(model)
    try:
        context_within(spec, tokens, name)
    except InputError as exc:
        hint = ("; for a longer (RoPE-scaled) context pass --config with a config.json whose max_position_embeddings "
                "says so" if hasattr(args, "config") else "")
        raise InputError(name, int(tokens) if float(tokens).is_integer() else tokens, exc.allowed + hint) from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser(sys.argv[1:] if argv is None else list(argv))
        args = parser.parse_args(argv)
        _check_ids(args)
        _check_context(args)
        args.handler(args)
    except (UsageError, CostlibError) as exc:
        message = " ".join(str(exc).split())
        print(f"costlib: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    return 0
