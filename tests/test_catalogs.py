"""Foundation: catalogs load, validate, and reject bad rows with file, row and column named."""
from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import pytest

from costlib import hardware, models, prices
from costlib.catalog import DATA_DIR, Column, Schema, load_csv
from costlib.errors import CatalogError, InputError, UnknownIdError
from costlib.hardware import HARDWARE_SCHEMA
from costlib.models import MODEL_SCHEMA

REQUIRED_GPUS = ["t4", "l4", "a10", "l40s", "a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "mi300x", "tpu-v5e",
                 # the 2025-2026 market (issue 15)
                 "h100-nvl", "h200-nvl", "gh200", "b300", "mi325x", "mi355x", "l40", "a10g", "rtx-3090", "rtx-5090",
                 "rtx-6000-ada", "rtx-pro-6000", "v100", "gaudi3", "tpu-v5p", "tpu-v6e", "h800", "m2-ultra", "m3-max", "m4-max"]


def test_required_devices_present_with_a_cpu_and_apple_silicon():
    table = hardware.devices()
    for gpu in REQUIRED_GPUS:
        assert gpu in table
    kinds = {d.kind for d in table.values()}
    assert "cpu" in kinds and "soc" in kinds
    assert any(d.vendor == "Apple" for d in table.values())


@pytest.mark.parametrize("name", ["hardware.csv", "models.csv", "prices.csv", "api_prices.csv"])
def test_every_row_has_source_and_past_as_of(name):
    schema = {"hardware.csv": HARDWARE_SCHEMA, "models.csv": MODEL_SCHEMA, "prices.csv": prices.PRICE_SCHEMA, "api_prices.csv": prices.API_SCHEMA}[name]
    rows = load_csv(name, schema)
    for row in rows:
        assert row["source"].startswith("http") or row["source"].isidentifier(), row["source"]
        assert isinstance(row["as_of"], dt.date) and row["as_of"] <= dt.date.today()


def test_a100_datasheet_values():
    a100 = hardware.get_device("a100-80gb")
    # NVIDIA A100 datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s, 80 GB.
    assert a100.peak_flops("bf16") == pytest.approx(312e12)
    assert a100.bandwidth_bytes_s == pytest.approx(2039e9)
    assert a100.ridge_flops_per_byte("bf16") == pytest.approx(312e12 / 2039e9)  # ~153 FLOP/byte


def test_device_memory_is_binary_as_vendors_mean_it():
    a100 = hardware.get_device("a100-80gb")
    # "80 GB" of HBM2e = 80 GiB = 85,899,345,920 bytes; memory_gb is derived from the bytes (1e9)
    assert a100.memory_gib == 80
    assert a100.memory_bytes == 80 * 2**30 == 85_899_345_920
    assert a100.memory_gb == pytest.approx(85.899345920)
    # nvidia-smi shows 143,771 MiB on an H200 ("141 GB"): the catalog holds 140.4 GiB
    assert hardware.get_device("h200").memory_bytes == pytest.approx(143771 * 2**20, rel=0.001)


def test_the_issue_7b_batch60_run_fits_one_a100_80gb():
    """NVIDIA's published Llama-2-7B run (batch 60, 128 + 2048 tokens, fp16) on one A100-80GB: needs 83.7e9
    bytes, which fit in 80 GiB = 85.9e9 bytes (before the fix costlib refused it)."""
    from costlib.memory import fits, inference_memory

    need = inference_memory("llama-2-7b", "fp16", 128 + 2048, 60)
    assert 80e9 < need.total_gb * 1e9 < hardware.get_device("a100-80gb").memory_bytes
    assert fits(need, "a100-80gb")


