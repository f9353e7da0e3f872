"""Every document of the JSON:API conformance suite, through the model for its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from midil_common.errors import InvalidDocumentError
from midil_common.jsonapi import CreateDocument, Document, RelationshipDocument, UpdateDocument

# The specification's own test documents, vendored (public domain): see PROVENANCE.md there.
SUITE = Path(__file__).resolve().parent / "conformance"
FOLDERS = {"tests-1.0": {"jsonapi_version": "1.0"}, "tests-1.1-draft": {}}
MODELS = {
    "request/resource/create": CreateDocument,
    "request/resource/update": UpdateDocument,
    "request/relationship/update": RelationshipDocument,
    "response": Document,
}


def _cases() -> list[tuple[str, Path]]:
    cases = []
    for folder in FOLDERS:
        for path in sorted((SUITE / folder).rglob("*.json")):
            cases.append((folder, path))
    return cases


CASES = _cases()


def _model(rel: str) -> type[Document | CreateDocument | UpdateDocument | RelationshipDocument]:
    for prefix, model in MODELS.items():
        if rel.startswith(prefix):
            return model
    raise AssertionError(f"no model for {rel}")


def test_the_suite_is_there() -> None:
    assert len(CASES) >= 110
    assert sum(1 for _, p in CASES if "/invalid/" in p.as_posix()) >= 70


@pytest.mark.parametrize(
    ("folder", "path"), CASES, ids=[str(p.relative_to(SUITE)) for _, p in CASES]
)
def test_conformance(folder: str, path: Path) -> None:
    rel = path.relative_to(SUITE / folder).as_posix()
    model = _model(rel)
    context = FOLDERS[folder]
    text = path.read_bytes()
    if "/valid/" in f"/{rel}":
        model.model_validate_json(text, context=context)
    else:
        assert "/invalid/" in f"/{rel}"
        with pytest.raises(InvalidDocumentError) as info:
            model.model_validate_json(text, context=context)
        assert info.value.status == 400
        assert info.value.errors
        for err in info.value.errors:
            assert isinstance(err.source.pointer, str)
