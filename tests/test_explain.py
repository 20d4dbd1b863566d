"""``--explain``: every CLI answer prints its basis (formula, inputs with source and date, reproducing command)."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from costlib import training
from costlib.cli import build_parser, main
from costlib.present.explain import command_line, constant_doc
from costlib.hardware import get_device

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--params", "6.74e9", "--tokens", "2e12", "--gpu", "a100-80gb"]


def run_cli(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def run_process(argv: list[str]) -> subprocess.CompletedProcess:
    """The command as a reader runs it: a fresh interpreter, `python -m costlib ...`."""
    return subprocess.run([sys.executable, "-m", "costlib", *argv], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})


def reproduce_argv(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "costlib"], command
    return words[3:]


@pytest.fixture(scope="module")
def train_explained():
    proc = run_process(TRAIN + ["--explain"])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_train_explain_prints_the_formula_and_substitutes_the_numbers(train_explained):
    out = train_explained
    assert "6·N·D" in out
    # C = 6 × 6.74e9 × 2e12 = 8.088e22 FLOP, worked by hand.
    assert "6 × 6.74e+09 × 2e+12 = 8.088e+22" in out
    assert "GPU-hours = C / (dense peak × MFU × 3600 s/h)" in out
    assert "Kaplan et al. 2020" in out


def test_train_explain_gives_the_a100_peak_with_its_datasheet_and_date(train_explained):
    a100 = get_device("a100-80gb")
    line = next(l for l in train_explained.splitlines() if "dense bf16 peak" in l)
    assert "312 TFLOP/s" in line
    assert a100.source in line and "nvidia-a100-datasheet" in a100.source
    assert f"as of {a100.as_of}" in line and re.search(r"as of \d{4}-\d{2}-\d{2}$", line)


def test_train_explain_gives_the_mfu_band_origin(train_explained):
    line = next(l for l in train_explained.splitlines() if l.strip().startswith("MFU band"))
    runs = training.fit_runs()
    band = training.mfu_band_for("a100-80gb")  # the A100-class slice band (costlib.training.mfu_band_for)
    assert f"calibrated on {len(runs)} published training runs" in line
    assert "published_runs.csv" in line and "Wilks 1941" in line
    assert f"mid {band.mid:.4g}" in line
    assert f"as of {max(r.as_of for r in runs)}" in line


def test_train_explain_dates_the_defaults_from_their_documented_source(train_explained):
    pue = next(l for l in train_explained.splitlines() if l.strip().startswith("PUE"))
    assert "Google" in pue and "as of 2024-07" in pue
    grid = next(l for l in train_explained.splitlines() if l.strip().startswith("grid intensity"))
    assert "Ember" in grid and "as of 2024-05-08" in grid
    offers = [l for l in train_explained.splitlines() if l.strip().startswith("offer:")]
    assert offers and all(re.search(r"; https?://\S+; as of \d{4}-\d{2}-\d{2}$", l) for l in offers)


def test_train_explain_command_reproduces_the_same_numbers(train_explained):
    lines = train_explained.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("reproduce (costlib "))
    command = lines[i + 1].strip()
    argv = reproduce_argv(command)
    again = run_process(argv)
    assert again.returncode == 0, again.stderr
    # The answer part (everything before the basis) is identical, number for number.
    answer = train_explained.split("\nbasis of this estimate")[0].rstrip()
    assert again.stdout.rstrip() == answer
    # And as JSON, the reproduced command gives exactly the payload of the original one.
    original = json.loads(run_process(TRAIN + ["--json"]).stdout)
    reproduced = json.loads(run_process(argv + ["--json"]).stdout)
    assert reproduced == original
    assert original["gpu_hours"]["mid"] > 0


def test_json_explain_adds_basis_and_keeps_every_other_key(capsys):
    code, plain, _ = run_cli(TRAIN + ["--json"], capsys)
    assert code == 0
    code, explained, _ = run_cli(TRAIN + ["--json", "--explain"], capsys)
    assert code == 0
    p, e = json.loads(plain), json.loads(explained)
    assert "basis" not in p
    basis = e.pop("basis")
    assert e == p
    assert basis["costlib_version"] and basis["command"].startswith("python -m costlib train ")
    assert any("6·N·D" in f for f in basis["formula"])
    for item in basis["inputs"]:
        assert set(item) == {"name", "value", "unit", "source", "as_of"}
        assert item["source"]
    catalog = [i for i in basis["inputs"] if not i["source"].startswith("your input")]
    assert catalog and all(i["as_of"] for i in catalog)


def test_explain_command_writes_defaults_and_model_ids(capsys):
    code, out, _ = run_cli(["train", "--model", "llama-2-7b", "--tokens", "2T", "--gpu", "h100-sxm", "--gpus", "512",
                            "--json", "--explain"], capsys)
    assert code == 0, "llama-2-7b and h100-sxm are catalog ids: the command must run"
    basis = json.loads(out)["basis"]
    argv = reproduce_argv(basis["command"])
    assert argv[:3] == ["train", "--model", "llama-2-7b"]
    assert "--pue" in argv and "--gpus" in argv and "--json" not in argv and "--explain" not in argv
    assert basis["inputs"][0]["name"].startswith("model llama-2-7b")


def test_command_line_round_trips_through_the_parser():
    parser = build_parser()
    args = parser.parse_args(TRAIN + ["--mfu", "0.4", "--recompute", "--price", "2.5"])
    sub = parser._subparsers._group_actions[0].choices["train"]
    cmd = command_line(sub, args, "train")
    again = parser.parse_args(reproduce_argv(cmd))
    for key, value in vars(args).items():
        if key != "handler":
            assert getattr(again, key) == value, key
    assert "--recompute" in cmd and "--mfu 0.4" in cmd and "--tokens 2000000000000" in cmd


def test_pinned_inputs_are_reported_as_yours(capsys):
    code, out, _ = run_cli(TRAIN + ["--mfu", "0.4", "--price", "2", "--pue", "1.3", "--json", "--explain"], capsys)
    assert code == 0
    inputs = {i["name"]: i for i in json.loads(out)["basis"]["inputs"]}
    assert inputs["MFU (pinned)"]["source"] == "your input (--mfu)"
    assert inputs["price"]["source"] == "your input (--price)"
    assert inputs["PUE"]["source"] == "your input" and inputs["PUE"]["value"] == 1.3


def test_constant_doc_reads_the_documentation_under_a_constant():
    assert "Kaplan" in constant_doc("costlib.training", "FLOPS_PER_PARAM_TOKEN")
    assert constant_doc("costlib.training", "NO_SUCH_CONSTANT") == ""


def _subcommands():
    parser = build_parser()
    return sorted(parser._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("name", _subcommands())
def test_every_subcommand_answers_through_emit(name):
    """``build_parser`` adds ``--explain`` to every subcommand, but only an answer printed through
    :func:`costlib.cli.emit` carries the basis: each subcommand's handler must call ``emit``."""
    import ast
    import inspect

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[name]
    assert "--explain" in sub._option_string_actions
    handler = sub._defaults.get("handler")
    assert handler is not None, f"{name} sets no handler"
    module = inspect.getmodule(handler)
    calls = {n.func.id for n in ast.walk(ast.parse(inspect.getsource(module)))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "emit" in calls, f"{module.__name__} never calls emit: --explain would print nothing"


EXAMPLES = {
    "finetune": ["finetune", "--model", "llama-2-7b", "--method", "qlora", "--tokens", "1e8", "--gpu", "a100-80gb"],
    "infer": ["infer", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--precision", "bf16", "--batch", "8",
              "--prompt-tokens", "1000", "--output-tokens", "200"],
    "memory": ["memory", "--model", "llama-2-7b", "--precision", "bf16", "--context", "4096"],
    "gpus": ["gpus"],
    "speculative": ["speculative", "--alpha", "0.8", "--gamma", "4"],
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_other_subcommands_explain_and_reproduce(name, capsys):
    """Each answer's basis names its inputs' sources and its command gives the same JSON again."""
    assert name in _subcommands(), f"subcommand {name} is not registered"
    code, out, err = run_cli(EXAMPLES[name] + ["--json", "--explain"], capsys)
    assert code == 0, err
    payload = json.loads(out)
    basis = payload.pop("basis")
    assert basis["formula"] and basis["inputs"]
    if "--gpu" in EXAMPLES[name]:
        dev = next(i for i in basis["inputs"] if "a100" in i["name"].lower() or "A100" in str(i["name"]))
        assert dev["as_of"] == get_device("a100-80gb").as_of
    code, again, err = run_cli(reproduce_argv(basis["command"]) + ["--json"], capsys)
    assert code == 0, err
    assert json.loads(again) == payload
