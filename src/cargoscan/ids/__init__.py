"""Identifiers of rolling stock and containers, with their check digits."""

from cargoscan.ids.container import container_check_digit, is_valid_container, make_container_number
from cargoscan.ids.wagon import WAGON_TYPES, is_valid_wagon, make_wagon_number, wagon_check_digit, wagon_type

__all__ = [
    "WAGON_TYPES",
    "container_check_digit",
    "is_valid_container",
    "is_valid_wagon",
    "make_container_number",
    "make_wagon_number",
    "wagon_check_digit",
    "wagon_type",
]
