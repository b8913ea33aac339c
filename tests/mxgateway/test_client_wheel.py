"""The wheel carries the generated bindings, their stubs and py.typed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_generated_modules_and_py_typed(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("mxgw-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (
        "mxaccess_gateway_pb2.py",
        "mxaccess_gateway_pb2.pyi",
        "mxaccess_gateway_pb2_grpc.py",
        "mxaccess_worker_pb2.py",
        "mxgw_extensions_pb2.py",
        "mxgw_extensions_pb2_grpc.py",
    ):
        assert f"mxgateway/generated/{module}" in names, module
    assert "mxgateway/py.typed" in names
    assert "mxgateway/_client.py" in names and "mxgateway/__init__.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "mxgw-py" in zipfile.ZipFile(wheel).read(entry_points).decode()
