import numpy as np
import pytest

from cargoscan.data.tiling import crop, stitch, tile_grid, tile_starts


@pytest.mark.parametrize("length,tile,overlap", [(300, 128, 32), (128, 128, 32), (50, 64, 16), (1000, 256, 0)])
def test_tiles_cover_every_pixel_within_bounds(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    covered = np.zeros(max(length, tile), bool)
    for s in starts:
        covered[s:s + tile] = True
        assert s >= 0 and (s + tile <= length or length <= tile)
    assert covered[:length].all()
    if len(starts) > 1:
        assert min(b - a for a, b in zip(starts, starts[1:])) <= tile - overlap


def test_stitch_of_crops_restores_the_image():
    rng = np.random.default_rng(0)
    image = rng.random((2, 70, 200)).astype(np.float32)
    origins = tile_grid(image.shape[1:], 64, 16)
    tiles = np.stack([crop(image, y, x, 64) for y, x in origins])
    np.testing.assert_allclose(stitch(tiles, origins, image.shape[1:], 16), image, rtol=1e-5, atol=1e-6)


def test_crop_pads_with_fill_past_the_edge():
    a = np.ones((1, 10, 10), np.float32)
    c = crop(a, 0, 0, 32, fill=0)
    assert c.shape == (1, 32, 32) and c[0, :10, :10].all() and c[0, 10:].sum() == 0


def test_tiles_weigh_by_the_load_in_them():
    """A tile of air barely counts in a wagon's pooled category; a full one counts fully; half, half."""
    from cargoscan.data.tiling import LOAD_A, load_weights, pool

    air, full, half = np.zeros((8, 8)), np.full((8, 8), 3.0), np.zeros((8, 8))
    half[:4] = 1.0
    w = load_weights(np.stack([air, full, half]))
    assert w[0] == pytest.approx(1e-3) and w[1] == pytest.approx(1 + 1e-3) and w[2] == pytest.approx(0.5 + 1e-3)
    assert load_weights(np.full((1, 4, 4), LOAD_A))[0] == pytest.approx(1e-3)   # at the threshold: not load
    logits = np.array([[10.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    pooled = pool(logits, w)
    assert pooled[1] > pooled[0]                      # the air tile's category hardly moves the wagon's
    assert pooled == pytest.approx((logits * w[:, None]).sum(0) / w.sum())


def test_evaluate_and_the_engine_pool_the_category_alike():
    """One pooling: evaluate's and the engine's category logits use the same weights (issue: one definition)."""
    from cargoscan.data import tiling
    from cargoscan.inspect import tiling as engine_tiling
    from cargoscan.training import evaluate

    assert evaluate.load_weights is tiling.load_weights is engine_tiling.load_weights
    assert evaluate.pool is tiling.pool


def test_crops_past_the_edge_are_padded_with_air_in_every_channel():
    """Air is A = 0 but a dual-energy ratio of 1: padding a ratio channel with 0 would paint a wall of
    impossible material along the edge (−16 σ after normalisation)."""
    from cargoscan.data.channels import air_channels

    names = ("a_high", "a_low", "ratio")
    x = np.full((3, 10, 10), 2.0, np.float32)
    out = crop(x, 4, 4, 8, fill=air_channels(names))
    assert out.shape == (3, 8, 8)
    assert (out[:, :6, :6] == 2.0).all()
    assert (out[0, 6:] == 0).all() and (out[1, :, 6:] == 0).all() and (out[2, 6:] == 1.0).all()
    assert (crop(np.ones((5, 5), np.uint8), 3, 3, 4, fill=0)[2:] == 0).all()  # a mask keeps a number
