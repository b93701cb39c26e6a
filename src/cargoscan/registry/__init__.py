"""The scan registry: Table 1, declarations, corridor routing, release with identity and the audit trail.

Modules: ``models`` (SQLAlchemy tables), ``db`` (engines, migrations, write transactions), ``audit`` (the
hash chain), ``ingest`` (scans, RFID, identification records), ``declarations`` (pandera-validated import),
``routing`` (the corridor), ``release`` (officer inspections and releases), ``export`` (CSV/Excel), ``auth`` and
``api`` (the HTTP service), ``commands`` (the CLI).
"""
