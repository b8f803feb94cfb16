"""Look-ahead prefetching: load a page's relations level by level before resolving it.

A list resolver knows which relations the client selected below it. :func:`prefetch`
walks that selection and fills the request's DataLoaders one relation at a time (one
query per relation, whatever the page size). The relation resolvers then take
:func:`related`'s synchronous path: a value already loaded is returned directly instead
of through an awaited task, which is most of the cost of a wide page in graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.exceptions import WrongNumberOfResultsReturned
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

__all__ = ["RELATIONS", "connection_nodes", "prefetch", "related"]

#: GraphQL type -> field -> (loader attribute, key attribute on the row, child GraphQL type, many)
RELATIONS: dict[str, dict[str, tuple[str, str, str | None, bool]]] = {
    "Candidate": {
        "applications": ("applications_by_candidate", "id", "Application", True),
        "resumes": ("resumes_by_candidate", "id", "Resume", True),
    },
    "Application": {
        "candidate": ("candidate", "candidate_id", "Candidate", False),
        "job": ("job", "job_id", "Job", False),
        "history": ("history_by_application", "id", None, True),
        "interviews": ("interviews_by_application", "id", "Interview", True),
        "latestEvaluation": ("latest_evaluation", "id", "Evaluation", False),
        "screeningResults": ("screening_results_by_application", "id", "ScreeningResult", True),
        "outline": ("latest_outline", "id", None, False),
        "interviewSessions": ("interview_sessions_by_application", "id", "InterviewSession", True),
    },
    "Interview": {"application": ("application", "application_id", "Application", False)},
    "ScreeningResult": {
        "application": ("application", "application_id", "Application", False),
        "run": ("screening_run", "run_id", None, False),
    },
    "InterviewSession": {"evaluations": ("evaluations_by_session", "id", None, True)},
}


def _fields(selections: Iterable[Any]) -> dict[str, list[SelectedField]]:
    out: dict[str, list[SelectedField]] = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            out.setdefault(selection.name, []).append(selection)
        elif isinstance(selection, InlineFragment | FragmentSpread):
            for name, fields in _fields(selection.selections).items():
                out.setdefault(name, []).extend(fields)
    return out


def _children(fields: list[SelectedField]) -> list[Any]:
    return [s for f in fields for s in f.selections]


async def prefetch(info: Info, type_name: str, rows: Sequence[Any], selections: Iterable[Any]) -> None:
    """Load every relation selected below ``rows`` (of GraphQL type ``type_name``)."""
    if not rows:
        return
    selected = _fields(selections)
    relations = RELATIONS.get(type_name, {})
    for name, fields in selected.items():
        spec = relations.get(name)
        if spec is None:
            continue
        loader_name, key, child_type, many = spec
        loader = getattr(info.context.loaders, loader_name)
        keys = list(dict.fromkeys(getattr(r, key) for r in rows))
        results = await _load_all(loader, keys)
        if child_type is None:
            continue
        children = [c for group in results for c in group] if many else [r for r in results if r is not None]
        await prefetch(info, child_type, children, _children(fields))


async def _load_all(loader: DataLoader[Any, Any], keys: list[Any]) -> list[Any]:
    """``loader.load_many(keys)`` without a future, a callback and a batch slot per key: the
    keys not cached yet go to the batch function in one call and are primed into the cache."""
    cache = loader.cache_map
    missing = [k for k in keys if cache.get(k) is None]
    if missing:
        values = list(await loader.load_fn(missing))
        if len(values) != len(missing):
            raise WrongNumberOfResultsReturned(expected=len(missing), received=len(values))
        loader.prime_many(dict(zip(missing, values, strict=True)))
    results = []
    for k in keys:
        future = cache.get(k)
        assert future is not None
        results.append(future.result() if future.done() else await future)
    return results


def connection_nodes(info: Info) -> list[Any]:
    """The selections under ``edges { node { ... } }`` of the current connection field."""
    out: list[Any] = []
    for field in info.selected_fields:
        edges = _fields(field.selections).get("edges", [])
        for node in _fields(_children(edges)).get("node", []):
            out.extend(node.selections)
    return out


def related(info: Info, loader_name: str, key: Any, wrap: Callable[[Any], Any], *, many: bool) -> Any:
    """The relation's value: directly when already loaded, else an awaitable."""
    loaders = info.context.loaders
    loader = getattr(loaders, loader_name)
    objects = loaders.objects
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return _wrap(future.result(), wrap, many, objects)

    async def later() -> Any:
        return _wrap(await loader.load(key), wrap, many, objects)

    return later()


def _wrap(value: Any, wrap: Callable[[Any], Any], many: bool, objects: dict[tuple[int, Any], Any]) -> Any:
    if many:
        return [_object(v, wrap, objects) for v in value]
    return _object(value, wrap, objects) if value is not None else None


def _object(row: Any, wrap: Callable[[Any], Any], objects: dict[tuple[int, Any], Any]) -> Any:
    """One API object per row and type per request: the 100 applications of a page that share
    4 jobs share 4 ``Job`` objects. The entry keeps the row, so its id is not reused."""
    key = (id(row), wrap)
    entry = objects.get(key)
    if entry is None or entry[0] is not row:
        entry = objects[key] = (row, wrap(row))
    return entry[1]
