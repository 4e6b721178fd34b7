"""Shared fixtures: a small two-cluster world in a fresh database.

Twenty items a0..a9 (category A) and b0..b9 (category B); forty users, the
first twenty view six A items each, the rest six B items, in rotating
windows so co-occurrence is rich (as tests/engine/recommend_test.cc).
"""

import pytest

import recdb

BASE_TS = 1700000000


def world_items():
    items = []
    for i in range(20):
        cluster = "a" if i < 10 else "b"
        items.append({
            "id": f"{cluster}{i % 10}",
            "title": f"{'Alpha' if i < 10 else 'Beta'} {i % 10}",
            "categories": [cluster.upper()],
            "attributes": {"cluster": cluster, "rank": float(i % 10)},
        })
    return items


def world_events():
    events = []
    for u in range(40):
        cluster = "a" if u < 20 else "b"
        for j in range(6):
            events.append({"user": f"u{u}", "item": f"{cluster}{(u + j) % 10}",
                           "type": "view", "timestamp": BASE_TS + u * 100 + j})
    return events


@pytest.fixture
def db(tmp_path):
    database = recdb.open(str(tmp_path / "db"), create_if_missing=True, background_threads=0)
    yield database
    database.close()


@pytest.fixture
def world(db):
    db.upsert_items(world_items())
    db.record_events(world_events())
    return db


@pytest.fixture
def trained(world):
    world.train(ials_factors=8, ials_iterations=5)
    return world
