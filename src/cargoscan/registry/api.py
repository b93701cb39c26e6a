"""The registry's HTTP service (FastAPI): for the declaration system, the scanner post and the auditors.

Every request carries a bearer token; the token's role decides what it may do (``auth.PERMISSIONS``) and an
officer's identity comes from the token alone. Refused calls are answered 401/403 and recorded in the audit
trail. Domain refusals map to HTTP codes: unknown → 404, invalid → 422 (always in FastAPI's validation-error
shape, so every 422 matches the documented schema), release not allowed → 409, body too large → 413.
Every status code an operation can answer is documented in the OpenAPI schema (``/openapi.json``, ``/docs``).

PI numbers in the post's own form contain slashes (``32701/030225/0000001``): the path parameter takes them
as they are or URL-encoded (``32701%2F030225%2F0000001``).
"""

# No "from __future__ import annotations": FastAPI must see the closures used in Depends() at definition time.

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from cargoscan.archive.validate import schema
from cargoscan.registry import audit
from cargoscan.registry.auth import Identity, TokenStore
from cargoscan.registry.checkpoint import entry_verifier, load_public
from cargoscan.registry.config import load_registry_params
from cargoscan.registry.db import Registry
from cargoscan.registry.declarations import register_rows
from cargoscan.registry.export import export_declarations, table1_file, table1_rows
from cargoscan.registry.ingest import ScanInput, ingest_one
from cargoscan.registry.intake import MAX_TRAIN_NUMBER
from cargoscan.registry.limits import BodyLimit
from cargoscan.registry.models import Declaration, Release
from cargoscan.registry.release import ReleaseRefused, record_officer_inspection, release_declaration
from cargoscan.registry.routing import linked_scans, record_inspection

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]
Short = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
PI_PATTERN = r"^[^\x00-\x1f\x7f]+$"
PiNumber = Annotated[str, Path(min_length=1, max_length=64, pattern=PI_PATTERN,
                               description="PI number, e.g. 32701/030225/0000001 (slashes as is or URL-encoded)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Message(BaseModel):
    """Why a request was refused."""

    detail: str


_WHY = {400: "the body is not readable (not UTF-8 JSON)", 401: "missing or unknown bearer token", 403: "the token's role may not do this",
        404: "no such declaration or scan", 409: "the release is not allowed (red or held corridor, or released)",
        413: "request body too large"}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the refusals an operation can answer (422 is documented by FastAPI)."""
    return {code: {"model": Message, "description": _WHY[code]} for code in codes}


def invalid(messages: list[str], where: str = "body") -> JSONResponse:
    """A 422 in FastAPI's own validation-error shape (the documented ``HTTPValidationError``)."""
    return JSONResponse({"detail": [{"loc": [where], "msg": m, "type": "value_error"} for m in messages]},
                        status_code=422)


class WagonIdent(BaseModel):
    number: Annotated[str, Field(pattern=r"^[0-9]{8}$")] | None = None
    status: Literal["confirmed", "ocr_only", "rfid_only", "conflict", "unreadable"]
    ocr: Short | None = None
    rfid: Short | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


class ContainerIdent(BaseModel):
    number: Annotated[str, Field(pattern=r"^[A-Z]{3}[UJZ][0-9]{7}$")] | None = None
    status: Literal["confirmed", "ocr_only", "conflict", "unreadable"]
    ocr: Short | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


class Identification(BaseModel):
    """Contract C: the OCR part's identification record of one wagon."""

    train_number: Short
    position: Annotated[int, Field(ge=1, le=100_000)]
    scan_id: Short | None = None
    wagon: WagonIdent
    containers: list[ContainerIdent] = []


def sidecar_schema() -> dict[str, Any]:
    """The archive's sidecar JSON Schema as the API documents it, with the registry's door limits added."""
    doc = {k: v for k, v in schema("sidecar").items() if not k.startswith("$")}
    props = dict(doc["properties"])
    props["train_number"] = {**props["train_number"], "maxLength": MAX_TRAIN_NUMBER, "pattern": r"^[^\x00-\x1f\x7f]+$"}
    return {**doc, "properties": props,
            "description": "the scan's sidecar (cargoscan/sidecar/1.0); scanned_at must also be a real date"}


class ScanIn(BaseModel):
    """A scan to register: its sidecar (archive schema ``sidecar``) and what identifies its wagon."""

    sidecar: dict[str, Any] = Field(json_schema_extra=sidecar_schema())
    scan_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    position: Annotated[int, Field(ge=1, le=100_000)] | None = None
    rfid_tags: list[Short] | None = Field(None, description="tags read at the wagon's position; [] = none read")
    identification: Identification | None = None


class DeclarationIn(BaseModel):
    """One declaration / preliminary-information row (columns of the archive's declarations.csv)."""

    pi_number: Annotated[str, Field(min_length=1, max_length=64, pattern=PI_PATTERN)]
    train_number: Short
    wagon_number: Short
    container_number: Short = ""
    hs_code: Short
    goods_description: Text
    packages_count: Short
    packaging: Short = ""
    gross_weight_kg: Short
    net_weight_kg: Short
    consignor: Text = ""
    consignee: Text = ""


class OfficerInspectionIn(BaseModel):
    outcome: Literal["no_violation", "violation"]
    findings: Text = ""


class ReleaseIn(BaseModel):
    basis: Text = ""


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def strict_query(request: Request) -> None:
    """Refuse query parameters the operation does not declare (a typo must not be silently ignored)."""
    route = request.scope.get("route")
    known = _query_names(route.dependant) if route is not None else set()
    extra = sorted(set(request.query_params) - known)
    if extra:
        raise RequestValidationError([{"loc": ["query", k], "msg": "unknown query parameter",
                                       "type": "extra_forbidden", "input": request.query_params[k]} for k in extra])


def create_app(registry: Registry, tokens: TokenStore, max_body_bytes: int | None = None) -> FastAPI:
    """Build the service around an open registry and a token store.

    Args:
        max_body_bytes: the request-body limit (default: ``registry.max_body_bytes``).
    """
    app = FastAPI(title="cargoscan registry", version="1.0",
                  description="Scan registry, corridor routing, release with officer identity, audit trail.",
                  dependencies=[Depends(strict_query)])
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes or load_registry_params().max_body_bytes)
    allowed = _authorisation(registry, tokens)
    _error_handlers(app)
    _scan_and_declaration_routes(app, registry, allowed)
    _export_routes(app, registry, allowed)
    _audit_routes(app, registry, allowed)
    return app


def _authorisation(registry: Registry, tokens: TokenStore) -> Callable[[str], Callable[..., Identity]]:
    """``allowed(action)``: a dependency that authenticates the bearer token and refuses (and audits) a role
    that may not do ``action``."""
    bearer = HTTPBearer(auto_error=False)

    def identity(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Identity:
        ident = tokens.authenticate(creds.credentials) if creds else None
        if ident is None:
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        return ident

    def allowed(action: str):
        def check(request: Request, ident: Annotated[Identity, Depends(identity)]) -> Identity:
            if not ident.can(action):
                registry.write(lambda s: audit.append(
                    s, actor=ident.name, role=ident.role, action="authz_refused", subject=action,
                    details={"method": request.method, "path": request.url.path[:200]}))
                raise HTTPException(403, f"role {ident.role!r} may not {action.replace('_', ' ')}")
            return ident
        return check

    return allowed


def _error_handlers(app: FastAPI) -> None:
    """Not found → 404, invalid → 400, a refused release → 409."""
    @app.exception_handler(LookupError)
    def _not_found(_: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse({"detail": str(exc).strip("'\"")}, status_code=404)

    @app.exception_handler(ValueError)
    def _invalid(_: Request, exc: ValueError) -> JSONResponse:
        return invalid([str(exc)])

    @app.exception_handler(ReleaseRefused)
    def _refused(_: Request, exc: ReleaseRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)


def _scan_and_declaration_routes(app: FastAPI, registry: Registry, allowed) -> None:
    """Scans, declarations, inspection results, officers' inspections and releases."""
    @app.post("/scans", status_code=201, tags=["operator"], summary="Ingest a scan",
              responses=responses(400, 401, 403, 413))
    def ingest_scan(body: ScanIn, ident: Annotated[Identity, Depends(allowed("ingest_scan"))]) -> dict[str, Any]:
        item = ScanInput(body.sidecar, body.scan_sha256, body.position, body.rfid_tags,
                         body.identification.model_dump() if body.identification else None)
        res = registry.write(lambda s: ingest_one(s, item, actor=ident.name, role=ident.role))
        return {"scan_id": res.scan_id, "status": res.status, "flags": [list(f) for f in res.flags],
                "routed": res.routed}

    @app.post("/declarations", status_code=201, tags=["operator", "system"], summary="Register a declaration",
              responses=responses(400, 401, 403, 413))
    def register_declaration(body: DeclarationIn,
                             ident: Annotated[Identity, Depends(allowed("register_declaration"))]) -> dict[str, Any]:
        rep = registry.write(lambda s: register_rows(s, [body.model_dump()], f"api:{ident.name}",
                                                     actor=ident.name, role=ident.role))
        if rep.rejected:
            # The reject is stored (nothing is dropped); the caller learns why.
            return invalid(["declaration rejected: " + r for r in rep.rejects[0][1]])
        return {"pi_number": body.pi_number, "status": "added" if rep.added else "unchanged",
                "corridor": rep.corridors[body.pi_number]}

    @app.get("/declarations/{pi_number:path}/corridor", tags=["all roles"], summary="Get the corridor",
             responses=responses(401, 403, 404))
    def get_corridor(pi_number: PiNumber,
                     _: Annotated[Identity, Depends(allowed("read_corridor"))]) -> dict[str, Any]:
        with registry.read() as s:
            d = s.get(Declaration, pi_number)
            if d is None:
                raise LookupError(f"declaration {pi_number} is not registered")
            rel = s.get(Release, pi_number)
            return {"pi_number": d.pi_number, "corridor": d.corridor, "reason": d.corridor_reason,
                    "risk_areas": d.risk_areas, "scans": [x.scan_id for x in linked_scans(s, d)],
                    "released": rel is not None,
                    "released_by": ({"officer_id": rel.officer_id, "officer_name": rel.officer_name,
                                     "stamp": rel.officer_stamp, "at": rel.released_at} if rel else None)}

    @app.post("/inspections", status_code=201, tags=["system"], summary="Record an inspection result",
              responses=responses(400, 401, 403, 404, 413))
    def post_inspection(body: dict[str, Any],
                        ident: Annotated[Identity, Depends(allowed("record_inspection"))]) -> dict[str, Any]:
        added, routed = registry.write(lambda s: record_inspection(s, body, actor=ident.name, role=ident.role))
        return {"scan_id": body["scan_id"], "added": added, "routed": routed}

    @app.post("/declarations/{pi_number:path}/officer-inspection", status_code=201, tags=["officer"],
              summary="Record an officer's inspection (the only way out of the red corridor)",
              responses=responses(400, 401, 403, 404, 413))
    def officer_inspection(pi_number: PiNumber, body: OfficerInspectionIn,
                           ident: Annotated[Identity, Depends(allowed("record_officer_inspection"))]) -> dict:
        corridor = registry.write(lambda s: record_officer_inspection(s, pi_number, ident, body.outcome,
                                                                      body.findings))
        return {"pi_number": pi_number, "corridor": corridor, "officer_id": ident.officer_id}

    @app.post("/declarations/{pi_number:path}/release", status_code=201, tags=["officer"], summary="Release",
              responses=responses(400, 401, 403, 404, 409, 413))
    def post_release(pi_number: PiNumber, body: ReleaseIn,
                     ident: Annotated[Identity, Depends(allowed("release"))]) -> dict[str, Any]:
        rel = release_declaration(registry, pi_number, ident, body.basis)
        return {"pi_number": pi_number, "officer_id": rel.officer_id, "officer_name": rel.officer_name,
                "stamp": rel.officer_stamp, "released_at": rel.released_at, "basis": rel.basis}


def _export_routes(app: FastAPI, registry: Registry, allowed) -> None:
    """Table 1 and the declarations export (who released what)."""
    @app.get("/table1", tags=["operator", "officer", "auditor"], summary="Table 1 (JSON, CSV or XLSX)",
             responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **responses(401, 403)})
    def get_table1(ident: Annotated[Identity, Depends(allowed("read_table1"))],
                   format: Literal["json", "csv", "xlsx"] = Query("json")) -> Any:
        if format == "json":
            with registry.read() as s:
                return table1_rows(s)

        def work(s):
            audit.append(s, actor=ident.name, role=ident.role, action="export", subject="table1",
                         details={"format": format})
            return table1_file(s, format)

        data = registry.write(work)
        media = "text/csv; charset=utf-8" if format == "csv" else XLSX
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="table1.{format}"'})

    @app.get("/exports/declarations", tags=["officer", "auditor"],
             summary="Transit declarations with who released each (XLSX or CSV)",
             responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **responses(401, 403)})
    def get_declarations_export(ident: Annotated[Identity, Depends(allowed("export_declarations"))],
                                format: Literal["xlsx", "csv"] = Query("xlsx")) -> Response:
        data = registry.write(lambda s: export_declarations(s, format, actor=ident.name, role=ident.role))
        media = "text/csv; charset=utf-8" if format == "csv" else XLSX
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="declarations.{format}"'})


def _audit_routes(app: FastAPI, registry: Registry, allowed) -> None:
    """The audit trail's verification."""
    public_key = load_registry_params().public_key
    signature_ok = entry_verifier(load_public(public_key)) if public_key else None

    @app.get("/audit/verify", tags=["auditor"], summary="Verify the audit trail", responses=responses(401, 403))
    def verify(_: Annotated[Identity, Depends(allowed("verify_audit"))]) -> dict[str, Any]:
        with registry.read() as s:
            res = audit.verify_session(s, signature_ok=signature_ok)
        return {"ok": res.ok, "entries": res.rows, "head_count": res.head_count, "last_hash": res.last_hash,
                "summary": res.summary(),
                "breaks": [{"seq": b.seq, "kind": b.kind, "message": b.message} for b in res.breaks[:100]]}
