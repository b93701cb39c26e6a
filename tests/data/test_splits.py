from cargoscan.data.splits import split_trains


def test_splits_are_by_train_deterministic_and_non_empty():
    trains = [f"T{i}" for i in range(20) for _ in range(5)]  # 5 wagons per train
    a = split_trains(trains, (0.7, 0.15, 0.15), seed=1)
    assert a == split_trains(list(reversed(trains)), (0.7, 0.15, 0.15), seed=1)
    assert set(a) == set(trains)  # one split per train: no train can be in two
    counts = {s: sum(v == s for v in a.values()) for s in ("train", "val", "test")}
    assert counts == {"train": 14, "val": 3, "test": 3}
    assert a != split_trains(trains, (0.7, 0.15, 0.15), seed=2)


def test_three_trains_fill_three_splits():
    assert sorted(split_trains(["a", "b", "c"], (0.8, 0.1, 0.1)).values()) == ["test", "train", "val"]


def test_adding_a_train_keeps_the_others_in_place_mostly():
    base = [f"T{i}" for i in range(30)]
    a, b = split_trains(base, (0.7, 0.15, 0.15)), split_trains(base + ["new"], (0.7, 0.15, 0.15))
    assert sum(a[t] != b[t] for t in base) <= 2
