"""The reference library: similarity to the declared category, nearest references, the training split."""

from __future__ import annotations

import numpy as np

from cargoscan.inspect.references import ReferenceLibrary, normalise, training_scan_ids


def test_compare_ranks_by_cosine(tmp_path):
    emb = normalise(np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1]], np.float32))
    lib = ReferenceLibrary(emb, np.array(["a", "b", "c", "d"]), np.array(["garments", "garments", "steel", "steel"]),
                           {"model": {"sha256": "x"}})
    lib.save(tmp_path)
    lib = ReferenceLibrary.load(tmp_path)
    out = lib.compare(np.array([0.0, 2.0, 0.0]), ["garments"], top_k=2)
    assert out["nearest_category"] == "steel" and out["nearest"][0]["scan_id"] == "c"
    assert out["similarity_declared"] < 0.2 < out["similarity_by_category"]["steel"]
    assert lib.compare(np.array([1.0, 0, 0]), ["food"])["similarity_declared"] is None


def test_training_split_from_prepare_index(tmp_path):
    idx = tmp_path / "index.csv"
    idx.write_text("scan_id,split,train_number\ns1,train,1\ns2,val,1\ns3,test,2\ns4,train,3\n", encoding="utf-8")
    assert training_scan_ids(tmp_path, str(idx)) == ["s1", "s4"]
    assert training_scan_ids(tmp_path, None) is None


def test_dominant_category_per_scan():
    from cargoscan.inspect.references import dominant_categories

    rows = [{"scan_id": "a", "true_category": "food", "true_net_weight_kg": "11648"},
            {"scan_id": "a", "true_category": "furniture", "true_net_weight_kg": "447"},
            {"scan_id": "b", "true_category": "", "true_net_weight_kg": "0"},
            {"scan_id": "c", "true_category": "", "true_net_weight_kg": "0"},
            {"scan_id": "c", "true_category": "tyres", "true_net_weight_kg": "5000"}]
    assert dominant_categories(rows) == {"a": "food", "c": "tyres"}
