"""The planner on the published page, no kernel: a capacity table precomputed by costlib and a few lines of
JavaScript that do only the multiplications of :mod:`costlib.planner` (fleet = ceil(peak / capacity / u),
$ = GPUs x price x 730 h; API $ = requests x list price), in the same floating-point order.
tests/browser/test_planner.py checks >= 50 input combinations against ``python -m costlib plan ... --json``.
"""
from __future__ import annotations

import hashlib
import html
import json
from functools import lru_cache
from pathlib import Path

from ..errors import InputError

TABLE_PATH = Path(__file__).parent.parent / "data" / "derived" / "planner_capacity.json"

GRID = {
    "models": (),  # filled below: every catalog model
    "gpus": ("l4", "l40s", "a100-80gb", "h100-sxm", "h200", "b200", "mi300x"),
    "precisions": ("bf16", "fp8", "int4"),
    "engines": ("vllm", "tensorrt-llm"),
    "prompts": (500, 2000, 8000),
    "outputs": (100, 400),
    "presets": ((500.0, 30.0), (1000.0, 50.0), (3000.0, 100.0)),
}
"""The page's grid. Presets are (mean TTFT ms, mean TPOT ms) targets."""


def _models():
    from ..models import models

    return tuple(models())


GRID["models"] = _models()

DEFAULTS = {"model": "llama-3.1-8b", "gpu": "l40s", "precision": "fp8", "engine": "vllm", "prompt": 2000,
            "output": 400, "preset": 1, "requests_per_day": 100_000, "peak_to_average": 2.0, "active_hours": 24,
            "active_days": 365, "offer": "on-demand", "max_utilization": 0.8, "cached_share": 0.0}
"""The page's starting inputs (a reader's own are typed over them)."""
HOURS = (24, 12, 10, 8)
DAYS = (365, 250)
CACHED = (0.0, 0.3, 0.6)
API_PER_TIER = 3
"""Current APIs shown per tier (the first of ``costlib.planner.tiers()``)."""


@lru_cache(maxsize=1)
def load_table() -> dict:
    if not TABLE_PATH.exists():
        raise InputError("planner table", str(TABLE_PATH), "a built table: run tools/build_planner_table.py")
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


def page_data(table: dict | None = None, *, tiers=("small", "large")) -> dict:
    """Everything the page needs: the capacity table, labels, each GPU's catalog on-demand median, the offer
    factors and the API prices of the current tiers."""
    from .. import planner as pl
    from ..hardware import get_device
    from ..models import get_model
    from ..prices import get_api_price

    t = dict(table or load_table())
    apis = []
    for tier in tiers:
        for a in pl.tiers().get(tier, ())[:API_PER_TIER]:
            p = get_api_price(a)
            apis.append({"id": a, "tier": tier, "label": p.model, "in": p.input_usd_per_1m, "out": p.output_usd_per_1m,
                         "cached": p.cached_input_usd_per_1m if p.cached_input_usd_per_1m is not None else p.input_usd_per_1m,
                         "as_of": p.as_of})
    t["model_labels"] = [get_model(m).name for m in t["models"]]
    t["gpu_labels"] = [get_device(g).name for g in t["gpus"]]
    t["gpu_price"] = [float(pl.catalog_on_demand_price(g).mid) for g in t["gpus"]]
    t["offers"] = list(pl.OFFERS)
    t["offer_factors"] = [[f.low, f.mid, f.high] for f in (pl.offer_price_factor(o) for o in pl.OFFERS)]
    t["apis"] = apis
    t["hours_per_month"] = pl.HOURS_PER_MONTH
    return t


