"""Optional extras (eth: web3, ftm: followthemoney): a command whose extra is missing stops with one
line naming the extra, not a traceback."""

import sys

import pytest
from click.testing import CliRunner

from casegraph.cli import main
from casegraph.extras import MissingExtra, need


def test_need_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "followthemoney", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"casegraph\[ftm\]"):
        need("followthemoney", "ftm", "the FollowTheMoney export")


@pytest.mark.parametrize(
    "module, args, extra",
    [
        ("followthemoney", ["graph", "export", "{case}", "--format", "ftm"], "ftm"),
        (
            "web3",
            [
                "acquire-eth",
                "{case}",
                "--rpc",
                "http://127.0.0.1:9",
                "--address",
                "0x" + "11" * 20,
                "--from-block",
                "0",
                "--to-block",
                "1",
                "--exhibit",
                "E1",
                "--acquired-by",
                "IP R. Bandara",
            ],
            "eth",
        ),
    ],
)
def test_a_command_without_its_extra_is_one_line(tmp_path, monkeypatch, module, args, extra):
    case = str(tmp_path / "case")
    init = CliRunner().invoke(main, ["case", "init", case, "--case-no", "HTS/TEST/2", "--examiner", "IP Test"])
    assert init.exit_code == 0, init.output
    monkeypatch.setitem(sys.modules, module, None)
    r = CliRunner().invoke(main, [a.replace("{case}", case) for a in args])
    assert r.exit_code == 1, r.output
    assert f"casegraph[{extra}]" in r.output and "Traceback" not in r.output
