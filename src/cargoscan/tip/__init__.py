"""Real scans in, threats projected: import of real scans and threat image projection (TIP).

* :mod:`importer` and :mod:`checks` bring real scans into the archive format, refusing malformed ones;
* :mod:`library`, :mod:`placement` and :mod:`project` insert synthetic threats into them through the
  synthesiser's polyenergetic physics;
* :mod:`mix` lets ``prepare`` and ``evaluate`` use the result.
"""