def test_new_devices_datasheet_values():
    h = hardware.devices()
    # H100 NVL: datasheet sparse BF16 1,671 -> dense 835.5; 94 GB at 3.9 TB/s
    assert h["h100-nvl"].peak_tflops("bf16") == 835.5 and h["h100-nvl"].bandwidth_gb_s == 3900
    # MI355X: AMD prints dense FP4 10.1 PF and 288 GB HBM3e at 8 TB/s
    assert h["mi355x"].peak_tflops("fp4") == pytest.approx(10066.3) and h["mi355x"].memory_gib == 288
    # fp4 only where the device has FP4 tensor cores
    assert "fp4" in h["b200"].precisions and "fp4" in h["rtx-5090"].precisions
    assert "fp4" not in h["h100-sxm"].precisions and "fp4" not in h["mi300x"].precisions
    # H800 = H100 compute with NVLink cut to 400 GB/s
    assert h["h800"].peak_tflops("bf16") == h["h100-sxm"].peak_tflops("bf16")
    assert h["h800"].interconnect_gb_s < h["h100-sxm"].interconnect_gb_s
    for d in h.values():
        assert d.source.startswith("http") and d.as_of >= "2019-01-01"


def _hardware_with(tmp_path, device_id, column, value):
    src = (DATA_DIR / "hardware.csv").read_text().splitlines()
    header_idx = next(i for i, line in enumerate(src) if line.startswith("id,"))
    import csv as _csv
    import io as _io

    rows = list(_csv.reader(_io.StringIO("\n".join(src[header_idx:]))))
    header = rows[0]
    out = [header]
    for r in rows[1:]:
        if r and r[0] == device_id:
            r[header.index(column)] = value
            out.append(r)
    path = tmp_path / "hw.csv"
    buf = _io.StringIO()
    _csv.writer(buf, lineterminator="\n").writerows(out)
    path.write_text(buf.getvalue())
    return path


@pytest.mark.parametrize(
    "device_id, column, value, words",
    [
        ("h100-sxm", "bandwidth_gb_s", "3.35", "outside the plausible range 100 to 50000 GB/s for a gpu"),  # TB/s in GB/s
        ("epyc-9654", "bandwidth_gb_s", "460800", "for a cpu"),  # MB/s
        ("b200", "bf16_tflops", "2.25", "TFLOP/s for a gpu"),  # PFLOP/s in a TFLOP/s column
        ("a100-80gb", "memory_gib", "85899345920", "GiB for a gpu"),  # bytes
        ("h100-sxm", "tdp_w", "0.7", "W for a gpu"),  # kW
        ("m4-max", "fp32_tflops", "18400", "for a soc"),  # GFLOP/s
    ],
)
def test_hardware_magnitude_slips_are_named(tmp_path, device_id, column, value, words):
    path = _hardware_with(tmp_path, device_id, column, value)
    with pytest.raises(CatalogError) as err:
        load_csv(path, HARDWARE_SCHEMA)
    msg = str(err.value)
    assert msg.startswith(f"hw.csv, row 2, column '{column}'") and words in msg and "magnitude" in msg


def test_dense_peaks_never_above_sparse_and_ridges_positive():
    pairs = 0
    for d in hardware.devices().values():
        for p in d.precisions:
            assert d.ridge_flops_per_byte(p) == pytest.approx(d.peak_flops(p) / d.bandwidth_bytes_s)
            assert d.ridge_flops_per_byte(p) > 0
        for p, sparse in d.sparse_tflops_by_precision.items():
            assert d.peak_tflops(p) <= sparse, (d.id, p)
            pairs += 1
    assert pairs >= 2  # the catalog does list 2:4-sparse peaks for some devices, so the check runs
    # hand-worked: the H100 SXM datasheet prints 1,979 TFLOP/s BF16 "with sparsity", 989 dense (half)
    h100 = hardware.get_device("h100-sxm")
    assert h100.peak_tflops("bf16") == pytest.approx(h100.sparse_tflops_by_precision["bf16"] / 2, rel=0.01)


