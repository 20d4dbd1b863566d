"""A table-driven corpus of bad and edge inputs for every subcommand of ``python -m costlib``.

Each bad input must be refused the way the guide promises (rule 4): exit status 2, exactly one line on
stderr starting ``costlib: error:``, naming the parameter, saying what is allowed, no traceback and nothing
on stdout. Each edge input must succeed with output that has no NaN, no infinity and no negative cost.
The count tried / held is printed at the end of the run (``-s`` shows it; the summary line counts the cases).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from costlib.cli import main

CONFIGS = Path(__file__).parent / "data" / "configs"

# A valid command line per subcommand; each bad case replaces or adds one option.
BASE = {
    "train": ["--model", "llama-3.1-8b", "--tokens", "1T", "--gpu", "h100-sxm"],
    "finetune": ["--model", "llama-3.1-8b", "--method", "lora", "--tokens", "1e8", "--gpu", "a100-80gb"],
    "infer": ["--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "8",
              "--prompt-tokens", "1000", "--output-tokens", "200"],
    "memory": ["--model", "llama-3.1-8b", "--precision", "bf16"],
    "speculative": ["--alpha", "0.8", "--gamma", "4"],
    "quantize": ["--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "int4"],
    "audit": [],
    "enterprise": ["seed000_single_l4"],
    "gpus": [],
    "models": [],
}

NOT_A_NUMBER = ["nan", "NaN", "inf", "-inf", "infinity", "abc", "", " ", "1e400", "7X", "0x10", "1,000", "--1"]
NOT_POSITIVE = ["0", "-1", "-5", "-1e9", "-0.5"]
NOT_WHOLE = ["1.9", "0.5", "2.5"]
NOT_AN_ID = ["", " ", "nope", "H100 SXM", "../etc/passwd", "\x00", "a" * 300]

# (subcommand, option, bad values, parameter name the message must contain)
FLAGS = [
    ("train", "--tokens", NOT_A_NUMBER + NOT_POSITIVE, "tokens"),
    ("train", "--gpus", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "gpus"),
    ("train", "--mfu", NOT_A_NUMBER + NOT_POSITIVE + ["1.5", "2"], "mfu"),
    ("train", "--price", NOT_A_NUMBER + NOT_POSITIVE[1:], "price"),  # 0 is allowed: hardware already paid for
    ("train", "--pue", NOT_A_NUMBER + NOT_POSITIVE + ["0.5"], "pue"),
    ("train", "--grid", NOT_A_NUMBER + ["-1", "-0.1"], "grid"),
    ("train", "--gpu", NOT_AN_ID, "gpu"),
    ("train", "--model", NOT_AN_ID, "model"),
    ("finetune", "--tokens", NOT_A_NUMBER + NOT_POSITIVE, "tokens"),
    ("finetune", "--gpus", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "gpus"),
    ("finetune", "--rank", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE + ["1e300", "1e6", "5000"], "rank"),
    ("finetune", "--mfu", NOT_A_NUMBER + NOT_POSITIVE + ["1.5"], "mfu"),
    ("finetune", "--price", NOT_A_NUMBER + NOT_POSITIVE[1:], "price"),
    ("finetune", "--method", ["", "LORA", "full-ft", "qlora4"], "method"),
    ("finetune", "--gpu", NOT_AN_ID, "gpu"),
    ("finetune", "--model", NOT_AN_ID, "model"),
    ("infer", "--batch", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "batch"),
    ("infer", "--prompt-tokens", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "prompt_tokens"),
    ("infer", "--output-tokens", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "output_tokens"),
    ("infer", "--gpus", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "gpus"),
    ("infer", "--utilization", NOT_A_NUMBER + NOT_POSITIVE, "utilization"),
    ("infer", "--price", NOT_A_NUMBER + NOT_POSITIVE, "price"),
    ("infer", "--precision", ["", "fp32", "bf17", "int3", "BF16"], "precision"),
    ("infer", "--engine", ["", "vllm2", "tgi-old"], "engine"),
    ("infer", "--gpu", NOT_AN_ID, "gpu"),
    ("infer", "--model", NOT_AN_ID, "model"),
    ("memory", "--context", NOT_A_NUMBER + ["-1", "-5", "1.5", "1000000", "1e9"], "context"),
    ("memory", "--batch", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "batch"),
    ("memory", "--gpus", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "gpus"),
    ("memory", "--precision", ["", "bf17", "int3"], "precision"),
    ("memory", "--mode", ["", "training", "pretrain"], "mode"),
    ("memory", "--zero", ["4", "-1", "1.5", "x"], "zero"),
    ("memory", "--model", NOT_AN_ID, "model"),
    ("memory", "--kv-precision", ["", "fp33", "int2"], "kv_precision"),
    ("memory", "--recompute", ["", "some", "partial"], "recompute"),
    ("speculative", "--alpha", NOT_A_NUMBER + ["-0.1", "1", "1.5"], "alpha"),
    ("speculative", "--gamma", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "gamma"),
    ("speculative", "--c", NOT_A_NUMBER + ["-0.1", "-1"], "c"),
    ("quantize", "--batch", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "batch"),
    ("quantize", "--prompt-tokens", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "prompt_tokens"),
    ("quantize", "--output-tokens", NOT_A_NUMBER + NOT_POSITIVE + NOT_WHOLE, "output_tokens"),
    ("quantize", "--precision", ["", "int3", "fp4x"], "precision"),
    ("quantize", "--gpu", NOT_AN_ID, "gpu"),
    ("quantize", "--model", NOT_AN_ID, "model"),
    ("audit", "--claim", NOT_AN_ID, "claim"),
    ("enterprise", "--samples", ["0", "-5", "1.9", "abc", "nan", "inf", "", "1e9", "99"], "samples"),
]

# Whole command lines that must be refused: (argv, parameter name in the message)
LINES = [
    (["nonsense"], "command"),
    ([], "command"),
    (["gpus", "--bogus"], "--bogus"),
    (["models", "extra"], "extra"),
    (["infer", "--model", "llama-3.1-8b", "--params", "7B", *BASE["infer"][2:]], "--params"),
    (["infer", "--params", "7B", "--active-params", "8B", *BASE["infer"][2:]], "active_params"),
    (["infer", "--model", "llama-3.1-8b", "--active-params", "1B", *BASE["infer"][2:]], "active_params"),
    (["infer", "--params", "nan", *BASE["infer"][2:]], "params"),
    (["infer", "--params", "-7B", *BASE["infer"][2:]], "params"),
    (["infer", "--params", "0", *BASE["infer"][2:]], "params"),
    (["infer", *BASE["infer"][:-2]], "--output-tokens"),
    (["infer", "--model", "smollm2-135m", *BASE["infer"][2:-4], "--prompt-tokens", "100000", "--output-tokens", "10"],
     "prompt_tokens"),
    (["infer", "--model", "llama-3.1-8b", *BASE["infer"][2:-4], "--prompt-tokens", "131072", "--output-tokens", "1"],
     "prompt_tokens"),
    (["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--context", "1000000"], "context"),
    (["memory", "--model", "smollm2-135m", "--precision", "bf16", "--context", "8193"], "context"),
    (["memory", "--params", "7B", "--precision", "bf16", "--context", "100"], "context"),
    (["memory", "--params", "7B", "--precision", "bf16", "--mode", "lora"], "params"),
    (["memory", "--params", "abc", "--precision", "bf16"], "params"),
    (["memory", "--model", "llama-3.1-8b", "--params", "7B", "--precision", "bf16"], "--params"),
    (["memory", "--precision", "bf16"], "--model"),
    (["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "lora", "--lora-rank", "0"], "rank"),
    (["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "lora", "--lora-rank", "-4"], "rank"),
    (["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "lora", "--lora-rank", "1.5"], "rank"),
    (["memory", "--model", "llama-3.1-8b", "--precision", "int4", "--mode", "full"], "precision"),

    (["train", "--params", "7B", "--active-params", "8B", "--tokens", "1T", "--gpu", "h100-sxm"], "active_params"),
    (["train", "--params", "-7B", "--tokens", "1T", "--gpu", "h100-sxm"], "params"),
    (["train", "--params", "0", "--tokens", "1T", "--gpu", "h100-sxm"], "params"),
    (["train", "--model", "llama-3.1-8b", "--active-params", "1B", "--tokens", "1T", "--gpu", "h100-sxm"], "active_params"),
    (["train", "--model", "llama-3.1-8b", "--tokens", "1T", "--gpu", "tpu-v5e", "--power-w", "0"], "power_w"),  # no TDP: energy null, not an error
    (["train", "--tokens", "1T", "--gpu", "h100-sxm"], "--model"),
    (["finetune", "--model", "llama-3.1-8b", "--method", "lora", "--tokens", "1e8"], "--gpu"),
    (["quantize", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"], "--precision"),
    (["speculative", "--alpha", "0.8"], "--gamma"),
    (["enterprise"], "scenario"),
    (["enterprise", ""], "scenario"),
    (["enterprise", " "], "scenario"),
    (["enterprise", "no_such_scenario"], "scenario"),
    (["enterprise", "/"], "scenario"),
    (["enterprise", str(Path(__file__).parent)], "scenario"),
    (["enterprise", "/dev/null"], "scenario"),
    (["enterprise", "a\x00b"], "scenario"),
    (["enterprise", "x" * 5000], "scenario"),
    (["enterprise", str(Path(__file__))], "yaml"),
    (["audit", "--claim", "s0-slm-definition", "--claim", ""], "claim"),
    (["infer", "--config", str(CONFIGS), *BASE["infer"][2:]], "config"),
    (["infer", "--config", str(CONFIGS / "missing.json"), *BASE["infer"][2:]], "config"),
    (["infer", "--config", "", *BASE["infer"][2:]], "config"),
    (["infer", "--config", str(CONFIGS / "llama-3.1-8b" / "config.json"), "--model", "llama-3.1-8b", *BASE["infer"][2:]],
     "--model"),
]

# Inputs at the edge of what is allowed: must succeed with clean output.
EDGES = [
    ["gpus", "--json"],
    ["models", "--json"],
    ["infer", *BASE["infer"], "--json"],
    ["infer", "--model", "smollm2-135m", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "1",
     "--prompt-tokens", "1", "--output-tokens", "1", "--json"],
    ["infer", "--model", "smollm2-135m", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "1",
     "--prompt-tokens", "8000", "--output-tokens", "192", "--json"],
    ["infer", "--params", "7B", "--gpu", "l4", "--precision", "int4", "--batch", "1",
     "--prompt-tokens", "1", "--output-tokens", "1", "--json"],
    ["infer", *BASE["infer"], "--utilization", "0.01", "--price", "0.01", "--json"],
    ["infer", *BASE["infer"]],
    ["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--context", "0", "--json"],
    ["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--context", "131072", "--json"],
    ["memory", "--params", "7B", "--precision", "int4", "--json"],
    ["memory", "--model", "llama-3.1-8b", "--precision", "bf16", "--mode", "qlora", "--json"],
    ["train", *BASE["train"], "--json"],
    ["train", "--params", "1", "--tokens", "1", "--gpu", "h100-sxm", "--json"],
    ["train", *BASE["train"], "--gpus", "1", "--mfu", "1", "--price", "0.01", "--json"],
    ["finetune", *BASE["finetune"], "--json"],
    ["finetune", *BASE["finetune"], "--price", "0", "--json"],
    ["train", *BASE["train"], "--price", "0", "--json"],
    ["finetune", *BASE["finetune"], "--rank", "1", "--json"],
    ["speculative", "--alpha", "0", "--gamma", "1", "--json"],
    ["speculative", "--alpha", "0.999", "--gamma", "64", "--c", "0", "--json"],
    ["quantize", *BASE["quantize"], "--batch", "1", "--json"],
    ["audit", "--claim", "s0-slm-definition", "--json"],
    ["enterprise", "seed000_single_l4", "--samples", "100", "--json"],
    ["enterprise", "seed000_single_l4", "--samples", "100"],
    ["enterprise", "seed001_sdlc", "--samples", "100", "--json"],
    ["enterprise", "sdlc_assistant", "--samples", "100"],
    ["infer", "--config", str(CONFIGS / "llama-3.1-8b" / "config.json"), *BASE["infer"][2:], "--json"],
    ["infer", "--config", str(CONFIGS / "qwen2.5-0.5b" / "config.json"), *BASE["infer"][2:], "--json"],
]


def _with(sub: str, option: str, value: str) -> list[str]:
    argv = list(BASE[sub])
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return [sub, *argv]


# Tensor-parallel degrees the head count does not allow (the issue's --gpus 64 and 1e6 on a 32-head model).
TP = [
    (["infer", *BASE["infer"], "--gpus", "1e6"], "gpus"),
    (["infer", *BASE["infer"], "--gpus", "64"], "gpus"),
    (["infer", *BASE["infer"], "--gpus", "1024"], "gpus"),
]


def _bad_cases():
    for sub, option, values, name in FLAGS:
        for v in values:
            yield pytest.param(_with(sub, option, v), name, id=f"{sub} {option}={v[:12]!r}")
    for argv, name in LINES:
        yield pytest.param(argv, name, id=" ".join(a[:16] for a in argv)[:60] or "empty")
    for argv, name in TP:
        yield pytest.param(argv, name, id="tensor-parallel " + " ".join(argv[-2:]))


ALLOWED = re.compile(r"is not allowed: \S|choose from|required|expected one argument|not allowed with|unrecognized arguments|invalid choice")
NONFINITE = re.compile(r"(?<![A-Za-z0-9_.])[-+]?(?:nan|inf)(?![A-Za-z0-9_])")  # as Python prints a float
TALLY = {"bad": [0, 0], "edge": [0, 0]}


class _Summary:
    """Adds the corpus tally to pytest's terminal summary (plain `pytest -q` shows it)."""

    def pytest_terminal_summary(self, terminalreporter):
        bad, edge = TALLY["bad"], TALLY["edge"]
        if bad[0] or edge[0]:
            terminalreporter.write_line(f"CLI corpus: bad inputs held {bad[1]}/{bad[0]} tried, "
                                        f"edge inputs held {edge[1]}/{edge[0]} tried")


