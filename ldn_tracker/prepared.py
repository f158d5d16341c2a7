"""Querysets compiled to SQL once, for the few reads every dose and diary save repeats.

Django builds a queryset's SQL anew each time it is evaluated. For the reads behind every
patient save (the plan with its safety screen, the plan's events, the dose log, the diary's
side effects) that compilation cost more Python time than the rest of the request's work:
0.2-0.6 ms each, four times per POST (bench/http/cpu.py; BENCHMARKS.md). A `Prepared` query
is written as an ordinary queryset whose changing values are named `Param` placeholders; it
is compiled the first time it runs on a database and afterwards only the values change.

The SQL is Django's own (so a schema change flows through, and the same code runs on
PostgreSQL and SQLite); results go through the same converters and `Model.from_db` as a
queryset's. No maintained package does this: django-cachalot and friends cache results, and
psycopg's prepared statements save the server's parse, not Django's compile.

Use it for fixed-shape reads on hot paths only; anything else stays an ordinary queryset.
"""

import weakref
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models import Expression, QuerySet


class Param(Expression):
    """A named value supplied when a `Prepared` query runs, typed by `output_field`."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self):
        return f"Param({self.name!r})"

    def as_sql(self, compiler, connection):
        return "%s", [self]


def _bind(template, connection, value_of, prep: str) -> list:
    """The compiled parameters with each `Param` replaced by its value, made ready for the
    database by its field (`prep`: get_db_prep_value for a lookup, get_db_prep_save for a
    column written)."""
    return [
        getattr(p.output_field, prep)(value_of(p), connection) if isinstance(p, Param) else p
        for p in template
    ]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # fixed values, and Params where a value is supplied
    query: object  # the compiled Query: its select columns give the converters
    columns: tuple  # the selected expressions, in order
    model_fields: tuple  # attnames of the model's fields, when rows become instances
    positions: tuple  # where those fields are in a row
    annotations: tuple  # (name, position) of annotations after the model's fields


class Prepared:
    """`build()` returns the queryset (Params where values change); compiled once per database.

    `rows(**values)` gives converted tuples (for a `values_list` queryset); `instances(**values)`
    gives model instances, annotations set as attributes, as iterating the queryset would.
    """

    def __init__(self, build: Callable[[], QuerySet]):
        self._build = build
        self._model = None
        self._compiled: dict[str, _Compiled] = {}
        # The columns' converters belong to a connection (one per thread): kept per connection.
        self._converters = weakref.WeakKeyDictionary()

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            queryset = self._build()
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            columns = tuple(s[0] for s in compiler.select[: compiler.col_count])
            positions, model_fields, annotations = (), (), ()
            info = compiler.klass_info
            if queryset.query.default_cols and info and not info.get("related_klass_infos"):
                positions = tuple(info["select_fields"])
                model_fields = tuple(columns[i].target.attname for i in positions)
                annotations = tuple(compiler.annotation_col_map.items())
            compiled = _Compiled(
                sql=sql,
                params=tuple(params),
                query=queryset.query,
                columns=columns,
                model_fields=model_fields,
                positions=positions,
                annotations=annotations,
            )
            self._compiled[alias] = compiled
        return compiled

    def _execute(self, values: dict):
        model = self._build_model()
        alias = router.db_for_read(model)
        connection = connections[alias]
        compiled = self._compile(alias)
        params = _bind(compiled.params, connection, lambda p: values[p.name], "get_db_prep_value")
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        converters = self._converters.get(connection)
        if converters is None:
            compiler = connection.ops.compiler("SQLCompiler")(compiled.query, connection, alias)
            converters = compiler, compiler.get_converters(compiled.columns)
            self._converters[connection] = converters
        compiler, by_column = converters
        if by_column:
            rows = list(compiler.apply_converters(rows, by_column))
        return alias, compiled, rows

    def _build_model(self):
        if self._model is None:
            self._model = self._build().model
        return self._model

    def rows(self, **values) -> list:
        return self._execute(values)[2]

    def instances(self, **values) -> list:
        alias, compiled, rows = self._execute(values)
        if not compiled.model_fields:
            raise TypeError("instances() needs a queryset of model rows without select_related")
        model, names, positions = self._build_model(), compiled.model_fields, compiled.positions
        result = []
        for row in rows:
            instance = model.from_db(alias, names, [row[i] for i in positions])
            for name, position in compiled.annotations:
                setattr(instance, name, row[position])
            result.append(instance)
        return result


class PreparedInsert:
    """Django's INSERT of one `model` row with `fields`, compiled once per database.

    `insert(instance)` writes the instance's values for those fields and sets its primary
    key, as `instance.save()` would for a new row; no signals are sent (use it only for
    models nothing listens to). The dose save runs it on every dose logged.
    """

    def __init__(self, model, fields):
        self.model = model
        self.fields = tuple(model._meta.get_field(name) for name in fields)
        self._compiled: dict[str, tuple[str, tuple]] = {}

    def _compile(self, alias: str):
        compiled = self._compiled.get(alias)
        if compiled is None:
            from django.db.models.sql import InsertQuery

            row = self.model(**{f.attname: Param(f.attname, f) for f in self.fields})
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [row])
            compiler = query.get_compiler(using=alias)
            compiler.returning_fields = [self.model._meta.pk]
            ((sql, params),) = compiler.as_sql()
            compiled = self._compiled[alias] = (sql, tuple(params))
        return compiled

    def insert(self, instance, *, also: tuple[str, list] | None = None) -> None:
        """Insert `instance`; `also` is (sql, params) of a statement that must land with the
        row or not at all.

        On PostgreSQL the two are one statement (a data-modifying WITH), so outside a
        transaction they need none: one round trip instead of four (BEGIN, both, COMMIT).
        Elsewhere, or inside a transaction already, they run one after the other in a
        transaction (a savepoint inside one), so a failed insert leaves the caller's
        transaction usable.
        """
        alias = router.db_for_write(self.model, instance=instance)
        connection = connections[alias]
        sql, template = self._compile(alias)
        params = _bind(
            template, connection, lambda p: getattr(instance, p.name), "get_db_prep_save"
        )
        if also is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                instance.pk = cursor.fetchone()[0]
        elif connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Both parts are fixed SQL (Django's compiled INSERT, the caller's statement);
            # every value is a parameter.
            pk = connection.ops.quote_name(self.model._meta.pk.column)
            both = f"WITH inserted AS ({sql}), also AS ({also[0]}) SELECT {pk} FROM inserted"  # noqa: S608
            with connection.cursor() as cursor:
                cursor.execute(both, [*params, *also[1]])
                instance.pk = cursor.fetchone()[0]
        else:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute(sql, params)
                instance.pk = cursor.fetchone()[0]
                cursor.execute(*also)
        instance._state.adding = False
        instance._state.db = alias