def test_unknown_gpu_lists_known_ids():
    with pytest.raises(UnknownIdError) as err:
        hardware.get_device("a100")
    msg = str(err.value)
    assert "gpu='a100'" in msg and "a100-80gb" in msg and "h100-sxm" in msg


def test_missing_precision_names_what_the_device_has():
    with pytest.raises(Exception, match="t4 has dense peaks for fp32, fp16, int8"):
        hardware.get_device("t4").peak_tflops("bf16")


def test_price_rows_refer_to_known_gpus_and_band_is_ordered():
    known = set(hardware.devices())
    for p in prices.gpu_prices():
        assert p.gpu_id in known and p.price_usd_per_gpu_hour > 0
    band = prices.gpu_price_band("h100-sxm")
    assert band.low <= band.mid <= band.high
    assert len(prices.api_prices()) >= 6
    assert {a.size_class for a in prices.api_prices().values()} == {"small", "large"}


def test_api_cost_with_cached_input():
    gpt4o = prices.get_api_price("gpt-4o")
    # 1M input of which 0.5M cached, 1M output: 0.5*2.50 + 0.5*1.25 + 1*10 = 11.875 $
    assert gpt4o.cost_usd(1e6, 1e6, 5e5) == pytest.approx(0.5 * gpt4o.input_usd_per_1m + 0.5 * gpt4o.cached_input_usd_per_1m + gpt4o.output_usd_per_1m)


# --- validation errors name file, row and column ---------------------------------------------

SMALL = Schema(columns=(Column("id"), Column("size_gb", "float", positive=True, unit="GB"), Column("source"), Column("as_of", "date")))


def _write(tmp_path, text):
    path = tmp_path / "mini.csv"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.parametrize(
    "body, row, column, words",
    [
        ("id,size_gb,source,as_of\nx,-1,http://a,2024-01-01\n", 2, "size_gb", "greater than 0"),
        ("id,size_gb,source,as_of\nx,abc,http://a,2024-01-01\n", 2, "size_gb", "not a valid float"),
        ("id,size_gb,source,as_of\nx,1,,2024-01-01\n", 2, "source", "empty but required"),
        ("id,size_gb,source,as_of\nx,1,http://a,2024-13-01\n", 2, "as_of", "not a valid date"),
        ("# comment\nid,size_gb,source,as_of\nx,1,http://a,2024-01-01\nx,2,http://b,2024-01-01\n", 4, "id", "duplicate id"),
        ("id,source,as_of\nx,http://a,2024-01-01\n", 1, "size_gb", "missing"),
        ("id,size_gb,source,as_of,extra\nx,1,http://a,2024-01-01,1\n", 1, "extra", "unknown column"),
        ("id,size_gb,source,as_of\nx,1,http://a,2999-01-01\n", 2, "as_of", "future"),
    ],
)
def test_bad_rows_are_named(tmp_path, body, row, column, words):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogError) as err:
        load_csv(path, SMALL)
    msg = str(err.value)
    assert msg.startswith(f"mini.csv, row {row}, column '{column}'")
    assert words in msg


def test_hardware_dense_above_sparse_is_rejected(tmp_path):
    src = (DATA_DIR / "hardware.csv").read_text().splitlines()
    header_idx = next(i for i, line in enumerate(src) if line.startswith("id,"))
    header = src[header_idx].split(",")
    row = src[header_idx + 1].split(",")  # t4
    row = next(line for line in src if line.startswith("l4,")).split(",")
    row[header.index("bf16_tflops")] = "999"
    path = tmp_path / "hw.csv"
    path.write_text("\n".join([src[header_idx], ",".join(row)]) + "\n")
    with pytest.raises(CatalogError, match=r"hw.csv, row 2, column 'bf16_tflops'.*exceeds sparse"):
        load_csv(path, HARDWARE_SCHEMA)


# --- GPU price bands: kinds, recency window, de-duplication ---------------------------------------------


