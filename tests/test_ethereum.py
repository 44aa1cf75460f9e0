"""web3 reads of a real (in-process) chain: eth-tester with a deployed ERC-20, acquired into evidence."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

web3 = pytest.importorskip("web3")
pytest.importorskip("eth_tester")
from parse_helpers import of, run_parser, sniff  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from casegraph.finance.ethereum import acquire  # noqa: E402
from casegraph.ingest.evidence import add_evidence  # noqa: E402
from casegraph.ingest.pipeline import parse_exhibit  # noqa: E402
from casegraph.model import Transaction  # noqa: E402
from casegraph.parsers.eth_acquisition import EthAcquisition  # noqa: E402

TOKEN = json.loads((Path(__file__).parent / "fixtures/chain/MiniToken.json").read_text())


@pytest.fixture(scope="module")
def chain():
    w3 = Web3(EthereumTesterProvider())
    a = w3.eth.accounts
    contract = w3.eth.contract(abi=TOKEN["abi"], bytecode=TOKEN["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(contract.constructor("Tether USD", "USDT", 6, 10**12).transact({"from": a[0]}))
    token = w3.eth.contract(address=receipt.contractAddress, abi=TOKEN["abi"])
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(a[1], 1_500_000_000).transact({"from": a[0]}))  # 1,500 "USDT"
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": a[1], "to": a[2], "value": w3.to_wei(2, "ether")}))
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(a[2], 250_500_000).transact({"from": a[1]}))  # 250.5
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": a[3], "to": a[4], "value": 1}))  # unrelated
    return w3, a, token.address


def test_acquire_and_parse(chain, tmp_path):
    w3, a, token = chain
    out = tmp_path / "eth-acquisition.jsonl"
    summary = acquire(w3, [a[1]], 0, w3.eth.block_number, out, note="test")
    assert summary == {"type": "summary", "transactions": 1, "logs": 2, "tokens": 1}
    assert sniff(EthAcquisition(), out) >= 0.9
    tx = of(run_parser(EthAcquisition(), out), Transaction)
    native = next(t for t in tx if t.currency == "ETH")
    assert native.amount == Decimal(2) and native.from_account == a[1] and native.to_account == a[2]
    tokens = sorted((t for t in tx if t.asset_contract), key=lambda t: t.amount)
    assert [t.amount for t in tokens] == [Decimal("250.5"), Decimal("1500")]
    assert tokens[1].from_account == a[0] and tokens[1].to_account == a[1] and tokens[0].currency == "USDT"
    assert tokens[0].extra["decimals"] == 6 and tokens[0].asset_contract == token
    assert tokens[0].extra["token_warning"]  # calls itself USDT, is not Tether's contract
    assert all(t.ts is not None and t.prov.locator.startswith("line:") for t in tx)
    assert {t.status for t in tx} == {"success"}  # receipts with status 1, and Transfer logs


def test_a_failed_receipt_is_stored_as_failed(tmp_path):
    out = tmp_path / "eth-acquisition.jsonl"
    out.write_text(
        json.dumps({"type": "acquisition", "chain_id": 1})
        + "\n"
        + json.dumps(
            {
                "type": "transaction",
                "hash": "0xab",
                "block": 5,
                "timestamp": 1713500000,
                "from": "0x1",
                "to": "0x2",
                "value_wei": str(29 * 10**18),
                "status": 0,
                "gas_used": 21000,
            }
        )
        + "\n"
    )
    (t,) = of(run_parser(EthAcquisition(), out), Transaction)
    assert t.status == "failed" and t.amount == 0 and t.extra["attempted_value"] == "29"


def test_acquisition_is_evidence(chain, case, tmp_path):
    w3, a, _ = chain
    out = tmp_path / "eth-acquisition.jsonl"
    acquire(w3, [a[1]], 0, w3.eth.block_number, out)
    sha = add_evidence(case, out, "E1", seized_from=f"chain {w3.eth.chain_id} via eth-tester", acquired_by="test").sha256
    result = parse_exhibit(case, sha)
    assert result.parser == "eth-acquisition" and result.records["transactions"] == 3
    assert case.store.count("transactions", "WHERE rail = 'ethereum' AND exhibit_sha256 = ?", [sha]) == 3
