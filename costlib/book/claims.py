"""One claim, one answer: how a chapter shows a seed claim.

Every seed claim is judged once, by :func:`costlib.book.audit.evaluate` from ``data/seed_claims.csv``, with one
vocabulary (:data:`costlib.book.audit.VERDICTS`). A chapter that discusses a claim shows that row: the claim as
written, costlib's band and the verdict, through the helpers below, never by retyping the claim or judging it
with its own code. If a chapter needs another reading of the seed's text, that reading is its own row in
``seed_claims.csv`` with its own id and stated interpretation.

Marker convention (checked by ``tests/test_claim_consistency.py`` over every executed notebook and the built
site; documented in CONTRIBUTING.md):

* glued values are named ``claim-<id>-<field>`` with field one of :data:`FIELDS` (:func:`glue_claim` glues all
  of them, for ``{glue:text}`` in prose);
* HTML (tables, sentences) carries ``<span class="claim" data-claim="<id>" data-verdict=".." data-computed=".."
  data-claimed="..">`` around the text (:func:`claim_html`, :func:`claims_table`).

The same id must show the same claimed range, computed band and verdict wherever it appears.
"""
from __future__ import annotations

import html

from ..errors import InputError
from .audit import _band_text, claimed_text, evaluate, get_claim

FIELDS = ("claimed", "computed", "verdict")
"""The figures a claim mention carries: the seed's range as written, costlib's band, the verdict text."""

GLUE_PREFIX = "claim-"

CHAPTER_CLAIMS: dict[str, tuple[str, ...]] = {
    "training": ("s0-train-rule", "s0-train-1b-flops", "s0-train-1b-time", "s0-train-1b-cost", "s0-train-3b-flops",
                 "s0-train-3b-time", "s0-train-3b-cost", "s0-train-7b-flops", "s0-train-7b-time", "s0-train-7b-cost",
                 "s0-rc-train-3b", "s0-rc-train-70b", "s1-train-params-slm", "s1-train-params-llm", "s1-train-gpus-slm",
                 "s1-train-gpus-llm", "s1-train-days-slm", "s1-train-days-llm", "s1-train-cost-slm", "s1-train-cost-llm"),
    "fine-tuning": ("s0-finetune-reduction", "s0-lora-gpus", "s0-lora-time", "s0-lora-cost", "s0-qlora-gpus",
                    "s0-qlora-time", "s0-qlora-cost"),
    "inference": ("s0-infer-rule", "s0-infer-1b-flops", "s0-infer-1b-latency", "s0-infer-1b-cost", "s0-infer-3b-flops",
                  "s0-infer-3b-latency", "s0-infer-3b-cost", "s0-infer-7b-flops", "s0-infer-7b-latency",
                  "s0-infer-7b-cost", "s0-rc-infer-3b", "s0-rc-infer-70b", "s0-rc-latency-3b", "s0-rc-latency-70b",
                  "s1-vram-slm", "s1-vram-llm", "s1-tps-slm", "s1-tps-llm", "s1-latency-slm", "s1-latency-llm",
                  "s1-cost1m-slm", "s1-cost1m-llm", "s1-edge-slm", "s1-edge-llm"),
    "memory": ("s0-mem-1b-fp16", "s0-mem-3b-fp16", "s0-mem-7b-fp16", "s0-mem-1b-int8", "s0-mem-3b-int8",
               "s0-mem-7b-int8", "s0-mem-1b-int4", "s0-mem-3b-int4", "s0-mem-7b-int4", "s0-rc-deploy-3b",
               "s0-rc-deploy-70b"),
    "enterprise": ("s0-rec-monthly", "s1-ent-ft-slm", "s1-ent-ft-llm", "s1-ent-infer-slm", "s1-ent-infer-llm",
                   "s1-ent-infra-slm", "s1-ent-infra-llm", "s1-ent-total-slm", "s1-ent-total-llm", "s1-ent-reduction"),
}
"""The seed claims each chapter discusses (the rows its seed tables show through :func:`claims_table`); the seed
audit shows every claim. Rows not listed (definitions, recommendations) appear in the audit only."""