def test_gpu_band_uses_recent_deduplicated_on_demand_offers_only():
    rows = prices.prices_for("h100-sxm")
    since = prices._months_before(prices.catalog_date(), 12)
    assert rows and all(p.offer == "on-demand" and p.as_of >= since for p in rows)
    keys = [(p.provider, p.offer, p.region) for p in rows]
    assert len(keys) == len(set(keys))  # one offer per provider/offer/region
    ids = {p.id for p in rows}
    # the 2024 CoreWeave snapshot, the GCP flex-start shape and community-cloud rows stay out
    assert "coreweave-h100-sxm-2024" not in ids and "gcp-a3-h100-sxm" not in ids and "runpod-h100-sxm-community" not in ids
    band = prices.gpu_price_band("h100-sxm")
    vals = sorted(p.price_usd_per_gpu_hour for p in rows)
    assert (band.low, band.high) == (vals[0], vals[-1]) and band.mid == pytest.approx(float(np.median(vals)))
    assert band.high < 10  # the $10.98 flex shape no longer sets the high end


def test_gpu_band_kinds_and_window_parameter():
    spot = {p.id for p in prices.prices_for("h100-sxm", "spot")}
    assert "runpod-h100-sxm-community" in spot and "gcp-a3-h100-sxm-spot" in spot
    # the old tuple call style still works
    assert prices.gpu_price_band("h100-sxm", ("on-demand",)) == prices.gpu_price_band("h100-sxm")
    # a wider window lets the 2024 rows back in, but a provider's newer offer still replaces its older one
    assert "lambda-h200-2024" in {p.id for p in prices.prices_for("h200", window_months=36)}
    assert "lambda-h200-2024" not in {p.id for p in prices.prices_for("h200")}
    wide = {p.id for p in prices.prices_for("h100-sxm", window_months=36)}
    assert "coreweave-h100-sxm" in wide and "coreweave-h100-sxm-2024" not in wide
    # same provider, same day, two rows (modal-t4 and modal-t4-2026-05): one offer
    assert [p.provider for p in prices.prices_for("t4")].count("Modal") == 1
    with pytest.raises(InputError, match="kind='weekly'.*on-demand"):
        prices.gpu_price_band("h100-sxm", "weekly")
    with pytest.raises(InputError, match="window_months"):
        prices.prices_for("h100-sxm", window_months=-3)
    with pytest.raises(InputError, match="reserved-1y"):
        prices.gpu_price_band("h100-sxm", "reserved-1y")


def test_price_in_cents_is_a_named_magnitude_slip(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,gpu_id,provider,offer,price_usd_per_gpu_hour,region,source,as_of,notes\n"
                    "x,h100-sxm,Lambda,on-demand,299,,https://lambda.ai/pricing,2026-09-25,\n")
    with pytest.raises(CatalogError, match=r"p.csv, row 2, column 'price_usd_per_gpu_hour'.*299 is outside.*magnitude"):
        load_csv(path, prices.PRICE_SCHEMA)


# --- hosted-API prices from genai-prices ------------------------------------------------------------------


def test_api_tiers_hold_current_offers_of_every_provider():
    tiers = prices.api_tiers()
    assert set(tiers) == {"small", "mid", "large"}
    table = prices.api_prices()
    for ids in tiers.values():
        assert ids and all(table[i].is_current for i in ids)
    providers = {table[i].provider for ids in tiers.values() for i in ids}
    assert {"OpenAI", "Anthropic", "Google", "DeepSeek", "Mistral", "Groq", "Together AI", "Fireworks"} <= providers
    # sorted cheapest first by 3:1 blended price
    small = [table[i].blended_usd_per_1m for i in tiers["small"]]
    assert small == sorted(small)


