"""Re-execute notebooks in place so stored outputs match what costlib computes today.

Usage: python tools/run_notebooks.py notebooks/01_training.ipynb [...]

Runs each notebook with nbclient in ``notebooks/`` (the kernel's working directory under nbval
too), without timing metadata, keeping widget state so the static site can show widgets'
default results. Stops with an error if any cell raises.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(Path("notebooks").glob("*.ipynb"))
    for p in paths:
        seconds = run(p)
        print(f"executed {p} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