@pytest.fixture(scope="module", autouse=True)
def _report_tally(request):
    plugin = _Summary()
    if not request.config.pluginmanager.has_plugin("costlib-cli-corpus"):
        request.config.pluginmanager.register(plugin, "costlib-cli-corpus")
    yield


def _has_config(sub: str) -> bool:
    from costlib.cli import build_parser

    build_parser([sub])
    from costlib.cli import _SUBPARSERS

    return "--config" in _SUBPARSERS[sub]._option_string_actions


def _run(argv, capsys):
    if "--config" in argv and not _has_config(argv[0]):
        pytest.skip(f"--config is not wired into `costlib {argv[0]}` on this branch yet")
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, name", list(_bad_cases()))
def test_bad_input_is_one_clear_line(argv, name, capsys):
    code, out, err = _run(argv, capsys)
    TALLY["bad"][0] += 1
    assert code == 2, (code, out[:200], err)
    assert out == "", out[:200]
    assert err.count("\n") == 1 and err.startswith("costlib: error: "), err
    assert "Traceback" not in err
    assert name.lower() in err.lower() or name.replace("_", "-") in err, f"the message does not name {name!r}: {err}"
    assert ALLOWED.search(err), f"the message does not say what is allowed: {err}"
    assert not NONFINITE.search(err.split(" is not allowed: ")[-1]), f"the message shows NaN/inf as a rule: {err}"
    TALLY["bad"][1] += 1


