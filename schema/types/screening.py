"""Screening runs and results as clients see them.

A :class:`ScreeningRun` screens a job's applications in the background; its ``results`` are ordered by
rank (recommended first, then by score), and its ``shortlist`` is the top of that order. Each
:class:`ScreeningResult` explains itself: reasons from a closed set of codes whose points add up to the
score, each with evidence (the exact text and its offsets in the candidate's resume). ``passed`` is the
engine's recommendation, never a rejection: ``humanDecision`` is what a person decided.

Reasons quote the resume, so they are shown per the tenant's field policy for
``screening_result.reasons`` (hidden from candidates by default).
"""

from __future__ import annotations

import base64
import binascii
import uuid
import weakref
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from policies import Visibility
from schema.errors import ValidationFailed
from schema.prefetch import connection_nodes, prefetch, related
from schema.relay import Connection, Edge, Node, PageInfo, encode_global_id
from schema.types.recruiting import Application, Job, JobRequirements

__all__ = [
    "EvidenceSpan",
    "ScreeningDecision",
    "ScreeningProgress",
    "ScreeningReason",
    "ScreeningReasonCode",
    "ScreeningResult",
    "ScreeningRun",
    "ScreeningRunStatus",
    "application_screening_results",
    "job_screening_runs",
    "visible_json",
]


@strawberry.enum(
    description="PARTIALLY_DONE: some chunks failed for good (see `failed`, `error`); the rest is ranked. "
    "FAILED: nothing could be screened, or the run could not be queued."
)
class ScreeningRunStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    PARTIALLY_DONE = "PARTIALLY_DONE"
    FAILED = "FAILED"


@strawberry.enum(description="A person's decision on a screening result. Only a person can reject.")
class ScreeningDecision(Enum):
    ADVANCE = "ADVANCE"
    HOLD = "HOLD"
    REJECT = "REJECT"


@strawberry.enum(description="The closed set of reasons a screening result gives.")
class ScreeningReasonCode(Enum):
    MUST_HAVE_MET = "MUST_HAVE_MET"
    MUST_HAVE_MISSING = "MUST_HAVE_MISSING"
    MUST_HAVE_NEGATED = "MUST_HAVE_NEGATED"
    NICE_TO_HAVE_MET = "NICE_TO_HAVE_MET"
    YEARS_MET = "YEARS_MET"
    YEARS_BELOW_MINIMUM = "YEARS_BELOW_MINIMUM"
    EDUCATION_MET = "EDUCATION_MET"
    EDUCATION_BELOW_MINIMUM = "EDUCATION_BELOW_MINIMUM"
    KNOCKOUT_HIT = "KNOCKOUT_HIT"


@strawberry.type(description="A span of the source text: `text == source[start:end]` (offsets in characters).")
class EvidenceSpan:
    text: str
    start: int
    end: int


@strawberry.type(description="One line of a screening explanation; the points of all reasons add up to the score.")
class ScreeningReason:
    code: ScreeningReasonCode
    points: float
    skill: str | None = strawberry.field(description="The gazetteer skill id the reason is about, if any.")
    detail: str
    evidence: list[EvidenceSpan]


@strawberry.type
class ScreeningProgress:
    done: int = strawberry.field(description="Applications screened so far.")
    total: int
    percent: float


def _masked(info: Info, entity: str, field: str, subject: uuid.UUID | None) -> bool:
    """Whether the viewer sees ``entity.field`` masked (JSON values are then shown with quotes redacted)."""
    decide = getattr(info.context.presenter, "decide", None)
    if decide is None:
        return False
    is_self = subject is not None and subject == info.context.viewer.candidate_id
    return bool(decide(entity, field, is_self).visibility is Visibility.MASKED)


def visible_json(info: Info, entity: str, field: str, row: Any, subject: uuid.UUID | None) -> tuple[Any, bool]:
    """A JSON column shown per policy: (value or None when hidden, whether it is masked)."""
    value = info.context.presenter.present(entity, field, row, subject)
    if value is None:
        return None, False
    return value, _masked(info, entity, field, subject)


def _spans(items: list[dict[str, Any]], masked: bool) -> list[EvidenceSpan]:
    return [EvidenceSpan(text="***" if masked else e["text"], start=e["start"], end=e["end"]) for e in items]


_EXPLANATIONS: weakref.WeakKeyDictionary[Any, DataLoader[uuid.UUID, Any]] = weakref.WeakKeyDictionary()


def _explanations(info: Info) -> DataLoader[uuid.UUID, Any]:
    """One loader per request (keyed by its loaders) for reasons stored without evidence (large runs)."""
    loaders = info.context.loaders
    loader = _EXPLANATIONS.get(loaders)
    if loader is None:
        service, viewer = info.context.services["screening"], info.context.viewer

        async def load(ids: list[uuid.UUID]) -> list[Any]:
            return list(await service.explain(viewer, ids))

        loader = _EXPLANATIONS[loaders] = DataLoader(load_fn=load)
    return loader


