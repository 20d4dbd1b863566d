"""Importing costlib reads no catalog; a one-shot CLI answer imports only what its subcommand needs.

Each check runs in a fresh interpreter (the test process has imported everything already).
"""
from __future__ import annotations

import json
import subprocess
import sys

PHYSICS = ("costlib", "costlib.catalog", "costlib.hardware", "costlib.models", "costlib.prices", "costlib.inference",
           "costlib.serving", "costlib.memory", "costlib.training", "costlib.finetune", "costlib.planner",
           "costlib.enterprise", "costlib.routing", "costlib.energy", "costlib.cli")

_OPENS = """
import importlib, json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and args and
                 str(args[0]).endswith((".csv", ".json", ".yaml", ".yml", ".toml")) else None)
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
print(json.dumps(opened))
"""


def _fresh(code: str) -> str:
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.strip().splitlines()[-1]


def test_importing_costlib_and_its_modules_reads_no_catalog():
    opened = json.loads(_fresh(_OPENS.format(modules=PHYSICS)))
    assert opened == [], f"catalog files read at import (load them on first use): {opened}"


_ONE_SHOT = """
import contextlib, io, json, sys
from costlib.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main({args!r})
json.loads(out.getvalue())
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in
      ("pandas", "matplotlib", "ipywidgets", "genai_prices", "costlib"))]))
"""


def test_one_shot_infer_imports_only_what_it_needs():
    args = ["infer", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "16",
            "--prompt-tokens", "2048", "--output-tokens", "256", "--json"]
    code, loaded = json.loads(_fresh(_ONE_SHOT.format(args=args)))
    assert code == 0
    heavy = [m for m in loaded if m.split(".")[0] in ("pandas", "matplotlib", "ipywidgets", "genai_prices")]
    assert heavy == [], heavy
    for module in ("costlib.book", "costlib.present", "costlib.training", "costlib.enterprise", "costlib.planner",
                   "costlib.cli.train", "costlib.cli.plan", "costlib.cli.enterprise"):
        assert module not in loaded, f"{module} imported by a one-shot `infer`"
    assert "costlib.cli.infer" in loaded and "costlib.inference" in loaded
