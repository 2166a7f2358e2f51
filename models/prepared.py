"""Queries that Tortoise writes once per shape and that then run with new values each time.

Building a query costs Tortoise 100–300 µs of CPU per call (filters resolved, pypika's SQL
written, select_related joins laid out) before it reaches the driver: more than the statement
itself for a lookup by key or a page of a list, and the hot endpoints send several. A `Prepared`
query is written as an ordinary Tortoise query set by a function of its values:

    _PAGE = Prepared(lambda user_id, limit: Enrolment.filter(user_id=user_id).order_by("-id").limit(limit))
    rows = await _PAGE(user.id, 20)

On the first call for a shape, the function runs twice with two sets of stand-in values and
Tortoise writes that query's parameterised SQL each time; the parameters that differ between the
two are where each call's values go (a constant of the query stays a constant, even one that
equals a stand-in). Every later call has Tortoise run the built query set with that SQL and its
own values, so instances, `values()` rows, counts and `select_related` come
out exactly as the query set would make them, on whatever connection it would use (a
transaction's, inside one).

What decides the SQL is part of the shape, not a value: a `None`, a `bool` or an `Enum` member
(a different `IS NULL`, a different constant) and a list's length each get a build of their own;
a list longer than 100 runs unprepared. A value Tortoise rewrites before it reaches SQL
(`icontains` wraps it in `%...%`) cannot be a stand-in: building such a shape raises `TypeError`,
so the mistake shows at the first call in any test rather than as a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.exceptions import MultipleObjectsReturned
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery, CountQuery, QuerySet

R = TypeVar("R")
M = TypeVar("M", bound=Model)

# Stand-ins, two sets: within every field's bounds (a small integer, a one-character text).
_STAND_IN_NUMBER = 31_000
_STAND_IN_TEXT = 0x4E00
_STAND_IN_DAY = date(2999, 1, 1)
_STAND_IN_TIME = datetime(2999, 1, 1, tzinfo=UTC)

_LONGEST_LIST = 100  # a longer list runs unprepared rather than keep a shape per length


def _too_long(values: tuple[Any, ...]) -> bool:
    return any(isinstance(value, list | tuple) and len(value) > _LONGEST_LIST for value in values)


def _shaping(value: Any) -> bool:
    return value is None or isinstance(value, bool | Enum)


def _key(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return (len(value), *(_key(item) for item in value))
    return value if _shaping(value) else type(value)


def _slots(values: tuple[Any, ...]) -> list[Any]:
    """The values one by one, a list's items each in its own slot."""
    slots: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            slots += value
        else:
            slots.append(value)
    return slots


def _stand_in(slot: int, variant: int, value: Any) -> Any:
    if _shaping(value):
        return value
    serial = slot * 2 + variant
    if isinstance(value, int):
        return _STAND_IN_NUMBER + serial
    if isinstance(value, str):
        return chr(_STAND_IN_TEXT + serial)
    if isinstance(value, datetime):
        return _STAND_IN_TIME + timedelta(seconds=serial)
    if isinstance(value, date):
        return _STAND_IN_DAY + timedelta(days=serial)
    if isinstance(value, UUID):
        return UUID(int=serial + 1)
    raise TypeError(
        "a prepared query takes numbers, texts, times, UUIDs, None, booleans, enums and lists of them, "
        f"not {type(value)}"
    )


def _stand_ins(values: tuple[Any, ...], variant: int) -> tuple[list[Any], list[Any]]:
    """The values to build the shape with, and each slot's stand-in."""
    slots = [_stand_in(slot, variant, value) for slot, value in enumerate(_slots(values))]
    taken = iter(slots)
    built = [
        type(value)(next(taken) for _ in value) if isinstance(value, list | tuple) else next(taken) for value in values
    ]
    return built, slots


def _same(parameter: Any, stand_in: Any) -> bool:
    """The parameter is the stand-in as given, not merely equal to it: an aware time moved to
    another zone compares equal but would be sent as the caller gave it, which SQLite compares as
    text. A UUID written as text is the one rewriting followed."""
    if type(parameter) is type(stand_in):
        return repr(parameter) == repr(stand_in)
    return isinstance(stand_in, UUID) and parameter == str(stand_in)


class _FixedSql:
    """Stands in for pypika's query for one call: the SQL is already written."""

    __slots__ = ("parameters", "sql")

    def __init__(self, sql: str, parameters: list[Any]) -> None:
        self.sql = sql
        self.parameters = parameters

    def get_parameterized_sql(self) -> tuple[str, list[Any]]:
        return self.sql, self.parameters


