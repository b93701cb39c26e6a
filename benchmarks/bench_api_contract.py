"""Schemathesis over the registry's HTTP API: every operation, positive and negative inputs, every check.

Run: ``PYTHONPATH=src python benchmarks/bench_api_contract.py [--examples 200] [--seed 1]``. Prints JSON: cases
sent, contract failures (target 0) by check, and the first failures. A registry with a scan and declarations
(one PI number in the post's own form, with slashes) is set up first, so that operations reach their logic.

Negative cases whose only mutation is an unknown query parameter without a value (``{"": []}``) are counted
apart (``negative_mutations_not_sent``): such a parameter never reaches the wire, so accepting the request is
right. Checks: schemathesis's defaults (no server error, status codes and content types documented, response and
422 bodies matching their schemas, negative data rejected, …) except ``positive_data_acceptance``: the API
refuses with 422, by design, documents that fit the JSON Schema but fail what JSON Schema cannot say (check
digits, a real calendar date, net ≤ gross, an inspection of a registered scan).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROLE_FOR = {("POST", "/scans"): "operator", ("POST", "/declarations"): "operator",
            ("POST", "/inspections"): "system", ("GET", "/audit/verify"): "auditor",
            ("GET", "/exports/declarations"): "auditor", ("GET", "/table1"): "operator"}
WAGON, CONTAINER, SCAN_ID = "28652303", "CSQU3054383", "32701RF06202502181747029"
PI_SLASHED = "32701/030225/0000001"


def tokens() -> dict[str, str]:
    from cargoscan.registry.auth import ROLES

    return {role: f"token-of-the-{role}-0123456789abcdef" for role in ROLES}


def token_store():
    from cargoscan.registry.auth import TokenStore, hash_token

    entries = []
    for role, tok in tokens().items():
        e = {"sha256": hash_token(tok), "role": role, "name": f"{role}-1"}
        if role == "officer":
            e["officer"] = {"id": "KZ0042", "name": "Сейтказиев Арман Болатович", "stamp": "№ 117"}
        entries.append(e)
    return TokenStore(entries)


def seeded_app(db: Path):
    """The API over a fresh registry holding one scan and two declarations of its wagon."""
    from fastapi.testclient import TestClient

    from cargoscan.registry.api import create_app
    from cargoscan.registry.db import Registry

    reg = Registry(f"sqlite:///{db}")
    app = create_app(reg, token_store())
    client, auth = TestClient(app), {r: {"Authorization": f"Bearer {t}"} for r, t in tokens().items()}
    side = {"schema_version": "1.0", "scan_id": SCAN_ID, "post_code": "32701", "device_id": "RF06",
            "scanned_at": datetime.fromisoformat("2025-02-18T17:47:02+06:00").isoformat(),
            "energies_mev": [6.0, 4.0], "pixel_pitch_mm": {"row": 5.0, "column": 5.0}, "train_number": "KZ1",
            "wagon_number": WAGON, "container_numbers": [CONTAINER], "direction": "transit", "speed_kmh": 5.0}
    client.post("/scans", json={"sidecar": side, "scan_sha256": "a" * 64, "position": 1, "rfid_tags": [WAGON]},
                headers=auth["operator"])
    for pi in ("PI-1", PI_SLASHED):
        client.post("/declarations", headers=auth["operator"], json={
            "pi_number": pi, "train_number": "KZ1", "wagon_number": WAGON, "container_number": CONTAINER,
            "hs_code": "640299", "goods_description": "Обувь", "packages_count": "120", "packaging": "коробки",
            "gross_weight_kg": "2400", "net_weight_kg": "2200", "consignor": "ООО «Восток»", "consignee": "ТОО"})
    return app, reg, auth


def unsent_query_mutation(case, op) -> bool:
    """True when the only schema violation was an unknown query parameter with no value to send (``{"": []}``).

    Schemathesis then reports "schema-violating request accepted", but the request on the wire carried no such
    parameter: nothing invalid was sent. (A real unknown parameter is refused with 422: a test checks that.)
    """
    declared = {p.name for p in op.query}
    extra = {k: v for k, v in (case.query or {}).items() if k not in declared}
    return bool(extra) and all(v in ([], None, ()) for v in extra.values())


def run_contract(examples: int = 20, seed: int = 1, db_dir: str | Path | None = None,
                 all_checks: bool = False) -> dict[str, Any]:
    """Run schemathesis against every operation; counts of cases and failures (by check), first failures."""
    import schemathesis
    from hypothesis import HealthCheck, given, seed as hseed, settings
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    with tempfile.TemporaryDirectory(dir=db_dir) as tmp:
        app, reg, auth = seeded_app(Path(tmp) / "contract.db")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        excluded = [] if all_checks else [positive_data_acceptance]
        cases, failures, not_sent, examples_out = 0, Counter(), Counter(), []
        for result in schema.get_all_operations():
            op = result.ok()
            role = ROLE_FOR.get((op.method.upper(), op.path), "officer")
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @hseed(seed)
                @given(case=op.as_strategy(generation_mode=mode))
                @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                          database=None, derandomize=False)
                def run(case):
                    nonlocal cases
                    cases += 1
                    try:
                        case.call_and_validate(headers=auth[role], excluded_checks=excluded)
                    except (AssertionError, BaseExceptionGroup) as exc:  # a failure, or a group of them
                        for f in getattr(exc, "exceptions", [exc]):
                            name = type(f).__name__
                            if name == "AcceptedNegativeData" and unsent_query_mutation(case, op):
                                not_sent[name] += 1
                                continue
                            failures[name] += 1
                            if len(examples_out) < 10 or (name != "RejectedPositiveData" and len(examples_out) < 20):
                                examples_out.append({"operation": f"{op.method.upper()} {op.path}", "mode": str(mode),
                                                     "failure": name, "message": str(f)[:400],
                                                     "query": repr(case.query)[:200]})

                run()
        reg.close()
    return {"cases": cases, "failures": sum(failures.values()), "by_kind": dict(failures),
            "negative_mutations_not_sent": dict(not_sent),
            "first": examples_out, "excluded_checks": [] if all_checks else ["positive_data_acceptance"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--examples", type=int, default=200, help="examples per operation and mode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--all-checks", action="store_true", help="positive_data_acceptance too (see the module)")
    args = ap.parse_args()
    print(json.dumps(run_contract(args.examples, args.seed, all_checks=args.all_checks), ensure_ascii=False,
                     indent=1))


if __name__ == "__main__":
    main()
