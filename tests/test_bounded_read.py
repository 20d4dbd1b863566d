"""One reader for a user's local text file (costlib.catalog.read_bounded_text): size cap checked before a byte is
read, strict UTF-8, one-line errors naming the parameter. Its two callers (a scenario YAML, a config.json) keep
their own messages, and the CLI exits 2 on each refusal."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from costlib import catalog
from costlib import enterprise as ent
from costlib import models
from costlib.catalog import TextFileError, read_bounded_text
from costlib.cli import main
from costlib.errors import InputError

CONFIG = Path(__file__).parent / "data" / "configs" / "llama-3.1-8b" / "config.json"
SCENARIO = (ent.SCENARIO_DIR / "seed000_single_l4.yaml").read_text(encoding="utf-8")


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text, text
    return text


# --- the reader itself ------------------------------------------------------------------------------------------

def test_reads_utf8_and_drops_a_byte_order_mark(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"\xef\xbb\xbfcaf\xc3\xa9\n")
    assert read_bounded_text(p, parameter="thing", max_bytes=100) == "café\n"


def test_a_file_exactly_at_the_cap_is_read_one_byte_more_is_not(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 10)
    assert read_bounded_text(p, parameter="thing", max_bytes=10) == "x" * 10
    p.write_bytes(b"x" * 11)
    with pytest.raises(TextFileError) as info:
        read_bounded_text(p, parameter="thing", max_bytes=10, what="a thing file")
    text = one_line(info.value)
    assert text.startswith("thing=") and "a thing file of at most 10 bytes (this one has 11)" in text
    assert (info.value.problem, info.value.size, info.value.parameter) == ("size", 11, "thing")


def test_the_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.txt"
    p.write_bytes(b"x" * 1000)

    def no_read(self):
        raise AssertionError("read a file over the cap")

    monkeypatch.setattr(Path, "read_bytes", no_read)
    monkeypatch.setattr(Path, "open", no_read)
    with pytest.raises(TextFileError, match="at most 999 bytes"):
        read_bounded_text(p, parameter="thing", max_bytes=999)


def test_a_non_utf8_file_names_the_byte_and_its_line(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"ok\nstill ok\ncaf\xe9\n")
    with pytest.raises(TextFileError) as info:
        read_bounded_text(p, parameter="thing", max_bytes=100)
    text = one_line(info.value)
    assert text.startswith("thing=") and "UTF-8 text (byte 0xe9 at line 3)" in text
    assert (info.value.problem, info.value.line, info.value.byte) == ("encoding", 3, 0xE9)


@pytest.mark.parametrize("make", ["missing", "directory", "device"])
def test_a_missing_file_or_a_directory_is_one_line(tmp_path, make):
    p = tmp_path / "nope.txt"
    if make == "directory":
        p.mkdir()
    if make == "device":
        p = Path("/dev/zero")  # stat size 0, reads forever: refused before reading
    with pytest.raises(InputError) as info:
        read_bounded_text(p, parameter="thing", max_bytes=100)
    text = one_line(info.value)
    assert text.startswith("thing=") and "a readable file" in text and info.value.problem == "unreadable"


def test_both_callers_use_the_one_reader(monkeypatch, tmp_path):
    calls = []
    real = catalog.read_bounded_text

    def spy(path, **kw):
        calls.append(kw["parameter"])
        return real(path, **kw)

    monkeypatch.setattr(ent, "read_bounded_text", spy)
    monkeypatch.setattr(models, "read_bounded_text", spy)
    ent.load_scenario("seed000_single_l4")
    models.from_hf_config(CONFIG)
    assert calls == ["scenario", "config"]


# --- the callers keep their messages -----------------------------------------------------------------------------

def test_scenario_messages_name_the_file_then_the_field(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(SCENARIO + "#" + "x" * ent.MAX_SCENARIO_BYTES + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        ent.load_scenario(big)
    assert one_line(info.value).startswith("big.yaml: scenario=") and f"at most {ent.MAX_SCENARIO_BYTES:,} bytes" in str(info.value)
    bad = tmp_path / "enc.yaml"
    bad.write_bytes(b"name: x\nnote: caf\xe9\n")
    with pytest.raises(InputError) as info:
        ent.load_scenario(bad)
    assert one_line(info.value) == "enc.yaml, line 2: scenario='the byte 0xe9' is not allowed: UTF-8 text"


def test_config_messages_name_the_config(tmp_path):
    big = tmp_path / "config.json"
    big.write_bytes(b"{" + b" " * models.MAX_CONFIG_BYTES + b"}")
    with pytest.raises(InputError) as info:
        models.from_hf_config(big)
    assert one_line(info.value).startswith("config=") and f"a config.json of at most {models.MAX_CONFIG_BYTES:,} bytes" in str(info.value)
    big.write_bytes(json.dumps({"hidden_size": 8}).encode()[:-1] + b"\xff}")
    with pytest.raises(InputError, match=r"UTF-8 text \(byte 0xff at line 1\)"):
        models.from_hf_config(big)


# --- the CLI: exit 2, one line naming the parameter ------------------------------------------------------------------

def _files(tmp_path, kind: str, suffix: str, cap: int) -> Path:
    p = tmp_path / f"{kind}{suffix}"
    if kind == "big":
        p.write_bytes(b"#" * (cap + 1))
    elif kind == "latin1":
        p.write_bytes(b"name: caf\xe9\n")
    return p  # "missing": not created


@pytest.mark.parametrize("kind", ["big", "latin1", "missing"])
def test_cli_config_refusals_exit_2_with_one_line(tmp_path, capsys, kind):
    p = _files(tmp_path, kind, ".json", models.MAX_CONFIG_BYTES)
    code = main(["memory", "--config", str(p), "--precision", "bf16", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("costlib: error: config=") and "Traceback" not in err


@pytest.mark.parametrize("kind", ["big", "latin1", "missing"])
def test_cli_scenario_refusals_exit_2_with_one_line(tmp_path, capsys, kind):
    p = _files(tmp_path, kind, ".yaml", ent.MAX_SCENARIO_BYTES)
    code = main(["enterprise", str(p), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "scenario=" in err, err