class _Run:
    """The built query set as one call runs it: the call's connection and SQL, everything else
    read from the shape's query set, which is shared by every call and never changed (a copy of
    it per call cost more than the rest of the call's Python). `__slots__` makes any write by
    Tortoise fail loudly rather than land on the shared query set."""

    __slots__ = ("_built", "_db", "query")

    def __init__(self, built: AwaitableQuery[Any], db: Any, query: _FixedSql) -> None:
        self._built = built
        self._db = db
        self.query = query

    def __getattr__(self, name: str) -> Any:
        return getattr(self._built, name)


class _InstanceLayout:
    """How each row of a query set of instances, plain or with `select_related` one relation deep,
    becomes its instances as Tortoise's executor makes them (`execute_select`), laid out once per
    shape. The executor copies every row's columns into a list and dicts to find where each
    model's begin (25 µs of CPU for a session and its account, read on every authenticated
    request), and its query set wraps the call in more."""

    __slots__ = ("layout", "model", "own", "related")

    def __init__(self, model: type[Model], own: int, related: list[tuple[type[Model], int, str]]) -> None:
        self.model = model
        self.own = own
        self.related = related
        self.layout: tuple[tuple[str, ...], list[tuple[type[Model], int, int, str, tuple[str, ...]]]] | None = None

    @classmethod
    def of(cls, built: AwaitableQuery[Any]) -> _InstanceLayout | None:
        """For a query set of instances whose every `select_related` (if any) is one relation
        deep; None for anything else (values, counts, single gets, prefetches, annotations,
        `.only()`), which Tortoise's executor runs."""
        if type(built) is not QuerySet or built._single or built._annotations or built._fields_for_select:
            return None
        if built._prefetch_map or built._prefetch_queries or not built._select_related_idx:
            return None
        (model, own, *_), *joined = built._select_related_idx
        if own == 0:
            return None
        related = []
        for related_model, count, *_, path in joined:
            if count == 0 or len(path) != 2 or path[0] is not None:
                return None
            related.append((related_model, count, path[1]))
        return cls(model, own, related)

    def instances(self, rows: list[Any]) -> list[Model]:
        if not rows:
            return []
        own_keys, related = self.layout or self._lay_out(list(rows[0].keys()))
        found = []
        for row in rows:
            values = tuple(row.values())
            instance = self.model._init_from_db(**dict(zip(own_keys, values[: self.own], strict=True)))
            for model, start, end, attribute, keys in related:
                part = values[start:end]
                joined = model._init_from_db(**dict(zip(keys, part, strict=True))) if any(part) else None
                object.__setattr__(instance, f"_{attribute}", joined)
            found.append(instance)
        return found

    def _lay_out(
        self, columns: list[str]
    ) -> tuple[tuple[str, ...], list[tuple[type[Model], int, int, str, tuple[str, ...]]]]:
        related, start = [], self.own
        for model, count, attribute in self.related:
            keys = tuple(column.split(".", 1)[1] for column in columns[start : start + count])
            related.append((model, start, start + count, attribute, keys))
            start += count
        self.layout = tuple(columns[: self.own]), related
        return self.layout


class _Shape:
    __slots__ = ("built", "instance_layout", "parameters", "places", "sql")

    def __init__(
        self, built: AwaitableQuery[Any], sql: str, parameters: list[Any], places: list[tuple[int, int, bool]]
    ):
        self.built = built
        self.sql = sql
        self.parameters = parameters
        self.places = places  # (parameter position, slot, sent as text)
        self.instance_layout = _InstanceLayout.of(built)


