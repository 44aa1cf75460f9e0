"""The learned layer of indicator detection: character n-grams with a linear model per indicator,
trained here, from data, every time (no model hub, and no pickle: nothing a case directory holds
is ever loaded as code).

- Features: TF-IDF of character n-grams (2-5, within words) and words (1-2) over the `key` view
  of `normalise` (one loose Latin spelling for Sinhala and Tamil script and their romanisations,
  so a Sinhala-script example teaches the model about Singlish too).
- Model: one ridge-regression classifier per indicator (balanced classes, solved exactly: deterministic).
- Calibration per language: Platt scaling of out-of-fold scores, one (a, b) per language
  (en, si, ta, si-Latn, ta-Latn) with a pooled fallback where a language has too few examples.
- Explanation: the n-grams of the message that pushed its score up most (weight × tf-idf).
- Training data: the labelled sets that ship in casegraph/ai/training/ (the project's own and the
  independent development split; never the held-out split) and the examiner's verdicts on
  indicator findings in the case (confirmed: a positive for that indicator; rejected: a negative
  for it; silent on the others).
- Version: the SHA-256 of the training examples and the settings; findings name it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from ..ranges import flat_ranges
from . import normalise as nz

NAME = "indicators-learned"
LANGS = ("en", "si", "ta", "si-Latn", "ta-Latn")
SETTINGS: dict[str, Any] = {
    "features": "tfidf char_wb 2-5 over normalise.key + word 1-2 over normalise.stem of it",
    "alpha": 1.0,  # ridge penalty
    "folds": 5,
    "decision_weight": 2.0,
    "min_lang_examples": 40,
    "version": 1,
}
TRAINING_FILES = (
    "labelled.jsonl",
    "independent_dev.jsonl",
    "independent_dev2.jsonl",
    "independent_dev3.jsonl",
    "independent_dev4.jsonl",
    "independent_dev5.jsonl",
    "independent_dev6.jsonl",
)
_QUOTE = re.compile(r"\u00ab(.*)\u00bb", re.S)
WORD_CACHE_MAX = 500_000  # words whose n-gram columns a process keeps (bounded memory on hostile input)

# romanised-language cues: frequent function words of Singlish and Tanglish, in `key` spelling
_SI_LATN = {
    nz.word_key(w)
    for w in (
        "eka ekak eke wage kiyala kiyanawa karanna yanna denne one thiyenawa mata mama api apita oya wala eken na ne hari machan "
        "dan lu kiwwa gaththa nathnam ganna mage ape"
    ).split()
}
_TA_LATN = {
    nz.word_key(w)
    for w in (
        "la ah irukku poren vanthu enakku naan illa pannanum sollu anga inga vechu tanga nu da um kitta enna romba panna mudiyathu "
        "sonnanga vandhu"
    ).split()
}


def guess_lang(text: str) -> str:
    """en, si, ta, si-Latn or ta-Latn: the script, then for Latin text the romanised function words."""
    return lang_of(text, nz.key(nz.fold(text)))


def lang_of(text: str, key: str) -> str:
    """guess_lang of a message whose `key` view is already made."""
    s = nz.script(text)
    if s == "sinhala":
        return "si"
    if s == "tamil":
        return "ta"
    ws = key.split(" ")
    si = sum(map(_SI_LATN.__contains__, ws))
    ta = sum(map(_TA_LATN.__contains__, ws))
    return "en" if max(si, ta) == 0 else "si-Latn" if si >= ta else "ta-Latn"


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]
    lang: str
    source: str  # the file or "decision:<finding id>"
    only: str | None = None  # an examiner's verdict speaks for this indicator only
    weight: float = 1.0
    group: str = ""  # cross-validation keeps a group in one fold (a message and its translations)

    def key(self) -> list:
        return [self.text, sorted(self.labels), self.lang, self.only, self.weight, self.group]


def read_jsonl(lines: Iterable[str], source: str) -> list[Example]:
    out = []
    for line in lines:
        if line.strip():
            r = json.loads(line)
            rid = str(r.get("id") or "")
            group = f"{source}:{rid.split('-', 1)[1]}" if "-" in rid else ""  # en-b1-001 and si-b1-001 say the same
            out.append(Example(r["text"], frozenset(r["labels"]), r.get("lang") or guess_lang(r["text"]), source, group=group))
    return out


@cache
def packaged() -> tuple[Example, ...]:
    """The labelled sets shipped with casegraph (casegraph/ai/training/)."""
    base = files(__package__).joinpath("training")
    out: list[Example] = []
    for name in TRAINING_FILES:
        f = base.joinpath(name)
        if f.is_file():
            out += read_jsonl(f.read_text(encoding="utf-8").splitlines(), f"casegraph/ai/training/{name}")
    return tuple(out)


def from_decisions(decisions: Sequence[dict], texts: dict[str, str]) -> list[Example]:
    """Examiner verdicts (review.finding_decisions) as examples: the message text from the store
    (`texts`: record id → text), else the quote the finding's summary kept."""
    out = []
    for d in decisions:
        subject = d.get("subject") or {}
        ind = (subject.get("attrs") or {}).get("indicator")
        ev = (subject.get("evidence") or [{}])[0]
        text = texts.get(ev.get("record", "")) or next(iter(_QUOTE.findall(subject.get("summary") or "")), "")
        if not ind or not text or d.get("verdict") not in ("confirmed", "rejected"):
            continue
        labels = frozenset([ind]) if d["verdict"] == "confirmed" else frozenset()
        out.append(Example(text, labels, guess_lang(text), f"decision:{d['finding_id']}", ind, float(SETTINGS["decision_weight"])))
    return out


