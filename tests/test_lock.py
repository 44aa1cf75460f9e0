"""The lock (requirements.lock) and what the report says about the software that ran."""

import re
from importlib.metadata import version
from pathlib import Path

from casegraph.reports.content import tool_versions

ROOT = Path(__file__).parents[1]


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in pins}


def test_every_lock_entry_is_hashed_and_torch_is_the_cpu_build():
    text = (ROOT / "requirements.lock").read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1] if text.startswith("#") else text):
        if re.match(r"[A-Za-z0-9]", block):
            assert "--hash=sha256:" in block, block.splitlines()[0]
    assert _locked()["torch"].endswith("+cpu")


def test_methods_list_the_imported_distributions_with_their_installed_versions():
    import duckdb  # noqa: F401  (imported by the store in every real run)

    tools = tool_versions()
    assert tools["casegraph"] and tools["python"]
    assert tools["duckdb"] == version("duckdb")


def test_installed_versions_are_the_locked_ones():
    locked = _locked()
    for dist, v in tool_versions().items():
        key = re.sub(r"[-_.]+", "-", dist).lower()
        if key in locked and key != "setuptools":
            assert v == locked[key], (dist, v, locked[key])
