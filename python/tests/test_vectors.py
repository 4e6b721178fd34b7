"""Embedding spaces from Python: vectors as lists or numpy arrays."""

import numpy as np
import pytest

import recdb


def test_spaces_lifecycle(world):
    world.create_space("emb", 3, metric="cosine", model_name="test", model_version="1")
    world.create_space("l2", 2, metric="l2", hnsw_m=8, ef_construction=50, ef_search=20)
    spaces = {s["name"]: s for s in world.spaces()}
    assert spaces["emb"]["dimension"] == 3 and spaces["emb"]["metric"] == "cosine"
    assert spaces["emb"]["model_name"] == "test"
    assert spaces["l2"]["metric"] == "l2" and spaces["l2"]["hnsw_m"] == 8
    with pytest.raises(recdb.AlreadyExistsError):
        world.create_space("emb", 3)
    with pytest.raises(recdb.InvalidArgumentError, match="metric"):
        world.create_space("x", 3, metric="manhattan")
    world.drop_space("l2")
    assert [s["name"] for s in world.spaces()] == ["emb"]
    with pytest.raises(recdb.NotFoundError):
        world.drop_space("l2")


def test_put_vectors_from_lists_and_numpy(world):
    world.create_space("emb", 3)
    world.put_vectors("emb", ["a0", "a1"], [[1, 0, 0], [0.9, 0.1, 0.0]])
    world.put_vectors("emb", ["b0", "b1"], np.array([[0, 1, 0], [0, 0.9, 0.1]]))  # float64
    world.put_vectors("emb", ["u0"], np.ones((1, 3), dtype=np.float32), kind="user", sync=True)
    assert world.get_vector("emb", "a1") == pytest.approx([0.9, 0.1, 0.0])
    assert world.get_vector("emb", "b0") == [0.0, 1.0, 0.0]
    assert world.get_vector("emb", "u0", kind="user") == [1.0, 1.0, 1.0]
    info = world.spaces()[0]
    assert (info["item_vectors"], info["user_vectors"]) == (4, 1)

    by_list = world.search("emb", [1, 0.05, 0], k=2)
    by_numpy = world.search("emb", np.array([1, 0.05, 0], dtype=np.float64), k=2)
    assert by_list == by_numpy
    assert {r["item"] for r in by_list} == {"a0", "a1"}
    assert by_list[0]["score"] > 0.99
    filtered = world.search("emb", [1, 0.05, 0], k=2, categories=["B"])
    assert {r["item"] for r in filtered} == {"b0", "b1"}
    assert world.search_similar_to_item("emb", "a0", k=1)[0]["item"] == "a1"

    world.delete_vectors("emb", ["a1"])
    with pytest.raises(recdb.NotFoundError):
        world.get_vector("emb", "a1")


def test_bad_vectors_store_nothing(world):
    world.create_space("emb", 3)
    with pytest.raises(recdb.InvalidArgumentError):  # wrong dimension
        world.put_vectors("emb", ["a0"], [[1, 0]])
    with pytest.raises(recdb.InvalidArgumentError, match="2 rows for 1 ids"):
        world.put_vectors("emb", ["a0"], np.ones((2, 3)))
    with pytest.raises(recdb.InvalidArgumentError, match="2-dimensional"):
        world.put_vectors("emb", ["a0"], np.ones(3))
    with pytest.raises(recdb.InvalidArgumentError):  # NaN
        world.put_vectors("emb", ["a0", "a1"], [[1, 0, 0], [float("nan"), 0, 0]])
    with pytest.raises(recdb.InvalidArgumentError):  # unknown item
        world.put_vectors("emb", ["zz"], [[1, 0, 0]])
    with pytest.raises(recdb.InvalidArgumentError, match="number"):
        world.put_vectors("emb", ["a0"], [["x", 0, 0]])
    with pytest.raises(recdb.InvalidArgumentError, match="kind"):
        world.put_vectors("emb", ["a0"], [[1, 0, 0]], kind="shop")
    with pytest.raises(recdb.NotFoundError):
        world.put_vectors("nope", ["a0"], [[1, 0, 0]])
    assert world.spaces()[0]["item_vectors"] == 0
    with pytest.raises(recdb.InvalidArgumentError):
        world.search("emb", [1, 0], k=2)
