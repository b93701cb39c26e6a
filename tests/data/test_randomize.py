"""Re-imaging a window as another scanner would: within physical ranges, and the identity when off."""

import numpy as np

from cargoscan.data.randomize import Draw, RandomizeParams, draw, reimage, smooth_field


def _window():
    rng = np.random.default_rng(0)
    t_high = np.full((60, 80), 0.2) * np.exp(-rng.random((60, 80)) * 0.1)
    t_low = t_high ** 1.3
    img = np.rint(np.stack([t_high, t_low]) * 65535).astype(np.uint16)
    img[:, :5, :5] = 0                                      # starved corner
    return img


def test_identity_and_off_leave_the_window_alone():
    img = _window()
    assert reimage(img, Draw.identity(), np.random.default_rng(1)) is img
    assert draw(np.random.default_rng(2), RandomizeParams(p=0.0)) == Draw.identity()


def test_texture_keeps_the_material_and_starved_pixels():
    img = _window()
    d = Draw(texture=0.1, texture_scale=8.0, blur=0.0, gain=1.0, noise=0.0, pitch=(1.0, 1.0))
    out = reimage(img, d, np.random.default_rng(3))
    a = lambda im, c: -np.log(np.clip(im[c, 10:, 10:].astype(float) / 65535, 1e-6, 1))   # noqa: E731
    assert np.abs(a(out, 0) / a(img, 0) - 1).max() > 0.02          # the load's density varies ...
    ratio_in, ratio_out = a(img, 1) / a(img, 0), a(out, 1) / a(out, 0)
    assert np.abs(ratio_out - ratio_in).max() < 1e-2               # ... its dual-energy ratio does not
    assert (out[:, :5, :5] == 0).all()


def test_gain_and_noise_act_in_transmission():
    img = _window()
    g = reimage(img, Draw(0.0, 1.0, 0.0, 1.03, 0.0, (1.0, 1.0)), np.random.default_rng(4))
    assert abs(np.median(g[0, 10:, 10:] / img[0, 10:, 10:]) - 1.03) < 0.002
    n = reimage(img, Draw(0.0, 1.0, 0.0, 1.0, 1.5, (1.0, 1.0)), np.random.default_rng(5))
    extra = (n[0, 10:, 10:].astype(float) - img[0, 10:, 10:]) / 65535
    assert 0.5 * 1.5 * np.sqrt(0.2 / 11000) < extra.std() < 1.5 * 1.5 * np.sqrt(0.2 / 11000)


def test_smooth_field_is_standardised_and_correlated():
    f = smooth_field((200, 300), 20.0, np.random.default_rng(6))
    assert abs(f.mean()) < 1e-5 and abs(f.std() - 1) < 1e-5
    assert np.corrcoef(f[:, :-1].ravel(), f[:, 1:].ravel())[0, 1] > 0.9