def test_package_prices_carry_version_and_date():
    luna = prices.get_api_price("openai-gpt-6-luna")
    assert luna.package == f"genai-prices {prices.GENAI_PRICES_PIN}" == f"genai-prices {prices.genai_prices_version()}"
    assert (luna.input_usd_per_1m, luna.output_usd_per_1m) == (0.1, 0.5)
    # a dated price change in the package becomes the row's as_of: Mistral Large 4 list price from 2026-10-29
    large = prices.get_api_price("mistral-large-4")
    assert large.price_since == large.as_of == "2026-10-29" and large.input_usd_per_1m == 0.7
    # DeepSeek's peak-hour rate, not the off-peak half
    assert prices.get_api_price("deepseek-v4-pro").input_usd_per_1m == 1.32


def test_no_current_offer_is_retired_in_the_package():
    models = prices._genai_models()
    raw = load_csv("api_prices.csv", prices.API_SCHEMA)
    for r in raw:
        if r["genai_provider"] and r["status"] == "current":
            assert prices.package_retirement(models[(r["genai_provider"], r["genai_model"])]) is None, r["id"]


def test_old_ids_keep_working_and_current_mode_names_the_successor():
    old = prices.get_api_price("claude-3.5-sonnet")
    assert old.status == "retired" and old.successor == "anthropic-claude-sonnet-5.5" and old.input_usd_per_1m == 3.0
    assert prices.get_api_price("gpt-4o").status == "superseded"
    with pytest.raises(prices.RetiredOfferError, match="claude-3.5-sonnet.*retired.*anthropic-claude-sonnet-5.5"):
        prices.get_api_price("claude-3.5-sonnet", current=True)
    assert prices.get_api_price("openai-gpt-6-luna", current=True).is_current
    assert not any(not p.is_current for p in prices.current_api_prices().values())


def test_tier_history_and_open_model_bands():
    hist = prices.tier_price_history("small")
    assert list(hist["date"]) == sorted(hist["date"]) and len(hist) >= 5
    assert {"retired", "superseded", "current"} <= set(hist["status"])
    band = prices.open_model_api_band("gpt-oss-120b")
    # Groq, Fireworks and Together all list 0.15 in / 0.60 out: blended 0.75 x 0.15 + 0.25 x 0.60 = 0.2625
    assert band.mid == pytest.approx(0.2625)
    with pytest.raises(InputError, match="open model"):
        prices.open_model_api_band("llama-7b")


# --- data freshness (a report; these tests check the arithmetic, never the age) --------------------------


