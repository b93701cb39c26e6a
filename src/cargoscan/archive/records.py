"""A declaration row's values validated as data: the one rule the whole project uses.

The JSON Schema (``schemas/declarations.schema.json``) checks each field's *form*: digits where digits belong. It
cannot say that 0 kg of garments, 10^400 kg, a gross weight under the net weight or 40 t in one container is
nonsense, and a value that passes the schema but not physics would otherwise reach the engine's mass check as a
number. :func:`declaration_problems` returns what is wrong with a row's *values*, in Russian, one line each;
the registry refuses such a row at import and the inspection engine treats it as a reason for suspicion
(``DECLARATION_INVALID``), never as a silent pass.

Rules:

* net and gross weight are decimal numbers, finite, gross ≥ net, and the net weight within the unit's payload
  cap (:data:`PAYLOAD_CAP_KG`: a container row, a wagon row);
* net weight is positive, except for an empty unit travelling as goods (HS 8606 wagon, 8609 container);
* the HS code (ТН ВЭД) has 4, 6, 8 or 10 digits and a chapter from 01 to 97;
* the package count is a non-negative integer up to :data:`MAX_PACKAGES`;
* wagon and container numbers carry their check digits (``cargoscan.ids``);
* no control characters or bidirectional overrides anywhere, and every field within :data:`MAX_LENGTH`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Mapping

from cargoscan.archive.format import DECLARATIONS_TABLE, TABLE_COLUMNS
from cargoscan.ids import is_valid_container, is_valid_wagon

#: Largest net weight (kg) a load unit can physically carry, whatever its model: the goods cannot weigh more
#: than the unit may gross. A container: ISO 668's maximum gross rating R = 30 480 kg, the same for every 20 and
#: 40 ft type (a declaration row does not say the size; heavy-tested 20 ft boxes carry 28 t, so the typical
#: payloads of ``cargoscan.synth.cargo.PAYLOAD_KG`` — 21.7 t and 26.7 t — would refuse real declarations). A
#: wagon: the largest 1520 mm-gauge wagons (eight-axle gondola 12-1000 and tank 15-1500) carry 120–125 t. A
#: plausible but overstated weight is the mass check's business, not this one's: here only the impossible.
PAYLOAD_CAP_KG: dict[str, float] = {"container": 30_480.0, "wagon": 125_000.0}
#: HS headings of an empty unit travelling as goods: railway wagons (8606) and containers (8609).
EMPTY_UNIT_HS = ("8606", "8609")
MAX_PACKAGES = 100_000
#: Longest value per field (characters); fields not named here take ``default``. ``train_number`` matches the
#: registry's column.
MAX_LENGTH: dict[str, int] = {"goods_description": 1000, "consignor": 500, "consignee": 500, "packaging": 200,
                              "train_number": 64, "pi_number": 64, "default": 64}
REQUIRED = tuple(TABLE_COLUMNS[DECLARATIONS_TABLE])

_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]+$")
_HS = re.compile(r"^(?:[0-9]{2}){2,5}$")
#: Bidirectional embeddings, overrides and isolates: they make a text read differently from what is stored.
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def payload_cap_kg(row: Mapping[str, str]) -> float:
    """The payload cap of the unit a declaration row describes (see :data:`PAYLOAD_CAP_KG`)."""
    return PAYLOAD_CAP_KG["container" if (row.get("container_number") or "").strip() else "wagon"]


def is_empty_unit(hs_code: str) -> bool:
    """An empty wagon or container declared as goods: its net weight may be 0."""
    return any(str(hs_code).startswith(h) for h in EMPTY_UNIT_HS)


def text_problems(name: str, value: str) -> list[str]:
    """Control characters, bidirectional overrides and excess length in one field's text."""
    out = []
    bad = sorted({f"U+{ord(ch):04X}" for ch in value
                  if unicodedata.category(ch) == "Cc" or ord(ch) in _BIDI})
    if bad:
        out.append(f"{name}: недопустимые управляющие символы ({', '.join(bad[:5])})")
    limit = MAX_LENGTH.get(name, MAX_LENGTH["default"])
    if len(value) > limit:
        out.append(f"{name}: длина {len(value)} символов больше {limit}")
    return out


