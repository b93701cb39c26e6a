"""The scan registry: Table 1, declarations, corridor routing, release with identity and the audit trail.

Modules: ``models`` (SQLAlchemy tables), ``db`` (engines, migrations, write transactions), ``audit`` (the
signed hash chain), ``ledger`` (business rows bound to the chain), ``checkpoint`` (Ed25519 keys, entry
signatures, checkpoints), ``intake`` (validation at the door), ``archives`` (reading an archive, positions),
``ingest`` (scans, RFID, identification records, quarantine), ``declarations`` (import), ``routing`` (the
corridor), ``release`` (officer inspections and releases), ``export`` (CSV/Excel), ``auth``, ``limits`` and
``api`` (the HTTP service), ``commands`` (the CLI).
"""