def claim_summary(claim_id: str) -> dict:
    """A claim's row, formatted once: id, seed, line, claim, interpretation, claimed, computed (band text), unit,
    low/mid/high (floats, None when not checkable), verdict (the class), verdict_text (with the factor), reason."""
    e = evaluate(get_claim(claim_id))
    c, b = e.claim, e.computed
    return {
        "id": c.id,
        "seed": c.seed_file.split("_")[0],
        "line": c.line,
        "claim": c.claim,
        "interpretation": c.interpretation,
        "claimed": claimed_text(c),
        "computed": "" if b is None else _band_text(b, c.unit),
        "unit": c.unit,
        "low": None if b is None else float(b.low),
        "mid": None if b is None else float(b.mid),
        "high": None if b is None else float(b.high),
        "verdict": e.judgement.label,
        "verdict_text": e.verdict,
        "reason": e.reason,
    }


def claim_fields(claim_id: str) -> dict[str, str]:
    """The three strings every mention of the claim must show identically (see :data:`FIELDS`)."""
    s = claim_summary(claim_id)
    return {"claimed": s["claimed"], "computed": s["computed"], "verdict": s["verdict_text"]}


def glue_name(claim_id: str, field: str) -> str:
    """``claim-<id>-<field>``: the glue key of one field of a claim."""
    if field not in FIELDS:
        raise InputError("field", field, "one of " + ", ".join(FIELDS))
    return f"{GLUE_PREFIX}{get_claim(claim_id).id}-{field}"


def claim_sentence(claim_id: str) -> str:
    """'Seed 000 (line 40) claims $40k – $100k; costlib computes ... : optimistic by 3.1x.' (plain text)."""
    s = claim_summary(claim_id)
    computed = f"costlib computes {s['computed']}" if s["computed"] else "costlib cannot check it"
    return f"Seed {s['seed']} (line {s['line']}) claims {s['claimed'] or 'no number'}; {computed}: {s['verdict_text']}."


def claim_html(claim_id: str, text: str | None = None) -> str:
    """``text`` (default: :func:`claim_sentence`) wrapped in the claim marker span."""
    f = claim_fields(claim_id)
    attrs = " ".join(f'data-{k}="{html.escape(v, quote=True)}"' for k, v in f.items())
    body = html.escape(claim_sentence(claim_id) if text is None else text)
    return f'<span class="claim" data-claim="{html.escape(get_claim(claim_id).id, quote=True)}" {attrs}>{body}</span>'


def glue_claim(claim_id: str) -> dict[str, str]:
    """Glue ``claim-<id>-claimed``, ``-computed`` and ``-verdict`` (not displayed) for ``{glue:text}`` in prose;
    returns the fields. Call it in the cell that discusses the claim."""
    from myst_nb import glue  # imported here: the library must import without the notebook toolchain

    f = claim_fields(claim_id)
    for k, v in f.items():
        glue(glue_name(claim_id, k), v, display=False)
    return f


def claims_frame(claim_ids):
    """One row per claim id: claim id, seed, claim, claimed, costlib, verdict (the verdict cell carries the marker)."""
    import pandas as pd  # on demand: the CLI imports costlib.book modules and must start fast

    rows = []
    for cid in claim_ids:
        s = claim_summary(cid)
        rows.append({"claim id": s["id"], "seed": s["seed"], "claim": s["claim"], "claimed": s["claimed"],
                     "costlib": s["computed"], "verdict": claim_html(cid, s["verdict_text"])})
    return pd.DataFrame(rows)


def claims_table(claim_ids, label: str):
    """:func:`claims_frame` as a stable-id Styler (:func:`costlib.present.report.table` conventions), markers unescaped."""
    uuid = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in label)
    df = claims_frame(claim_ids)
    plain = [c for c in df.columns if c != "verdict"]
    return df.style.hide(axis="index").set_uuid(uuid).format(escape="html", subset=plain)
