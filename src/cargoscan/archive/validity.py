"""Is a scan physically plausible for a 6/4 MeV dual-energy rail scanner? One check for the engine and import.

A scan that *reads* fine can still be wrong: pages swapped, an inverted (log) image, transposed or upside down,
cut to 8 bits, its noise replaced, its air level off, its pitch absurd. Analysed as if valid, such a scan gives
plausible-looking nonsense, so the inspection engine refuses it («анализ не выполнен: недопустимые данные
снимка») and ``cargoscan import`` refuses to write it. :func:`scan_problems` names what is wrong, in Russian.

Every threshold is physics with a wide margin, set for real scanners rather than the synthesiser (real 6/4 MeV
statistics: ``cargoscan/synth/data/realism_targets.json``; :class:`ValidityParams` says where each comes from):

* **levels** — air reads full scale: the brightest pixels reach ~65535 (format 1.0 fixes air there, import
  renormalises), air is neither all clipped (gain too high) nor absent (air level wrong); photon starvation
  (exact zeros) within what dense loads give; neither page blank.
* **quantisation** — enough distinct levels: a 16-bit scan has thousands, one that went through 8 bits ≤ 256.
* **inverted** — air bright, the rail and wheels dark (a log image has them the other way round).
* **transposed** — a wagon is longer than high: rows far outnumbering columns means the axes are swapped.
* **orientation** — at the wagon's ends the couplers and underframe sit low with air above (no cargo reaches
  there); where the ends say nothing, the starved running gear (bogies, wheels, axles) lies in the bottom rows.
* **channel order** — at 4 MeV every material attenuates more than at 6 MeV: the median A_low/A_high over the
  load lies in [1.0, 1.5] (real scanners 1.07–1.10 per scan); swapped pages give its inverse, below 1.
* **noise** — quantum noise: σ(A) grows with A (σ ∝ e^{A/2} for photon counting, slope ½ of ln σ per unit A),
  measured band by band on the dual-energy residual (texture cancels), and is never zero in the open beam; flat,
  noise-free or constant-σ synthetic noise (slope 0 in A, 1 in counts) does not behave so.
* **geometry** — pitch × image size gives a wagon's length (5–45 m) and a portal's height (1.5–8 m).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

MAX_VALUE = 65535
#: A of a zero pixel (half a count): beyond any real attenuation.
A_ZERO = float(-np.log(0.5 / MAX_VALUE))


@dataclass(frozen=True)
class ValidityParams:
    """Thresholds of the input-validity check (the ``inspect.validity`` parameters).

    Attributes:
        air_t: transmission above which a pixel counts as open beam.
        air_min_share: least share of open-beam pixels: a scan always shows air above the load or between
            wagons (measured ≥ 5 % on every synthetic kind; real container scans ~10 %).
        air_p999_min: the 99.9th percentile of the high page must reach this share of full scale: air is at
            65535 (format 1.0; import renormalises), less means a wrong air level.
        air_clip_max: largest share of open-beam pixels clipped at full scale. With air at 65535 noise clips
            about half (σ of a few %); a gain or air level too high clips nearly all.
        air_clip_ratio_max: largest share of clipped pixels among those at ≥ 97 % of full scale (clipped or
            not). Air at full scale clips about half of itself (≤ 0.50 measured at full resolution, 0.07 block-
            averaged); a gain of 1.15 gives ≥ 0.78, 1.3 ≥ 0.99. Gains under ~1.1 stay within the noise: not
            detectable from the image, and they shift A by under 0.1.
        zero_max: largest share of exact zeros per page (real 2.2–4.8 % high, 2.6–13.5 % low; dense loads and
            gondolas of ore more: a margin of ×4 over the real maximum).
        levels_min: fewest distinct levels of the high page over its non-clipped, non-zero pixels (16-bit data
            has thousands; 8 bits give ≤ 256; a 10-bit scanner 1024).
        ratio_range: allowed median A_low/A_high over the load (0.5 < A_high < 6): real scanners 1.07–1.10 per
            scan, the free-streaming prediction 1.12–1.20; swapped pages give 0.83–0.93.
        load_min_px: least pixels in 0.5 < A_high < 6 for the ratio and noise to be measured.
        noise_air_min: least σ(A) in the thin band (0.05 < A < 0.5): real 0.015–0.02; noise-free images ~0.
        noise_slope_range: allowed growth of the dual-energy residual's ln σ per unit of A_high over the bands
            (:func:`noise_slope`): quantum noise ½ (0.53–0.67 measured), constant σ in counts 1, in A 0.
        length_m: plausible scan length (columns × column pitch).
        height_m: plausible scan height (rows × row pitch).
        aspect_max: rows may exceed columns by at most this factor (a wagon is longer than high).
        ends_margin: the orientation is read from the wagon's ends (:func:`end_structure`) when their bottom and
            top quarters differ by more than this share (measured ≥ 0.044 upright); otherwise from starvation.
    """

    air_t: float = 0.9
    air_min_share: float = 0.01
    air_p999_min: float = 0.97
    air_clip_max: float = 0.9
    air_clip_ratio_max: float = 0.75
    zero_max: float = 0.6
    levels_min: int = 1024
    ratio_range: tuple[float, float] = (1.0, 1.5)
    load_min_px: int = 500
    noise_air_min: float = 0.003
    noise_slope_range: tuple[float, float] = (0.3, 0.8)
    length_m: tuple[float, float] = (5.0, 45.0)
    height_m: tuple[float, float] = (1.5, 8.0)
    aspect_max: float = 2.0
    ends_margin: float = 0.02


@dataclass(frozen=True)
class Problem:
    """One failed validity check: its name (import's ``--force`` names it) and a Russian text of what is wrong."""

    name: str
    text: str


CHECKS = ("levels", "eight_bit", "inverted", "transposed", "orientation", "swapped_channels", "noise", "geometry")


def attenuation(image: np.ndarray) -> np.ndarray:
    """(2, H, W) uint16 → float32 A = −ln T, zeros at :data:`A_ZERO`."""
    t = image.astype(np.float32) / MAX_VALUE
    return -np.log(np.clip(t, 0.5 / MAX_VALUE, 1.0))


def check_blank(image: np.ndarray) -> list[Problem]:
    """A page of one value: nothing else can be measured."""
    names = ("высокой", "низкой")
    return [Problem("levels", f"страница {names[k]} энергии постоянна ({int(image[k].max())})")
            for k in range(2) if int(image[k].max()) == int(image[k].min())]


def gap_clip_share(hi: np.ndarray, min_px: int = 400) -> float | None:
    """Share of clipped pixels in the open beam of the gaps before and after the wagon (None: no such gap).

    The gap columns at the image's two ends (every pixel of their top 80 % of rows at ≥ 95 % of full scale) see
    nothing but air, whatever the load, so their clipped share depends only on the air level: about half with
    air at full scale (fewer once block-averaged), nearly all with any gain above the noise (≳ 1.05). Unlike
    "pixels near full scale", it is not diluted by thin walls that a gain lifts to full scale.
    """
    top = hi[: max(1, int(0.8 * hi.shape[0]))]
    open_col = (top >= 0.95 * MAX_VALUE).all(axis=0)
    n = open_col.size
    lead = int(np.argmin(open_col)) if not open_col.all() else n
    trail = int(np.argmin(open_col[::-1])) if not open_col.all() else 0
    cols = np.r_[np.arange(lead), np.arange(n - trail, n)]
    if cols.size * top.shape[0] < min_px:
        return None
    return float((top[:, cols] == MAX_VALUE).mean())


def check_levels(image: np.ndarray, p: ValidityParams) -> list[Problem]:
    """Air level, clipping and starvation."""
    out = []
    hi = image[0]
    names = ("высокой", "низкой")
    p999 = float(np.percentile(hi[::2, ::2], 99.9)) / MAX_VALUE
    if p999 < p.air_p999_min:
        out.append(Problem("levels", f"уровень воздуха {p999:.0%} полной шкалы (ожидалось ≥ {p.air_p999_min:.0%}): "
                                     "неверная нормировка на открытый пучок"))
    air = hi >= p.air_t * MAX_VALUE
    air_share = float(air.mean())
    if air_share < p.air_min_share:
        out.append(Problem("levels", f"воздух (пропускание > {p.air_t:.0%}) — {air_share:.1%} снимка, "
                                     f"ожидалось ≥ {p.air_min_share:.0%}"))
    elif float((hi[air] == MAX_VALUE).mean()) > p.air_clip_max:
        out.append(Problem("levels", f"{float((hi[air] == MAX_VALUE).mean()):.0%} пикселей воздуха в насыщении: "
                                     "усиление или уровень воздуха завышены"))
    elif (gap := gap_clip_share(hi)) is not None and gap > p.air_clip_max:
        out.append(Problem("levels", f"{gap:.0%} пикселей открытого пучка у торцов вагона в насыщении (при верном "
                                     "уровне воздуха около половины): усиление или уровень воздуха завышены"))
    else:
        # Air at full scale: its noise puts as many open-beam pixels just below 65535 as at it. A gain of ≥ 1.15
        # pushes the whole open beam into clipping and leaves few pixels just below.
        clipped = int(np.count_nonzero(hi == MAX_VALUE))
        near = int(np.count_nonzero((hi >= 0.97 * MAX_VALUE) & (hi < MAX_VALUE)))
        ratio = clipped / max(clipped + near, 1)
        if ratio > p.air_clip_ratio_max:
            out.append(Problem("levels", f"{ratio:.0%} пикселей у полной шкалы в насыщении (при верном уровне воздуха "
                                         f"не больше половины): усиление или уровень воздуха завышены"))
    for k in range(2):
        zero = float((image[k] == 0).mean())
        if zero > p.zero_max:
            out.append(Problem("levels", f"{zero:.0%} пикселей страницы {names[k]} энергии равны нулю "
                                         f"(допустимо до {p.zero_max:.0%})"))
    return out


def check_quantisation(image: np.ndarray, p: ValidityParams) -> list[Problem]:
    """Enough distinct levels in each page's unclipped pixels: 8-bit data rescaled has at most 256."""
    out = []
    for k, name in enumerate(("высокой", "низкой")):
        v = image[k]
        levels = np.unique(v[(v > 0) & (v < MAX_VALUE)]).size
        if levels < p.levels_min:
            out.append(Problem("eight_bit", f"страница {name} энергии: {levels} различных уровней "
                                            f"(у 16-битных данных тысячи): снимок прошёл через 8 бит"))
    return out


def check_inverted(a: np.ndarray, p: ValidityParams) -> list[Problem]:
    """Air bright and the rail dark: in a log (inverted) image the open beam reads 0 and the wheels full scale."""
    t = np.exp(-a[0])
    # Relative to the scan's own brightest level: a wrong air level is the levels check's finding, not this one's.
    t = t / max(float(np.percentile(t[::2, ::2], 99.9)), 1e-6)
    air, dark = float(np.mean(t > p.air_t)), float(np.mean(t < 1 - p.air_t))
    ends = float(np.median(np.concatenate([t[:, :3], t[:, -3:]], axis=1)))
    if (air < 0.02 and dark > 0.2) or (ends < 0.5 and dark > air):
        return [Problem("inverted", f"воздух тёмный, груз светлый: края снимка {ends:.0%} пропускания, {dark:.0%} "
                                    f"пикселей около нуля против {air:.0%} около полной шкалы (негатив, лог-снимок)")]
    return []


def check_transposed(image: np.ndarray, p: ValidityParams) -> list[Problem]:
    h, w = image.shape[1:]
    if h > p.aspect_max * w:
        return [Problem("transposed", f"{h} строк × {w} столбцов: вагон выше, чем длиннее — строки и столбцы "
                                      "переставлены (снимок транспонирован или повёрнут на 90°)")]
    return []


def end_structure(a_high: np.ndarray) -> float:
    """Share of structure (A > 0.3) in the bottom quarter of the scan's end columns less that in the top quarter.

    The ends of a wagon scan (the first and last 4 % of the columns, ~0.6 m) hold the couplers, buffers and the
    ends of the underframe, low down, and air above them: no load reaches there, whatever the cargo. Upright,
    the difference is positive (≥ 0.044 on every scan of the synthetic archive, median 0.086); upside down it is
    as negative. A dense load that starves the top band as much as the bogies starve the bottom does not change it.
    """
    h, w = a_high.shape
    e, band = max(3, int(0.04 * w)), max(1, int(0.25 * h))
    ends = np.concatenate([a_high[:, :e], a_high[:, -e:]], axis=1) > 0.3
    return float(ends[-band:].mean()) - float(ends[:band].mean())


def check_orientation(a: np.ndarray, p: ValidityParams) -> list[Problem]:
    """Upright: the couplers and underframe low at the wagon's ends; where the ends say nothing (a scan cut
    without them), the starved running gear in the bottom band rather than the top."""
    ends = end_structure(a[0])
    if ends >= p.ends_margin:
        return []
    if ends <= -p.ends_margin:
        return [Problem("orientation", f"на концах вагона конструкция (сцепка, рама) вверху, воздух внизу "
                                       f"({-ends:.0%} разницы долей): рельс и тележки должны быть внизу — снимок "
                                       "перевёрнут")]
    h = a.shape[1]
    band = max(1, int(round(0.12 * h)))
    top, bottom = a[0, :band], a[0, -band:]
    starved = A_ZERO - 2.8        # A ≈ 9: the last few counts
    s_top, s_bottom = float(np.mean(top > starved)), float(np.mean(bottom > starved))
    q_top, q_bottom = float(np.percentile(top, 98)), float(np.percentile(bottom, 98))
    if s_top > 2 * s_bottom + 0.005:
        why = f"в верхних строках {s_top:.1%} пикселей без фотонов (тележки, колёса), в нижних {s_bottom:.1%}"
    elif max(s_top, s_bottom) <= 0.005 and q_top > q_bottom + 0.5:
        why = f"самая плотная конструкция вверху (A98 {q_top:.1f} против {q_bottom:.1f} внизу)"
    else:
        return []
    return [Problem("orientation", f"{why}: рельс и тележки должны быть внизу — снимок перевёрнут")]


def load_pixels(a: np.ndarray) -> np.ndarray:
    """Pixels where both energies are measured and the load attenuates: 0.5 < A_high < 6, A_low finite."""
    return (a[0] > 0.5) & (a[0] < 6.0) & (a[1] < A_ZERO - 0.1) & (a[1] > 0.05)


def check_channels(a: np.ndarray, p: ValidityParams) -> list[Problem]:
    """The median dual-energy ratio over the load lies in the physical range."""
    sel = load_pixels(a)
    if int(sel.sum()) < p.load_min_px:
        return [Problem("swapped_channels", f"всего {int(sel.sum())} пикселей с ослаблением 0,5–6: порядок "
                                            "каналов высокой и низкой энергии не проверить")]
    r = float(np.median(a[1][sel] / a[0][sel]))
    lo, hi = p.ratio_range
    if r < lo:
        return [Problem("swapped_channels", f"отношение A_низк/A_выс = {r:.3f} < {lo}: низкая энергия ослабляется "
                                            "меньше высокой — страницы переставлены")]
    if r > hi:
        return [Problem("swapped_channels", f"отношение A_низк/A_выс = {r:.3f} > {hi}: вне физического диапазона "
                                            "сканера 6/4 МэВ")]
    return []


def band_sigma(a: np.ndarray, lo: float, hi: float, values: np.ndarray | None = None
               ) -> tuple[float | None, float, int]:
    """Robust σ of ``values`` (default ``a``) from adjacent-column differences (1.4826·MAD/√2) where both
    neighbours' ``a`` lie in [lo, hi), the mean ``a`` of those pixels, and how many pairs there were (σ None under
    200)."""
    values = a if values is None else values
    left, right = a[:, :-1], a[:, 1:]
    sel = (left >= lo) & (left < hi) & (right >= lo) & (right < hi)
    d = (values[:, 1:] - values[:, :-1])[sel]
    if d.size < 200:
        return None, 0.0, int(d.size)
    mad = float(np.median(np.abs(d - np.median(d))))
    return 1.4826 * mad / np.sqrt(2.0), float(np.mean(left[sel])), int(d.size)


#: Bands of A_high where the noise law is measured (thin to thick; beyond 5 the dark level and starvation rule).
NOISE_BANDS = ((0.05, 0.5), (0.5, 1.5), (1.5, 3.0), (3.0, 5.0))


def noise_slope(a: np.ndarray, ratio: float) -> tuple[float | None, list[tuple[float, float]]]:
    """Log-log growth of the noise with attenuation: the slope of ln σ against A_high over :data:`NOISE_BANDS`.

    σ is measured on the dual-energy residual A_low − r·A_high (r the scan's median ratio): the load's texture
    is common to both pages and cancels, the two pages' quantum noise is independent and does not. Photon
    counting gives σ_A² = e^A / N, so the slope is ½ (0.53–0.67 measured on the synthesiser's scans, block-
    averaged ones included); Gaussian noise of constant σ in counts gives σ_A = σ/T, slope 1; constant σ in A, 0.
    Returns the slope (None when fewer than two bands hold 200 pairs) and the (mean A, σ) points.
    """
    residual = a[1] - ratio * a[0]
    pts = []
    for lo, hi in NOISE_BANDS:
        s, m, _ = band_sigma(a[0], lo, hi, residual)
        if s is not None and s > 0:
            pts.append((m, s))
    if len(pts) < 2:
        return None, pts
    x, y = np.array([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0]), pts


def check_noise(a: np.ndarray, p: ValidityParams) -> list[Problem]:
    """Quantum noise: present in the thin band, growing with A as photon counting makes it (slope ½)."""
    s_thin, _, n_thin = band_sigma(a[0], *NOISE_BANDS[0])
    if s_thin is None:
        return [Problem("noise", f"шум не измерить: {n_thin} пар пикселей с A 0,05–0,5 (нужно 200)")]
    if s_thin < p.noise_air_min:
        return [Problem("noise", f"σ(A) = {s_thin:.4f} у тонких участков (ожидалось ≥ {p.noise_air_min}): "
                                 "в снимке нет квантового шума — он сглажен или синтезирован")]
    sel = load_pixels(a)
    ratio = float(np.median(a[1][sel] / a[0][sel])) if int(sel.sum()) >= p.load_min_px else 1.08
    slope, pts = noise_slope(a, ratio)
    if slope is None:
        return [Problem("noise", f"шум не измерить: только {len(pts)} полос ослабления с 200 парами пикселей")]
    lo, hi = p.noise_slope_range
    if not lo <= slope <= hi:
        return [Problem("noise", f"шум растёт с ослаблением как e^({slope:.2f}·A) (квантовый шум e^(A/2), допустимо "
                                 f"{lo}–{hi}): шум не квантовый — подменён или добавлен к сглаженному снимку")]
    return []


def check_geometry(shape: tuple[int, int], pitch_mm: tuple[float, float], p: ValidityParams) -> list[Problem]:
    height, length = shape[0] * pitch_mm[0] / 1000, shape[1] * pitch_mm[1] / 1000
    out = []
    if not p.length_m[0] <= length <= p.length_m[1]:
        out.append(Problem("geometry", f"длина снимка {length:.1f} м ({shape[1]} столбцов × {pitch_mm[1]:g} мм) вне "
                                       f"{p.length_m[0]:g}–{p.length_m[1]:g} м: неверный шаг пикселя"))
    if not p.height_m[0] <= height <= p.height_m[1]:
        out.append(Problem("geometry", f"высота снимка {height:.1f} м ({shape[0]} строк × {pitch_mm[0]:g} мм) вне "
                                       f"{p.height_m[0]:g}–{p.height_m[1]:g} м: неверный шаг пикселя"))
    return out


def scan_problems(image: np.ndarray, pitch_mm: tuple[float, float] | None = None,
                  params: ValidityParams | None = None, skip: tuple[str, ...] = (),
                  check: Callable[[], None] | None = None) -> list[Problem]:
    """Everything physically implausible about a (2, H, W) uint16 scan; empty when it is plausible.

    Args:
        image: the archive image (page 0 high energy, page 1 low; rows top → rail; air 65535).
        pitch_mm: the sidecar's (row, column) pitch; None skips the geometry check.
        params: thresholds (defaults: :class:`ValidityParams`).
        skip: check names (:data:`CHECKS`) left out deliberately (``cargoscan import --force``).
        check: called between the checks (an inspection's deadline, which raises ``TimeoutError``).
    """
    p = params or ValidityParams()
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}; known: {list(CHECKS)}")
    out: list[Problem] = []
    run = [c for c in CHECKS if c not in skip]
    check = check or (lambda: None)
    if "levels" in run:
        out += check_blank(image)
        if out:
            return out                       # a blank page: nothing else can be measured
    a = attenuation(image)
    if "inverted" in run:
        out += check_inverted(a, p)
        if out:
            return out                       # the checks below read transmission; on a log image they confuse
    # The remaining checks in order, cheapest first; the deadline is checked before each.
    rest = [("levels", lambda: check_levels(image, p)),
            ("transposed", lambda: check_transposed(image, p)),
            ("geometry", lambda: [] if pitch_mm is None else check_geometry(image.shape[1:], pitch_mm, p)),
            ("eight_bit", lambda: check_quantisation(image, p)),
            ("orientation", lambda: check_orientation(a, p)),
            ("swapped_channels", lambda: check_channels(a, p)),
            ("noise", lambda: check_noise(a, p))]
    for name, fn in rest:
        if name in run:
            check()
            out += fn()
    return out