def _weight(row: Mapping[str, str], name: str, problems: list[str]) -> float | None:
    raw = str(row.get(name, "")).strip()
    if not _DECIMAL.match(raw):
        problems.append(f"{name}: «{raw[:20]}» не число килограммов")
        return None
    value = float(raw)                      # digits only: at worst inf for 10^400, never NaN
    if not math.isfinite(value):
        problems.append(f"{name}: значение {raw[:12]}… не конечно")
        return None
    return value


def weight_problems(row: Mapping[str, str]) -> list[str]:
    """Net and gross weight: numbers, finite, gross ≥ net, positive unless an empty unit, within the cap."""
    problems: list[str] = []
    net, gross = _weight(row, "net_weight_kg", problems), _weight(row, "gross_weight_kg", problems)
    empty = is_empty_unit(str(row.get("hs_code", "")))
    cap = payload_cap_kg(row)
    if net is not None:
        if net <= 0 and not empty:
            problems.append(f"net_weight_kg: вес нетто {net:g} кг не положителен")
        if net > cap:
            problems.append(f"net_weight_kg: вес нетто {net:.0f} кг больше грузоподъёмности единицы {cap:.0f} кг")
    if net is not None and gross is not None and gross < net:
        problems.append(f"gross_weight_kg: вес брутто {gross:g} кг меньше веса нетто {net:g} кг")
    if gross is not None and gross <= 0 and not empty:
        problems.append(f"gross_weight_kg: вес брутто {gross:g} кг не положителен")
    return problems


def code_problems(row: Mapping[str, str]) -> list[str]:
    """HS code form, package count, wagon and container check digits."""
    problems: list[str] = []
    hs = str(row.get("hs_code", "")).strip()
    if not _HS.match(hs) or not 1 <= int(hs[:2]) <= 97:
        problems.append(f"hs_code: «{hs[:20]}» не код ТН ВЭД (4, 6, 8 или 10 цифр, группа 01–97)")
    count = str(row.get("packages_count", "")).strip()
    if not _INTEGER.match(count):
        problems.append(f"packages_count: «{count[:20]}» не целое неотрицательное число")
    elif int(count) > MAX_PACKAGES:
        problems.append(f"packages_count: {int(count) if len(count) < 16 else count[:15] + '…'} мест больше "
                        f"{MAX_PACKAGES}")
    wagon = str(row.get("wagon_number", "")).strip()
    if not is_valid_wagon(wagon):
        problems.append(f"wagon_number: «{wagon[:20]}» не номер вагона (8 цифр с контрольной)")
    container = str(row.get("container_number", "")).strip()
    if container and not is_valid_container(container):
        problems.append(f"container_number: «{container[:20]}» не номер контейнера ISO 6346")
    return problems


def declaration_problems(row: Mapping[str, str]) -> list[str]:
    """What is wrong with a declaration row's values, one Russian line each; empty when the row is valid.

    Args:
        row: one row of ``declarations.csv`` (field name → text), as read or as received by the API.

    Never raises: a missing field, a non-string value or an absurd number is a problem in the list.
    """
    if not isinstance(row, Mapping):
        return [f"строка декларации не таблица полей, а {type(row).__name__}"]
    missing = [k for k in REQUIRED if row.get(k) is None]
    if missing:
        return [f"нет полей: {', '.join(missing)}"]
    not_text = [k for k in REQUIRED if not isinstance(row[k], str)]
    if not_text:
        return [f"поля не текст: {', '.join(not_text)}"]
    problems: list[str] = []
    for name in REQUIRED:
        problems += text_problems(name, row[name])
    for name in ("pi_number", "train_number", "goods_description"):
        if not row[name].strip():
            problems.append(f"{name}: пусто")
    return problems + code_problems(row) + weight_problems(row)
