"""The indicator detector: normalisation across scripts and spellings, concept rules, legitimate
contexts, negation, the thread, the learned layer (versioned, deterministic, explained, trained
on examiner verdicts) and the combined findings.

Message shapes follow the issue (#20) and the public indicator descriptions the independent set is
written from (ILO indicators of forced labour 2012; UNODC/IOM lists); the texts here are our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from graph_helpers import PHONE_EX, message

from casegraph.ai import concepts, detect, indicators, learned, lexicon
from casegraph.ai import normalise as nz
from casegraph.cli import main

LEX = lexicon.load()
IDS = [i.id for i in LEX.indicators]
FIXTURES = Path(__file__).parent / "fixtures" / "indicators"


def rules_only(text: str, thread: list[str] | None = None) -> set[str]:
    det = detect.Detector(LEX, None)
    if thread is None:
        return {d.indicator for d in det.detect([detect.Msg(text)])[0]}
    msgs = [detect.Msg(t, "chat", n) for n, t in enumerate([*thread, text])]
    return {d.indicator for d in det.detect(msgs)[-1]}


@pytest.mark.parametrize(
    "a, b",
    [
        ("පාස්පෝට්", "paaspot"),
        ("கடவுச்சீட்டுகளை", "kadavuchcheettukalai"),
        ("ලංකා", "lanka"),
        ("ණය", "naya"),
        ("කම්පැනියකට විකුණනවා", "kampaniyakata wikunanawa"),
    ],
)
def test_script_and_romanised_forms_meet_in_one_spelling(a, b):
    assert nz.key(nz.fold(a)) == nz.key(nz.fold(b))


def test_fold_spells_out_abbreviations_emoji_and_held_letters():
    assert nz.fold("Madam keeps my PP 😂") == "madam keeps my passport haha"
    assert nz.fold("pleaseeee helppp, no sal for 3 months") == "please help, no salary for 3 months"
    assert nz.fold("ශ්\u200dරී") == "ශ්රී"  # zero-width joiners never hide a word


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Madam keeps my pp in her cupboard", {"document-confiscation"}),  # abbreviation + concept rule
        ("engala room la poottitanga, veliya poga mudiyathu", {"movement-restriction"}),  # romanised Tamil stems
        ("ஏஜென்ட்டுக்கு 5 லட்சம் கட்டினேன், இன்னும் விசா வரவில்லை", {"fees-debt-bondage"}),
        ("if we dont reach the scam target they give electric shock", {"threats-coercion"}),
        ("airport eke immigration eke kiyanna holiday yanawa kiyala, job gana kiyanna epa", {"irregular-travel"}),
    ],
)
def test_concept_rules_hold_on_new_wording(text, expected):
    assert expected <= rules_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "The embassy kept my passport for the visa stamping",
        "Kuwait house driver job through a licensed agency, contract approved by SLBFE",
        "We are planning a Thailand holiday, do we need a tourist visa?",
        "අක්කගෙන් ලක්ෂයක් ණයට ගත්තා, ලබන මාසේ දෙනවා",  # a family loan
        "My boss will kill me if I am late again haha",  # a joke
        "NEWS: police arrested an agent who took passports of 20 workers",  # a news report
        "no no they did not take my passport, it is with me",  # negation
        "we live in a compound with a pool and gym",
    ],
)
def test_legitimate_contexts_and_negation_cancel(text):
    assert rules_only(text) == set()


def test_a_legitimate_context_said_nearby_in_the_thread_lowers_the_score():
    det = detect.Detector(LEX, None)
    alone = det.detect([detect.Msg("they kept my passport, come on thursday")])[0]
    near = det.detect(
        [detect.Msg("at the embassy for the visa stamping now", "c", 0), detect.Msg("they kept my passport, come on thursday", "c", 1)]
    )[1]
    assert near[0].score < alone[0].score and near[0].thread == {"effect": "lowered", "by": [0], "factor": pytest.approx(0.2**0.25)}


def test_the_speaker_is_recorded():
    d = detect.Detector(LEX, None).detect([detect.Msg("my daughter says the agent took her passport")])[0]
    assert d and d[0].speaker == "relative"


def test_a_bad_concept_rule_names_itself(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[concepts]\nA = ["x"]\n[[rules]]\nid = "r1"\nindicator = "i"\nall = ["A", "B"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="rule r1 names unknown concept"):
        concepts.load(str(bad))


@pytest.fixture(scope="module")
def model() -> learned.Learned:
    return learned.for_case(IDS)


def test_the_learned_layer_is_versioned_by_its_data_and_deterministic(model):
    examples = list(learned.packaged())
    assert model.version == learned.version(examples, IDS) and len(model.version) == 64
    again = learned.train(examples, IDS)
    assert (again.coef == model.coef).all() and again.calibration == model.calibration
    assert {f"casegraph/ai/training/{name}" for name in learned.TRAINING_FILES} == set(model.sources)
    assert set(model.calibration) >= {"*", "en", "si", "ta", "si-Latn", "ta-Latn"}  # calibrated per language


def test_the_learned_layer_explains_itself(model):
    p = model.probabilities(["They took our passports when we arrived"])[0]
    j = IDS.index("document-confiscation")
    assert p[j] == p.max()
    assert any("pasport" in f for f, _ in model.explain("They took our passports when we arrived", "document-confiscation"))


def test_examiner_verdicts_change_the_training_data_and_version():
    decisions = [
        {
            "finding_id": "f1",
            "verdict": "rejected",
            "subject": {"attrs": {"indicator": "threats-coercion"}, "evidence": [{"record": "m1"}], "summary": ""},
        },
        {
            "finding_id": "f2",
            "verdict": "confirmed",
            "subject": {
                "attrs": {"indicator": "fees-debt-bondage"},
                "evidence": [{"record": "gone"}],
                "summary": "Rule x matched in: «pay the release money»",
            },
        },
    ]
    ex = learned.from_decisions(decisions, {"m1": "I will kill you at cricket tomorrow"})
    assert [(e.text, e.labels, e.only) for e in ex] == [
        ("I will kill you at cricket tomorrow", frozenset(), "threats-coercion"),
        ("pay the release money", frozenset({"fees-debt-bondage"}), "fees-debt-bondage"),  # the quote, when the record is gone
    ]
    assert learned.version([*learned.packaged(), *ex], IDS) != learned.version(list(learned.packaged()), IDS)


def test_the_packaged_training_sets_are_the_fixtures():
    base = Path(learned.__file__).parent / "training"
    for name in learned.TRAINING_FILES:
        assert (base / name).read_bytes() == (FIXTURES / name).read_bytes(), name
    assert not (base / "independent_heldout.jsonl").exists()  # the held-out split never trains the model


def _case_messages(case):
    texts = [
        "Hi, IT job in Bangkok, high salary, no experience needed",
        "Madam keeps my pp in her cupboard",
        "The embassy kept my passport for the visa stamping",
        "See you at the temple on Sunday",
    ]
    case.store.write([r for i, t in enumerate(texts) for r in message(PHONE_EX, f"line:{i + 1}", i, t, sender_name="P")])


def test_run_with_the_learned_layer_says_which_layer_fired_and_why(case, model):
    _case_messages(case)
    r = indicators.run(case.store, LEX, learned=model)
    rows = case.store.rows("SELECT * FROM findings WHERE kind = 'trafficking-indicator'")
    attrs = [json.loads(f["attrs"]) for f in rows]
    doc = next(a for a in attrs if a["indicator"] == "document-confiscation")
    assert doc["fired"][0] == "rule" and doc["rule"] and doc["matched"] and doc["learned"]["version"] == model.version[:16]
    assert doc["learned"]["top_features"] and doc["speaker"] == "victim"
    assert doc["thread"]["effect"] == "lowered" and doc["thread"]["by"]  # the embassy message next to it, named by id
    assert "embassy" in next(f["summary"] for f in rows if json.loads(f["attrs"]) == doc)  # the finding says what lowered it
    embassy = [f for f in rows if json.loads(f["evidence"])[0]["locator"] == "line:3"]
    assert not any(json.loads(f["attrs"])["indicator"] == "document-confiscation" for f in embassy)  # the embassy keeping it is not flagged
    assert r.detector_version.endswith(model.label)
    indicators.run(case.store, LEX)  # rules only: the learned layer's findings go
    assert case.store.one("SELECT count(*) FROM findings WHERE detector = 'indicators-learned'")[0] == 0


def test_cli_logs_the_learned_model_version(case):
    _case_messages(case)
    r = CliRunner().invoke(main, ["indicators", str(case.root)])
    assert r.exit_code == 0, r.output
    event = [json.loads(line) for line in (case.root / "custody.jsonl").read_text().splitlines() if '"indicators"' in line][-1]
    assert event["details"]["learned"]["version_sha256"] == learned.for_case(IDS).version
    r = CliRunner().invoke(main, ["indicators", str(case.root), "--no-learned"])
    assert r.exit_code == 0, r.output
    event = [json.loads(line) for line in (case.root / "custody.jsonl").read_text().splitlines() if '"indicators"' in line][-1]
    assert event["details"]["learned"] is None


class _Stub:
    """A learned layer with set scores, to test how the thread raises them."""

    name, version, label = "stub", "0" * 64, "stub@0"

    def __init__(self, scores: dict[str, float]):
        self.indicators = tuple(IDS)
        self.by_text = scores

    def features(self, texts):
        return list(texts)

    features_of_keys = features  # the detector hands it the messages' key views

    def probabilities(self, texts, langs=None, x=None):
        import numpy as np

        return np.array([[self.by_text.get(t, 0.0) if i == "document-confiscation" else 0.0 for i in IDS] for t in texts])

    def top_features_of(self, x, pairs, k=5):
        return [[("stub", 1.0)] for _ in pairs]


def test_the_thread_raises_a_borderline_score_and_says_by_which_messages():
    stub = _Stub({"same thing happened to me": 0.35, "they took our passports on the first day": 0.25})
    det = detect.Detector(LEX, stub)  # type: ignore[arg-type]
    alone = det.detect([detect.Msg("same thing happened to me")])[0]
    assert not alone  # 0.35 is below the learned threshold
    got = det.detect([detect.Msg("they took our passports on the first day", "c", 0), detect.Msg("same thing happened to me", "c", 1)])[1]
    assert [(d.indicator, d.fired, d.thread) for d in got] == [("document-confiscation", ["thread"], {"effect": "raised", "by": [0]})]


def test_a_rule_the_learned_layer_scores_near_zero_does_not_fire():
    text = "they took our passports on the first day"
    assert [d.fired for d in detect.Detector(LEX, None).detect([detect.Msg(text)])[0]] == [["rule"]]  # rules only: it fires
    low = detect.Detector(LEX, _Stub({text: 0.05})).detect([detect.Msg(text)])[0]  # type: ignore[arg-type]
    assert not low  # the model gives it 0.05 < RULE_SUPPORT: no flag
    ok = detect.Detector(LEX, _Stub({text: 0.25})).detect([detect.Msg(text)])[0]  # type: ignore[arg-type]
    assert [(d.indicator, d.fired) for d in ok] == [("document-confiscation", ["rule"])]


def test_a_trained_model_is_kept_by_version_and_loaded_the_same(tmp_path, model):
    path = tmp_path / f"{learned.NAME}-{model.version}.npz"
    learned.save(model, path)
    again = learned.load(path, model.version)
    assert again is not None and again.version == model.version and again.calibration == model.calibration
    texts = ["Madam keeps my pp in her cupboard", "ஏஜென்ட்டுக்கு 5 லட்சம் கட்டினேன்", "see you at the temple"]
    assert (again.probabilities(texts) == model.probabilities(texts)).all()
    assert again.explain(texts[0], "document-confiscation") == model.explain(texts[0], "document-confiscation")
    assert learned.load(path, "0" * 64) is None  # another version's data: retrained, never reused
    path.write_bytes(b"not a model")
    assert learned.load(path, model.version) is None  # a damaged file: retrained


def test_the_fast_features_are_the_vectorizers_transform(model):
    from scipy import sparse

    examples = list(learned.packaged())
    views = learned._views([e.text for e in examples])
    vecs = learned._vectorizers(views)
    texts = ["Madam keeps my pp in her cupboard!!", "engala room la poottitanga", "පාස්පෝට් එක දෙන්නේ නෑ", ""]
    want = sparse.hstack([v.transform(learned._views(texts)) for v in vecs]).tocsr()
    assert abs(want - model.features(texts)).max() < 1e-12


def test_a_cached_model_is_used_only_if_custody_logged_its_weights(tmp_path, model, monkeypatch):
    """The cache sits in the case folder: weights edited there (same version, same shapes) must not score a
    message. for_case loads a cached file only when its weights digest is one a logged run recorded."""
    path = tmp_path / f"{learned.NAME}-{model.version}.npz"
    learned.save(model, path)
    assert learned.load(path, model.version).weights_sha256 == model.weights_sha256  # the digest survives the file
    monkeypatch.setattr(learned, "_TRAINED", {})
    monkeypatch.setattr(learned, "train", lambda *a, **k: pytest.fail("retrained although the cache was logged"))
    assert learned.for_case(IDS, cache=tmp_path, trusted=[model.weights_sha256]).weights_sha256 == model.weights_sha256

    tampered = learned.load(path, model.version)
    tampered.coef[:, :] = 0
    tampered.coef[IDS.index("document-confiscation"), :] = 5.0  # every message becomes "document confiscation"
    learned.save(tampered, path)
    trained = []
    monkeypatch.setattr(learned, "_TRAINED", {})
    monkeypatch.setattr(learned, "train", lambda *a, **k: trained.append(1) or model)
    got = learned.for_case(IDS, cache=tmp_path, trusted=[model.weights_sha256])
    assert trained and got.weights_sha256 == model.weights_sha256  # not logged: trained over, never used
    monkeypatch.setattr(learned, "_TRAINED", {})
    trained.clear()
    learned.for_case(IDS, cache=tmp_path)  # nothing logged yet (a first run): trained, not read
    assert trained


def test_a_rule_a_negation_cancelled_also_lowers_the_learned_score():
    # the learned layer alone would flag these (0.6 ≥ LEARNED_THRESHOLD); the rule reads them as denied
    for text in ("nobody took my passport, i keep it in my own locker", "kawuruwath mage passport eka gaththe na"):
        det = detect.Detector(LEX, _Stub({text: 0.6}))  # type: ignore[arg-type]
        got = det.detect([detect.Msg(text)])[0]
        assert not got, text
    said = "they took my passport and my phone"
    got = detect.Detector(LEX, _Stub({said: 0.6})).detect([detect.Msg(said)])[0]  # type: ignore[arg-type]
    assert [d.indicator for d in got] == ["document-confiscation"]  # not negated: the learned score stands


@pytest.mark.parametrize(
    "forms",
    [
        ("passport", "passportai", "passports", "passportekak"),
        ("கடவுச்சீட்டுகளை", "kadavuchcheettukal", "kadavuchcheettu"),
        ("agent", "agentukku", "agents", "agentge"),
    ],
)
def test_inflected_forms_share_a_stem_in_the_learned_features(forms):
    stems = {nz.stem(nz.key(nz.fold(f))) for f in forms}
    assert len(stems) == 1, stems


def test_a_short_word_keeps_its_stem():
    assert nz.stem("mata") == "mata" and nz.stem("eka") == "eka"  # a stem keeps at least 3 letters


def test_the_rule_gate_changes_no_hit():
    texts = ["they took our passports on the first day", "agent ku 5 latcham kuduthom", "see you at the temple", "පාස්පෝට් එක දෙන්නේ නෑ"]
    for t in texts:
        folded = lexicon.normalise(t)
        gated = lexicon.scan_folded(LEX, folded)
        for ind in LEX.indicators:
            for r in ind.rules:
                if r.gate is not None:
                    assert bool(r.gate.search(folded)) == any(p.search(folded) for p in r.any)
        assert gated == lexicon.scan(LEX, t)


def _top_features_one_by_one(model: learned.Learned, x, row: int, indicator: str, k: int = 5) -> list[tuple[str, float]]:
    """The per-message explanation as it was computed before the batch form (the reference it must equal)."""
    import numpy as np

    j = model.indicators.index(indicator)
    idx = x.indices[x.indptr[row] : x.indptr[row + 1]]
    vals = x.data[x.indptr[row] : x.indptr[row + 1]] * model.coef[j, idx]
    order = np.argsort(-vals, kind="stable")[:k]
    return [(str(model.names[idx[o]]), round(float(vals[o]), 4)) for o in order if vals[o] > 0]


def test_the_batch_explanation_is_the_per_message_one(model):
    texts = [json.loads(line)["text"] for line in (FIXTURES / "independent_dev.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    x = model.features([*texts, "", "ok"])
    pairs = [(n, ind) for n in range(x.shape[0]) for ind in IDS]
    got = model.top_features_of(x, pairs)
    assert got == [_top_features_one_by_one(model, x, n, ind) for n, ind in pairs]
    assert any(got) and model.top_features_of(x, []) == []
    assert model.top_features(x, 0, IDS[0], k=2) == _top_features_one_by_one(model, x, 0, IDS[0], k=2)


def test_detect_pauses_the_collector_only_while_it_reads_a_batch(model):
    import gc

    det = detect.Detector(LEX, model)
    msgs = [detect.Msg("they took our passports", "t", 1), detect.Msg("see you at the temple", "t", 2)]
    assert gc.isenabled()
    want = det.detect(msgs)
    assert gc.isenabled()
    gc.disable()
    try:
        assert det.detect(msgs) == want and not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "text", ["a\u3000b\xa0 c\x1c\x1dd\u2028e\n\t f ", "\u200bpp\u200d 😂😂 lol!!", "cafe\u0301  🔒 helloooo  co. ur", "", "  \u205f "]
)
def test_fold_is_the_regex_form_it_replaced(text):
    import re
    import unicodedata

    from casegraph import texts

    t = unicodedata.normalize("NFC", text).translate(texts.JOINERS).translate(texts._EMOJI)
    t = texts._OTHER_EMOJI.sub(" ", t).lower()
    t = texts._HELD.sub(r"\1", t)
    t = texts._ABBREV.sub(lambda m: texts.ABBREVIATIONS[m.group(1)], t)
    assert texts.fold(text) == re.sub(r"\s+", " ", t).strip()


def test_the_script_is_that_of_the_first_sinhala_or_tamil_letter():
    assert nz.script("abc") is None and nz.script("") is None
    assert nz.script("xපාස්") == "sinhala" and nz.script("கடன்") == "tamil"
    assert nz.script("கපා") == "tamil" and nz.script("පාக") == "sinhala"


def test_the_features_are_the_same_once_the_word_cache_is_full(model, monkeypatch):
    texts = ["Madam keeps my pp in her cupboard!!", "engala room la poottitanga", "", "පාස්පෝට් එක දෙන්නේ නෑ zzqx 12345"]
    want = model.features(texts)
    monkeypatch.setattr(model, "_word_cache", {})
    monkeypatch.setattr(learned, "WORD_CACHE_MAX", 0)  # full: every word this batch's alone
    got = model.features(texts)
    assert model._word_cache == {}
    assert (got != want).nnz == 0 and (got.indices == want.indices).all() and (got.indptr == want.indptr).all()