def _numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


COST_KEY = re.compile(r"usd|cost|price|hours|energy|co2|kwh|_gb\b|_s\b|tokens_per_s", re.IGNORECASE)


@pytest.mark.parametrize("argv", EDGES, ids=lambda a: " ".join(x[:14] for x in a)[:70])
def test_edge_input_gives_clean_output(argv, capsys):
    code, out, err = _run(argv, capsys)
    TALLY["edge"][0] += 1
    assert code == 0, err
    assert err == ""
    if "--json" not in argv:
        assert not NONFINITE.search(out), out[:500]
    else:
        data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
        for path, x in _numbers(data):
            assert math.isfinite(x), path
            if COST_KEY.search(path.rsplit(".", 1)[-1]) and "delta" not in path and "change" not in path:
                assert x >= 0, f"{path} = {x} is negative"
    TALLY["edge"][1] += 1


def test_corpus_size_and_tally():
    """At least 300 bad inputs across every subcommand; prints tried / held for both kinds."""
    n_bad = len(list(_bad_cases()))
    covered = {sub for sub, *_ in FLAGS} | {a[0] for a, _ in LINES if a} | {a[0] for a in EDGES}
    assert n_bad >= 300, n_bad
    assert set(BASE) <= covered, set(BASE) - covered
    print(f"\nCLI corpus: {n_bad} bad inputs, {len(EDGES)} edge inputs; "
          f"this run: bad held {TALLY['bad'][1]}/{TALLY['bad'][0]}, edge held {TALLY['edge'][1]}/{TALLY['edge'][0]}")


