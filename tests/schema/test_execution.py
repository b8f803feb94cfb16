"""The compiled executor answers exactly as graphql-core does.

Every query runs through two schemas built from the same types: Strawberry's default
execution and :class:`schema.execution.CompiledExecution`. Data, error messages, paths and
locations must match, for successes and for every kind of failure (resolver errors sync and
async, null in non-null positions at each depth, list items, abstract types, directives).
"""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from schema.execution import SOURCE_RESOLVER, CompiledExecution, context_only, plan_cache_size
from schema.extensions import DocumentCache, ParsedDocuments


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        return value.upper() if isinstance(value, str) else value


def _label(source: Any, context: Any) -> str:
    return f"{context['tag']}-{source.id}"


def _label_direct(source: Any, context: Any) -> str:
    context.setdefault("direct", []).append(source.id)
    return _label(source, context)


class Labelled(FieldExtension):
    covered_by_source_resolver = True  # _label is this extension's whole work

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return _label(source, info.context)


class NotCovered(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return "from the extension"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool


@strawberry.type
class Cat(Named):
    lives: int


Pet = Annotated[Dog | Cat, strawberry.union("Pet")]


@strawberry.type
class Leaf:
    id: strawberry.ID
    value: int | None
    colour: Colour
    at: datetime

    @strawberry.field
    def doubled(self) -> int | None:
        return None if self.value is None else self.value * 2

    @strawberry.field
    def must(self) -> int:
        return self.value  # type: ignore[return-value]  # None on purpose: a non-null violation

    @strawberry.field
    async def later(self) -> int | None:
        await asyncio.sleep(0)
        return self.value

    @strawberry.field
    async def later_must(self) -> int:
        await asyncio.sleep(0)
        return self.value  # type: ignore[return-value]

    @strawberry.field
    def boom(self) -> str | None:
        raise ValueError(f"boom {self.id}")

    @strawberry.field
    async def async_boom(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError(f"async boom {self.id}")

    @strawberry.field(extensions=[Upper()])
    def shout(self) -> str:
        return f"leaf {self.id}"

    label: str = strawberry.field(
        resolver=lambda: "", extensions=[Labelled()], metadata={SOURCE_RESOLVER: _label_direct}
    )
    # a source resolver that disagrees with the field's extension: never used, the extension is not covered
    guarded: str = strawberry.field(
        resolver=lambda: "", extensions=[NotCovered()], metadata={SOURCE_RESOLVER: _label}
    )

    @context_only
    @strawberry.field
    def context_id(self, info: Info) -> str:
        info.context.setdefault("context_only", []).append(self.id)
        return f"{info.context['tag']}#{self.id}"

    @strawberry.field
    def context_tag(self, info: Info) -> str:
        return f"{info.context['tag']}:{info.path.key}"


def _leaf(i: int, value: int | None = 1) -> Leaf:
    return Leaf(id=strawberry.ID(str(i)), value=value, colour=Colour.RED, at=datetime(2026, 11, 26, tzinfo=UTC))


@strawberry.type
class Branch:
    label: str
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    strict_leaves: list[Leaf]
    tags: list[str] | None

    @strawberry.field
    async def async_leaves(self) -> list[Leaf]:
        await asyncio.sleep(0)
        return self.leaves

    @strawberry.field
    def awaitable_items(self) -> list[Leaf | None]:
        async def one(leaf: Leaf) -> Leaf:
            await asyncio.sleep(0)
            return leaf

        return [one(leaf) for leaf in self.leaves]  # type: ignore[misc]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self, first: int = 10) -> list[Branch]:
        return [
            Branch(
                label=f"b{b}",
                leaves=[_leaf(b * 10 + i, None if i == 2 else i) for i in range(3)],
                maybe_leaves=[_leaf(b * 10 + 5), None],
                strict_leaves=[_leaf(b * 10 + 7, None)],
                tags=["x", "y"],
            )
            for b in range(3)
        ][:first]

    @strawberry.field
    async def branch(self, label: str) -> Branch | None:
        await asyncio.sleep(0)
        for b in self.branches():
            if b.label == label:
                return b
        return None

    @strawberry.field
    def pets(self) -> list[Named]:
        return [Dog(name="rex", barks=True), Cat(name="tom", lives=9)]

    @strawberry.field
    def union_pets(self) -> list[Pet]:
        return [Cat(name="kit", lives=7), Dog(name="fido", barks=False)]

    @strawberry.field
    def must_branch(self) -> Branch:
        return None  # type: ignore[return-value]

    @strawberry.field
    def wrong_type(self) -> Dog | None:
        return Cat(name="impostor", lives=1)  # type: ignore[return-value]

    @strawberry.field
    def colours(self) -> list[Colour]:
        return [Colour.RED, Colour.BLUE]


plain = strawberry.Schema(query=Query)
compiled = strawberry.Schema(
    query=Query,
    execution_context_class=CompiledExecution,
    extensions=[partial(DocumentCache, documents=ParsedDocuments())],
)

QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ branches { label tags leaves { id value colour at doubled shout contextTag contextId label guarded } } }",
     None),
    ("{ branches(first: 2) { label leaves { id later } } }", None),
    ("query Q($n: Int!) { branches(first: $n) { label } }", {"n": 1}),
    ("{ branches { leaves { id boom } } }", None),
    ("{ branches { leaves { id asyncBoom } } }", None),
    ("{ branches { label leaves { id must } } }", None),
    ("{ branches { label leaves { id laterMust } } }", None),
    ("{ branches { label strictLeaves { id must } } }", None),
    ("{ branches { label maybeLeaves { id value } } }", None),
    ("{ branches { label asyncLeaves { id later } } }", None),
    ("{ branches { label awaitableItems { id later } } }", None),
    ("{ branches { notAList } }", None),
    ('{ branch(label: "b1") { label leaves { id value } } }', None),
    ('{ branch(label: "zz") { label } }', None),
    ("{ mustBranch { label } }", None),
    ("{ pets { __typename name ... on Dog { barks } ... on Cat { lives } } }", None),
    ("{ unionPets { __typename ... on Cat { name lives } ... on Dog { name } } }", None),
    ("{ wrongType { name } }", None),
    ("{ colours __typename }", None),
    ("{ a: branches(first: 1) { x: label } b: branches(first: 2) { y: label leaves { id } } }", None),
    ("fragment L on Leaf { id value } { branches { leaves { ...L doubled } } }", None),
    ("{ branches { ... on Branch { label } leaves { ... { id } } } }", None),
    (
        "query S($skip: Boolean!) { branches { label @skip(if: $skip) leaves { id @include(if: $skip) } } }",
        {"skip": True},
    ),
    (
        "query S($skip: Boolean!) { branches { label @skip(if: $skip) leaves { id @include(if: $skip) } } }",
        {"skip": False},
    ),
    ("{ branches { label leaves { id must later boom } maybeLeaves { id must } } }", None),
]


