"""Hostile and broken files: scenario YAML attacks, bad config.json files, corrupted catalogs.

Each must end in one line that names the file (and line, row or key) and what is allowed: never a traceback,
a hang, a memory blow-up or a silently wrong number.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import costlib.catalog as catalog
from costlib import enterprise as ent
from costlib import models
from costlib.cli import main
from costlib.errors import CatalogError, CostlibError, InputError

CONFIGS = Path(__file__).parent / "data" / "configs"
SCENARIO = (ent.SCENARIO_DIR / "seed000_single_l4.yaml").read_text(encoding="utf-8")


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text, text
    return text


# --------------------------------------------------------------------------------------------------------------
# scenario YAML

BILLION_LAUGHS = "\n".join(
    [f'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
) + "\n"

YAML_ATTACKS = {
    "billion laughs (9 levels of aliases)": (BILLION_LAUGHS, "anchor"),
    "self-referencing alias": ("name: x\nworkload: &w\n  users: 1\n  me: *w\noptions: []\n", "anchor"),
    "alias without anchor": ("name: *nowhere\n", "yaml"),
    "merge key": ("base: &b {users: 1}\nworkload:\n  <<: *b\n", "anchor"),
    "python object tag": ("name: !!python/object/apply:os.system ['echo hi']\n", "tag"),
    "python name tag": ("name: !!python/name:os.system\n", "tag"),
    "custom tag": ("name: !include other.yaml\n", "tag"),
    "set tag": ("name: !!set {a, b}\n", "tag"),
    "binary tag": ("name: !!binary aGVsbG8=\n", "tag"),
    "tagged key": ("? !!python/tuple [a, b]\n: 1\n", "key"),
    "deep nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nesting"),
    "deep mapping nesting": ("".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n", "nesting"),
    "control character": ("name: x\x01\n", "character"),
    "bad indentation": ("name: x\n  workload: 1\n workload: 2\n", "yaml"),
    "unclosed bracket": ("name: [x\n", "yaml"),
    "tab indentation": ("name: x\nworkload:\n\tusers: 1\n", "yaml"),
    "duplicate key": (SCENARIO + "name: again\n", "duplicate"),
    "top-level list": ("- a\n- b\n", "mapping"),
    "top-level scalar": ("just text\n", "mapping"),
    "only comments": ("# nothing\n# here\n", "empty"),
    "empty": ("", "empty"),
    "bad date": ("name: x\nas_of: 2024-13-45\n", "as_of"),
    "huge integer": (SCENARIO.replace("users: ", "users: 1" + "0" * 400 + " #", 1), "finite"),
    "float overflow": (SCENARIO.replace("users: ", "users: 1e400 #", 1), "number"),
    "float overflow with a dot": (SCENARIO.replace("users: ", "users: 1.0e+400 #", 1), "finite"),
    "30,000 values": ("name: x\nbig: [" + "1, " * 30000 + "1]\n", "values"),
    "2,000 options": ("name: x\noptions:\n" + "  - {kind: api, name: a, api: gpt-4o-mini}\n" * 2000, "options"),
    "2,000 task types": (
        "name: big\nworkload:\n  users: 10\n  latency_budget_s: 5\n  tasks:\n"
        + "".join(f"    t{i}: {{requests_per_user_per_day: 1, prompt_tokens: 100, output_tokens: 10}}\n" for i in range(2000))
        + "options:\n  - {kind: api, name: a, api: gpt-4o-mini}\n",
        "task types",
    ),
}


@pytest.mark.parametrize("text, needle", list(YAML_ATTACKS.values()), ids=list(YAML_ATTACKS))
def test_yaml_attack_is_one_line_and_fast(tmp_path, text, needle):
    path = tmp_path / "attack.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        ent.load_scenario(path)
    message = one_line(info.value)
    assert message.startswith("attack.yaml"), message
    assert needle in message.lower(), message


def test_billion_laughs_refused_by_the_cli_in_under_a_second(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(InputError) as info:
        ent.load_scenario(path)
    assert "line 1" in one_line(info.value)
    proc = subprocess.run([sys.executable, "-m", "costlib", "enterprise", str(path), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "anchor" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("raw, line", [
    (b"name: caf\xe9\n", 1),  # latin-1
    (SCENARIO.encode() + b"# \xff\xfe trailing\n", SCENARIO.count("\n") + 1),
    ("name: x\n".encode("utf-16"), 1),
    (b"name: x\n\x00\n", None),
])
def test_bad_encoding_names_file_and_line(tmp_path, raw, line):
    path = tmp_path / "enc.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        ent.load_scenario(path)
    message = one_line(info.value)
    assert message.startswith("enc.yaml")
    if line is not None:
        assert f"line {line}:" in message, message


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SCENARIO.encode())
    assert ent.load_scenario(path).name == ent.load_scenario("seed000_single_l4").name


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text(SCENARIO + "#" + "x" * (ent.MAX_SCENARIO_BYTES + 10) + "\n", encoding="utf-8")

    def parser_called(*a, **k):
        raise AssertionError("the YAML parser ran on a file over the size cap")

    monkeypatch.setattr(ent, "_compose", parser_called)
    with pytest.raises(InputError, match="at most") as info:
        ent.load_scenario(path)
    one_line(info.value)


@pytest.mark.parametrize("path", ["", "   ", "no_such_scenario", "/", "a\x00b", "x" * 5000, "/dev/null"])
def test_bad_scenario_paths(path):
    with pytest.raises(InputError) as info:
        ent.load_scenario(path)
    assert "scenario" in one_line(info.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        ent.load_scenario(tmp_path)


def test_fp32_and_a_model_that_does_not_fit_say_so(tmp_path):
    text = (ent.SCENARIO_DIR / "sdlc_assistant.yaml").read_text()
    fp32 = tmp_path / "fp32.yaml"
    fp32.write_text(text.replace("precision: int4", "precision: fp32", 1))
    with pytest.raises(InputError, match=r"precision='fp32' is not allowed: a serving precision"):
        ent.load_scenario(fp32)
    big = tmp_path / "big.yaml"
    big.write_text(text.replace("model: qwen2.5-7b", "model: llama-3.1-70b", 1).replace("precision: int4", "precision: bf16", 1))
    with pytest.raises(InputError, match=r"gpus_per_replica=\d+ .*does-not-fit") as info:
        ent.load_scenario(big)
    assert "latency" not in str(info.value)


def test_zero_requests_give_null_with_reason_not_nan(tmp_path):
    text = SCENARIO
    import re

    zero = re.sub(r"requests_per_user_per_day: [^\n]+", "requests_per_user_per_day: 0", text)
    path = tmp_path / "zero.yaml"
    path.write_text(zero)
    from costlib.cli.enterprise import payload

    from costlib.cli import dumps

    out = json.loads(dumps(payload(str(path), 100)), parse_constant=lambda c: pytest.fail(c))
    for o in out["options"].values():
        if o["usd_per_request"] is None:
            assert "no requests" in o["null_reasons"]["usd_per_request"]


def test_shipped_default_scenario_json_is_strict(capsys):
    assert main(["enterprise", "sdlc_assistant", "--samples", "200", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict constant {c}"))
    never = [b for b in data["break_even_volume"] if b["volume_multiple"] is None]
    assert never and all(b["reason"].startswith("never reached") for b in never)


# --------------------------------------------------------------------------------------------------------------
# config.json

LLAMA = json.loads((CONFIGS / "llama-3.1-8b" / "config.json").read_text())
MIXTRAL = json.loads((CONFIGS / "mixtral-8x7b" / "config.json").read_text())
MLA = {"model_type": "deepseek_v3", "hidden_size": 7168, "num_attention_heads": 128, "num_key_value_heads": 128,
       "num_hidden_layers": 61, "intermediate_size": 18432, "vocab_size": 129280, "n_routed_experts": 256,
       "num_experts_per_tok": 8, "n_shared_experts": 1, "moe_intermediate_size": 2048, "first_k_dense_replace": 3,
       "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "v_head_dim": 128, "qk_nope_head_dim": 128,
       "max_position_embeddings": 163840}


def _set(base: dict, **changes) -> dict:
    out = dict(base)
    for k, v in changes.items():
        if v is _DROP:
            out.pop(k, None)
        else:
            out[k] = v
    return out


_DROP = object()

BAD_CONFIGS = [
    # (config, key the message must name)
    (_set(LLAMA, num_hidden_layers=0), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers=-32), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers=32.5), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers="32"), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers=True), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers=None), "num_hidden_layers"),
    (_set(LLAMA, num_hidden_layers=_DROP), "num_hidden_layers"),
    (_set(LLAMA, hidden_size=0), "hidden_size"),
    (_set(LLAMA, hidden_size=-4096), "hidden_size"),
    (_set(LLAMA, hidden_size=[4096]), "hidden_size"),
    (_set(LLAMA, hidden_size=_DROP), "hidden_size"),
    (_set(LLAMA, num_attention_heads=0), "num_attention_heads"),
    (_set(LLAMA, num_attention_heads=-1), "num_attention_heads"),
    (_set(LLAMA, num_attention_heads=30), "num_key_value_heads"),  # 8 does not divide 30
    (_set(LLAMA, num_attention_heads=_DROP), "num_attention_heads"),
    (_set(LLAMA, num_key_value_heads=0), "num_key_value_heads"),
    (_set(LLAMA, num_key_value_heads=-8), "num_key_value_heads"),
    (_set(LLAMA, num_key_value_heads=5), "num_key_value_heads"),
    (_set(LLAMA, num_key_value_heads=64), "num_key_value_heads"),
    (_set(LLAMA, intermediate_size=0), "intermediate_size"),
    (_set(LLAMA, intermediate_size=-1), "intermediate_size"),
    (_set(LLAMA, intermediate_size=_DROP), "intermediate_size"),
    (_set(LLAMA, vocab_size=0), "vocab_size"),
    (_set(LLAMA, vocab_size=1.5e5 + 0.5), "vocab_size"),
    (_set(LLAMA, vocab_size=_DROP), "vocab_size"),
    (_set(LLAMA, head_dim=0), "head_dim"),
    (_set(LLAMA, head_dim=-128), "head_dim"),
    (_set(LLAMA, hidden_size=4100), "num_attention_heads"),  # 32 heads do not divide 4100, no head_dim
    (_set(LLAMA, max_position_embeddings=0), "max_position_embeddings"),
    (_set(LLAMA, max_position_embeddings=-1), "max_position_embeddings"),
    (_set(LLAMA, hidden_act="swishy"), "hidden_act"),
    (_set(LLAMA, hidden_act=5), "hidden_act"),
    (_set(LLAMA, tie_word_embeddings="yes"), "tie_word_embeddings"),
    (_set(LLAMA, attention_bias=1), "attention_bias"),
    (_set(LLAMA, model_type=7), "model_type"),
    (_set(LLAMA, sliding_window=-4096), "sliding_window"),
    (_set(LLAMA, sliding_window=0), "sliding_window"),
    (_set(LLAMA, sliding_window=4096.5), "sliding_window"),
    (_set(LLAMA, use_sliding_window="true"), "use_sliding_window"),
    (_set(MIXTRAL, num_experts_per_tok=9), "num_experts_per_tok"),
    (_set(MIXTRAL, num_experts_per_tok=0), "num_experts_per_tok"),
    (_set(MIXTRAL, num_local_experts=0), "num_local_experts"),
    (_set(MIXTRAL, num_local_experts=-8), "num_local_experts"),
    (_set(LLAMA, num_experts_per_tok=2), "num_experts_per_tok"),  # 2 per token of 1 expert
    (_set(MLA, moe_intermediate_size=-2048), "moe_intermediate_size"),
    (_set(MLA, n_shared_experts=-1), "n_shared_experts"),
    (_set(MLA, first_k_dense_replace=62), "first_k_dense_replace"),
    (_set(MLA, first_k_dense_replace=-1), "first_k_dense_replace"),
    (_set(MLA, kv_lora_rank=-512), "kv_lora_rank"),
    (_set(MLA, qk_rope_head_dim=_DROP), "qk_rope_head_dim"),
    (_set(MLA, qk_rope_head_dim=0), "qk_rope_head_dim"),
    (_set(MLA, v_head_dim=-1), "v_head_dim"),
    (_set(MLA, q_lora_rank=0), "q_lora_rank"),
    (_set(MLA, n_routed_experts=4), "num_experts_per_tok"),  # 8 per token of 4
    (_set(LLAMA, _name_or_path=5), "_name_or_path"),
]

BAD_FILES = [
    # (raw bytes, word the message must contain)
    (b"", "json"),
    (b"{", "json"),
    (b"[1, 2, 3]", "object"),
    (b'"llama"', "object"),
    (b"null", "object"),
    (b'{"hidden_size": NaN}', "nan"),
    (b'{"hidden_size": Infinity}', "infinity"),
    (b'{"hidden_size": 4096,}', "json"),
    (b"\xff\xfe{}", "utf-8"),
    (("[" * 100000 + "]" * 100000).encode(), "json"),
    (b"{" + b'"a": 1, ' * 200000 + b'"b": 2}', "at most"),
]


@pytest.mark.parametrize("cfg, key", BAD_CONFIGS, ids=[f"{k}-{i}" for i, (_, k) in enumerate(BAD_CONFIGS)])
def test_bad_config_names_the_key(tmp_path, cfg, key):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError) as info:
        models.from_hf_config(path)
    message = one_line(info.value)
    assert key in message, message
    assert "is not allowed:" in message


@pytest.mark.parametrize("raw, word", BAD_FILES, ids=[f"file-{i}" for i in range(len(BAD_FILES))])
def test_bad_config_file_is_one_line(tmp_path, raw, word):
    path = tmp_path / "config.json"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        models.from_hf_config(path)
    message = one_line(info.value)
    assert message.startswith("config=") and word in message.lower(), message


def test_config_directory_and_missing(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(LLAMA))
    with pytest.raises(InputError, match="did you mean"):
        models.from_hf_config(tmp_path / "m")
    with pytest.raises(InputError, match="existing config.json"):
        models.from_hf_config(tmp_path / "nope.json")
    with pytest.raises(InputError, match="config="):
        models.from_hf_config("")


def test_bad_config_count():
    assert len(BAD_CONFIGS) + len(BAD_FILES) + 3 >= 53


@pytest.mark.parametrize("model_id", ["llama-3.1-8b", "qwen2.5-0.5b", "mixtral-8x7b", "gemma-2-2b"])
def test_published_config_equals_the_catalog_model(model_id):
    spec = models.from_hf_config(CONFIGS / model_id / "config.json")
    ref = models.get_model(model_id)
    for field in ("layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim", "ffn_kind", "vocab",
                  "tied_embeddings", "bias", "attention", "experts_total", "experts_active", "max_context",
                  "sliding_window", "sliding_layers"):
        assert getattr(spec, field) == getattr(ref, field), field
    assert spec.total_params == ref.total_params and spec.active_params == ref.active_params


def test_deepseek_style_config_is_read():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "config.json"
        path.write_text(json.dumps(MLA))
        spec = models.from_hf_config(path)
    ref = models.get_model("deepseek-v3")
    assert spec.total_params == ref.total_params and spec.active_params == ref.active_params


# --------------------------------------------------------------------------------------------------------------
# catalog corruptions: a bad row breaks only what uses it, and says file, row and column

def _clear_caches():
    for name, module in list(sys.modules.items()):
        if name == "costlib" or name.startswith("costlib."):
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", "").startswith("costlib"):
                    obj.cache_clear()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    target = tmp_path / "data"
    shutil.copytree(catalog.DATA_DIR, target)
    monkeypatch.setattr(catalog, "DATA_DIR", target)
    _clear_caches()
    yield target
    _clear_caches()


def _corrupt(path: Path, model_id: str, column: str, value: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header_i = next(i for i, line in enumerate(lines) if not line.startswith("#") and line.strip())
    header = lines[header_i].rstrip("\n").split(",")
    col = header.index(column)
    for i, line in enumerate(lines):
        if line.startswith(model_id + ","):
            import csv
            import io

            row = next(csv.reader([line]))
            row[col] = value
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(row)
            lines[i] = buf.getvalue()
            path.write_text("".join(lines), encoding="utf-8")
            return i + 1
    raise AssertionError(model_id)


MODEL_CORRUPTIONS = [
    ("layers", "-32", "greater than 0"),
    ("layers", "thirty-two", "not a valid int"),
    ("layers", "", "empty"),
    ("heads", "0", "greater than 0"),
    ("kv_heads", "7", "kv_heads"),
    ("ffn_kind", "swish", "not one of"),
    ("as_of", "2099-01-01", "future"),
    ("as_of", "yesterday", "not a valid date"),
    ("vocab", "1e5", "not a valid int"),
    ("experts_active", "4", "experts_active"),
    ("tied_embeddings", "maybe", "not a valid bool"),
]


@pytest.mark.parametrize("column, value, words", MODEL_CORRUPTIONS, ids=[f"{c}={v}" for c, v, _ in MODEL_CORRUPTIONS])
def test_bad_models_row_breaks_only_what_uses_it(data_copy, capsys, column, value, words):
    row = _corrupt(data_copy / "models.csv", "llama-3.1-8b", column, value)
    assert main(["gpus", "--json"]) == 0  # the hardware catalog does not use models.csv
    capsys.readouterr()
    code = main(["infer", "--model", "qwen2.5-0.5b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "1",
                 "--prompt-tokens", "10", "--output-tokens", "10"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"models.csv, row {row}" in err and words in err, err
    expected_col = "kv_heads" if column == "kv_heads" else "experts_active" if column == "experts_active" else column
    assert f"'{expected_col}'" in err, err


def test_bad_hardware_row_names_file_row_column(data_copy, capsys):
    row = _corrupt(data_copy / "hardware.csv", "h100-sxm", "bandwidth_gb_s", "-3350")
    assert main(["models", "--json"]) == 0
    capsys.readouterr()
    assert main(["gpus"]) == 2
    err = capsys.readouterr().err
    assert f"hardware.csv, row {row}, column 'bandwidth_gb_s'" in err and err.count("\n") == 1


def test_importing_costlib_reads_no_catalog(tmp_path):
    """A broken catalog must not break the import of any module (catalogs load on first use)."""
    code = (
        "import costlib.catalog as c\n"
        "def boom(*a, **k):\n    raise SystemExit('catalog read at import: ' + str(a[0]))\n"
        "c.load_csv = boom\n"
        "import importlib, pkgutil, costlib\n"
        "skip = {'costlib.__main__'}\n"
        "for m in pkgutil.walk_packages(costlib.__path__, 'costlib.'):\n"
        "    if m.name not in skip and '.book' not in m.name and '.present' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        "from costlib.cli import build_parser\nbuild_parser(['gpus'])\nprint('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_one_shot_cli_imports_only_its_subcommand():
    code = ("import sys\nfrom costlib.cli import build_parser\nbuild_parser(['gpus'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('costlib.cli.')))\n"
            "print('costlib.training' in sys.modules, 'costlib.audit' in sys.modules, 'numpy' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    mods, flags = proc.stdout.strip().splitlines()
    assert mods == "['costlib.cli.catalog']"
    assert flags.startswith("False False")


INFER = ["infer", "--model", "qwen2.5-0.5b", "--gpu", "h100-sxm", "--precision", "bf16", "--batch", "1",
         "--prompt-tokens", "10", "--output-tokens", "10"]
OTHER_CORRUPTIONS = [
    # (file, row id, column, bad value, a command that does not read the file, a command that does)
    ("prices.csv", "modal-t4", "price_usd_per_gpu_hour", "-0.59", ["models"], INFER),
    ("prices.csv", "modal-t4", "as_of", "2026-02-30", ["gpus"], INFER),
    ("api_prices.csv", "gpt-4o", "output_usd_per_1m", "ten", ["gpus"], ["enterprise", "seed000_single_l4"]),
    ("inference_benchmarks.csv", "trtllm-h100-7b-bs768-128-128", "value", "-19694", ["memory", "--model", "llama-3.1-8b",
                                                                                    "--precision", "bf16"], INFER),
    ("inference_benchmarks.csv", "trtllm-h100-7b-bs768-128-128", "batch", "many", ["gpus"], INFER),
    ("published_runs.csv", "llama2-7b", "gpu_hours", "-1", ["infer", *INFER[1:]], ["train", "--model", "llama-3.1-8b",
                                                                                   "--tokens", "1T", "--gpu", "h100-sxm"]),
    ("seed_claims.csv", "s0-slm-definition", "as_of", "soon", ["gpus"], ["audit", "--claim", "s0-slm-definition"]),
    ("hardware.csv", "h100-sxm", "memory_gb" if "memory_gb" in (catalog.DATA_DIR / "hardware.csv").read_text() else "memory_gib",
     "0", ["models"], ["gpus"]),
]


@pytest.mark.parametrize("file, row_id, column, value, unaffected, affected", OTHER_CORRUPTIONS,
                         ids=[f"{f}:{c}={v}" for f, _, c, v, _, _ in OTHER_CORRUPTIONS])
def test_bad_row_in_other_catalogs(data_copy, capsys, file, row_id, column, value, unaffected, affected):
    row = _corrupt(data_copy / file, row_id, column, value)
    assert main([*unaffected, "--json"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(affected) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert f"{file}, row {row}, column '{column}'" in err, err


def test_done_when_enterprise_default_json_parses_strictly():
    """The issue's check, as a user runs it: the shipped default scenario's JSON has no NaN or Infinity."""
    proc = subprocess.run([sys.executable, "-m", "costlib", "enterprise", "sdlc_assistant", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