def test_freshness_report_counts_by_hand(tmp_path):
    from costlib import freshness

    age = freshness.catalog_age("prices.csv", as_of="2026-12-01")
    rows = load_csv("prices.csv", prices.PRICE_SCHEMA)
    dates = sorted(r["as_of"].isoformat() for r in rows)
    assert (age.rows, age.oldest, age.newest) == (len(rows), dates[0], dates[-1])
    assert age.median == dates[(len(dates) - 1) // 2]
    cutoff = (dt.date(2026, 12, 1) - dt.timedelta(days=365)).isoformat()
    assert age.stale_rows == sum(d < cutoff for d in dates)
    # one stated age for all, and a catalog without a stated age lists nothing
    assert freshness.catalog_age("prices.csv", as_of="2030-01-01", stale_after_days=30).stale_rows == len(rows)
    assert freshness.catalog_age("published_runs.csv").stale_rows is None
    table = freshness.freshness_table()
    assert {"hardware.csv", "models.csv", "prices.csv", "api_prices.csv"} <= set(table["catalog"])
    text = freshness.report(as_of="2026-12-01")
    assert "prices.csv" in text and "coreweave-h100-sxm-2024" in text
    with pytest.raises(InputError, match="catalog"):
        freshness.catalog_age("nope.csv")


def test_model_row_in_billions_instead_of_a_count_is_named(tmp_path):
    src = (DATA_DIR / "models.csv").read_text().splitlines()
    header_idx = next(i for i, line in enumerate(src) if line.startswith("id,"))
    row = next(line for line in src if line.startswith("qwen3-8b,"))
    path = tmp_path / "m.csv"
    path.write_text("\n".join([src[header_idx], row.replace(",8.2e+09,", ",8.2,")]) + "\n")
    with pytest.raises(CatalogError, match=r"m.csv, row 2, column 'published_params'.*8.2 is outside"):
        load_csv(path, MODEL_SCHEMA)


def test_loading_api_prices_never_touches_the_network(monkeypatch):
    """genai-prices' bundled table is read; UpdatePrices (which would fetch) is never started."""
    import socket

    def refuse(*a, **k):
        raise AssertionError("network access while loading prices")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    prices.api_prices.cache_clear()
    prices._genai_models.cache_clear()
    assert prices.api_tiers()["small"]


# --- committed offers, provider-page rows, duplicates ------------------------------------------------------


def test_committed_kind_spans_every_reserved_offer():
    assert prices.PRICE_KINDS["committed"] == ("reserved-1y", "reserved-3y", "reserved")
    rows = prices.prices_for("h100-sxm", "committed")
    assert {p.id for p in rows} == {"hyperstack-h100-sxm-reserved"}
    b = prices.gpu_price_band("h100-sxm", "committed")
    assert (b.low, b.mid, b.high) == (2.72, 2.72, 2.72)
    # a committed price sits below the same provider's on-demand price
    for p in prices.gpu_prices():
        if p.offer in prices.PRICE_KINDS["committed"]:
            same = [q for q in prices.gpu_prices() if q.provider == p.provider and q.gpu_id == p.gpu_id and q.offer == "on-demand"]
            assert same and all(p.price_usd_per_gpu_hour < q.price_usd_per_gpu_hour for q in same), p.id
    with pytest.raises(InputError, match="committed"):
        prices.gpu_price_band("gh200", "committed")


def test_instance_prices_are_per_gpu():
    # CoreWeave lists 8-GPU instances: HGX H100 $49.24/h, spot $19.71/h (coreweave.com/pricing, 2026-09-20)
    assert prices.prices_for("h100-sxm", "spot")  # spot rows exist
    by_id = {p.id: p for p in prices.gpu_prices()}
    assert by_id["coreweave-h100-sxm"].price_usd_per_gpu_hour == pytest.approx(49.24 / 8)
    assert by_id["coreweave-h100-sxm-spot"].price_usd_per_gpu_hour == pytest.approx(19.71 / 8)
    assert by_id["coreweave-b200"].price_usd_per_gpu_hour == pytest.approx(68.80 / 8)


def test_new_devices_have_recent_prices():
    for gpu in ("h100-nvl", "gh200", "l40"):
        band = prices.gpu_price_band(gpu)
        assert 0 < band.low <= band.mid <= band.high < 10


def test_shipped_prices_have_no_duplicate_offer():
    keys = [(p.gpu_id, p.provider, p.offer, p.region, p.as_of, p.price_usd_per_gpu_hour) for p in prices.gpu_prices()]
    assert len(keys) == len(set(keys))


def test_a_repeated_offer_under_a_new_id_fails_with_file_row_column(tmp_path):
    head = "id,gpu_id,provider,offer,price_usd_per_gpu_hour,region,source,as_of,notes\n"
    row = "{},h100-sxm,Lambda,on-demand,2.99,,https://lambda.ai/pricing,2026-09-25,\n"
    path = tmp_path / "p.csv"
    path.write_text(head + row.format("a") + row.format("b"))
    rows = load_csv(path, prices.PRICE_SCHEMA)
    with pytest.raises(CatalogError, match=r"p.csv, row 3, column 'id'.*'b' repeats the offer of 'a'"):
        prices.duplicate_offer_problem(rows, "p.csv")
    # another size of the same instance on the same day, at its own price, is a different offer
    path.write_text(head + row.format("a") + row.format("b").replace("2.99", "3.29"))
    prices.duplicate_offer_problem(load_csv(path, prices.PRICE_SCHEMA), "p.csv")