def _errors(result: Any) -> list[tuple[str, Any, Any]]:
    return sorted(
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []]) for e in result.errors or []
    )


@pytest.mark.parametrize(("query", "variables"), QUERIES)
async def test_compiled_execution_matches_graphql_core(query: str, variables: dict[str, Any] | None) -> None:
    context = {"tag": "t"}
    expected = await plain.execute(query, variable_values=variables, context_value=context)
    for _ in range(2):  # the second run uses the cached document and plan
        got = await compiled.execute(query, variable_values=variables, context_value=context)
        assert got.data == expected.data
        assert _errors(got) == _errors(expected)


async def test_plans_are_cached_per_document_and_directive_values() -> None:
    query = "{ branches { label leaves { id value } } }"
    await compiled.execute(query)
    size = plan_cache_size()
    await compiled.execute(query)
    assert plan_cache_size() == size
    with_directive = "query D($s: Boolean!) { branches { label @skip(if: $s) } }"
    await compiled.execute(with_directive, variable_values={"s": True})
    await compiled.execute(with_directive, variable_values={"s": False})
    assert plan_cache_size() == size + 2


async def test_an_invalid_query_is_rejected_every_time() -> None:
    for _ in range(3):
        result = await compiled.execute("{ branches { nope } }")
        assert result.data is None
        assert result.errors and "Cannot query field 'nope'" in result.errors[0].message


async def test_plans_call_a_covered_source_resolver_directly() -> None:
    query = "{ branches(first: 1) { leaves { label } } }"
    plain_context: dict[str, Any] = {"tag": "t"}
    compiled_context: dict[str, Any] = {"tag": "t"}
    expected = await plain.execute(query, context_value=plain_context)
    got = await compiled.execute(query, context_value=compiled_context)
    assert got.data == expected.data
    assert "direct" not in plain_context  # graphql-core ran the extension
    assert compiled_context["direct"] == ["0", "1", "2"]


async def test_context_only_resolvers_get_the_context_alone() -> None:
    query = "{ branches(first: 1) { leaves { contextId } } }"
    plain_context: dict[str, Any] = {"tag": "t"}
    compiled_context: dict[str, Any] = {"tag": "t"}
    expected = await plain.execute(query, context_value=plain_context)
    got = await compiled.execute(query, context_value=compiled_context)
    assert got.data == expected.data == {"branches": [{"leaves": [{"contextId": f"t#{i}"} for i in range(3)]}]}
    assert compiled_context["context_only"] == ["0", "1", "2"]


def test_context_only_refuses_resolvers_it_cannot_serve() -> None:
    def with_argument(self: Any, info: Info, n: int) -> int:
        return n

    def without_info(self: Any) -> int:
        return 1

    async def asynchronous(self: Any, info: Info) -> int:
        return 1

    for resolver in (with_argument, without_info, asynchronous):
        with pytest.raises(TypeError, match="context_only needs"):
            context_only(strawberry.field(resolver=resolver))