def planner_html(title: str = "What will my workload cost?", defaults: dict | None = None, table: dict | None = None,
                 note: str | None = None) -> str:
    """The self-contained HTML block (controls, results, embedded data, inline script)."""
    d = dict(DEFAULTS)
    d.update(defaults or {})
    data = page_data(table)
    for key, values in (("model", data["models"]), ("gpu", data["gpus"]), ("precision", data["precisions"]),
                        ("engine", data["engines"]), ("prompt", data["prompts"]), ("output", data["outputs"])):
        if d[key] not in values:
            raise InputError(f"defaults[{key!r}]", d[key], f"one of {values}")
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    uid = "pl-" + hashlib.sha1((title + json.dumps(d, sort_keys=True)).encode()).hexdigest()[:8]
    esc = html.escape

    def select(name, label, values, shown, current):
        opts = "".join(f'<option value="{esc(str(v))}"{" selected" if v == current else ""}>{esc(str(s))}</option>'
                       for v, s in zip(values, shown))
        return f'<label for="{uid}-{name}">{esc(label)}</label><select id="{uid}-{name}" data-k="{name}">{opts}</select>'

    def number(name, label, value, step, minimum):
        return (f'<label for="{uid}-{name}">{esc(label)}</label><input type="number" id="{uid}-{name}" data-k="{name}" '
                f'value="{value:g}" step="{step}" min="{minimum}">')

    presets = [f"TTFT {a / 1e3:g} s, TPOT {b:g} ms" for a, b in data["presets"]]
    gi = data["gpus"].index(d["gpu"])
    controls = [
        select("model", "Model", data["models"], [f"{lab} ({m})" for m, lab in zip(data["models"], data["model_labels"])], d["model"]),
        select("gpu", "GPU", data["gpus"], data["gpu_labels"], d["gpu"]),
        select("precision", "Weights precision", data["precisions"], data["precisions"], d["precision"]),
        select("engine", "Serving engine", data["engines"], ["vLLM", "TensorRT-LLM"], d["engine"]),
        select("prompt", "Prompt tokens per request", data["prompts"], [f"{x:,}" for x in data["prompts"]], d["prompt"]),
        select("output", "Output tokens per request", data["outputs"], [f"{x:,}" for x in data["outputs"]], d["output"]),
        select("preset", "Latency targets (means)", list(range(len(presets))), presets, d["preset"]),
        number("rpd", "Requests per day", d["requests_per_day"], "any", 1),
        number("pf", "Peak-to-average ratio", d["peak_to_average"], "any", 1),
        select("hours", "Active hours a day", list(HOURS), [f"{h} h" for h in HOURS], d["active_hours"]),
        select("days", "Active days a year", list(DAYS), [str(x) for x in DAYS], d["active_days"]),
        number("price", "On-demand $ per GPU-hour", data["gpu_price"][gi], "any", 0.01),
        select("offer", "GPU offer", data["offers"], data["offers"], d["offer"]),
        number("util", "Max utilization at peak", d["max_utilization"], "any", 0.05),
        select("cached", "API cached-prompt share", list(CACHED), [f"{c:.0%}" for c in CACHED], d["cached_share"]),
    ]
    # each data cell carries its column's label: at phone width (_STYLE's @media rule) a row becomes a card
    # whose cells stack under the option's name, each prefixed by its label, so nothing scrolls sideways
    lab = {f: f' data-label="{esc(text)}"' for f, text in RESULT_COLUMNS}
    head = "".join(f'<th scope="col">{esc(text)}</th>' for _, text in (("name", "option"), *RESULT_COLUMNS))
    rows = [f'<tr class="pl-head">{head}</tr>',
            f'<tr data-row="self"><td class="pl-name"></td><td data-f="k"{lab["k"]}></td><td data-f="gpus"{lab["gpus"]}></td>'
            f'<td data-f="month"{lab["month"]}></td><td data-f="per1k"{lab["per1k"]}></td><td data-f="binding"{lab["binding"]}></td></tr>']
    for i, a in enumerate(data["apis"]):
        rows.append(f'<tr data-row="api" data-i="{i}"><td class="pl-name">{esc(a["label"])} API ({esc(a["tier"])} tier, list price of '
                    f'{esc(a["as_of"])})</td><td class="pl-na"{lab["k"]}>—</td><td class="pl-na"{lab["gpus"]}>—</td>'
                    f'<td data-f="month"{lab["month"]}></td><td data-f="per1k"{lab["per1k"]}></td><td{lab["binding"]}>price</td></tr>')
    note = note or ("Self-hosted capacity from costlib.serving (continuous batching; mean TTFT/TPOT) precomputed on "
                    "this grid; the page multiplies it by your traffic and price as costlib.planner does. GPUs "
                    "rented 730 h a month; reserved and spot derive from the on-demand price you set; API list "
                    "prices without volume discounts. Same numbers: python -m costlib plan ... (the command below).")
    parts = [f'<div class="costlib-planner tex2jax_ignore mathjax_ignore" id="{uid}">', _STYLE,
             f'<p class="pl-title"><strong>{esc(title)}</strong> <span class="pl-hint">(precomputed with costlib: '
             'change the inputs)</span></p>', '<div class="pl-controls">', *controls, "</div>",
             '<table class="pl-results" aria-live="polite"><tbody>', *rows, "</tbody></table>",
             '<p class="pl-cheapest"></p><p class="pl-error" hidden></p>',
             '<p class="pl-cmd">CLI: <code></code></p>', f'<p class="pl-note">{esc(note)}</p>',
             f'<script type="application/json" class="pl-data">{payload}</script>',
             f"<script>{_SCRIPT.replace('__ID__', uid)}</script>", "</div>"]
    return "\n".join(parts)


