"""Issue 19 on the Python surface: records are validated like every other
surface's (unknown key, missing field, wrong type, invalid UTF-8: an error
naming the field, nothing of the batch stored); events of a forgotten user
are reported as dropped; the erasure receipt is true; bad arguments raise
recdb.Error subclasses, never TypeError/ValueError/RuntimeError."""

import pytest

import recdb
from conftest import BASE_TS


def test_misspelt_event_key_is_an_error_not_a_view_now(db):
    # The record: "tyep" was ignored (stored as a view) and "ts" too
    # (stored at the current time).
    with pytest.raises(recdb.InvalidArgumentError) as e:
        db.record_events([{"user": "a", "item": "i1", "ts": 1500000000, "tyep": "purchase"}])
    assert e.value.code == "invalid_argument"
    assert "unknown event field 'tyep'" in e.value.message
    assert db.stats()["events"] == 0


def test_ts_is_the_timestamp_on_every_surface(db):
    db.record_events([{"user": "a", "item": "i1", "ts": 1500000000, "type": "purchase"}])
    [event] = db.history("a")
    assert (event["timestamp"], event["type"]) == (1500000000, "purchase")
    with pytest.raises(recdb.InvalidArgumentError, match="given twice"):
        db.record_events([{"user": "a", "item": "i1", "ts": 1, "timestamp": 2}])


def test_misspelt_item_key_is_an_error_not_dropped(db):
    with pytest.raises(recdb.InvalidArgumentError, match="items\\[1\\]: unknown item field 'titel'"):
        db.upsert_items([{"id": "i0", "title": "fine"}, {"id": "i1", "titel": "Heat"}])
    assert db.stats()["items"] == 0


def test_unknown_user_and_consent_keys(db):
    with pytest.raises(recdb.InvalidArgumentError, match="unknown user field 'name'"):
        db.upsert_users([{"id": "u1", "name": "x"}])
    with pytest.raises(recdb.InvalidArgumentError, match="unknown consent field 'traning'"):
        db.upsert_users([{"id": "u1", "consent": {"traning": False}}])
    assert db.stats()["users"] == 0


def test_bad_record_late_in_the_batch_stores_nothing(db):
    good = [{"user": f"u{i}", "item": "i1", "ts": BASE_TS + i} for i in range(50)]
    with pytest.raises(recdb.InvalidArgumentError, match="events\\[50\\].value"):
        db.record_events(good + [{"user": "u", "item": "i1", "ts": BASE_TS, "value": "high"}])
    stats = db.stats()
    assert (stats["events"], stats["users"], stats["items"]) == (0, 0, 0)


def test_lone_surrogate_is_invalid_utf8_naming_the_field(db):
    with pytest.raises(recdb.InvalidArgumentError, match="events\\[0\\].item: not valid UTF-8"):
        db.record_events([{"user": "u", "item": "bad\udcff", "ts": BASE_TS}])
    with pytest.raises(recdb.InvalidArgumentError, match="items\\[0\\].title: not valid UTF-8"):
        db.upsert_items([{"id": "i", "title": "\ud800"}])


def test_events_of_a_forgotten_user_are_reported_dropped(db):
    assert db.record_events([{"user": "gone", "item": "i1", "ts": BASE_TS}]) == {
        "stored": 1, "counted_only": 0, "dropped_forgotten": 0}
    db.forget("gone")
    result = db.record_events([{"user": "gone", "item": "i1", "ts": BASE_TS + 1},
                               {"user": "kept", "item": "i1", "ts": BASE_TS + 1}])
    assert result == {"stored": 1, "counted_only": 0, "dropped_forgotten": 1}
    assert db.stats()["events"] == 1


def test_receipt_says_an_auto_created_user_had_a_record(db):
    db.record_events([{"user": "auto", "item": "i1", "ts": BASE_TS}])
    assert db.get_user("auto")["id"] == "auto"  # get, dump and stats all show it
    receipt = db.forget("auto")
    assert receipt["had_user_record"] is True
    assert receipt["user_auto_created"] is True
    db.upsert_users([{"id": "explicit"}])
    receipt = db.forget("explicit")
    assert receipt["had_user_record"] is True
    assert receipt["user_auto_created"] is False


@pytest.mark.parametrize("call", [
    lambda db: db.record_events([{"user": "u", "item": "i", "ts": 2 ** 70}]),
    lambda db: db.history("u", start=2 ** 70),
    lambda db: db.recommend("u", now=2 ** 70),
    lambda db: db.recommend("u", k=-1),
    lambda db: db.recommend("u", k=2.5),
    lambda db: db.similar("i", k=-1),
    lambda db: db.similar("i", k=2.5),
    lambda db: db.get_user("bad\udcff"),
    lambda db: db.get_item("bad\udcff"),
    lambda db: db.forget("bad\udcff"),
    lambda db: db.recommend("bad\udcff"),
])
def test_bad_arguments_raise_invalid_argument(trained, call):
    with pytest.raises(recdb.InvalidArgumentError):
        call(trained)


def test_object_dtype_vectors_raise_invalid_argument(db):
    np = pytest.importorskip("numpy")
    db.create_space("s", 2)
    with pytest.raises(recdb.InvalidArgumentError, match="real numbers"):
        db.put_vectors("s", ["a"], np.array([["x", None]], dtype=object))
    with pytest.raises(recdb.InvalidArgumentError):
        db.search("s", np.array(["x", None], dtype=object))


def test_require_known_user_is_not_found_instead_of_the_fallback(trained):
    # Item 5: the fallback explains itself; a caller who wants NotFound for
    # an unknown user asks for it (the keyword was a TypeError before).
    fallback = trained.recommend("stranger", k=3)
    assert len(fallback) == 3
    assert all("does not know your tastes yet" in r["explanation"]["sentence"] for r in fallback)
    with pytest.raises(recdb.NotFoundError, match="unknown user 'stranger'") as e:
        trained.recommend("stranger", k=3, require_known_user=True)
    assert e.value.code == "not_found"
    assert len(trained.recommend("u3", k=3, require_known_user=True)) == 3
