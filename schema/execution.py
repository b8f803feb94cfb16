"""Compiled query execution: the hub's executor for read operations.

graphql-core completes every field of every object through the same generic machinery: a
resolve-info object, an argument check, Strawberry's resolver wrapper, ``complete_value``
dispatching on the return type. For a dashboard of 50 candidates that is more than a
thousand trips per request, most of them to read an attribute and return it.

:class:`CompiledExecution` keeps graphql-core's semantics and skips that machinery where it
can. The first time an operation runs, each selection set is compiled into a plan: per
response key the field definition, how to get the value (a plain attribute for Strawberry's
basic fields, the field's resolver otherwise) and how to complete it (leaf coercion, list,
object plan), decided once from the schema rather than per value. Plans are cached per
operation document, so with :class:`~schema.extensions.DocumentCache` handing back the same
parsed document for the same query text, repeated queries reuse them.

Resolvers still get a full ``info``; awaitable values are gathered in waves, so DataLoader
batching works as before; errors are located, collected and propagate to the nearest
nullable position as the specification requires. Everything the plans do not cover runs
through graphql-core unchanged: mutations and subscriptions, ``@defer``/``@stream``,
middleware, abort signals, fragment arguments, and abstract-typed fields (the subtree under
an interface or union is completed by graphql-core itself).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationType,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, Visitor, visit
from graphql.pyutils import Path, Undefined, is_iterable
from strawberry.extensions.field_extension import FieldExtension, build_field_extension_resolvers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["SOURCE_RESOLVER", "CompiledExecution", "context_only", "plan_cache_size"]

#: Field metadata key: ``fn(source, context) -> value``, the field's whole resolution for plans
#: to call directly (no resolve info, no Strawberry ``Info``). Honoured only for fields without
#: arguments whose extensions all declare ``covered_by_source_resolver = True`` (the extension's
#: work is what ``fn`` does); the field's resolver and extensions still serve graphql-core.
SOURCE_RESOLVER = "hub.source_resolver"

_PLAN_CACHE_SIZE = 256
# (operation node, variables key) -> _OperationPlan; the node is kept alive by the entry so
# its id cannot be reused while the entry exists.
_PLANS: OrderedDict[tuple[int, str], tuple[Any, _OperationPlan]] = OrderedDict()

_LEAF, _OBJECT, _LIST, _ABSTRACT = range(4)


class _ContextInfo:
    """What a :func:`context_only` resolver is given by plans instead of a full ``Info``."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


def context_only(field: Any) -> Any:
    """Declare that a field's resolver ``(self, info)`` reads nothing of ``info`` but
    ``info.context`` (relations through the request's loaders, say): plans then call it with
    the context alone, without building resolve info. Put it above ``@strawberry.field``."""
    resolver = field.base_resolver
    if (
        resolver is None
        or field.arguments
        or field.extensions
        or resolver.self_parameter is None
        or resolver.info_parameter is None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or resolver.is_async
    ):
        raise TypeError(f"{field.python_name}: context_only needs a synchronous resolver (self, info) and nothing else")
    function = resolver.wrapped_func
    info_name = resolver.info_parameter.name

    def source_resolver(source: Any, context: Any) -> Any:
        return function(source, **{info_name: _ContextInfo(context)})

    field.metadata = {**(field.metadata or {}), SOURCE_RESOLVER: source_resolver}
    return field


class _NotCompilable(Exception):
    """The operation uses something plans do not cover; graphql-core executes it."""


def plan_cache_size() -> int:
    return len(_PLANS)


