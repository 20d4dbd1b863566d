"""Transformer architectures and their parameter counts.

Parameter counts are computed from the architecture, not copied: embeddings (vocab x d_model,
twice when input and output embeddings are untied), attention projections (grouped-query
attention shrinks K and V to ``kv_heads``; DeepSeek's multi-head latent attention (MLA) uses
low-rank Q and KV projections, DeepSeek-V2 report section 2.1), the MLP (gated SwiGLU/GeGLU
MLPs have three d_model x ffn matrices, Shazeer 2020; plain GeLU/ReLU MLPs two), norms, and
mixture-of-experts layers (Fedus et al. 2022), where the *active* count keeps only the experts
a token is routed to. Tests check each catalog model against its maker's published count.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .catalog import AS_OF, NOTES, SOURCE, Column, Schema, load_csv, read_bounded_text
from .errors import InputError, UnknownIdError

GATED = ("swiglu", "geglu")
WINDOW_KINDS = ("sliding", "chunked")
"""How a windowed layer limits attention: ``sliding`` (each token sees the last ``sliding_window`` tokens:
Mistral, Gemma 2/3, gpt-oss) or ``chunked`` (tokens see only their own ``sliding_window``-token chunk:
Llama 4's local layers, ``attention_chunk_size``). Either way a layer caches at most ``sliding_window`` tokens."""
WEIGHT_FORMATS = ("bf16", "mxfp4-experts")
"""Format of the released checkpoint: ``bf16`` everywhere, or ``mxfp4-experts`` (gpt-oss: routed-expert
weights in OCP MXFP4, 4-bit E2M1 values with one 8-bit E8M0 scale per 32, the rest bf16; OpenAI gpt-oss model
card, 2025-08-05, section 2)."""
MXFP4_BITS_PER_WEIGHT = 4 + 8 / 32
"""OCP Microscaling spec v1.0 (2023-09), MXFP4: 32 E2M1 elements share one E8M0 scale = 4.25 bits."""


def _arch_checks(row: dict) -> str | None:
    if row["heads"] % row["kv_heads"]:
        return f"kv_heads: {row['kv_heads']} does not divide heads {row['heads']}"
    if row["experts_active"] > row["experts_total"]:
        return f"experts_active: {row['experts_active']} exceeds experts_total {row['experts_total']}"
    if row["experts_total"] > 1 and row["moe_ffn_dim"] is None:
        return "moe_ffn_dim: required for a mixture-of-experts model"
    if row["attention"] == "mla" and (row["kv_lora_rank"] is None or row["qk_rope_head_dim"] is None):
        return "kv_lora_rank: MLA needs kv_lora_rank, qk_rope_head_dim and v_head_dim"
    if row["sliding_layers"] is not None and not 0 < row["sliding_layers"] <= 1:
        return f"sliding_layers: {row['sliding_layers']} is not a share in (0, 1]"
    if row["sliding_layers"] is not None and row["sliding_window"] is None:
        return "sliding_window: sliding_layers is set but sliding_window is empty"
    if row["window_kind"] is not None and row["sliding_window"] is None:
        return "window_kind: set but sliding_window is empty"
    if row["weight_format"] == "mxfp4-experts" and row["experts_total"] <= 1:
        return "weight_format: mxfp4-experts needs a mixture-of-experts model"
    return None


MODEL_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("name"),
        Column("family"),
        Column("layers", "int", positive=True, magnitude=(1, 1000)),
        Column("d_model", "int", positive=True, magnitude=(64, 65536)),
        Column("heads", "int", positive=True),
        Column("kv_heads", "int", positive=True),
        Column("head_dim", "int", positive=True, magnitude=(16, 1024)),
        Column("ffn_dim", "int", positive=True),
        Column("ffn_kind", choices=("swiglu", "geglu", "gelu", "relu")),
        Column("vocab", "int", positive=True, magnitude=(256, 4_000_000)),
        Column("tied_embeddings", "bool"),
        Column("bias", choices=("none", "qkv", "all")),
        Column("position_embeddings", "int", non_negative=True),
        Column("attention", choices=("mha", "gqa", "mqa", "mla")),
        Column("experts_total", "int", positive=True),
        Column("experts_active", "int", positive=True),
        Column("shared_experts", "int", non_negative=True),
        Column("moe_ffn_dim", "int", required=False, positive=True),
        Column("dense_layers", "int", non_negative=True),
        Column("q_lora_rank", "int", required=False, positive=True),
        Column("kv_lora_rank", "int", required=False, positive=True),
        Column("qk_rope_head_dim", "int", required=False, positive=True),
        Column("v_head_dim", "int", required=False, positive=True),
        Column("sliding_window", "int", required=False, positive=True),
        Column("sliding_layers", "float", required=False, positive=True),
        Column("window_kind", required=False, choices=WINDOW_KINDS),
        Column("max_context", "int", positive=True, magnitude=(512, 100_000_000)),
        Column("vision_params", "float", required=False, non_negative=True),
        Column("weight_format", required=False, choices=WEIGHT_FORMATS),
        Column("active_counts_input_embedding", "bool", required=False),
        Column("published_params", "float", positive=True, unit="parameters", magnitude=(1e6, 1e14)),
        Column("published_active_params", "float", required=False, positive=True, unit="parameters", magnitude=(1e6, 1e14)),
        Column("published_digits", "int", required=False, positive=True, magnitude=(1, 6)),
        Column("published_active_digits", "int", required=False, positive=True, magnitude=(1, 6)),
        SOURCE,
        AS_OF,
        NOTES,
    ),
    row_checks=(_arch_checks,),
)


