"""Apply the layering moves of issue 17 to notebook sources (for integration; outputs are left alone).

Usage:
    python tools/migrate_layering.py notebooks/*.ipynb            # rewrite in place
    python tools/migrate_layering.py --check notebooks/*.ipynb    # show what would change, exit 1 if anything would
    python tools/migrate_layering.py --verify notebooks/*.ipynb   # static check: every costlib import and
                                                                  # alias.attribute in code cells resolves

What it rewrites, in code cells:
* module paths: costlib.report / explore / explain -> costlib.present.*; costlib.audit -> costlib.book.audit;
* names that moved to another module (:data:`MOVES`), through the notebook's own aliases, adding one import line
  for the new module next to the old module's import;
* the seed audit's rate rows are ``costlib.fx.FxRate`` objects now (``r.per_usd``, not ``r["per_usd"]``);
and in markdown cells and code strings, typed chapter numbers (notebook file numbers) become references by name:
``{doc}`` links in markdown, the chapter's name in text a code cell prints. Re-execute the notebooks afterwards.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import re
import sys
from pathlib import Path

import nbformat

MODULE_MOVES = {
    "costlib.report": "costlib.present.report",
    "costlib.explore": "costlib.present.explore",
    "costlib.explain": "costlib.present.explain",
    "costlib.audit": "costlib.book.audit",
}

_SLM = ("BENCHMARK_SCHEMA", "PAIRS", "PRETRAIN_TOKENS", "SEED_TRAINING_GPUS", "PROFILE", "HARDWARE_CLASSES",
        "benchmark_scores", "score", "pareto_frontier", "pretrain_tokens", "serving_estimate", "cost_per_1m_output",
        "pair_training_rows", "pair_inference_rows", "pair_table", "deployment_class", "latency_meanings",
        "smallest_fitting_model", "best_precision", "deployment_table")
_TECH = ("REFERENCE_MODEL", "REFERENCE_DRAFT", "REFERENCE_GPU", "REFERENCE_PROMPT_TOKENS", "REFERENCE_OUTPUT_TOKENS",
         "REFERENCE_REQUESTS_PER_DAY", "REFERENCE_BATCH", "REFERENCE_ONLINE_UTILIZATION", "REFERENCE_ALPHA",
         "REFERENCE_GAMMA", "LEVIATHAN_ALPHA_RANGE", "REFERENCE_COMPRESSION_RATIO", "REFERENCE_PRUNED_SHARE",
         "REFERENCE_FULL_CONTEXT_TOKENS", "REFERENCE_RAG_CHUNKS", "REFERENCE_RAG_CHUNK_TOKENS",
         "REFERENCE_RAG_QUERY_TOKENS", "REFERENCE_SHARED_PREFIX_TOKENS", "REFERENCE_FEWSHOT_TOKENS",
         "REFERENCE_FINETUNE_TOKENS", "REFERENCE_LARGE_API", "REFERENCE_SMALL_SHARE", "REFERENCE_ESCALATION",
         "REFERENCE_DISTILL_EXAMPLES", "REFERENCE_DISTILL_STUDENT", "REFERENCE_PRETRAIN_TOKENS", "REFERENCE_CPU",
         "REFERENCE_EDGE", "reference_setup", "legacy_setup", "reference_waterfall", "technique_table",
         "TECHNIQUE_EVIDENCE_IDS", "NO_EVIDENCE_REASON", "evidence_summary")

_COSTS = ("kv_cache_time_s", "flash_attention_prefill_extra_s", "speculative_verify_time_ratio", "speculative_on_gpu",
          "QuantizationEffect", "quantization_effect", "edge_decode_backtest", "finetune_comparison", "distillation_case",
          "cpu_break_even_usd_per_hour", "ServingSetup", "serving_cost", "stack_waterfall", "get_model_params")

MOVES: dict[tuple[str, str], tuple[str, str]] = {
    **{("costlib.optimizations", n): ("costlib.optimization_costs", n) for n in _COSTS},
    **{("costlib.book.audit", n): ("costlib.book.slm_vs_llm", n) for n in _SLM},
    **{("costlib.optimizations", n): ("costlib.book.techniques", n) for n in _TECH},
    ("costlib.book.audit", "fx_rates"): ("costlib.fx", "fx_rates"),
    ("costlib.book.audit", "fx_band"): ("costlib.fx", "fx_band"),
    ("costlib.book.audit", "format_value"): ("costlib.book.audit", "claim_number_text"),
    ("costlib.memory", "seed_memory_claims"): ("costlib.book.audit", "seed_memory_claims"),
    ("costlib.hardware", "decode_floor"): ("costlib.roofline", "decode_floor"),
    ("costlib.hardware", "DecodeFloor"): ("costlib.roofline", "DecodeFloor"),
    ("costlib.hardware", "attainable_flops"): ("costlib.roofline", "roofline_flops"),
}
"""(old module, name) -> (new module, name)."""

NEW_ALIAS = {"costlib.optimization_costs": "oc", "costlib.book.slm_vs_llm": "slm", "costlib.book.techniques": "tech", "costlib.fx": "fx",
             "costlib.book.audit": "book_audit", "costlib.roofline": "roofline"}

CHAPTERS = {0: ("hardware and models", "00_hardware_and_models"), 1: ("training", "01_training"),
            2: ("inference", "02_inference"), 3: ("memory", "03_memory"), 4: ("optimizations", "04_optimizations"),
            5: ("SLM-vs-LLM", "05_slm_vs_llm"), 6: ("enterprise", "06_enterprise"), 90: ("seed audit", "90_seed_audit")}
"""Typed numbers in the notebooks are notebook file numbers (checked by reading every one in context)."""

_CHAPTER = re.compile(r"\b(?:(the|The) )?([Cc])hapter (\d+)\b")


def _chapter_markdown(m: re.Match) -> str:
    name, doc = CHAPTERS[int(m.group(3))]
    the = "The" if (m.group(1) == "The" or (m.group(1) is None and m.group(2) == "C")) else "the"
    title = name if name == "seed audit" else f"{name} chapter"
    return f"{the} {{doc}}`{title} <{doc}>`"


def _chapter_text(m: re.Match) -> str:
    name, _ = CHAPTERS[int(m.group(3))]
    the = "The" if (m.group(1) == "The" or (m.group(1) is None and m.group(2) == "C")) else "the"
    return f"{the} {name}" if name == "seed audit" else f"{the} {name} chapter"


_IMPORT_AS = re.compile(r"^(\s*)from costlib import ([^\n#]+)$", re.M)
_IMPORT_MOD = re.compile(r"^(\s*)import (costlib(?:\.[a-z_]+)+) as ([A-Za-z_]\w*)\s*$", re.M)


def aliases(sources: list[str]) -> dict[str, str]:
    """alias -> costlib module, from ``from costlib import x as y`` / ``from costlib.book import audit`` lines."""
    out = {}
    for src in sources:
        for m in re.finditer(r"^\s*from (costlib(?:\.[a-z_]+)*) import ([^\n#]+)$", src, re.M):
            pkg = m.group(1)
            for part in m.group(2).strip().strip("()").split(","):
                bits = part.split()
                if not bits:
                    continue
                name, alias = bits[0], bits[-1]
                mod = f"{pkg}.{name}"
                if _importable(mod):
                    out[alias] = mod
        for m in _IMPORT_MOD.finditer(src):
            out[m.group(3)] = m.group(2)
    return out


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def migrate_code(src: str, alias_of: dict[str, str], added: dict) -> str:
    for old, new in MODULE_MOVES.items():
        src = re.sub(rf"\b{re.escape(old)}\b", new, src)
    src = re.sub(r"^(\s*)from costlib import audit\b", r"\1from costlib.book import audit", src, flags=re.M)
    # dotted paths in strings (costlib.audit.PROFILE -> costlib.book.slm_vs_llm.PROFILE)
    for (om, on), (nm, nn) in MOVES.items():
        src = re.sub(rf"\b{re.escape(om)}\.{on}\b", f"{nm}.{nn}", src)
    # alias.name through the notebook's aliases
    for alias, mod in alias_of.items():
        for (om, on), (nm, nn) in MOVES.items():
            if mod != om or not re.search(rf"\b{alias}\.{on}\b", src):
                continue
            target = next((a for a, m in alias_of.items() if m == nm), None) or NEW_ALIAS[nm]
            src = re.sub(rf"\b{alias}\.{on}\b", f"{target}.{nn}", src)
            if target not in alias_of and target not in added:
                pkg, leaf = nm.rsplit(".", 1)
                added[target] = (alias, f"from {pkg} import {leaf}" + ("" if leaf == target else f" as {target}"))
    if "fx.fx_rates()" in src:
        src = re.sub(r"""\br\[['"](currency|per_usd|source)['"]\]""", r"r.\1", src)
        src = re.sub(r"""str\(r\[['"]as_of['"]\]\)""", "r.as_of", src)
    return _CHAPTER.sub(_chapter_text, src)


def _add_import(cells, alias: str, line: str) -> None:
    """Put ``line`` after the import that defines ``alias`` (the notebook's import cell), else after the
    first costlib import."""
    for pattern in (rf"\s*from costlib.*\b{alias}\b", r"\s*from costlib"):
        for cell in cells:
            lines = cell.source.split("\n")
            for i, text in enumerate(lines):
                if re.match(pattern, text):
                    lines.insert(i + 1, line)
                    cell.source = "\n".join(lines)
                    return


def migrate(nb) -> None:
    codes = [c for c in nb.cells if c.cell_type == "code"]
    moved = [migrate_code(c.source, {}, {}) for c in codes]  # module paths first, so aliases see the new modules
    alias_of = aliases(moved)
    added: dict[str, tuple[str, str]] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = migrate_code(migrate_code(cell.source, {}, added), alias_of, added)
        elif cell.cell_type == "markdown":
            cell.source = _CHAPTER.sub(_chapter_markdown, cell.source)
    for alias, line in added.values():
        _add_import(codes, alias, line)


def verify(nb, name: str) -> list[str]:
    """Every ``from costlib... import x`` resolves and every ``alias.attr`` of a costlib module alias exists."""
    problems = []
    codes = [c.source for c in nb.cells if c.cell_type == "code"]
    alias_of = aliases(codes)
    for i, src in enumerate(codes):
        clean = "\n".join(l for l in src.split("\n") if not l.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(clean)
        except SyntaxError as exc:
            problems.append(f"{name} code cell {i}: syntax error {exc}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("costlib"):
                try:
                    mod = importlib.import_module(node.module)
                except ImportError as exc:
                    problems.append(f"{name} code cell {i}: {exc}")
                    continue
                for a in node.names:
                    if not hasattr(mod, a.name) and not _importable(f"{node.module}.{a.name}"):
                        problems.append(f"{name} code cell {i}: {node.module} has no {a.name}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in alias_of:
                mod = importlib.import_module(alias_of[node.value.id])
                if not hasattr(mod, node.attr):
                    problems.append(f"{name} code cell {i}: {alias_of[node.value.id]} has no {node.attr}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args(argv)
    changed = 0
    problems: list[str] = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.verify:
            problems += verify(nb, path.name)
            continue
        before = [c.source for c in nb.cells]
        migrate(nb)
        after = [c.source for c in nb.cells]
        if before != after:
            changed += 1
            if args.check:
                for i, (b, a) in enumerate(zip(before, after)):
                    if a != b:
                        sys.stdout.writelines(difflib.unified_diff(
                            b.splitlines(True), a.splitlines(True), f"{path.name} cell {i}", f"{path.name} cell {i}", n=0))
                        print()
            else:
                nbformat.write(nb, path)
    if args.verify:
        print("\n".join(problems) or "every costlib import and attribute resolves")
        return 1 if problems else 0
    print(f"{changed} notebook(s) {'would change' if args.check else 'changed'}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
