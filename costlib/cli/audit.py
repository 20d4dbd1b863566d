"""``costlib audit``: the seed claims with costlib's value and a verdict (one claim, or all)."""
from __future__ import annotations

from ..book import audit
from ..errors import InputError
from . import emit


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="check the seed documents' claims against costlib (verdict per claim)")
    p.add_argument("--claim", help="one claim id (default: every claim); unknown ids list the known ones")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def payload(claim_id: str | None = None) -> dict:
    if claim_id is not None and not claim_id.strip():
        raise InputError("claim", claim_id, "a claim id (omit --claim for every claim); known ids are "
                         + ", ".join(c.id for c in audit.seed_claims()))
    claims = [audit.get_claim(claim_id)] if claim_id is not None else list(audit.seed_claims())
    rows = []
    for c in claims:
        e = audit.evaluate(c)
        rows.append(
            {
                "id": c.id,
                "seed_file": c.seed_file,
                "line": c.line,
                "claim": c.claim,
                "interpretation": c.interpretation,
                "unit": c.unit,
                "claimed": {"low": c.claimed_low, "high": c.claimed_high},
                "computed": None if e.computed is None else e.computed.as_dict(4),
                "verdict": e.judgement.label,
                "verdict_text": e.verdict,
                "factor": e.judgement.factor,
                "reason": e.reason,
            }
        )
    return {"claims": rows, "tolerance": audit.HOLD_TOLERANCE}


def _text(p: dict) -> str:
    lines = []
    for r in p["claims"]:
        lines.append(f"{r['id']}: {r['claim']}\n  -> {r['verdict_text']}; {r['reason']}")
    return "\n".join(lines)


def run(args) -> None:
    emit(args, payload(args.claim), _text)