class _Shape:
    """How to complete a value of one output type (one level of list/non-null nesting)."""

    __slots__ = ("coerce", "gtype", "item", "kind", "non_null", "plan", "str_identity")

    def __init__(self, gtype: GraphQLOutputType) -> None:
        self.non_null = is_non_null_type(gtype)
        inner = gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype
        self.gtype = inner
        self.plan: _ObjectPlan | None = None
        self.item: _Shape | None = None
        self.coerce: Callable[[Any], Any] | None = None
        # String and ID coerce a str to itself: plans skip the call for str values.
        self.str_identity = inner is GraphQLString or inner is GraphQLID
        if is_leaf_type(inner):
            self.kind = _LEAF
            self.coerce = inner.coerce_output_value  # type: ignore[union-attr]
        elif is_list_type(inner):
            self.kind = _LIST
            self.item = _Shape(inner.of_type)  # type: ignore[union-attr]
        elif is_abstract_type(inner):
            self.kind = _ABSTRACT
        elif is_object_type(inner):
            # A type check other than Strawberry's own may read info or be async: graphql-core runs it.
            check = getattr(inner.is_type_of, "__qualname__", "")  # type: ignore[union-attr]
            strawberry_check = check.endswith("_get_is_type_of.<locals>.is_type_of")
            self.kind = _OBJECT if inner.is_type_of is None or strawberry_check else _ABSTRACT  # type: ignore[union-attr]
        else:  # pragma: no cover - every output type is one of the above
            raise _NotCompilable(str(inner))


def _direct_resolver(strawberry_field: Any, strawberry_schema: Any) -> Callable[[Any, Any], Any] | None:
    """What Strawberry's resolver wrapper does for a field without arguments, minus its
    per-call work: converting (no) arguments and rebuilding the extension chain.

    Only for fields where that is all the wrapper does: no arguments, no exception
    handlers, extensions (if any) synchronous on a synchronous field and not remapping
    arguments. ``None`` otherwise, and the field's own resolver runs.
    """
    if strawberry_field is None or strawberry_schema is None or strawberry_field.arguments:
        return None
    if getattr(strawberry_schema.schema_converter, "_exception_handler_specs", True):
        return None  # handlers configured, or a Strawberry that keeps them elsewhere
    extensions = list(strawberry_field.extensions)
    if any(type(e).map_arguments is not FieldExtension.map_arguments for e in extensions):
        return None
    if extensions and (strawberry_field.is_async or not all(e.supports_sync for e in extensions if e.has_resolver)):
        return None
    resolver = strawberry_field.base_resolver
    pass_self = resolver is not None and resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p] if resolver else []
    info_name = resolver.info_parameter.name if resolver and resolver.info_parameter else None
    get_result = strawberry_field.get_result

    def base(source: Any, info: Any, **_: Any) -> Any:
        kwargs: dict[str, Any] = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info
        return get_result(source, info=info, args=[source] if pass_self else [], kwargs=kwargs)

    call: Callable[..., Any] = base
    for extension_resolver in build_field_extension_resolvers(strawberry_field) if extensions else []:
        call = partial(extension_resolver, call)
    info_class = strawberry_schema.config.info_class

    def direct(source: Any, raw_info: Any) -> Any:
        return call(source, info_class(_raw_info=raw_info, _field=strawberry_field))

    return direct


class _FieldPlan:
    __slots__ = (
        "attr",
        "details",
        "direct",
        "field_def",
        "getter",
        "has_args",
        "key",
        "leaf",
        "nodes",
        "null_message",
        "parent_type",
        "resolve",
        "shape",
        "source_resolver",
        "typename",
    )

    def __init__(
        self,
        parent_type: GraphQLObjectType,
        key: str,
        field_def: GraphQLField,
        details: Any,
        default_resolver: Callable[..., Any],
        strawberry_schema: Any,
    ) -> None:
        self.key = key
        self.parent_type = parent_type
        self.field_def = field_def
        self.details = details
        self.nodes = [d.node for d in details]
        name = self.nodes[0].name.value
        self.null_message = f"Cannot return null for non-nullable field {parent_type.name}.{name}."
        self.shape = _Shape(field_def.type)
        self.leaf = self.shape.kind == _LEAF
        self.has_args = bool(field_def.args or self.nodes[0].arguments)
        self.typename = parent_type.name if name == "__typename" else None
        self.resolve = field_def.resolve or default_resolver
        self.attr: str | None = None
        self.getter: Callable[[Any, str], Any] = getattr
        strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
        self.direct = _direct_resolver(strawberry_field, strawberry_schema) if not self.has_args else None
        self.source_resolver: Callable[[Any, Any], Any] | None = None
        metadata = getattr(strawberry_field, "metadata", None) or {}
        if (
            SOURCE_RESOLVER in metadata
            and not self.has_args
            and all(getattr(e, "covered_by_source_resolver", False) for e in strawberry_field.extensions)
        ):
            self.source_resolver = metadata[SOURCE_RESOLVER]
        if (
            strawberry_field is not None
            and getattr(field_def.resolve, "__name__", "") == "_get_basic_result"
            and getattr(strawberry_field, "is_basic_field", False)
            and not self.has_args
        ):
            # Strawberry's basic field: no resolver, no extensions, no permissions. Its
            # resolver only calls ``default_resolver(source, python_name)``; so do we.
            self.attr = strawberry_field.python_name
            self.getter = strawberry_field.default_resolver


