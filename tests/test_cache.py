"""The cache of checked matrices: a hit gives the same matrix without checking it again; a miss, a broken
entry, an unwritable directory or a changed matrix all fall back to checking it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage import cache
from triage import matrix as matrix_mod
from triage.engine import resolve_answers, triage
from triage.errors import MatrixError

from .conftest import MATRIX_PATH

AT = "2026-11-27T10:00:00-05:00"


def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each time the matrix is really parsed and checked."""
    calls: list[str] = []
    real = matrix_mod.read_matrix

    def counting(data: bytes, source: str):  # noqa: ANN202
        calls.append(source)
        return real(data, source)

    monkeypatch.setattr(matrix_mod, "read_matrix", counting)
    return calls


def result(m) -> dict:  # noqa: ANN001
    from datetime import datetime

    answers, skipped = resolve_answers(m, {"confirmed": True, "scope": "many_accounts", "impact": "workflow_blocked",
                                           "workaround": "none", "security": False, "areas": ["billing"],
                                           "vendor": False, "deadline": False, "strategic_account": False})
    return triage(m, answers, skipped=skipped, at=datetime.fromisoformat(AT)).to_json()


def test_a_second_load_comes_from_the_cache_and_is_the_same_matrix(monkeypatch):
    calls = loads(monkeypatch)
    data = MATRIX_PATH.read_bytes()
    first = matrix_mod.read_matrix_cached(data, "matrix.yaml")
    second = matrix_mod.read_matrix_cached(data, "matrix.yaml")
    assert calls == ["matrix.yaml"]
    assert second is not first and second.sha256 == first.sha256
    assert result(second) == result(first)
    assert oct(cache.directory().stat().st_mode & 0o777) == "0o700"


def test_other_bytes_or_another_place_are_checked_again(monkeypatch):
    calls = loads(monkeypatch)
    data = MATRIX_PATH.read_bytes()
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    matrix_mod.read_matrix_cached(data + b"\n# a comment\n", "matrix.yaml")
    matrix_mod.read_matrix_cached(data, "other/matrix.yaml")
    assert len(calls) == 3


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05K\x01.", None])
def test_a_broken_entry_is_a_miss_and_is_replaced(monkeypatch, damage):
    data = MATRIX_PATH.read_bytes()
    expected = result(matrix_mod.read_matrix(data, "matrix.yaml"))
    calls = loads(monkeypatch)
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    [entry] = cache.directory().glob("matrix-*.pickle")
    if damage is None:
        entry.write_bytes(entry.read_bytes()[:1000])  # cut short
    else:
        entry.write_bytes(damage)
    assert result(matrix_mod.read_matrix_cached(data, "matrix.yaml")) == expected
    assert len(calls) == 2
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    assert len(calls) == 2  # the entry was rewritten whole


def test_problems_are_never_cached(monkeypatch):
    calls = loads(monkeypatch)
    for _ in range(2):
        with pytest.raises(MatrixError):
            matrix_mod.read_matrix_cached(b"matrix: [", "broken.yaml")
    assert len(calls) == 2
    assert not list(cache.directory().glob("matrix-*.pickle")) if cache.directory().exists() else True


def test_turned_off_or_unwritable_still_loads(monkeypatch, tmp_path):
    calls = loads(monkeypatch)
    data = MATRIX_PATH.read_bytes()
    monkeypatch.setenv("TRIAGE_CACHE_DIR", "")
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    assert len(calls) == 2
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(blocked / "cache"))
    assert matrix_mod.read_matrix_cached(data, "matrix.yaml").sha256
    assert blocked.read_text() == "not a directory"


def test_only_the_newest_entries_are_kept(monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 3)
    data = MATRIX_PATH.read_bytes()
    for n in range(6):
        matrix_mod.read_matrix_cached(data + f"\n# {n}\n".encode(), "matrix.yaml")
    entries = list(cache.directory().glob("*.pickle"))
    assert len(entries) == 3
    assert not list(Path(cache.directory()).glob(".*"))  # no partly written entry left behind
    assert all(os.access(e, os.R_OK) for e in entries)


@pytest.mark.parametrize("opened", ["folder", "entry"])
def test_an_entry_others_could_have_written_is_not_loaded(monkeypatch, opened):
    calls = loads(monkeypatch)
    data = MATRIX_PATH.read_bytes()
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    [entry] = cache.directory().glob("matrix-*.pickle")
    target = cache.directory() if opened == "folder" else entry
    target.chmod(target.stat().st_mode | 0o022)
    matrix_mod.read_matrix_cached(data, "matrix.yaml")
    assert len(calls) == 2


# ------------------------------------------------------------------------------------------ validators

def _outcome(validate, data):  # noqa: ANN001, ANN202
    from pydantic import ValidationError

    try:
        return "valid", validate(data)
    except ValidationError as exc:
        return "invalid", exc.errors(include_url=False, include_context=False)


def _structures() -> list[dict]:
    """The shipped matrix as data, and copies of it with one mistake of each kind pydantic reports."""
    import copy

    from triage.yamlsafe import load

    doc, _ = load(MATRIX_PATH.read_text(), "matrix.yaml")
    good = doc.data
    edits = [
        lambda d: d["matrix"].update(review_every_dayz=90),  # unknown key
        lambda d: d["matrix"].pop("owner"),  # missing field
        lambda d: d["matrix"].update(review_every_days="90"),  # text for a number (strict)
        lambda d: d["matrix"].update(review_every_days=0),  # out of range
        lambda d: d["matrix"].update(owner="Support Lead"),  # not an id
        lambda d: d["matrix"].update(revised="27 November"),  # not a date
        lambda d: d["severities"][next(iter(d["severities"]))]["targets"].update(acknowledge="soon"),  # a duration
        lambda d: d["questions"][0].update(kind="maybe"),  # not one of the kinds
        lambda d: d["roles"].update(helper=[1, 2]),  # a list for a mapping
        lambda d: d.update(questions="none"),  # text for a list
    ]
    out = [good]
    for change in edits:
        data = copy.deepcopy(good)
        change(data)
        out.append(data)
    return out


def test_a_format_validator_is_built_once_then_loaded_and_judges_alike(monkeypatch):
    from triage.model import MatrixModel

    built = cache.validator(MatrixModel)
    assert list(cache.directory().glob("validator-*.pickle"))

    def no_building() -> None:
        raise AssertionError("the validator was built again instead of loaded")

    monkeypatch.setattr(MatrixModel, "model_rebuild", no_building)
    loaded = cache.validator(MatrixModel)
    assert loaded is not built
    structures = _structures()
    outcomes = [_outcome(MatrixModel.model_validate, data) for data in structures]
    assert outcomes[0][0] == "valid" and all(kind == "invalid" for kind, _ in outcomes[1:])
    assert [_outcome(loaded.validate_python, data) for data in structures] == outcomes


def test_a_broken_validator_entry_is_built_again(monkeypatch):
    from triage.model import MatrixModel

    cache.validator(MatrixModel)
    [entry] = cache.directory().glob("validator-*.pickle")
    entry.write_bytes(b"not a pickle")
    rebuilt: list[bool] = []
    real = MatrixModel.model_rebuild
    monkeypatch.setattr(MatrixModel, "model_rebuild", lambda: rebuilt.append(True) or real())
    validator = cache.validator(MatrixModel)
    assert rebuilt == [True]
    assert _outcome(validator.validate_python, _structures()[0])[0] == "valid"
    assert entry.read_bytes() != b"not a pickle"