@dataclass(frozen=True)
class ModelSpec:
    """A decoder-only transformer's architecture. Counts are properties computed from it."""

    id: str
    name: str
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_dim: int
    ffn_kind: str = "swiglu"
    vocab: int = 32000
    tied_embeddings: bool = False
    bias: str = "none"
    position_embeddings: int = 0
    attention: str = "gqa"
    experts_total: int = 1
    experts_active: int = 1
    shared_experts: int = 0
    moe_ffn_dim: int | None = None
    dense_layers: int = 0
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    v_head_dim: int | None = None
    sliding_window: int | None = None
    sliding_layers: float | None = None
    window_kind: str | None = None
    max_context: int = 4096
    vision_params: float | None = None
    weight_format: str | None = None
    active_counts_input_embedding: bool | None = None
    family: str = ""
    published_params: float | None = None
    published_active_params: float | None = None
    published_digits: int | None = None
    published_active_digits: int | None = None
    source: str = ""
    as_of: str = ""
    notes: str = ""

    # --- pieces -----------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.experts_total > 1

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers if self.is_moe else 0

    def _mlp(self, ffn: int) -> int:
        d = self.d_model
        n = (3 if self.ffn_kind in GATED else 2) * d * ffn
        if self.bias == "all":
            n += ffn + d
        return n

    @property
    def attention_params_per_layer(self) -> int:
        d, h = self.d_model, self.heads
        if self.attention == "mla":
            qk = self.head_dim + self.qk_rope_head_dim
            if self.q_lora_rank:
                q = d * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * h * qk
            else:
                q = d * h * qk
            kv = (
                d * (self.kv_lora_rank + self.qk_rope_head_dim)
                + self.kv_lora_rank
                + self.kv_lora_rank * h * (self.head_dim + self.v_head_dim)
            )
            return q + kv + h * self.v_head_dim * d
        q_out, kv_out = h * self.head_dim, self.kv_heads * self.head_dim
        n = d * q_out + 2 * d * kv_out + q_out * d
        if self.bias in ("qkv", "all"):
            n += q_out + 2 * kv_out
        if self.bias == "all":
            n += d
        return n

    @property
    def norm_params_per_layer(self) -> int:
        return (4 if self.bias == "all" else 2) * self.d_model  # two norms; LayerNorm has a bias too

    @property
    def mlp_params_per_dense_layer(self) -> int:
        return self._mlp(self.ffn_dim)

    @property
    def expert_params(self) -> int:
        """Parameters of one routed expert's MLP."""
        return self._mlp(self.moe_ffn_dim) if self.is_moe else 0

    @property
    def router_params_per_layer(self) -> int:
        return self.d_model * self.experts_total if self.is_moe else 0

    @property
    def embedding_params(self) -> int:
        """Input embedding, output head (unless tied) and learned position embeddings."""
        n = self.vocab * self.d_model * (1 if self.tied_embeddings else 2)
        return n + self.position_embeddings * self.d_model

    # --- totals -----------------------------------------------------------------
    def _moe_layer_params(self, experts: int) -> int:
        return (experts + self.shared_experts) * self.expert_params + self.router_params_per_layer

    @property
    def text_params(self) -> int:
        """Parameters of the language model (every expert counted), without a vision encoder."""
        dense_layers = self.layers - self.moe_layers
        per_layer = self.attention_params_per_layer + self.norm_params_per_layer
        return (
            self.embedding_params
            + self.layers * per_layer
            + dense_layers * self.mlp_params_per_dense_layer
            + self.moe_layers * self._moe_layer_params(self.experts_total)
            + self.d_model  # final norm
        )

    @property
    def total_params(self) -> int:
        """All stored parameters: the language model (every expert) plus any vision encoder
        (``vision_params``: Gemma 3's SigLIP, Llama 4's MetaCLIP-style encoder), which a server loads too."""
        return self.text_params + int(self.vision_params or 0)

    @property
    def routed_expert_params(self) -> int:
        """Parameters in routed experts over all MoE layers (0 for dense models)."""
        return self.moe_layers * self.experts_total * self.expert_params

    @property
    def active_params(self) -> int:
        """Parameters used per text token: routed-to experts only, both embedding matrices, no vision
        encoder (equals total for dense text-only models)."""
        idle = self.moe_layers * (self.experts_total - self.experts_active) * self.expert_params if self.is_moe else 0
        return self.text_params - idle

    @property
    def active_params_published_basis(self) -> int:
        """:attr:`active_params` counted the way the maker counts it: OpenAI's gpt-oss figures leave the
        input embedding (a table lookup) out (``active_counts_input_embedding = false``)."""
        if self.active_counts_input_embedding is False:
            return self.active_params - self.vocab * self.d_model
        return self.active_params

    @property
    def published_active(self) -> float | None:
        """The maker's active count: ``published_active_params``, or for a dense text-only model its total."""
        if self.published_active_params:
            return self.published_active_params
        return self.published_params if not self.is_moe and not self.vision_params else None

    @property
    def published_range(self) -> tuple[float, float] | None:
        """Counts the published total stands for (:func:`published_interval` at ``published_digits``)."""
        return published_interval(self.published_params, self.published_digits) if self.published_params else None

    @property
    def published_active_range(self) -> tuple[float, float] | None:
        """Counts the published active figure stands for (:func:`published_interval` at ``published_active_digits``;
        a dense model's active figure is its total, at ``published_digits``). Compare :attr:`active_params_published_basis`."""
        pub = self.published_active
        digits = self.published_active_digits if self.published_active_params else self.published_digits
        return published_interval(pub, digits) if pub else None

    @property
    def checkpoint_bytes(self) -> float:
        """Bytes of the released weights: bf16 (2 bytes) everywhere, or MXFP4 routed experts
        (:data:`MXFP4_BITS_PER_WEIGHT`) with the rest bf16 (gpt-oss)."""
        if self.weight_format == "mxfp4-experts":
            experts = self.routed_expert_params
            return experts * MXFP4_BITS_PER_WEIGHT / 8 + (self.total_params - experts) * 2.0
        return self.total_params * 2.0

    @property
    def full_attention_layers(self) -> int:
        """Layers that attend to (and cache) the whole context."""
        return self.layers - self.windowed_layers

    @property
    def windowed_layers(self) -> int:
        """Layers whose cache is capped at ``sliding_window`` tokens (sliding or chunked)."""
        if not self.sliding_window or not self.sliding_layers:
            return 0
        return int(round(self.sliding_layers * self.layers))

    @property
    def non_embedding_params(self) -> int:
        """Total minus embeddings (the N of Kaplan et al. 2020)."""
        return self.total_params - self.embedding_params

    # --- attention geometry shared by the memory and inference modules -----------
    @property
    def kv_values_per_token_per_layer(self) -> int:
        """Values cached per token per layer: 2 (K and V) x kv_heads x head_dim, or MLA's latent."""
        if self.attention == "mla":
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.kv_heads * self.head_dim

    @property
    def attention_dim(self) -> int:
        """Width of the attention score computation (heads x query/key head dim)."""
        qk = self.head_dim + (self.qk_rope_head_dim or 0) if self.attention == "mla" else self.head_dim
        return self.heads * qk


