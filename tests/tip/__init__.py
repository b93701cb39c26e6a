"""Tests of cargoscan.tip (a package, so that its module names cannot collide with other parts' tests)."""
