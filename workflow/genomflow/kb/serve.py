"""``genomflow kb serve``: the GA4GH Beacon v2 API over the knowledge database (FastAPI).

Endpoints under ``/api``: ``/info`` (also ``/api``), ``/map``, ``/configuration``,
``/filtering_terms``, ``/g_variants`` (GET with query parameters, or POST with a Beacon
request body) and ``/g_variants/{VRS id}``. Answers follow the framework schemas shipped in
``workflow/schemas/beacon`` (see :mod:`genomflow.kb.beacon` for what is counted and shown).

* Anonymous requests get ``boolean`` and ``count`` granularity (counts 1-4 never shown).
* ``Authorization: Bearer TOKEN`` (``genomflow kb token add``) gives ``record`` granularity
  on the token's centre's own samples: a filter on the centre in the query, and on
  PostgreSQL also the centre's role (``SET LOCAL ROLE``), so that row-level security applies.
  A wrong, expired or revoked token is refused with 401; ``record`` without a token too.
* Each client (address and presented token) may make ``rate_limit`` requests per
  ``rate_window`` seconds; beyond that, 429.
* Every request is logged in ``query_log`` (who, what, when, the granularity returned, the
  status), by a background writer that commits at least every :data:`LOG_FLUSH_SECONDS`.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Engine, text

from genomflow import __version__
from genomflow.kb import beacon
from genomflow.kb.db import is_postgres
from genomflow.kb.tokens import TokenInfo, authenticate

API_VERSION = "v2.0.1"
LOG_FLUSH_SECONDS = 0.2
VARIANT_SCHEMA = {"entityType": "genomicVariant", "schema": "beacon-g_variant-v2.0.0"}


@dataclass(frozen=True)
class ServeSettings:
    """What the server says about itself, and its limits."""

    beacon_id: str = "org.genomflow.beacon"
    name: str = "genomflow Beacon"
    organization: str = "genomflow national genomics platform"
    environment: str = "prod"
    rate_limit: int = 120
    rate_window: float = 60.0


class HttpError(Exception):
    """An answer other than 200, as a Beacon error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per client (sliding window)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._seen.setdefault(client, collections.deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


class QueryLogWriter:
    """Writes log entries in batches from a background thread; :meth:`close` flushes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
        self._thread.start()

    def add(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[dict[str, Any]] = []
            deadline = time.monotonic() + LOG_FLUSH_SECONDS
            while not done and time.monotonic() < deadline:
                try:
                    entry = self._queue.get(timeout=max(deadline - time.monotonic(), 0.001))
                except queue.Empty:
                    continue
                if entry is None:
                    done = True
                else:
                    batch.append(entry)
            if batch:
                self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO query_log (at, client, token_name, centre_id, endpoint, query, "
                    "requested_granularity, granularity, status) VALUES (:at, :client, "
                    ":token_name, :centre_id, :endpoint, :query, :requested, :granularity, :status)"
                ),
                batch,
            )


def _meta(
    settings: ServeSettings, query: beacon.VariantQuery | None, returned: str
) -> dict[str, Any]:
    requested = query.granularity if query else "boolean"
    return {
        "beaconId": settings.beacon_id,
        "apiVersion": API_VERSION,
        "returnedSchemas": [VARIANT_SCHEMA],
        "returnedGranularity": returned,
        "receivedRequestSummary": {
            "apiVersion": API_VERSION,
            "requestedSchemas": [VARIANT_SCHEMA],
            "pagination": {"skip": 0, "limit": beacon.MAX_RECORDS},
            "requestedGranularity": requested,
            "requestParameters": {"g_variant": dict(query.parameters) if query else {}},
        },
    }


def _informational_meta(settings: ServeSettings) -> dict[str, Any]:
    return {"beaconId": settings.beacon_id, "apiVersion": API_VERSION, "returnedSchemas": []}


@dataclass
class Answer:
    """A response body with what the log needs."""

    body: dict[str, Any]
    requested: str | None = None
    returned: str | None = None


@dataclass
class Caller:
    client: str
    token: TokenInfo | None


class BeaconService:
    """The endpoints' logic, with the engines, limiter and log it shares."""

    def __init__(self, reader: Engine, writer: Engine, settings: ServeSettings) -> None:
        self.reader = reader
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_window)
        self.log = QueryLogWriter(writer)

    def caller(self, request: Request) -> Caller:
        """Rate-limit, then authenticate (a presented token must be valid)."""
        client = request.client.host if request.client else "unknown"
        header = request.headers.get("authorization")
        key = client + (hashlib.sha256(header.encode()).hexdigest()[:16] if header else "")
        if not self.limiter.allow(key):
            raise HttpError(429, "too many requests: slow down")
        if header is None:
            return Caller(client, None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError(401, "expected 'Authorization: Bearer TOKEN'")
        with self.reader.connect() as connection:
            info = authenticate(connection, token.strip())
        if info is None:
            raise HttpError(401, "invalid, expired or revoked token")
        return Caller(client, info)

    def g_variants(self, caller: Caller, query: beacon.VariantQuery) -> Answer:
        if query.granularity == "record":
            if caller.token is None:
                raise HttpError(401, "record granularity needs a centre's bearer token")
            # Records, always shown to a centre for its own samples, in one transaction: the
            # centre's role (SET LOCAL) lasts until it ends.
            with self.reader.connect() as connection:
                return self._records(connection, caller.token, query)
        # A count is one statement: no transaction to begin and roll back (two round trips
        # fewer on PostgreSQL).
        with self.reader.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            count = beacon.carriers(autocommit, query)
        returned = beacon.shown_granularity(query.granularity, count, caller.token is not None)
        summary: dict[str, Any] = {"exists": count > 0}
        if returned == "count":
            summary["numTotalResults"] = count
        body = {"meta": _meta(self.settings, query, returned), "responseSummary": summary}
        if query.granularity != returned:
            body["info"] = {"note": "counts of 1 to 4 are not returned"}
        return Answer(body, query.granularity, returned)

    def _records(
        self, connection: Connection, token: TokenInfo, query: beacon.VariantQuery
    ) -> Answer:
        # The connection's transaction is open (autobegin): SET LOCAL lasts until it ends.
        if is_postgres(connection):
            role = connection.execute(
                text("SELECT role_name FROM centre_roles WHERE centre_id = :c ORDER BY 1"),
                {"c": token.centre},
            ).scalar()
            if role is not None:
                quoted = connection.dialect.identifier_preparer.quote(str(role))
                connection.execute(text(f"SET LOCAL ROLE {quoted}"))
        found = beacon.records(connection, query, token.centre)
        body = {
            "meta": _meta(self.settings, query, "record"),
            "responseSummary": {"exists": bool(found), "numTotalResults": len(found)},
            "response": {
                "resultSets": [
                    {
                        "id": token.centre,
                        "setType": "dataset",
                        "exists": bool(found),
                        "resultsCount": len(found),
                        "results": found,
                    }
                ]
            },
        }
        return Answer(body, "record", "record")

    def info(self) -> Answer:
        s = self.settings
        return Answer(
            {
                "meta": _informational_meta(s),
                "response": {
                    "id": s.beacon_id,
                    "name": s.name,
                    "apiVersion": API_VERSION,
                    "environment": s.environment,
                    "organization": {"id": s.beacon_id, "name": s.organization},
                    "version": __version__,
                    "description": "Who has seen this variant? Counts of 1 to 4 are never shown.",
                },
            }
        )

    def map(self, base: str) -> Answer:
        return Answer(
            {
                "meta": _informational_meta(self.settings),
                "response": {
                    "$schema": "beacon-map-v2.0.0",
                    "endpointSets": {
                        "genomicVariant": {
                            "entryType": "genomicVariant",
                            "rootUrl": f"{base}/api/g_variants",
                            "singleEntryUrl": f"{base}/api/g_variants/{{id}}",
                            "filteringTermsUrl": f"{base}/api/filtering_terms",
                        }
                    },
                },
            }
        )

    def configuration(self) -> Answer:
        return Answer(
            {
                "meta": _informational_meta(self.settings),
                "response": {
                    "$schema": "beacon-configuration-v2.0.0",
                    "maturityAttributes": {"productionStatus": "PROD"},
                    "securityAttributes": {
                        "defaultGranularity": "boolean",
                        "securityLevels": ["PUBLIC", "REGISTERED"],
                    },
                    "entryTypes": {
                        "genomicVariant": {
                            "id": "genomicVariant",
                            "name": "Genomic variants",
                            "ontologyTermForThisType": {
                                "id": "ENSGLOSSARY:0000092",
                                "label": "Variant",
                            },
                            "partOfSpecification": "Beacon v2.0.0",
                            "defaultSchema": {
                                "id": "ga4gh-beacon-variant-v2.0.0",
                                "name": "Default schema for a genomic variation",
                                "referenceToSchemaDefinition": "https://github.com/ga4gh-beacon/beacon-v2",
                                "schemaVersion": "v2.0.0",
                            },
                            "nonFilteredQueriesAllowed": False,
                        }
                    },
                },
            }
        )

    def filtering_terms(self) -> Answer:
        return Answer(
            {
                "meta": _informational_meta(self.settings),
                "response": {"resources": [], "filteringTerms": []},
            }
        )


def _post_parameters(body: Any) -> tuple[dict[str, str], str | None]:
    if not isinstance(body, dict):
        raise beacon.BeaconRequestError("the body must be a Beacon request (a JSON object)")
    query = body.get("query", {})
    if not isinstance(query, dict):
        raise beacon.BeaconRequestError("'query' must be an object")
    raw = query.get("requestParameters", {})
    if not isinstance(raw, dict):
        raise beacon.BeaconRequestError("'requestParameters' must be an object")
    params: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise beacon.BeaconRequestError(f"invalid {str(key)[:50]}")
        params[str(key)] = str(value)
    granularity = query.get("requestedGranularity")
    if granularity is not None and not isinstance(granularity, str):
        raise beacon.BeaconRequestError("invalid requestedGranularity")
    return params, granularity


def create_app(reader: Engine, writer: Engine, settings: ServeSettings) -> FastAPI:
    """The FastAPI application (run it with uvicorn)."""
    service = BeaconService(reader, writer, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        service.log.close()

    app = FastAPI(
        title=settings.name,
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def answer(
        request: Request, work: Callable[[Caller], Answer], query: Any = None
    ) -> JSONResponse:
        status, result, caller_info = 200, None, None
        try:
            caller_info = service.caller(request)
            result = work(caller_info)
            response = JSONResponse(result.body)
        except beacon.BeaconRequestError as err:
            status = 400
            response = _error(settings, status, str(err))
        except HttpError as err:
            status = err.status
            response = _error(settings, status, err.message)
            if status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
        service.log.add(_entry(request, caller_info, result, status))
        return response

    @app.get("/api")
    @app.get("/api/info")
    def info(request: Request) -> JSONResponse:
        return answer(request, lambda _c: service.info())

    @app.get("/api/map")
    def beacon_map(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return answer(request, lambda _c: service.map(base))

    @app.get("/api/configuration")
    def configuration(request: Request) -> JSONResponse:
        return answer(request, lambda _c: service.configuration())

    @app.get("/api/filtering_terms")
    def filtering_terms(request: Request) -> JSONResponse:
        return answer(request, lambda _c: service.filtering_terms())

    @app.get("/api/g_variants")
    def g_variants(request: Request) -> JSONResponse:
        params = dict(request.query_params)
        return answer(request, lambda c: service.g_variants(c, beacon.parse_query(params)))

    @app.get("/api/g_variants/{variant_id}")
    def g_variant(request: Request, variant_id: str) -> JSONResponse:
        params = dict(request.query_params)
        return answer(
            request, lambda c: service.g_variants(c, beacon.parse_query(params, variant_id))
        )

    @app.post("/api/g_variants")
    async def g_variants_post(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None

        def work(c: Caller) -> Answer:
            params, granularity = _post_parameters(body)
            if granularity is not None:
                params["requestedGranularity"] = granularity
            return service.g_variants(c, beacon.parse_query(params))

        return answer(request, work)

    return app


def _error(settings: ServeSettings, status: int, message: str) -> JSONResponse:
    body = {
        "meta": _meta(settings, None, "boolean"),
        "error": {"errorCode": status, "errorMessage": message},
    }
    return JSONResponse(body, status_code=status)


def _entry(
    request: Request, caller: Caller | None, result: Answer | None, status: int
) -> dict[str, Any]:
    token = caller.token if caller else None
    return {
        "at": datetime.datetime.now(datetime.UTC),
        "client": (request.client.host if request.client else "unknown")[:100],
        "token_name": token.name if token else None,
        "centre_id": token.centre if token else None,
        "endpoint": request.url.path[:200],
        "query": json.dumps(_asked(request, result), sort_keys=True)[:4000],
        "requested": result.requested if result else None,
        "granularity": result.returned if result else None,
        "status": status,
    }


def _asked(request: Request, result: Answer | None) -> dict[str, Any]:
    """The parameters as understood (a POST body's too), else the URL's query string."""
    summary = (result.body.get("meta") or {}).get("receivedRequestSummary") if result else None
    if summary:
        asked: dict[str, Any] = summary["requestParameters"].get("g_variant", {})
        return asked
    return dict(request.query_params)