CONFIG_EQUALS = [
    ("infer", ["--gpu", "h100-sxm", "--gpus", "2", "--precision", "bf16", "--batch", "8", "--prompt-tokens", "1000",
               "--output-tokens", "200"]),
    ("memory", ["--precision", "bf16", "--context", "4096", "--batch", "2"]),
    ("quantize", ["--gpu", "l4", "--precision", "int4"]),
    ("finetune", ["--method", "qlora", "--tokens", "1e8", "--gpu", "a100-80gb"]),
    ("train", ["--tokens", "1T", "--gpu", "h100-sxm"]),
    ("serve", ["--gpu", "h100-sxm", "--gpus", "2", "--prompt-tokens", "1000", "--output-tokens", "200",
               "--ttft-ms", "2000", "--tpot-ms", "100"]),
]


@pytest.mark.parametrize("sub, rest", CONFIG_EQUALS, ids=[s for s, _ in CONFIG_EQUALS])
@pytest.mark.parametrize("model_id", ["llama-3.1-8b", "qwen2.5-0.5b", "mixtral-8x7b", "gemma-2-2b"])
def test_config_gives_the_same_answer_as_the_catalog_model(sub, rest, model_id, capsys):
    """`--config config.json` (the published config of a catalog model) equals `--model ID`, number for number."""
    if not _has_config(sub):
        pytest.skip(f"--config is not wired into `costlib {sub}` on this branch yet")
    path = CONFIGS / model_id / "config.json"
    assert main([sub, "--model", model_id, *rest, "--json"]) == 0, capsys.readouterr().err
    by_id = json.loads(capsys.readouterr().out)
    assert main([sub, "--config", str(path), *rest, "--json"]) == 0, capsys.readouterr().err
    by_config = json.loads(capsys.readouterr().out)
    assert by_config == by_id


@pytest.mark.parametrize("sub, rest", CONFIG_EQUALS, ids=[s for s, _ in CONFIG_EQUALS])
def test_config_outside_the_catalog_with_explain(sub, rest, tmp_path, capsys):
    """A config.json in a folder that is no catalog id works, and --explain names the file as the source."""
    if not _has_config(sub):
        pytest.skip(f"--config is not wired into `costlib {sub}` on this branch yet")
    folder = tmp_path / "my-own-model"
    folder.mkdir()
    cfg = json.loads((CONFIGS / "llama-3.1-8b" / "config.json").read_text())
    cfg["num_hidden_layers"] = 16  # half of Llama-3.1-8B: no catalog row has this shape
    (folder / "config.json").write_text(json.dumps(cfg))
    assert main([sub, "--config", str(folder / "config.json"), *rest, "--explain", "--json"]) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert str(folder / "config.json") in data["basis"]["command"]
    assert any("config.json" in str(i.get("source")) for i in data["basis"]["inputs"]), data["basis"]["inputs"]