@lru_cache(maxsize=1)
def models() -> Mapping[str, ModelSpec]:
    """All catalog models by id (loaded and validated once)."""
    out = {}
    for row in load_csv("models.csv", MODEL_SCHEMA):
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        fields["as_of"] = row["as_of"].isoformat()
        fields["notes"] = row["notes"] or ""
        out[row["id"]] = ModelSpec(**fields)
    return MappingProxyType(out)


def get_model(model_id: str | ModelSpec, parameter: str = "model") -> ModelSpec:
    """Look a model up by id; an unknown id raises an error listing the known ones."""
    if isinstance(model_id, ModelSpec):
        return model_id
    table = models()
    if model_id not in table:
        raise UnknownIdError(parameter, model_id, sorted(table))
    return table[model_id]


def _window_layout(cfg: dict, layers: int) -> tuple[int | None, float | None, str | None]:
    """(window, share of windowed layers, kind) from a config: ``layer_types`` (gpt-oss, Gemma 3 in recent
    transformers), ``sliding_window_pattern`` (Gemma 3: every Nth layer global), ``attention_chunk_size`` with
    ``no_rope_layer_interval`` (Llama 4: every Nth layer global), Gemma 2's alternation, or a window on every layer."""
    types = cfg.get("layer_types")
    chunk = cfg.get("attention_chunk_size")
    if chunk:
        if types:
            n = sum(t == "chunked_attention" for t in types)
        else:
            interval = int(cfg.get("no_rope_layer_interval") or 4)
            n = layers - layers // interval
        return int(chunk), n / layers if n else None, "chunked" if n else None
    window = cfg.get("sliding_window") if cfg.get("use_sliding_window", True) else None
    if not window:
        return None, None, None
    if types:
        n = sum(t == "sliding_attention" for t in types)
    elif cfg.get("sliding_window_pattern"):
        n = layers - layers // int(cfg["sliding_window_pattern"])
    elif str(cfg.get("model_type", "")).startswith("gemma2"):
        n = layers // 2
    else:
        n = layers
    return (int(window), n / layers, "sliding") if n else (None, None, None)