def _cursor(row: Any) -> str:
    rank = "-" if row.rank is None else str(row.rank)
    return base64.urlsafe_b64encode(f"r1:{rank}:{row.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[int | None, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        tag, rank, row_id = raw.split(":")
        if tag != "r1":
            raise ValueError
        return (None if rank == "-" else int(rank)), uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("malformed cursor", field="after") from None


async def _results(
    info: Info, run_id: uuid.UUID, *, first: int, after: str | None, passed: bool | None, shortlisted: bool
) -> Connection[ScreeningResult]:
    limit = info.context.settings.max_page_size if info.context.settings else 100
    if first < 0 or first > limit:
        raise ValidationFailed(f"first must be between 0 and {limit}", field="first")
    position = _decode_cursor(after)
    page = await info.context.services["screening"].results(
        info.context.viewer, run_id, first=first, after=position, passed=passed, shortlisted=shortlisted
    )
    await prefetch(info, "ScreeningResult", page.rows, connection_nodes(info))
    edges = [Edge(cursor=_cursor(row), node=ScreeningResult.from_row(row)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=position is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )


@strawberry.type(description="A background run screening a job's applications against its requirements.")
class ScreeningRun(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    status: ScreeningRunStatus
    engine_version: str | None = strawberry.field(description="Extractor and skill gazetteer versions.")
    shortlist_size: int | None = strawberry.field(description="How many top-ranked results form the shortlist.")
    failed: int = strawberry.field(description="Applications in chunks that failed for good (not screened).")
    error: str | None = strawberry.field(
        description="Stable code of the first permanent failure: CHUNK_FAILED, CHUNK_TIMED_OUT, WORKER_DIED."
    )
    started_by: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ScreeningRun:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("ScreeningRun", row.id)),
            status=ScreeningRunStatus(row.status),
            engine_version=row.engine_version,
            shortlist_size=row.shortlist_size,
            failed=row.failed or 0,
            error=row.error,
            started_by=row.started_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
        )

    @strawberry.field
    def progress(self) -> ScreeningProgress:
        done, total = self._row.done, self._row.total
        return ScreeningProgress(done=done, total=total, percent=round(100.0 * done / total, 1) if total else 100.0)

    @strawberry.field(description="The job's requirements as they were when the run started.")
    def requirements(self) -> JobRequirements:
        return JobRequirements.from_json((self._row.requirements or {}).get("configured"))

    @strawberry.field
    def job(self, info: Info) -> Job:
        return related(info, "job", self._row.job_id, Job.from_row, many=False)

    @strawberry.field(
        description="Results by rank: recommended first, then by score (unranked ones last while running)."
    )
    async def results(
        self, info: Info, first: int = 20, after: str | None = None, passed: bool | None = None
    ) -> Connection[ScreeningResult]:
        return await _results(info, self._row.id, first=first, after=after, passed=passed, shortlisted=False)

    @strawberry.field(description="The top `shortlistSize` results by rank (empty until the run is DONE).")
    async def shortlist(self, info: Info, first: int = 20, after: str | None = None) -> Connection[ScreeningResult]:
        return await _results(info, self._row.id, first=first, after=after, passed=None, shortlisted=True)


@strawberry.type(
    description="One application's screening result: a recommendation with its reasons, and a person's decision."
)
class ScreeningResult(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    score: float = strawberry.field(description="0 to 100; the sum of the reasons' points.")
    passed: bool = strawberry.field(description="Recommended for the shortlist (the engine never rejects).")
    rank: int | None = strawberry.field(description="1-based position in the run (set when the run is DONE).")
    human_decision: ScreeningDecision | None
    decision_note: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    written_back_at: datetime | None = strawberry.field(
        description="When the result reached the HR system the application came from (null: not yet, or never)."
    )
    write_back_error: str | None = strawberry.field(
        description="The HR system refused the result for good: the connector's stable error code. "
        "A refused result is not offered to that system again."
    )

    @classmethod
    def from_row(cls, row: Any) -> ScreeningResult:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("ScreeningResult", row.id)),
            score=row.score,
            passed=row.passed,
            rank=row.rank,
            human_decision=ScreeningDecision(row.human_decision) if row.human_decision else None,
            decision_note=row.decision_note,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            created_at=row.created_at,
            written_back_at=row.written_back_at,
            write_back_error=row.write_back_error,
        )

    @strawberry.field(description="Why: reasons with evidence from the resume (shown per the field policy).")
    async def reasons(self, info: Info) -> list[ScreeningReason] | None:
        value, masked = visible_json(info, "screening_result", "reasons", self._row, None)
        if value is None:
            return None
        if getattr(self._row, "profile_key", None) or any("evidence" not in r for r in value):
            # screened by its profile (a library): the reasons and their evidence are computed now
            value = await _explanations(info).load(self._row.id) or value
        return [
            ScreeningReason(
                code=ScreeningReasonCode(r["code"]),
                points=r["points"],
                skill=r.get("skill_id"),
                detail=r.get("detail", ""),
                evidence=_spans(r.get("evidence", []), masked),
            )
            for r in value
        ]

    @strawberry.field
    def application(self, info: Info) -> Application:
        return related(info, "application", self._row.application_id, Application.from_row, many=False)

    @strawberry.field
    def run(self, info: Info) -> ScreeningRun:
        return related(info, "screening_run", self._row.run_id, ScreeningRun.from_row, many=False)


async def job_screening_runs(info: Info, job_id: uuid.UUID, first: int, after: str | None) -> Connection[ScreeningRun]:
    """``Job.screeningRuns``: the job's runs, newest first."""
    from schema.queries import paginate

    return await paginate(
        info, "screening_run", ScreeningRun.from_row, filters={"job_id": job_id}, first=first, after=after
    )


def application_screening_results(info: Info, application_id: uuid.UUID) -> Any:
    """``Application.screeningResults``: this application's result in every run, newest first."""
    return related(info, "screening_results_by_application", application_id, ScreeningResult.from_row, many=True)