class _ObjectPlan:
    __slots__ = ("fields", "is_type_of", "type")

    def __init__(self, gtype: GraphQLObjectType, fields: list[_FieldPlan]) -> None:
        self.type = gtype
        self.fields = fields
        # Only Strawberry's own type check gets here (see _Shape): it looks at the value alone.
        self.is_type_of = gtype.is_type_of


class _OperationPlan:
    __slots__ = ("root",)

    def __init__(self, root: _ObjectPlan) -> None:
        self.root = root


class _Pending:
    """An awaitable value and where its completion goes."""

    __slots__ = ("awaitable", "field", "path", "pos", "shape")

    def __init__(self, awaitable: Awaitable[Any], field: _FieldPlan, shape: _Shape | None, path: Path, pos: Any):
        self.awaitable = awaitable
        self.field = field
        self.shape = shape  # None: the value is already complete (graphql-core completed it)
        self.path = path
        self.pos = pos


class _FindDirective(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
        self.found = True
        return Visitor.BREAK


def _has_directives(document_parts: list[Any]) -> bool:
    for part in document_parts:
        finder = _FindDirective()
        visit(part, finder)
        if finder.found:
            return True
    return False


class CompiledExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with compiled plans for queries (see module doc)."""

    _pending: list[_Pending]
    _root_nulled: bool

    # -- entry ---------------------------------------------------------------------------

    def execute_operation(self, serially: bool | None = None) -> Any:
        try:
            plan = self._plan() if self._compilable(serially) else None
        except _NotCompilable:
            plan = None
        if plan is None:
            return super().execute_operation(serially)
        self._pending = []
        self._root_nulled = False
        data: dict[str, Any] | None
        try:
            data = self._run_object(plan.root, self.root_value, None, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            data = None
        if self._pending:
            return self._drain(data)
        return self._done(data)

    def _compilable(self, serially: bool | None) -> bool:
        return (
            self.operation.operation == OperationType.QUERY
            and not serially
            and (self.middleware_manager is None or not self.middleware_manager.middlewares)
            and self.abort_signal is None
            and self.hooks is None
            and self.error_propagation
        )

    def _plan(self) -> _OperationPlan:
        operation = self.operation
        key = (id(operation), "")  # documents without directives: one plan whatever the variables
        hit = _PLANS.get(key)
        if hit is not None and hit[0] is operation:
            _PLANS.move_to_end(key)
            return hit[1]
        if _has_directives([operation, *self.fragment_definitions.values()]):
            # @skip/@include decide which fields are collected: plans depend on the values.
            key = (id(operation), "vars:" + repr(sorted(self.variable_values.coerced.items(), key=lambda kv: kv[0])))
            hit = _PLANS.get(key)
            if hit is not None and hit[0] is operation:
                _PLANS.move_to_end(key)
                return hit[1]
        root_type = self.schema.get_root_type(OperationType.QUERY)
        if root_type is None:
            raise _NotCompilable("no query type")
        grouped, defer_usages, _forbidden = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, operation, self.hide_suggestions
        )
        if defer_usages:
            raise _NotCompilable("@defer")
        for name in grouped:
            details = grouped[name]
            if details[0].node.name.value.startswith("__") and details[0].node.name.value != "__typename":
                raise _NotCompilable("introspection")
        plan = _OperationPlan(self._object_plan(root_type, grouped))
        _PLANS[key] = (operation, plan)
        if len(_PLANS) > _PLAN_CACHE_SIZE:
            _PLANS.popitem(last=False)
        return plan

    def _object_plan(self, gtype: GraphQLObjectType, grouped: Any) -> _ObjectPlan:
        fields = []
        for key, details in grouped.items():
            if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in details):
                raise _NotCompilable("@defer or fragment arguments")
            field_def = self.schema.get_field(gtype, details[0].node.name.value)
            if field_def is None:
                continue
            strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
            fields.append(_FieldPlan(gtype, key, field_def, details, self.field_resolver, strawberry_schema))
        return _ObjectPlan(gtype, fields)

    def _sub_plan(self, shape: _Shape, field: _FieldPlan) -> _ObjectPlan:
        plan = shape.plan
        if plan is None:
            grouped, defer_usages, _forbidden = collect_subfields(
                self.schema,
                self.fragments,
                self.variable_values,
                self.operation,
                shape.gtype,  # type: ignore[arg-type]
                field.details,
                self.hide_suggestions,
            )
            if defer_usages:
                raise _NotCompilable("@defer")
            plan = shape.plan = self._object_plan(shape.gtype, grouped)  # type: ignore[arg-type]
        return plan

    # -- running plans -------------------------------------------------------------------

    def _run_object(self, plan: _ObjectPlan, source: Any, path: Path | None, pos: Any) -> dict[str, Any]:
        if plan.is_type_of is not None and not plan.is_type_of(source, None):  # type: ignore[arg-type]
            raise invalid_return_type_error(plan.type, source, plan.fields[0].details if plan.fields else [])
        out: dict[str, Any] = {}
        typename = plan.type.name
        for field in plan.fields:
            key = field.key
            try:
                if field.typename is not None:
                    out[key] = field.typename
                    continue
                if field.attr is not None and field.leaf:
                    value = field.getter(source, field.attr)
                    if value is None or value is Undefined:
                        if field.shape.non_null:
                            raise TypeError(field.null_message)
                        out[key] = None
                    elif field.shape.str_identity and type(value) is str:
                        out[key] = value
                    else:
                        out[key] = self._coerce(field.shape, value)
                    continue
                fpath = Path(path, key, typename)
                if field.attr is not None:
                    value = field.getter(source, field.attr)
                elif field.source_resolver is not None:
                    value = field.source_resolver(source, self.context_value)
                else:
                    info = self.build_resolve_info(field.field_def, field.nodes, plan.type, fpath)
                    if field.direct is not None:
                        value = field.direct(source, info)
                    elif field.has_args:
                        args = get_argument_values(
                            field.field_def, field.nodes[0], self.variable_values, None, self.hide_suggestions
                        )
                        value = field.resolve(source, info, **args)
                    else:
                        value = field.resolve(source, info)
                fpos = (out, key, not field.shape.non_null, pos, fpath)
                if self.is_awaitable(value):
                    out[key] = None
                    self._pending.append(_Pending(value, field, field.shape, fpath, fpos))
                    continue
                out[key] = self._complete(field.shape, field, value, fpath, fpos)
            except Exception as raw:
                error = located_error(raw, field.nodes, (Path(path, key, typename)).as_list())
                if field.shape.non_null:
                    raise error from None
                self.collected_errors.add(error, Path(path, key, typename))
                out[key] = None
        return out

    @staticmethod
    def _coerce(shape: _Shape, value: Any) -> Any:
        coerced = shape.coerce(value)  # type: ignore[misc]
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{shape.gtype}.coerce_output_value({value!r})` to return non-nullable value,"
                f" returned: {coerced!r}"
            )
        return coerced

    def _complete(self, shape: _Shape, field: _FieldPlan, value: Any, path: Path, pos: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if shape.non_null:
                raise TypeError(field.null_message)
            return None
        kind = shape.kind
        if kind == _LEAF:
            return self._coerce(shape, value)
        if kind == _OBJECT:
            return self._run_object(self._sub_plan(shape, field), value, path, pos)
        if kind == _LIST:
            return self._complete_list(shape, field, value, path, pos)
        return self._delegate(shape, field, value, path, pos)

    def _delegate(self, shape: _Shape, field: _FieldPlan, value: Any, path: Path, pos: Any) -> Any:
        """graphql-core completes this value (abstract types, async iterables, custom type checks)."""
        info = self.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
        gtype = GraphQLNonNull(shape.gtype) if shape.non_null else shape.gtype  # type: ignore[arg-type]
        completed = self.complete_value(gtype, field.details, info, path, value, None)
        if self.is_awaitable(completed):
            self._pending.append(_Pending(completed, field, None, path, pos))
            return None
        return completed

    def _complete_list(self, shape: _Shape, field: _FieldPlan, value: Any, path: Path, pos: Any) -> list[Any]:
        if self.is_async_iterable(value):
            return self._delegate(shape, field, value, path, pos)
        if not is_iterable(value):
            name = field.nodes[0].name.value
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{field.parent_type.name}.{name}'.")
        item = shape.item
        assert item is not None
        out: list[Any] = []
        nullable = not item.non_null
        for index, element in enumerate(value):
            ipath = Path(path, index, None)
            ipos = (out, index, nullable, pos, ipath)
            out.append(None)
            try:
                if self.is_awaitable(element):
                    self._pending.append(_Pending(element, field, item, ipath, ipos))
                    continue
                if item.kind == _LEAF and element is not None:
                    out[index] = element if item.str_identity and type(element) is str else self._coerce(item, element)
                else:
                    out[index] = self._complete(item, field, element, ipath, ipos)
            except Exception as raw:
                error = located_error(raw, field.nodes, ipath.as_list())
                if item.non_null:
                    raise error from None
                self.collected_errors.add(error, ipath)
        return out

    # -- awaitables ----------------------------------------------------------------------

    async def _drain(self, data: dict[str, Any] | None) -> Any:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                results = await asyncio.gather(*(p.awaitable for p in batch), return_exceptions=True)
                for pending, result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException) and not isinstance(result, Exception):
                        raise result
                    self._settle(pending, result)
        finally:
            for pending in self._pending:  # only left over when something above raised
                close = getattr(pending.awaitable, "close", None)
                if close is not None:
                    close()
        return self._done(None if self._root_nulled else data)

    def _done(self, data: dict[str, Any] | None) -> Any:
        result = self.finish(self.build_response(data))
        # graphql-core's resolve-info helpers are bound methods of this executor: a cycle that would
        # keep the executor (and through its context the request's rows) for the cycle collector.
        self.async_helpers = None  # type: ignore[assignment]
        self._pending = []
        return result

    def _settle(self, pending: _Pending, result: Any) -> None:
        container, key, _nullable, _parent, _path = pending.pos
        try:
            if pending.shape is None:
                if isinstance(result, Exception):
                    raise result
                value = result
            else:
                value = self._complete(pending.shape, pending.field, result, pending.path, pending.pos)
            container[key] = value
        except Exception as raw:
            self._null_out(located_error(raw, pending.field.nodes, pending.path.as_list()), pending.pos)

    def _null_out(self, error: GraphQLError, pos: Any) -> None:
        """Null the nearest nullable position at or above ``pos`` and record the error there."""
        while pos is not None:
            container, key, nullable, parent, path = pos
            if nullable:
                if not self.collected_errors.has_nulled_position(path):
                    container[key] = None
                self.collected_errors.add(error, path)
                return
            pos = parent
        self._root_nulled = True
        self.collected_errors.add(error, None)