_ACT_TO_KIND = {"silu": "swiglu", "swish": "swiglu", "gelu_pytorch_tanh": "geglu", "gelu": "gelu", "gelu_new": "gelu", "relu": "relu"}
MAX_CONFIG_BYTES = 1_000_000
"""Largest config.json read (a Hugging Face config is a few KB)."""


class _Config:
    """Reads one key of a config.json at a time; every error names the key, its value and what is allowed."""

    def __init__(self, cfg: dict, path: Path):
        self.cfg, self.path = cfg, path

    def fail(self, key: str, value, allowed: str):
        raise InputError(key, value, f"{allowed} (in {self.path})")

    def has(self, *keys: str) -> str | None:
        return next((k for k in keys if self.cfg.get(k) is not None), None)

    def int(self, *keys: str, minimum: int = 1, default=None, required: bool = False):
        """The first of ``keys`` present and not null, as a whole number >= ``minimum``."""
        key = self.has(*keys)
        if key is None:
            if required:
                raise InputError("config", str(self.path), f"a config.json with '{keys[0]}' (a whole number >= {minimum})")
            return default
        value = self.cfg[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
            self.fail(key, value, f"a whole number >= {minimum}")
        if value < minimum:
            self.fail(key, value, f"a whole number >= {minimum}")
        return int(value)

    def bool(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, value, "true or false")
        return value

    def str(self, key: str, default: str = "") -> str:
        value = self.cfg.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(key, value, "a string")
        return value


def _read_config(path: str | Path) -> tuple[dict, Path]:
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise InputError("config", path, "a path to a local config.json")
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError("config", str(p), "a config.json file, not a directory" + (
                f" (did you mean {p / 'config.json'}?)" if (p / "config.json").is_file() else ""))
        if not p.is_file():
            raise InputError("config", str(p), "a path to an existing config.json")
    except OSError as exc:
        raise InputError("config", str(p), f"a readable file ({exc.strerror or exc})") from None
    text = read_bounded_text(p, parameter="config", max_bytes=MAX_CONFIG_BYTES, what="a config.json")
    try:
        cfg = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
    except json.JSONDecodeError as exc:
        raise InputError("config", str(p), f"valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:
        raise InputError("config", str(p), f"valid JSON ({' '.join(str(exc).split())[:60]})") from None
    if not isinstance(cfg, dict):
        raise InputError("config", str(p), f"a JSON object of model settings, not a {type(cfg).__name__}")
    return cfg, p


def from_hf_config(path: str | Path, model_id: str | None = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a local Hugging Face ``config.json`` (no hub access).

    Understands Llama/Mistral/Qwen2/Gemma2/Phi-3/Mixtral/DeepSeek-V3 style keys. Every key it reads is checked
    and an error names it: sizes and counts are whole numbers >= 1, experts per token at most the experts,
    windows positive, attention heads divisible by the KV heads, a known activation.
    """
    cfg, p = _read_config(path)
    if isinstance(cfg.get("text_config"), dict):  # multimodal wrappers (Gemma 3, Llama 4, Mistral 3.1): the language model
        cfg = {**cfg["text_config"], "model_type": cfg["text_config"].get("model_type", cfg.get("model_type", ""))}
    if cfg.get("sliding_window") is False:  # some configs write false for "no window"
        cfg = {**cfg, "sliding_window": None}
    c = _Config(cfg, p)
    d = c.int("hidden_size", required=True)
    heads = c.int("num_attention_heads", required=True)
    layers = c.int("num_hidden_layers", required=True)
    ffn = c.int("intermediate_size_mlp", "intermediate_size", required=True)
    vocab = c.int("vocab_size", required=True)
    kv_heads = c.int("num_key_value_heads", default=heads)
    if kv_heads > heads or heads % kv_heads:
        c.fail("num_key_value_heads", kv_heads, f"a divisor of num_attention_heads ({heads})")
    model_type = c.str("model_type")
    act_key = c.has("hidden_act", "hidden_activation", "activation_function")
    act = c.str(act_key) if act_key else "silu"
    if act not in _ACT_TO_KIND:
        c.fail(act_key, act, "one of " + ", ".join(_ACT_TO_KIND))
    kind = _ACT_TO_KIND[act]
    if model_type.startswith("gemma") and kind == "gelu":
        kind = "geglu"
    experts = c.int("num_local_experts", "n_routed_experts", "num_experts", default=1)
    per_token = c.int("num_experts_per_tok", default=1)
    if per_token > experts:
        c.fail("num_experts_per_tok", per_token, f"at most the number of experts ({experts})")
    shared = c.int("n_shared_experts", minimum=0, default=1 if model_type.startswith("llama4") and experts > 1 else 0)
    moe_ffn = c.int("moe_intermediate_size", "intermediate_size", default=ffn) if experts > 1 else None
    step = c.int("interleave_moe_layer_step") if experts > 1 else None
    if step is not None:  # Llama 4 Maverick: MoE on every Nth layer
        dense_layers = layers - layers // step
    else:
        dense_layers = c.int("first_k_dense_replace", minimum=0, default=0) if experts > 1 else 0
    if dense_layers > layers:
        c.fail("first_k_dense_replace", dense_layers, f"at most num_hidden_layers ({layers})")
    mla = c.has("kv_lora_rank") is not None
    if mla:
        kv_rank, rope, v_dim = c.int("kv_lora_rank"), c.int("qk_rope_head_dim", required=True), c.int("v_head_dim", required=True)
        head_dim = c.int("qk_nope_head_dim", "head_dim", required=True)
        q_rank = c.int("q_lora_rank")
    else:
        kv_rank = rope = v_dim = q_rank = None
        head_dim = c.int("head_dim")
        if head_dim is None:
            if d % heads:
                c.fail("num_attention_heads", heads, f"a divisor of hidden_size ({d}), or give head_dim")
            head_dim = d // heads
    for key in ("sliding_window", "attention_chunk_size", "no_rope_layer_interval", "sliding_window_pattern"):
        c.int(key)  # positive whole numbers when given (a negative window would shrink memory)
    c.bool("use_sliding_window", True)
    types = cfg.get("layer_types")
    if types is not None and (not isinstance(types, list) or len(types) != layers or not all(isinstance(t, str) for t in types)):
        c.fail("layer_types", types, f"a list of {layers} layer-type names, one per layer")
    window, window_share, window_kind = _window_layout(cfg, layers)
    max_context = c.int("max_position_embeddings", default=4096)
    name_or_path = c.str("_name_or_path")
    spec = ModelSpec(
        id=model_id or name_or_path or p.parent.name or "custom",
        name=model_id or p.parent.name or "custom",
        layers=layers,
        d_model=d,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        ffn_dim=ffn,
        ffn_kind=kind,
        vocab=vocab,
        tied_embeddings=c.bool("tie_word_embeddings", model_type.startswith("gemma")),  # transformers' per-class default
        bias="qkv" if (model_type == "qwen2" or c.bool("attention_bias", False)) else "none",
        attention="mla" if mla else ("gqa" if kv_heads != heads else "mha"),
        experts_total=experts,
        experts_active=per_token if experts > 1 else 1,
        shared_experts=shared if experts > 1 else 0,
        moe_ffn_dim=moe_ffn,
        dense_layers=dense_layers,
        q_lora_rank=q_rank,
        kv_lora_rank=kv_rank,
        qk_rope_head_dim=rope,
        v_head_dim=v_dim,
        sliding_window=window,
        sliding_layers=window_share,
        window_kind=window_kind,
        max_context=max_context,
        source=str(p),
    )
    return spec


def model_table():
    """The catalog as a pandas DataFrame with computed and published parameter counts."""
    import pandas as pd

    rows = []
    for m in models().values():
        rows.append(
            {
                "id": m.id,
                "layers": m.layers,
                "d_model": m.d_model,
                "heads": m.heads,
                "kv_heads": m.kv_heads,
                "head_dim": m.head_dim,
                "ffn": f"{m.ffn_dim} {m.ffn_kind}",
                "vocab": m.vocab,
                "experts": f"{m.experts_active}/{m.experts_total}" if m.is_moe else "",
                "total_params_b": round(m.total_params / 1e9, 3),
                "active_params_b": round(m.active_params / 1e9, 3),
                "published_b": m.published_params / 1e9,
                "windowed_layers": m.windowed_layers,
                "window": m.sliding_window or "",
                "source": m.source,
                "as_of": m.as_of,
            }
        )
    return pd.DataFrame(rows)


QUALITY_SCHEMA = Schema(
    columns=(
        Column("id"),
        Column("model_id"),
        Column("axis", choices=("knowledge", "coding")),
        Column("benchmark"),
        Column("variant", choices=("base", "instruct")),
        Column("shots", "int", non_negative=True),
        Column("metric"),
        Column("harness"),
        Column("score", "float", non_negative=True, unit="percent", magnitude=(0.0, 100.0)),
        Column("level", choices=("P", "S")),
        SOURCE,
        AS_OF,
        NOTES,
    ),
)


@lru_cache(maxsize=1)
def quality_scores() -> tuple[dict, ...]:
    """Rows of ``data/quality_scores.csv``: scores on one basis per axis (benchmark, variant, metric, harness)."""
    rows = load_csv("quality_scores.csv", QUALITY_SCHEMA)
    known = models()
    for r in rows:
        if r["model_id"] not in known:
            raise UnknownIdError("model_id", r["model_id"], sorted(known))
    return tuple({**{k: v for k, v in r.items() if not k.startswith("_")}, "as_of": r["as_of"].isoformat()} for r in rows)


def quality_axis(axis: str) -> dict:
    """One quality axis on one basis: ``{"benchmark", "variant", "metric", "harness", "source", "scores": {model_id: percent}}``.
    An axis whose rows mix benchmarks, variants, metrics or harnesses is an error (the chapter-05 trap of putting
    Meta's acc_char MMLU beside Qwen's 5-shot accuracy on one axis)."""
    rows = [r for r in quality_scores() if r["axis"] == axis]
    if not rows:
        raise InputError("axis", axis, "one of " + ", ".join(sorted({r["axis"] for r in quality_scores()})))
    basis = {(r["benchmark"], r["variant"], r["metric"], r["harness"]) for r in rows}
    if len(basis) > 1:
        raise InputError("axis", axis, "rows on one basis (found " + "; ".join(" / ".join(b) for b in sorted(basis)) + ")")
    (bench, variant, metric, harness), = basis
    return {"benchmark": bench, "variant": variant, "metric": metric, "harness": harness,
            "source": rows[0]["source"], "level": "".join(sorted({r["level"] for r in rows})),
            "scores": {r["model_id"]: r["score"] for r in rows}}


def published_tolerance(published: float, digits: int | None = None, floor: float = 0.01) -> float:
    """Symmetric relative tolerance: 1%, or half a unit in the last of ``digits`` significant digits if that is
    wider ("1.7B" stands for 1.65-1.75B: +-2.9%). :func:`published_interval` is the rule the catalog uses."""
    if digits is None:
        return floor
    exponent = math.floor(math.log10(abs(float(published))))
    half_unit = 0.5 * 10 ** (exponent - int(digits) + 1)
    return max(floor, half_unit / float(published))


def published_interval(published: float, digits: int | None = None, floor: float = 0.01) -> tuple[float, float]:
    """The counts a maker's printed parameter figure stands for, as ``(low, high)``.

    A figure printed to three or more significant digits (``digits`` None: "116.83B", "12.9B") is taken as
    exact to ``floor`` (1%). A figure printed to ``digits`` significant digits stands for any count that the
    maker rounded *to nearest or down* to it: from half a unit in the last digit below to one unit above
    ("3.3B" covers 3.25B to 3.40B), and never less than the 1% band. Makers do both: Qwen prints "2.7B"
    activated for Qwen1.5-MoE-A2.7B's 2.689B (nearest) but "2.0 billion non-embedding" for its 2.067B and
    "3.3B activated" for Qwen3-30B-A3B's 3.353B (down) [1, 2]; DeepSeek prints "37B activated" for
    DeepSeek-V3's 37.55B [3].

    [1] Qwen team, "Qwen1.5-MoE: Matching 7B Model Performance with 1/3 Activated Parameters", 2024-03-28,
        https://qwenlm.github.io/blog/qwen-moe/ (counts recomputed from its config.json).
    [2] Qwen3-30B-A3B model card, https://huggingface.co/Qwen/Qwen3-30B-A3B (2025-04-29): 30.5B total,
        3.3B activated, 29.9B non-embedding; computed 30.53B / 3.353B / 29.91B.
    [3] DeepSeek-AI, DeepSeek-V3 Technical Report, arXiv:2412.19437 (2024-12): 671B total, 37B activated.
    """
    from .validate import positive

    p = positive("published", published)
    if digits is None:
        return p * (1 - floor), p * (1 + floor)
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise InputError("digits", digits, "a whole number of significant digits >= 1, or None")
    unit = 10.0 ** (math.floor(math.log10(p)) - digits + 1)
    return min(p * (1 - floor), p - unit / 2), max(p * (1 + floor), p + unit)


def custom_model(params: float, active_params: float | None = None) -> ModelSpec:
    """A model known only by its parameter count (``--params N``): a Llama-like shape is not
    invented; functions that need the architecture (KV cache) say so when given one of these."""
    from .validate import positive

    n = positive("params", params)
    a = positive("active_params", active_params) if active_params is not None else n
    if a > n:
        raise InputError("active_params", a, f"at most params ({n:g})")
    return _ParamsOnly(n, a)


class ArchitectureUnknownError(InputError, AttributeError):
    """A parameters-only model was asked for an architecture field: an ``InputError`` for the CLI (one line,
    exit 2) and an ``AttributeError`` for Python (``hasattr`` is False)."""


class _ParamsOnly:
    """Stand-in for a model given by parameter counts only."""

    def __init__(self, total: float, active: float):
        self.id = f"custom-{total / 1e9:g}b"
        self.name = self.id
        self.total_params = total
        self.active_params = active
        self.is_moe = active < total
        self.source = "user input"
        self.as_of = ""

    def __getattr__(self, item):
        # only called for attributes not set in __init__; an AttributeError (that is also an InputError) keeps
        # hasattr, getattr(obj, name, default), copy and pickle working
        if item.startswith("__") or "id" not in self.__dict__:
            raise AttributeError(item)
        raise ArchitectureUnknownError("model", self.id, f"an architecture from the catalog or a config.json ('{item}' is unknown for --params)")


def replace_spec(spec: ModelSpec, **changes) -> ModelSpec:
    return replace(spec, **changes)