class Prepared(Generic[R]):
    def __init__(self, build: Callable[..., Any]) -> None:
        self._build = build
        self._model: type[Model] | None = None
        self._shapes: dict[tuple[Any, ...], _Shape] = {}

    async def __call__(self, *values: Any) -> R:
        if _too_long(values):
            return await self._build(*values)  # type: ignore[no-any-return]
        db = self._db(values)
        shape, parameters = self._bind(db, values)
        if shape.instance_layout is not None:
            rows = (await db.execute_query(shape.sql, parameters))[1]
            return shape.instance_layout.instances(rows)  # type: ignore[return-value]
        run = _Run(shape.built, db, _FixedSql(shape.sql, parameters))
        return await type(shape.built)._execute(run)  # type: ignore[arg-type,no-any-return]

    async def many(self, rows: list[tuple[Any, ...]]) -> None:
        """Run a prepared statement (an update, say) once for each row of values, the rows of one
        shape sent together through the driver's executemany: one round trip, not one per row.
        Row counts are not returned; a row must not hold a list longer than a prepared one may."""
        if not rows:
            return
        if any(_too_long(values) for values in rows):
            raise TypeError(f"a prepared statement takes lists of at most {_LONGEST_LIST} values")
        db = self._db(rows[0])
        batches: dict[int, tuple[_Shape, list[list[Any]]]] = {}
        for values in rows:
            shape, parameters = self._bind(db, values)
            batches.setdefault(id(shape), (shape, []))[1].append(parameters)
        for shape, parameter_rows in batches.values():
            await db.execute_many(shape.sql, parameter_rows)

    def _db(self, values: tuple[Any, ...]) -> Any:
        if self._model is None:
            self._model = self._build(*_stand_ins(values, 0)[0]).model
        return self._model._meta.db  # the connection the query set would use now (a transaction's, inside one)

    def _bind(self, db: Any, values: tuple[Any, ...]) -> tuple[_Shape, list[Any]]:
        """The shape for these values (written at its first call) and its parameters with them."""
        key = (db.capabilities.dialect, *(_key(value) for value in values))
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._write(db, values)
        slots = _slots(values)
        parameters = list(shape.parameters)
        for place, slot, as_text in shape.places:
            parameters[place] = str(slots[slot]) if as_text else slots[slot]
        return shape, parameters

    def _write(self, db: Any, values: tuple[Any, ...]) -> _Shape:
        """Build the shape twice with different stand-ins: the parameters that differ are the
        values' places (a constant that happens to equal a stand-in stays a constant)."""
        builds = []
        for variant in (0, 1):
            arguments, stand_ins = _stand_ins(values, variant)
            built: AwaitableQuery[Any] = self._build(*arguments)
            built._db = db
            built._make_query()
            builds.append((built, stand_ins, *built.query.get_parameterized_sql()))
        (built, first, sql, parameters), (_, second, other_sql, other_parameters) = builds
        if sql != other_sql or len(parameters) != len(other_parameters):
            raise TypeError(f"a prepared query's SQL depends on its values beyond their kind: {sql}")
        places: list[tuple[int, int, bool]] = []
        for place, (one, two) in enumerate(zip(parameters, other_parameters, strict=True)):
            if one == two:
                continue
            slot = next(
                (
                    slot
                    for slot, (mine, theirs) in enumerate(zip(first, second, strict=True))
                    if _same(one, mine) and _same(two, theirs)
                ),
                None,
            )
            if slot is None:
                raise TypeError(f"parameter {place} of a prepared query is not a value as given: {sql}")
            places.append((place, slot, isinstance(one, str) and not isinstance(first[slot], str)))
        missing = {slot for slot, stand_in in enumerate(first) if not _shaping(stand_in)} - {p[1] for p in places}
        if missing:
            raise TypeError(f"values {sorted(missing)} of a prepared query do not reach its SQL as given: {sql}")
        if isinstance(built, CountQuery) and (built._limit or built._offset):
            raise TypeError("a prepared count cannot take a limit or an offset (Tortoise applies them after the query)")
        return _Shape(built, sql, list(parameters), places)


class PreparedGet(Generic[M]):
    """`Model.get_or_none(field=value, **constants).select_related(*related)`, prepared."""

    def __init__(self, model: type[M], field: str, *related: str, **constants: Any) -> None:
        self._prepared: Prepared[list[M]] = Prepared(
            lambda value: model.filter(**{field: value}, **constants).select_related(*related).limit(2)
        )

    async def get_or_none(self, value: Any) -> M | None:
        found = await self._prepared(value)
        if len(found) > 1:
            raise MultipleObjectsReturned(found[0].__class__)
        return found[0] if found else None


class PreparedPage(Generic[M]):
    """One page of a query set and how many rows it has in all, both prepared; the page is not
    asked for when the count says it is empty."""

    def __init__(self, build: Callable[..., QuerySet[M]], *ordering: str) -> None:
        self._count: Prepared[int] = Prepared(lambda *values: build(*values).count())
        self._page: Prepared[list[M]] = Prepared(
            lambda offset, limit, *values: build(*values).order_by(*ordering).offset(offset).limit(limit)
        )

    async def __call__(self, *values: Any, offset: int, limit: int) -> tuple[list[M], int]:
        total = await self._count(*values)
        return (await self._page(offset, limit, *values) if total > offset else []), total


async def counted_page(query: QuerySet[M], *ordering: str, offset: int, limit: int) -> tuple[list[M], int]:
    """`PreparedPage`'s answer for a query set that cannot be prepared (a text search)."""
    total = await query.count()
    return (await query.order_by(*ordering).offset(offset).limit(limit) if total > offset else []), total
