"""The declared dependency floors cover what the generated bindings check at import."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import mxgateway.generated as generated

ROOT = Path(__file__).resolve().parents[2]
GENERATED = Path(generated.__file__).parent


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _floor(package: str) -> tuple[int, ...]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        match = re.fullmatch(rf"{re.escape(package)}\s*>=\s*([\d.]+)", requirement.strip())
        if match:
            return _version(match.group(1))
    raise AssertionError(f"pyproject.toml declares no '{package}>=' floor")


def test_grpcio_floor_covers_generated_code() -> None:
    found = set()
    for path in GENERATED.glob("*_pb2_grpc.py"):
        match = re.search(r"^GRPC_GENERATED_VERSION = '([\d.]+)'", path.read_text(), re.M)
        assert match, f"{path.name} has no GRPC_GENERATED_VERSION"
        found.add(_version(match.group(1)))
    assert found, "no generated gRPC modules"
    assert _floor("grpcio") >= max(found)


def test_protobuf_floor_covers_generated_code() -> None:
    pattern = re.compile(
        r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,\s*"
        r"(\d+),\s*(\d+),\s*(\d+),"
    )
    found = set()
    for path in GENERATED.glob("*_pb2.py"):
        match = pattern.search(path.read_text())
        assert match, f"{path.name} has no ValidateProtobufRuntimeVersion call"
        found.add(tuple(int(g) for g in match.groups()))
    assert found
    assert _floor("protobuf") >= max(found)