def planner_explorer(title: str = "What will my workload cost?", defaults: dict | None = None, note: str | None = None):
    from IPython.display import HTML

    return HTML(planner_html(title, defaults, note=note))


RESULT_COLUMNS = (("k", "GPUs per replica"), ("gpus", "GPUs at peak"), ("month", "$ per month, mid (low–high)"),
                  ("per1k", "$ per 1K requests"), ("binding", "binding constraint"))
"""The result table's columns after the option's name: (data-f key, header text)."""

_STYLE = """<style>
.costlib-planner{border:1px solid var(--pst-color-border,#ccc);border-radius:6px;padding:.6em .9em;margin:1em 0;max-width:100%;overflow-x:auto;color-scheme:light}
.costlib-planner .pl-hint{font-size:.85em;opacity:.75}
.costlib-planner .pl-controls{display:grid;grid-template-columns:minmax(0,max-content) minmax(7em,1fr) minmax(0,max-content) minmax(7em,1fr);gap:.35em .8em;align-items:center}
.costlib-planner .pl-controls select,.costlib-planner .pl-controls input{width:100%;min-width:0;box-sizing:border-box}
.costlib-planner table.pl-results{margin:.7em 0 .2em;border-collapse:collapse;font-variant-numeric:tabular-nums}
.costlib-planner table.pl-results th,.costlib-planner table.pl-results td{padding:.15em .7em .15em 0;text-align:left}
.costlib-planner .pl-cheapest{font-weight:bold;margin:.3em 0}
.costlib-planner .pl-error{color:#b00020;margin:.3em 0}
.costlib-planner .pl-note,.costlib-planner .pl-cmd{font-size:.85em;opacity:.85;margin:.3em 0 0}
@media (max-width:640px){.costlib-planner .pl-controls{grid-template-columns:1fr}
.costlib-planner table.pl-results,.costlib-planner table.pl-results tbody,.costlib-planner table.pl-results tr{display:block;width:100%}
.costlib-planner table.pl-results tr.pl-head{display:none}
.costlib-planner table.pl-results tr{border-top:1px solid var(--pst-color-border,#ccc);padding:.35em 0}
.costlib-planner table.pl-results td{display:block;padding:.05em 0;overflow-wrap:anywhere}
.costlib-planner table.pl-results td.pl-name{font-weight:600}
.costlib-planner table.pl-results td.pl-na{display:none}
.costlib-planner table.pl-results td[data-label]::before{content:attr(data-label) ": ";opacity:.75}}
</style>"""