def version(examples: Sequence[Example], indicators: Sequence[str], settings: dict | None = None) -> str:
    payload = json.dumps(
        {"settings": settings or SETTINGS, "indicators": list(indicators), "examples": [e.key() for e in examples]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _views(texts: Sequence[str]) -> list[str]:
    return [nz.key(nz.fold(t)) for t in texts]


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """a, b of p = 1 / (1 + exp(-(a s + b))), fitted by a few Newton steps (deterministic, no solver state)."""
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))  # Platt's smoothed targets
    a, b = 1.0, 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        w = np.maximum(p * (1 - p), 1e-9)
        g = np.array([np.sum((p - t) * scores), np.sum(p - t)])
        h = np.array([[np.sum(w * scores * scores), np.sum(w * scores)], [np.sum(w * scores), np.sum(w)]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


@dataclass
class Learned:
    """A trained learned layer. `scores` has the interface of models.Classifier."""

    indicators: tuple[str, ...]
    version: str
    examples: int
    sources: dict[str, int]
    vocab: tuple[dict[str, int], dict[str, int]] = field(repr=False, default=({}, {}))  # character and word n-gram → column
    idf: tuple[np.ndarray, np.ndarray] = field(repr=False, default=(np.zeros(0), np.zeros(0)))
    coef: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    intercept: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)  # "lang" → (a, b)
    names: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    _word_cache: dict[str, tuple[int, ...]] = field(repr=False, default_factory=dict)
    _analyzers: tuple = field(repr=False, default=())
    _names: list = field(repr=False, default_factory=list)  # names as a list of str (top_features_of)

    @property
    def name(self) -> str:
        return NAME

    @property
    def label(self) -> str:
        return f"{NAME}@{self.version[:16]}"

    @property
    def weights_sha256(self) -> str:
        """SHA-256 of what scores a message (features, weights, calibration): training is deterministic, so a
        model read back from the case's cache must give the digest its first run logged in custody."""
        h = hashlib.sha256()
        for a in (self.names.astype(str), *self.idf, self.coef, self.intercept):
            arr = np.ascontiguousarray(a)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        h.update(json.dumps([self.indicators, self.calibration], sort_keys=True).encode())
        return h.hexdigest()

    def features(self, texts: Sequence[str]):
        """The (messages × features) matrix of texts (see features_of_keys)."""
        return self.features_of_keys(_views(texts))

    def features_of_keys(self, views: Sequence[str]):
        """The (messages × features) matrix of messages already in the `key` view: the same as the
        fitted TF-IDF vectorizers' transform, but the character n-grams of each word are looked up
        once per word per process (they never cross words) and the word n-grams are joined here."""
        cvocab, wvocab = self.vocab
        if not self._analyzers:
            self._analyzers = (_char_analyzer(),)
        chars = self._analyzers[0]
        nc = len(self.idf[0])
        cache = self._word_cache
        split = [v.split() for v in views]
        batch = dict.fromkeys(chain.from_iterable(split))  # the batch's distinct words, in first-seen order
        extra: dict[str, tuple[int, ...]] = {}  # words of this batch only, once the process cache is full
        for w in batch.keys() - cache.keys():
            got = [i for g in chars(w) if (i := cvocab.get(g)) is not None]
            if (i := wvocab.get(nz.stem(w))) is not None:
                got.append(nc + i)  # the word's stem, as a word unigram
            (cache if len(cache) < WORD_CACHE_MAX else extra)[w] = tuple(got)
        # each distinct word's columns once, then every word of every message gathered from them by numpy
        grams = [cache[w] if w in cache else extra[w] for w in batch]
        local = {w: j for j, w in enumerate(batch)}
        per_word = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        flat = np.fromiter(chain.from_iterable(grams), dtype=np.int64, count=int(per_word.sum()))
        token = np.fromiter(map(local.__getitem__, chain.from_iterable(split)), dtype=np.int64, count=sum(map(len, split)))
        n_tok = per_word[token]
        first = np.cumsum(per_word) - per_word
        word_cols = flat[flat_ranges(first[token], n_tok)]
        word_len = np.bincount(np.repeat(np.arange(len(split)), list(map(len, split))), weights=n_tok, minlength=len(split))
        bigrams: list[int] = []
        bigram_len = []
        for ws in split:
            k = len(bigrams)
            bigrams.extend(nc + i for g in map(" ".join, pairwise(map(nz.stem, ws))) if (i := wvocab.get(g)) is not None)
            bigram_len.append(len(bigrams) - k)
        # a row's columns in any order: _tfidf sums duplicates and sorts them (counts of 1.0 sum exactly)
        rows = np.concatenate([np.repeat(np.arange(len(split)), word_len.astype(np.int64)), np.repeat(np.arange(len(split)), bigram_len)])
        cols = np.concatenate([word_cols, np.asarray(bigrams, dtype=np.int64)])[np.argsort(rows, kind="stable")]
        lengths = (word_len.astype(np.int64) + np.asarray(bigram_len, dtype=np.int64)).tolist()
        return _tfidf(cols, lengths, len(views), np.concatenate(self.idf), nc)

    def raw(self, x) -> np.ndarray:
        return np.asarray(x @ self.coef.T) + self.intercept

    def calibrate(self, raw: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        ab = np.array([self.calibration.get(lang, self.calibration.get("*", (1.0, 0.0))) for lang in langs]).reshape(-1, 2)
        return 1 / (1 + np.exp(-(ab[:, :1] * raw + ab[:, 1:])))

    def probabilities(self, texts: Sequence[str], langs: Sequence[str] | None = None, x=None) -> np.ndarray:
        """(messages × indicators) calibrated probabilities (the language guessed where not given)."""
        if not texts:
            return np.zeros((0, len(self.indicators)))
        langs = list(langs) if langs is not None else [guess_lang(t) for t in texts]
        return self.calibrate(self.raw(self.features(texts) if x is None else x), langs)

    def scores(self, texts: list[str]) -> list[dict[str, float]]:
        p = self.probabilities(texts)
        return [dict(zip(self.indicators, map(float, row), strict=True)) for row in p]

    def top_features(self, x, row: int, indicator: str, k: int = 5) -> list[tuple[str, float]]:
        """The features of message `row` of `x` that raised its score for `indicator` most: (n-gram, weight × tf-idf)."""
        return self.top_features_of(x, [(row, indicator)], k)[0]

    def top_features_of(self, x, pairs: Sequence[tuple[int, str]], k: int = 5) -> list[list[tuple[str, float]]]:
        """top_features for many (row, indicator) pairs of `x` in one numpy pass, not one per pair (a batch
        explains thousands of decisions): within each pair, features by weight × tf-idf descending, ties in
        column order (a stable sort), the first k kept if positive."""
        if not pairs:
            return []
        if len(self._names) != len(self.names):
            self._names = self.names.tolist()
        col = {ind: j for j, ind in enumerate(self.indicators)}
        rows = np.array([r for r, _ in pairs], dtype=np.int64)
        js = np.array([col[i] for _, i in pairs], dtype=np.int64)
        lo = x.indptr[rows].astype(np.int64)
        lens = x.indptr[rows + 1] - lo
        seg = np.repeat(np.arange(len(pairs)), lens)
        pos = flat_ranges(lo, lens)  # where each pair's row sits in x
        vals = x.data[pos] * self.coef[js[seg], x.indices[pos]]
        up = np.flatnonzero(vals > 0)  # only what raised the score is named; sorting descending puts it first anyway
        order = up[np.lexsort((-vals[up], seg[up]))]  # by pair, then score descending, ties in column order (stable)
        first = np.searchsorted(seg[order], np.arange(len(pairs)))  # where each pair's run starts
        keep = order[np.arange(len(order)) - first[seg[order]] < k]
        out: list[list[tuple[str, float]]] = [[] for _ in pairs]
        names = self._names
        for p, i, v in zip(seg[keep].tolist(), x.indices[pos[keep]].tolist(), vals[keep].tolist(), strict=True):
            out[p].append((str(names[i]), round(v, 4)))
        return out

    def explain(self, text: str, indicator: str, k: int = 5) -> list[tuple[str, float]]:
        return self.top_features(self.features([text]), 0, indicator, k)


def _tfidf(cols: np.ndarray | list[int], lengths: list[int], n: int, idf: np.ndarray, split: int):
    """Counts → sublinear tf × idf, each row of unit length within the columns before `split` and
    within those after it: the character and the word TfidfVectorizer(sublinear_tf=True), side by side."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    m = sparse.csr_matrix((np.ones(len(cols)), np.asarray(cols, dtype=np.int64), indptr), shape=(n, len(idf)))
    m.sum_duplicates()
    m.data = (1 + np.log(m.data)) * idf[m.indices]
    rows = np.repeat(np.arange(n), np.diff(m.indptr))
    part = rows * 2 + (m.indices >= split)
    norms = np.sqrt(np.bincount(part, weights=m.data * m.data, minlength=2 * n))
    norms[norms == 0] = 1
    m.data /= norms[part]
    return m


def _fit_linear(x, ys: np.ndarray, masks: np.ndarray, weights: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression on ±1 targets per indicator, classes balanced, solved in its dual form
    ((K + alpha W⁻¹) a = y with K = X Xᵀ + 1 for the intercept): exact, deterministic and fast
    while examples number in the thousands."""
    coef = np.zeros((ys.shape[1], x.shape[1]))
    intercept = np.zeros(ys.shape[1])
    for j in range(ys.shape[1]):
        rows = np.flatnonzero(masks[:, j])
        y = ys[rows, j]
        if len(np.unique(y)) < 2:
            intercept[j] = -1.0 if not y.any() else 1.0
            continue
        xr = x[rows]
        k = (xr @ xr.T).toarray() + 1.0
        balance = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
        w = weights[rows] * balance
        a = np.linalg.solve(k + alpha * np.diag(1 / w), np.where(y == 1, 1.0, -1.0))
        coef[j] = np.asarray(xr.T @ a).ravel()
        intercept[j] = a.sum()
    return coef, intercept


def _matrices(examples: Sequence[Example], indicators: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ys = np.array([[i in e.labels for i in indicators] for e in examples], dtype=int).reshape(len(examples), len(indicators))
    masks = np.array([[e.only is None or e.only == i for i in indicators] for e in examples], dtype=bool).reshape(ys.shape)
    weights = np.array([e.weight for e in examples], dtype=float)
    return ys, masks, weights


def _char_analyzer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()


def _vectorizers(views: Sequence[str]) -> list:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, dtype=np.float64).fit(views),
        TfidfVectorizer(analyzer=_stem_grams, sublinear_tf=True, min_df=1, dtype=np.float64).fit(views),
    ]


def _stem_grams(view: str) -> list[str]:
    """Word unigrams and bigrams of a `key` view, each word as its stem (normalise.stem)."""
    st = [nz.stem(w) for w in view.split()]
    return [*st, *map(" ".join, pairwise(st))]


def _groups(examples: Sequence[Example]) -> list[str]:
    """Fold groups: an example and its translations (ids like en-b1-001 / si-b1-001) stay together."""
    return [e.group or hashlib.sha256(e.text.encode()).hexdigest() for e in examples]


def train(examples: Sequence[Example], indicators: Sequence[str], groups: Sequence[str] | None = None) -> Learned:
    """Fit features and models on every example; calibrate per language on out-of-fold scores."""
    from sklearn.model_selection import GroupKFold

    examples = list(examples)
    indicators = tuple(indicators)
    views = _views([e.text for e in examples])
    ys, masks, weights = _matrices(examples, indicators)
    c = float(SETTINGS["alpha"])
    groups = list(groups) if groups is not None else _groups(examples)
    folds = min(int(SETTINGS["folds"]), len(set(groups)))
    oof = np.zeros(ys.shape)
    if folds >= 2:
        for tr, te in GroupKFold(n_splits=folds).split(views, groups=groups):
            vecs = _vectorizers([views[i] for i in tr])
            xt = sparse.hstack([v.transform([views[i] for i in tr]) for v in vecs]).tocsr()
            co, ic = _fit_linear(xt, ys[tr], masks[tr], weights[tr], c)
            xe = sparse.hstack([v.transform([views[i] for i in te]) for v in vecs]).tocsr()
            oof[te] = np.asarray(xe @ co.T) + ic
    langs = np.array([e.lang for e in examples])
    calibration = {"*": _platt(oof[masks], ys[masks])}
    for lang in LANGS:
        sel = (langs == lang)[:, None] & masks
        if (langs == lang).sum() >= int(SETTINGS["min_lang_examples"]):
            calibration[lang] = _platt(oof[sel], ys[sel])
    vecs = _vectorizers(views)
    x = sparse.hstack([v.transform(views) for v in vecs]).tocsr()
    coef, intercept = _fit_linear(x, ys, masks, weights, c)
    names = np.concatenate([v.get_feature_names_out() for v in vecs])
    nc = len(vecs[0].vocabulary_)
    vocab = ({str(g): i for i, g in enumerate(names[:nc])}, {str(g): i for i, g in enumerate(names[nc:])})
    sources: dict[str, int] = {}
    for e in examples:
        k = "examiner decisions" if e.source.startswith("decision:") else e.source
        sources[k] = sources.get(k, 0) + 1
    return Learned(
        indicators,
        version(examples, indicators),
        len(examples),
        sources,
        vocab,
        (vecs[0].idf_, vecs[1].idf_),
        coef,
        intercept,
        calibration,
        names,
    )


_TRAINED: dict[str, Learned] = {}


def save(model: Learned, path: Path) -> None:
    """The trained arrays in one .npz (no pickle), named by the model's version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps(
        {
            "version": model.version,
            "indicators": model.indicators,
            "examples": model.examples,
            "sources": model.sources,
            "calibration": model.calibration,
            "chars": len(model.vocab[0]),
        },
        ensure_ascii=False,
    )
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        meta=np.array(meta),
        names=model.names.astype(str),
        idf_chars=model.idf[0],
        idf_words=model.idf[1],
        coef=model.coef,
        intercept=model.intercept,
    )
    tmp.replace(path)


def load(path: Path, want: str) -> Learned | None:
    """The model saved at `path` if it is version `want` and whole; None otherwise (then it is retrained)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            names, idf, coef, intercept = z["names"], (z["idf_chars"], z["idf_words"]), z["coef"], z["intercept"]
    except (OSError, ValueError, KeyError):
        return None
    nc = int(meta.get("chars", -1))
    if (
        meta.get("version") != want
        or coef.shape != (len(meta["indicators"]), len(names))
        or nc != len(idf[0])
        or len(names) != nc + len(idf[1])
    ):
        return None
    vocab = ({str(g): i for i, g in enumerate(names[:nc])}, {str(g): i for i, g in enumerate(names[nc:])})
    cal = {k: (float(a), float(b)) for k, (a, b) in meta["calibration"].items()}
    return Learned(tuple(meta["indicators"]), want, int(meta["examples"]), dict(meta["sources"]), vocab, idf, coef, intercept, cal, names)


def for_case(
    indicators: Sequence[str],
    decisions: Sequence[dict] = (),
    texts: dict[str, str] | None = None,
    cache: Path | None = None,
    trusted: Sequence[str] = (),
) -> Learned:
    """The learned layer for a case: the packaged sets plus the case's examiner decisions. Trained
    once per version (same data and settings give the same model) and kept in `cache` as
    <version>.npz, so a later run with the same data loads it instead of training again. A cached
    file is used only when its weights give a digest in `trusted` (those the case's custody log
    recorded for runs of this version): a file edited, or planted, in the case folder is trained
    over instead, so no finding rests on weights nobody logged."""
    examples = [*packaged(), *from_decisions(decisions, texts or {})]
    v = version(examples, indicators)
    if v not in _TRAINED:
        path = cache / f"{NAME}-{v}.npz" if cache is not None else None
        model = load(path, v) if path is not None and path.is_file() else None
        if model is not None and model.weights_sha256 not in trusted:
            model = None
        if model is None:
            model = train(examples, indicators)
            if path is not None:
                with suppress(OSError):  # a read-only case directory: train again next time
                    save(model, path)
        _TRAINED[v] = model
    return _TRAINED[v]
