"""The cache of checked matrices: a hit gives the same matrix without checking it again; a miss, a broken
entry, an unwritable directory or a changed matrix all fall back to checking it. A matrix from the cache
holds plain records in place of the models, the same on a miss as on a hit."""

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


MATRICES = [MATRIX_PATH, *sorted((MATRIX_PATH.parent / "tests" / "matrices").glob("*.yaml"))]
WITH_EXCEPTIONS = MATRIX_PATH.read_text().replace("exceptions: []\n", """exceptions:
  - id: launch_week
    scope: {account: ACME, starts: 2026-11-30T00:00:00, ends: 2026-12-05T00:00:00}
    changes:
      targets: {sev2: {acknowledge: 15m}}
      update_every: {sev3: 2h}
      notify: [leadership]
    reason: Launch week
    approver: leadership
    expires: 2027-01-31
""")


@pytest.mark.parametrize("text", [*[p.read_text() for p in MATRICES], WITH_EXCEPTIONS],
                         ids=[*[p.name for p in MATRICES], "with-exceptions"])
def test_a_matrix_from_the_cache_holds_records_with_the_models_values(text):
    import pickle

    from triage.frozen import Record

    data = text.encode()
    checked = matrix_mod.read_matrix(data, "matrix.yaml")
    missed = matrix_mod.read_matrix_cached(data, "matrix.yaml")  # checked now, and kept
    found = matrix_mod.read_matrix_cached(data, "matrix.yaml")  # from the entry
    for m in (missed, found):
        assert isinstance(m.model, Record) and type(m.model).__name__ == "MatrixModel"
        assert all(isinstance(level.spec, Record) for level in m.levels.values())
        assert m.levels[1].spec is m.model.severities[m.levels[1].id]  # shared objects stay shared
        kept = pickle.dumps(m)
        assert b"pydantic" not in kept and b"triage.model" not in kept
        assert repr(m.model) == repr(checked.model)  # every field of every model, nested, in order
        assert m.model == found.model and m.model != checked.model.matrix


def test_a_record_compares_hashes_and_refuses_changes_like_a_frozen_model():
    import pickle

    from triage.frozen import thaw

    checked = matrix_mod.read_matrix(MATRIX_PATH.read_bytes(), "matrix.yaml")
    role = next(iter(checked.model.roles.values()))
    record = thaw("Role", dict(role.__dict__))
    assert record == thaw("Role", dict(role.__dict__)) and hash(record) == hash(thaw("Role", dict(role.__dict__)))
    assert record != thaw("Notice", {"role": role.name, "when": role.where})  # another kind, same values
    assert record != thaw("Role", {**role.__dict__, "name": "Someone else"})
    assert (record == role) is False  # a record never equals the model it was made from
    with pytest.raises(TypeError):
        hash(thaw("MatrixInfo", dict(checked.model.matrix.__dict__)))  # holds lists, as the model does
    with pytest.raises(TypeError):
        hash(checked.model.matrix)
    with pytest.raises(AttributeError, match="read-only"):
        record.name = "changed"
    with pytest.raises(AttributeError, match="read-only"):
        del record.name
    assert pickle.loads(pickle.dumps(record)) == record and repr(record) == repr(role)


def test_a_matrix_that_cannot_be_kept_is_still_loaded(monkeypatch):
    def cannot(value):  # noqa: ANN001, ANN202
        raise TypeError("cannot pickle this")

    monkeypatch.setattr(cache, "frozen", cannot)
    data = MATRIX_PATH.read_bytes()
    assert result(matrix_mod.read_matrix_cached(data, "matrix.yaml")) == result(matrix_mod.read_matrix(data, "m"))
    assert not cache.directory().exists() or not list(cache.directory().glob("matrix-*.pickle"))


def test_the_cache_key_follows_the_installed_pydantic(monkeypatch):
    data = MATRIX_PATH.read_bytes()
    before = cache.key("matrix", data, "matrix.yaml")
    monkeypatch.setattr(cache, "_pydantic_stamp", lambda: b"VERSION = '9.9.9'")
    assert cache.key("matrix", data, "matrix.yaml") != before


def test_the_pydantic_stamp_is_its_version_file():
    from pydantic import VERSION

    cache._pydantic_stamp.cache_clear()
    assert VERSION.encode() in cache._pydantic_stamp()


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