# The multiplications of costlib.planner (replicas_needed, _self_hosted_costs, api_usd_per_request), same order.
_SCRIPT = r"""(function () {
  var root = document.getElementById("__ID__");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var D = JSON.parse(root.querySelector("script.pl-data").textContent);
  function el(k) { return root.querySelector('[data-k="' + k + '"]'); }
  function usd(x) { return x < 100 ? "$" + x.toFixed(2) : "$" + Math.round(x).toLocaleString("en-US"); }
  function band(lo, mid, hi, f) { return lo === hi ? f(mid) : f(mid) + " (" + f(lo) + "\u2013" + f(hi) + ")"; }
  function count(x) { return String(x); }
  var lastGpu = el("gpu").value;
  function update() {
    var model = el("model").value, gpu = el("gpu").value, prec = el("precision").value, eng = el("engine").value;
    if (gpu !== lastGpu) { el("price").value = D.gpu_price[D.gpus.indexOf(gpu)]; lastGpu = gpu; }
    var P = +el("prompt").value, O = +el("output").value, preset = +el("preset").value;
    var rpd = +el("rpd").value, pf = +el("pf").value, hours = +el("hours").value, days = +el("days").value;
    var price = +el("price").value, offer = el("offer").value, u = +el("util").value, cs = +el("cached").value;
    var err = root.querySelector(".pl-error");
    var bad = !(rpd > 0) ? "requests per day must be > 0" : !(pf >= 1) ? "peak-to-average must be >= 1" :
      !(price > 0) ? "the price must be > 0" : !(u > 0 && u <= 1) ? "utilization must be in (0, 1]" : "";
    err.textContent = bad; err.hidden = !bad;
    var idx = [["models", model], ["gpus", gpu], ["precisions", prec], ["engines", eng], ["prompts", P], ["outputs", O]];
    var i = 0;
    idx.forEach(function (kv) { var a = D[kv[0]]; var j = a.indexOf(typeof a[0] === "number" ? +kv[1] : kv[1]); i = i * a.length + j; });
    var cell = D.cells[i * D.presets.length + preset];
    var req = rpd * 1 * days / 12 * (1 + 0 / 2);
    var best = null;
    var self = root.querySelector('tr[data-row="self"]');
    var modelName = D.model_labels[D.models.indexOf(model)], gpuName = D.gpu_labels[D.gpus.indexOf(gpu)];
    self.querySelector(".pl-name").textContent = modelName + " on " + gpuName + " (" + prec + ", " + eng + (offer === "on-demand" ? "" : ", " + offer) + ")";
    function put(row, f, text) { row.querySelector('[data-f="' + f + '"]').textContent = text; }
    if (bad) { ["k", "gpus", "month", "per1k", "binding"].forEach(function (f) { put(self, f, "\u2014"); }); }
    else if (cell.length === 2) {
      var why = {m: "does not fit in memory on up to 8 GPUs", t: "TTFT target below this setup's floor", p: "TPOT target below this setup's floor"}[cell[0]];
      put(self, "k", "\u2014"); put(self, "gpus", "\u2014"); put(self, "per1k", "\u2014");
      put(self, "month", "cannot serve: " + why + (cell[1] !== null ? " (" + cell[1] + " ms)" : ""));
      put(self, "binding", {m: "memory", t: "ttft", p: "tpot"}[cell[0]]);
    } else {
      var K = cell[0], caps = [cell[3], cell[2], cell[1] > 0 ? cell[1] : cell[2]];
      var peak = rpd * 1 * (1 + 0) / (hours * 3600) * pf;
      var f = D.offer_factors[D.offers.indexOf(offer)];
      var g = caps.map(function (c) { var demand = 0.0 + peak * 1.0 / c; return Math.max(1, Math.ceil(demand / u - 1e-9)) * K; });
      var m = [0, 1, 2].map(function (j) { return g[j] * (f[j] * price) * D.hours_per_month + 0.0; });
      put(self, "k", String(K)); put(self, "gpus", band(g[0], g[1], g[2], count));
      put(self, "month", band(m[0], m[1], m[2], usd));
      put(self, "per1k", "$" + (m[1] * (1000.0 / req)).toFixed(3));
      put(self, "binding", D.bindings[cell[4]]);
      best = [m[1], modelName + " on " + g[1] + " x " + gpuName];
    }
    root.querySelectorAll('tr[data-row="api"]').forEach(function (row) {
      var a = D.apis[+row.dataset.i];
      var c = cs * P;
      var per = 0 + 1.0 * (((P - c) * a["in"] + c * a.cached + O * a.out) / 1e6);
      var month = req * per + 0.0;
      put(row, "month", bad ? "\u2014" : usd(month));
      put(row, "per1k", bad ? "\u2014" : "$" + (month * (1000.0 / req)).toFixed(3));
      if (!bad && (best === null || month < best[0])) best = [month, a.label + " API"];
    });
    root.querySelector(".pl-cheapest").textContent = best ? "Cheapest at mid: " + best[1] + ", " + usd(best[0]) + " a month." : "";
    var t = D.presets[preset];
    root.querySelector(".pl-cmd code").textContent = "python -m costlib plan --requests-per-day " + rpd + " --prompt-tokens " + P +
      " --output-tokens " + O + " --ttft-ms " + t[0] + " --tpot-ms " + t[1] + " --peak-factor " + pf + " --active-hours " + hours +
      " --active-days " + days + " --max-utilization " + u + " --cached-share " + cs + " --gpu-price " + gpu + "=" + price +
      " --option self:" + model + "@" + gpu + ":" + prec + ":" + eng + ":" + offer +
      D.apis.map(function (a) { return " --option api:" + a.id; }).join("");
  }
  root.querySelectorAll("[data-k]").forEach(function (c) { c.addEventListener("input", update); c.addEventListener("change", update); });
  update();
})();"""
