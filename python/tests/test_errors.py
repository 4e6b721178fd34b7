"""Failures surface as recdb.Error subclasses carrying the status code and
message, and a rejected batch stores nothing."""

import pytest

import recdb
from conftest import BASE_TS


def test_open_missing_is_not_found(tmp_path):
    with pytest.raises(recdb.NotFoundError) as e:
        recdb.open(str(tmp_path / "missing"))
    assert e.value.code == "not_found"
    assert e.value.status == 1
    assert e.value.message
    assert str(e.value).startswith("not_found: ")
    assert isinstance(e.value, recdb.Error)


def test_open_existing_with_error_if_exists(tmp_path):
    recdb.open(str(tmp_path / "db"), create_if_missing=True).close()
    with pytest.raises(recdb.AlreadyExistsError):
        recdb.open(str(tmp_path / "db"), error_if_exists=True)


def test_read_only_refuses_writes(tmp_path):
    recdb.open(str(tmp_path / "db"), create_if_missing=True).close()
    with recdb.open(str(tmp_path / "db"), read_only=True) as db:
        with pytest.raises(recdb.FailedPreconditionError):
            db.record_events([{"user": "u", "item": "i", "timestamp": BASE_TS}])


def test_recommend_before_train(db):
    with pytest.raises(recdb.FailedPreconditionError) as e:
        db.recommend("u1")
    assert e.value.code == "failed_precondition"


def test_train_without_events(db):
    with pytest.raises(recdb.FailedPreconditionError):
        db.train()


def test_invalid_recommend_arguments(trained):
    with pytest.raises(recdb.InvalidArgumentError):
        trained.recommend("u1", k=0)
    with pytest.raises(recdb.InvalidArgumentError):
        trained.recommend("u1", weights={"no_such_model": 1.0})
    with pytest.raises(recdb.InvalidArgumentError, match="care"):
        trained.recommend("u1", care={"kindness": 1.0})


def test_unknown_event_type_rejects_the_whole_batch(db):
    with pytest.raises(recdb.InvalidArgumentError) as e:
        db.record_events([
            {"user": "u1", "item": "i1", "type": "view", "timestamp": BASE_TS},
            {"user": "u1", "item": "i2", "type": "no_such_type", "timestamp": BASE_TS},
        ])
    assert "no_such_type" in e.value.message
    assert db.stats()["events"] == 0


@pytest.mark.parametrize("event, message", [
    ({"item": "i1", "timestamp": BASE_TS}, "events[0]: missing required event field 'user'"),
    ({"user": "u1", "timestamp": BASE_TS}, "events[0]: missing required event field 'item'"),
    ({"user": "u1", "item": "i1"}, "events[0]: missing required event field 'ts'"),
    ({"user": "u1", "item": "i1", "timestamp": "yesterday"},
     "events[0].timestamp: expected integer, got str"),
    ({"user": "u1", "item": "i1", "timestamp": BASE_TS, "value": "5"},
     "events[0].value: expected number, got str"),
    ({"user": "u1", "item": "i1", "timestamp": BASE_TS, "context": {"k": 1}}, "events[0].context"),
    ({"user": 1.5, "item": "i1", "timestamp": BASE_TS}, "events[0].user: expected string, got float"),
    ({"user": "u1", "item": "i1", "timestamp": BASE_TS, "tyep": "purchase"},
     "events[0]: unknown event field 'tyep'"),
])
def test_malformed_events_name_the_record_and_field(db, event, message):
    with pytest.raises(recdb.InvalidArgumentError, match=message.replace("[", r"\[")
                       .replace("]", r"\]")):
        db.record_events([event])
    assert db.stats()["events"] == 0


def test_malformed_records(db):
    with pytest.raises(recdb.InvalidArgumentError, match="must be a dict"):
        db.record_events(["not a dict"])
    with pytest.raises(recdb.InvalidArgumentError, match="items\\[0\\].categories"):
        db.upsert_items([{"id": "i1", "categories": "Animation"}])
    with pytest.raises(recdb.InvalidArgumentError, match="items\\[0\\].attributes.x"):
        db.upsert_items([{"id": "i1", "attributes": {"x": {"nested": 1}}}])
    with pytest.raises(recdb.InvalidArgumentError,
                       match="items\\[0\\].available: expected boolean, got int"):
        db.upsert_items([{"id": "i1", "available": 1}])
    with pytest.raises(recdb.InvalidArgumentError):
        db.upsert_items([{"id": ""}])  # rejected by the C++ API's validation
    with pytest.raises(recdb.InvalidArgumentError,
                       match="users\\[0\\]: missing required user field 'id'"):
        db.upsert_users([{}])
    assert db.stats()["items"] == 0


def test_not_found_reads(db):
    with pytest.raises(recdb.NotFoundError):
        db.get_item("nope")
    with pytest.raises(recdb.NotFoundError):
        db.get_user("nope")
    with pytest.raises(recdb.NotFoundError):
        db.history("nope")
    with pytest.raises(recdb.NotFoundError):
        db.forget("nope")
    with pytest.raises(recdb.NotFoundError):
        db.unforget("nope")
