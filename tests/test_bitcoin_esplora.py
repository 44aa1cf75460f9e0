from datetime import UTC, datetime
from decimal import Decimal

from parse_helpers import of, run_parser, sniff

from casegraph.model import Transaction
from casegraph.parsers.bitcoin_esplora import BitcoinEsplora

P = BitcoinEsplora()


def test_inputs_flow_into_the_tx_and_out_to_outputs(fixtures):
    path = fixtures / "finance/esplora_txs.json"
    assert sniff(P, path) >= 0.9
    legs = of(run_parser(P, path), Transaction)
    node = "btc-tx:a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d"
    ins = [t for t in legs if t.to_account == node]
    outs = [t for t in legs if t.from_account == node]
    assert [t.amount for t in ins] == [Decimal("1.5"), Decimal("0.5")]
    assert [(t.to_account, t.amount) for t in outs] == [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Decimal("1.8")),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Decimal("0.1999")),
    ]
    assert sum(t.amount for t in ins) - sum(t.amount for t in outs) == Decimal("0.0001")  # the fee, kept visible
    assert ins[0].prov.locator == "json:/0/vin/0" and outs[1].prov.locator == "json:/0/vout/1"
    assert ins[0].ts == datetime(2024, 4, 19, 6, 30, tzinfo=UTC) and ins[0].extra["fee_btc"] == "0.0001"
    assert len({t.id for t in legs}) == 4  # one id per leg
