import numpy as np

from cargoscan.data.augment import AttenuationJitter, AugmentParams, build_transform


def _sample():
    rng = np.random.default_rng(0)
    img = np.zeros((32, 64, 3), np.float32)
    img[..., 0] = rng.random((32, 64)) * 6          # A_high well above 1: physical units
    img[..., 1] = img[..., 0] * 1.2
    img[..., 2] = 1.2
    mask = np.zeros((32, 64), np.uint8)
    mask[:, :10] = 5
    return img, mask


def test_flip_is_along_the_train_axis_only():
    img, mask = _sample()
    t = build_transform(AugmentParams(hflip=1.0, affine_p=0.0, jitter_p=0.0), ("a_high", "a_low", "ratio"), 0)
    out = t(image=img, mask=mask)
    np.testing.assert_array_equal(out["image"], img[:, ::-1])
    np.testing.assert_array_equal(out["mask"], mask[:, ::-1])


def test_gain_scales_attenuation_and_keeps_ratio_without_clipping():
    img, _ = _sample()
    out = AttenuationJitter((0, 1), gain=0.2, noise=0.0, p=1.0).apply(img, g=1.15, seed=0)
    np.testing.assert_allclose(out[..., :2], img[..., :2] * 1.15, rtol=1e-6)
    np.testing.assert_array_equal(out[..., 2], img[..., 2])
    assert out.max() > 6.0


def test_transform_is_deterministic_under_a_seed():
    img, mask = _sample()
    a = build_transform(AugmentParams(), ("a_high", "a_low", "ratio"), seed=3)
    b = build_transform(AugmentParams(), ("a_high", "a_low", "ratio"), seed=3)
    for _ in range(3):
        np.testing.assert_array_equal(a(image=img, mask=mask)["image"], b(image=img, mask=mask)["image"])


def test_affine_pads_with_air_in_every_channel():
    """Pixels the shift brings in from outside read as air: A = 0 and a dual-energy ratio of 1, labelled background."""
    from cargoscan.data.augment import AugmentParams, build_transform

    t = build_transform(AugmentParams(enabled=True, hflip=0.0, scale=0.0, shift=0.3, affine_p=1.0, jitter_p=0.0),
                        ("a_high", "a_low", "ratio"), seed=1)
    img = np.full((64, 64, 3), 5.0, np.float32)
    img[..., 2] = 1.2
    out = t(image=img, mask=np.ones((64, 64), np.uint8))
    outside = out["mask"] == 0
    assert outside.sum() > 100
    assert np.allclose(out["image"][outside], [0.0, 0.0, 1.0])
