"""Can the running release live with a new release's migrations while both run? (expand now, contract later)

A zero-downtime deploy runs the new release's migrations while the previous release still serves
(blue-green, canary) and keeps that release as the instant rollback target. Every migration between
the database's revision and the new tag's head must therefore leave a schema the previous code can
still read and write. `unsafe_migrations` finds the ones that do not.

How: each migration of the tag (read from git, as `release.tag_head_revision` does) is run in
Alembic's offline mode (`as_sql`: the `op.*` calls and `op.execute` text become the SQL they would
send, nothing touches a database) and that SQL is parsed with pglast (PostgreSQL's own parser). The
migrations up to the running revision are replayed only to know the schema the running release
sees (its tables, columns, NOT NULLs, defaults, types, CHECK constraints, functions, types); the
ones after it are classified statement by statement against that schema:

- refused: dropping or renaming a table, view, function or type the running release has; dropping
  or renaming one of its columns; a new NOT NULL column without a server default on one of its
  tables; SET NOT NULL (unless on a column this release adds, with a default); dropping the default
  of a NOT NULL column; changing a column's type (widening a varchar or numeric, or varchar → text,
  is allowed: the old values and writes still fit); a UNIQUE, primary-key, exclusion or foreign key
  constraint (or unique index) over its columns; a CHECK over its columns, unless it replaces a
  CHECK of the same name whose `col IN (…)` lists it only widens; renaming an enum value; replacing
  a function or view it uses; a trigger on its tables; TRUNCATE; a DO block; any statement not
  classified here, and a migration that cannot be rendered without a database (`op.get_bind()`).
- accepted: new tables, indexes (plain or CONCURRENTLY), nullable columns or columns with a server
  default, DROP NOT NULL, new defaults, dropping constraints or indexes, new functions, extensions
  and enum values, comments, and data changes (INSERT, UPDATE, DELETE: the rows keep the shape the
  running release knows).

A migration whose effect a static reading cannot prove (a CHECK over existing columns that every row
the old code writes satisfies, say) may say so after review with a module-level
`zero_downtime_safe = "why the running release is not affected"`; its findings are then not reported.
"""

from __future__ import annotations

import io
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from alojamientos.ops.release import VERSIONS, ReleaseError, git

# Type changes the running release cannot notice: every value it reads or writes still fits.
_WIDENABLE = {"varchar", "bpchar", "numeric"}
_SERIAL = {"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"}
_DATA = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt)
_HARMLESS = (
    ast.CreateExtensionStmt,
    ast.CommentStmt,
    ast.GrantStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.VariableSetStmt,
    ast.TransactionStmt,
)


@dataclass(frozen=True)
class Unsafe:
    """A migration (`revision`) the running release cannot live with, and why (`reason`, one line)."""

    revision: str
    reason: str

    def __str__(self) -> str:
        return f"{self.revision}: {self.reason}"


@dataclass
class _Column:
    type: tuple[str, tuple[int, ...]]  # ("varchar", (80,))
    not_null: bool
    default: bool
    old: bool  # the running release knows it


@dataclass
class _Table:
    old: bool
    columns: dict[str, _Column] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → pglast expression as a dict


@dataclass
class _Schema:
    tables: dict[str, _Table] = field(default_factory=dict)
    old_objects: set[tuple[str, str]] = field(default_factory=set)  # ("function" | "view" | "type", name)
    new_objects: set[tuple[str, str]] = field(default_factory=set)
    old_checks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def freeze(self) -> None:
        """What exists now is what the running release knows."""
        for table_name, table in self.tables.items():
            table.old = True
            for column in table.columns.values():
                column.old = True
            for name, check in table.checks.items():
                self.old_checks[(table_name, name)] = check
        self.old_objects |= self.new_objects
        self.new_objects = set()


@dataclass(frozen=True)
class _Migration:
    revision: str
    down_revision: str | None
    module: types.ModuleType


def unsafe_migrations(repo: Path, from_revision: str | None, to_tag: str) -> list[Unsafe]:
    """The findings, in migration order, for the migrations after `from_revision` up to `to_tag`'s head.

    `repo`: a git repository holding the release tags; `from_revision`: the running database's Alembic
    revision (None: an empty database, no running release to keep working, so nothing is unsafe);
    `to_tag`: the release about to be deployed. A `from_revision` the tag's chain does not contain
    (the database is ahead of, or unrelated to, that release) is itself one finding. Raises
    `ReleaseError` when the tag cannot be read (unknown tag, several migration heads).
    """
    chain = _chain(repo, to_tag)
    if from_revision is None:
        return []
    revisions = [m.revision for m in chain]
    if from_revision not in revisions:
        return [
            Unsafe(
                from_revision,
                f"the database is at a revision {to_tag} does not have: only a full deploy"
                " (--with-downtime) or a rollback can move it",
            )
        ]
    schema = _Schema()
    start = revisions.index(from_revision) + 1
    findings: list[Unsafe] = []
    for migration in chain[:start]:
        _replay(schema, migration, findings=None)
    schema.freeze()
    for migration in chain[start:]:
        found: list[Unsafe] = []
        _replay(schema, migration, findings=found)
        vouched = getattr(migration.module, "zero_downtime_safe", None)
        if not (isinstance(vouched, str) and vouched.strip()):
            findings += found
    return findings


# ------------------------------------------------------------------------------------ reading a tag


def _chain(repo: Path, tag: str) -> list[_Migration]:
    """The tag's migrations from the first to the head, each loaded from the tag's own file."""
    git(repo, "rev-parse", "--verify", f"{tag}^{{commit}}")
    by_down: dict[str | None, list[_Migration]] = {}
    for name in git(repo, "ls-tree", "-r", "--name-only", tag, "--", VERSIONS).splitlines():
        if not name.endswith(".py") or name.endswith("__init__.py"):
            continue
        module = types.ModuleType(f"alojamientos_release_migration_{Path(name).stem}")
        module.__file__ = f"{tag}:{name}"
        source = git(repo, "show", f"{tag}:{name}")
        # The release's own migration code, about to be run for real by the deploy: loading it here only
        # defines upgrade()/downgrade(); they run below against Alembic's SQL-rendering context.
        try:
            exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
        except Exception as exc:  # a module that cannot even load is the tag's problem, said in one line
            raise ReleaseError(f"{name} at {tag} cannot be loaded: {type(exc).__name__}: {exc}") from None
        revision, down = getattr(module, "revision", None), getattr(module, "down_revision", None)
        if not isinstance(revision, str):
            continue
        if not (down is None or isinstance(down, str)):
            raise ReleaseError(
                f"{name} at {tag}: merge migrations (several down revisions) are not supported"
            )
        by_down.setdefault(down, []).append(_Migration(revision, down, module))
    chain: list[_Migration] = []
    current: str | None = None
    while current in by_down:
        following = by_down.pop(current)
        if len(following) > 1:
            raise ReleaseError(f"{tag} has several migration heads after {current}: "
                               f"{sorted(m.revision for m in following)}")  # fmt: skip
        chain.append(following[0])
        current = following[0].revision
    if by_down:
        raise ReleaseError(f"{tag} has migrations outside its chain: {sorted(str(k) for k in by_down)}")
    return chain


def _render(migration: _Migration) -> str:
    """The SQL the migration's upgrade() would send to PostgreSQL (Alembic offline mode)."""
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    with Operations.context(context):
        migration.module.upgrade()
    return buffer.getvalue()


def _replay(schema: _Schema, migration: _Migration, *, findings: list[Unsafe] | None) -> None:
    """Applies the migration to `schema`; with `findings`, records what the running release cannot take."""

    def refuse(reason: str) -> None:
        if findings is not None:
            findings.append(Unsafe(migration.revision, reason))

    try:
        sql = _render(migration)
    except Exception as exc:  # whatever a migration raises without a database is the finding itself
        refuse(
            "cannot be rendered as SQL without a database "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); check it by hand"
        )
        return
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        refuse(f"SQL that PostgreSQL's parser rejects: {exc}")
        return
    for raw in statements:
        start = raw.stmt_location or 0
        text = sql[start : start + raw.stmt_len if raw.stmt_len else None].strip()
        if raw.stmt is not None:
            _statement(schema, raw.stmt, text, refuse)


# ---------------------------------------------------------------------------------- classification


def _statement(schema: _Schema, node: ast.Node, text: str, refuse: Any) -> None:
    # pglast types every field Optional; PostgreSQL's grammar fills the ones read here.
    stmt: Any = node
    if isinstance(node, ast.CreateStmt):
        _create_table(schema, stmt)
    elif isinstance(node, ast.AlterTableStmt) and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
        table = stmt.relation.relname
        for cmd in stmt.cmds or ():
            _alter_table(schema, table, cmd, text, refuse)
    elif isinstance(node, ast.DropStmt):
        _drop(schema, stmt, refuse)
    elif isinstance(node, ast.RenameStmt):
        _rename(schema, stmt, refuse)
    elif isinstance(node, ast.IndexStmt):
        table = schema.tables.get(stmt.relation.relname)
        columns = [e.name for e in stmt.indexParams or () if e.name]
        expressions = [e.expr for e in stmt.indexParams or () if e.expr is not None]
        if stmt.unique and table and table.old and (expressions or _any_old(table, columns)):
            refuse(
                f"adds unique index {stmt.idxname} on {stmt.relation.relname}({', '.join(columns) or '…'}):"
                " rows the running release writes may repeat a value"
            )
    elif isinstance(node, ast.CreateFunctionStmt):
        name = _name(stmt.funcname)
        if ("function", name) in schema.old_objects and stmt.replace:
            refuse(f"replaces function {name}, which the running release may call")
        schema.new_objects.add(("function", name))
    elif isinstance(node, ast.ViewStmt):
        name = stmt.view.relname
        if ("view", name) in schema.old_objects:
            refuse(f"replaces view {name}, which the running release reads")
        schema.new_objects.add(("view", name))
    elif isinstance(node, ast.CreateEnumStmt):
        schema.new_objects.add(("type", _name(stmt.typeName)))
    elif isinstance(node, ast.AlterEnumStmt):
        if stmt.oldVal:
            refuse(
                f"renames value {stmt.oldVal!r} of enum {_name(stmt.typeName)} to {stmt.newVal!r}:"
                " the running release still writes the old one"
            )
    elif isinstance(node, ast.TruncateStmt):
        refuse(f"empties {', '.join(r.relname for r in stmt.relations)} (TRUNCATE)")
    elif isinstance(node, ast.CreateTrigStmt):
        table = schema.tables.get(stmt.relation.relname)
        if table is None or table.old:
            refuse(
                f"adds trigger {stmt.trigname} on {stmt.relation.relname}:"
                " what it does to the running release's writes cannot be checked"
            )
    elif isinstance(node, ast.DoStmt):
        refuse("runs a DO block, which cannot be checked: " + _excerpt(text))
    elif isinstance(node, _DATA + _HARMLESS):
        return
    else:
        refuse(f"cannot classify {type(stmt).__name__}: {_excerpt(text)}")


def _create_table(schema: _Schema, stmt: Any) -> None:
    table = _Table(old=False)
    for element in stmt.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            table.columns[element.colname or ""] = _column(element)
        elif isinstance(element, ast.Constraint) and element.contype == enums.ConstrType.CONSTR_CHECK:
            table.checks[element.conname or ""] = _expr(element.raw_expr)
    schema.tables[stmt.relation.relname] = table


def _column(definition: Any) -> _Column:
    kinds = {c.contype for c in definition.constraints or ()}
    type_ = _type(definition.typeName)
    return _Column(
        type=type_,
        not_null=bool(definition.is_not_null) or bool(kinds & {enums.ConstrType.CONSTR_NOTNULL,
                                                              enums.ConstrType.CONSTR_PRIMARY}),
        default=bool(
            kinds & {enums.ConstrType.CONSTR_DEFAULT, enums.ConstrType.CONSTR_IDENTITY,
                     enums.ConstrType.CONSTR_GENERATED}
        ) or type_[0] in _SERIAL,
        old=False,
    )  # fmt: skip


def _alter_table(schema: _Schema, name: str, cmd: Any, text: str, refuse: Any) -> None:
    kind = enums.AlterTableType
    table = schema.tables.setdefault(name, _Table(old=True))  # unknown to the replay: assume it is old
    column = table.columns.get(cmd.name) if cmd.name else None
    # A column the replay never saw (made by SQL it could not read) counts as the running release's.
    old_column = table.old and (column is None or column.old)
    where = f"{name}.{cmd.name}"
    subtype = cmd.subtype
    if subtype == kind.AT_AddColumn:
        new = _column(cmd.def_)
        table.columns[cmd.def_.colname] = new
        if table.old and new.not_null and not new.default:
            refuse(
                f"adds {name}.{cmd.def_.colname} NOT NULL without a server default:"
                " the running release inserts rows without it"
            )
        for constraint in cmd.def_.constraints or ():
            if constraint.contype == enums.ConstrType.CONSTR_CHECK and constraint.conname:
                table.checks[constraint.conname] = _expr(constraint.raw_expr)
    elif subtype == kind.AT_DropColumn:
        table.columns.pop(cmd.name, None)
        if old_column:
            refuse(f"drops column {where}, which the running release reads and writes")
    elif subtype == kind.AT_SetNotNull:
        if column is not None:
            column.not_null = True
        if old_column:
            refuse(f"sets {where} NOT NULL: the running release may write rows without it")
        elif table.old and not (column and column.default):
            refuse(
                f"sets {where} NOT NULL without a server default: the running release inserts rows without it"
            )
    elif subtype == kind.AT_DropNotNull:
        if column is not None:
            column.not_null = False
    elif subtype == kind.AT_ColumnDefault:
        if cmd.def_ is None and old_column and (column is None or column.not_null):
            refuse(f"drops the default of {where} (NOT NULL): the running release's inserts rely on it")
        if column is not None:
            column.default = cmd.def_ is not None
    elif subtype == kind.AT_AlterColumnType:
        new_type = _type(cmd.def_.typeName)
        if old_column and (column is None or not _widens(column.type, new_type)):
            before = _show(column.type) if column else "its type"
            refuse(
                f"changes the type of {where} from {before} to {_show(new_type)}:"
                " the running release reads and writes the old type"
            )
        if column is not None:
            column.type = new_type
    elif subtype == kind.AT_AddConstraint:
        _add_constraint(schema, name, table, cmd.def_, refuse)
    elif subtype == kind.AT_DropConstraint:
        table.checks.pop(cmd.name, None)
    elif subtype in (kind.AT_ValidateConstraint, kind.AT_SetStatistics, kind.AT_SetStorage):
        return
    elif table.old:
        refuse(f"cannot classify ALTER TABLE {name} ({subtype.name}): {_excerpt(text)}")


def _add_constraint(schema: _Schema, name: str, table: _Table, constraint: Any, refuse: Any) -> None:
    types_ = enums.ConstrType
    label = constraint.conname or "(unnamed)"
    if constraint.contype == types_.CONSTR_CHECK:
        expression = _expr(constraint.raw_expr)
        table.checks[label] = expression
        columns = sorted(c for c in _column_refs(expression) if _any_old(table, [c]))
        if not table.old or not columns:
            return
        before = schema.old_checks.get((name, label))
        if before is not None:
            narrowed = _narrowed(before, expression)
            if narrowed is None:
                return
            if narrowed:
                refuse(
                    f"narrows CHECK {label} on {name}: no longer allows {', '.join(narrowed)},"
                    " which the running release may write"
                )
                return
        refuse(
            f"adds CHECK {label} on {name} over existing columns ({', '.join(columns)}):"
            " rows the running release writes may violate it"
        )
    elif constraint.contype in (types_.CONSTR_UNIQUE, types_.CONSTR_PRIMARY, types_.CONSTR_EXCLUSION,
                                types_.CONSTR_FOREIGN):  # fmt: skip
        keys = [k.sval for k in constraint.keys or constraint.fk_attrs or ()] or [
            e.name for pair in constraint.exclusions or () for e in pair if isinstance(e, ast.IndexElem)
        ]
        if table.old and (not keys or _any_old(table, keys)):
            what = {types_.CONSTR_UNIQUE: "unique constraint", types_.CONSTR_PRIMARY: "primary key",
                    types_.CONSTR_EXCLUSION: "exclusion constraint",
                    types_.CONSTR_FOREIGN: "foreign key"}[constraint.contype]  # fmt: skip
            refuse(
                f"adds {what} {label} on {name}({', '.join(keys)}):"
                " rows the running release writes or deletes may violate it"
            )
    elif constraint.contype == types_.CONSTR_NOTNULL:
        refuse(f"adds NOT NULL constraint {label} on {name}: the running release may write rows without it")


def _drop(schema: _Schema, stmt: Any, refuse: Any) -> None:
    kind = enums.ObjectType
    for obj in stmt.objects or ():
        if stmt.removeType == kind.OBJECT_TABLE:
            name = _name(obj)
            table = schema.tables.pop(name, None)
            if table is None or table.old:
                refuse(f"drops table {name}, which the running release reads and writes")
        elif stmt.removeType in (kind.OBJECT_INDEX, kind.OBJECT_SEQUENCE) or (
            stmt.removeType == kind.OBJECT_EXTENSION
        ):
            continue
        else:
            label = {
                kind.OBJECT_FUNCTION: "function",
                kind.OBJECT_VIEW: "view",
                kind.OBJECT_TYPE: "type",
            }.get(stmt.removeType)
            name = _name(getattr(obj, "objname", obj))
            if label is None:
                refuse(f"cannot classify DROP {stmt.removeType.name.removeprefix('OBJECT_')} {name}")
            elif (label, name) in schema.old_objects or (label, name) not in schema.new_objects:
                refuse(f"drops {label} {name}, which the running release uses")
            schema.new_objects.discard((label or "", name))


def _rename(schema: _Schema, stmt: Any, refuse: Any) -> None:
    kind = enums.ObjectType
    if stmt.renameType == kind.OBJECT_TABLE:
        table = schema.tables.pop(stmt.relation.relname, _Table(old=True))
        schema.tables[stmt.newname] = table
        if table.old:
            refuse(
                f"renames table {stmt.relation.relname} to {stmt.newname}:"
                " the running release uses the old name"
            )
    elif stmt.renameType == kind.OBJECT_COLUMN:
        table = schema.tables.setdefault(stmt.relation.relname, _Table(old=True))
        column = table.columns.pop(stmt.subname, None)
        if column is not None:
            table.columns[stmt.newname] = column
        if table.old and (column is None or column.old):
            refuse(
                f"renames column {stmt.relation.relname}.{stmt.subname} to {stmt.newname}:"
                " the running release uses the old name"
            )
    elif stmt.renameType in (kind.OBJECT_INDEX, kind.OBJECT_TABCONSTRAINT, kind.OBJECT_SEQUENCE):
        return
    else:
        refuse(f"renames {stmt.renameType.name.removeprefix('OBJECT_').lower()} to {stmt.newname}:"
               " the running release may use the old name")  # fmt: skip


# ------------------------------------------------------------------------------------------- helpers


def _name(parts: Any) -> str:
    if isinstance(parts, ast.TypeName):
        parts = parts.names
    if isinstance(parts, ast.String):
        return parts.sval or "?"
    names = [p.sval or "?" for p in parts if isinstance(p, ast.String)]
    return names[-1] if names else "?"


def _type(type_name: Any) -> tuple[str, tuple[int, ...]]:
    modifiers = tuple(
        m.val.ival or 0
        for m in type_name.typmods or ()
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    )
    return _name(type_name.names), modifiers


def _show(type_: tuple[str, tuple[int, ...]]) -> str:
    name, modifiers = type_
    return name + (f"({', '.join(map(str, modifiers))})" if modifiers else "")


def _widens(before: tuple[str, tuple[int, ...]], after: tuple[str, tuple[int, ...]]) -> bool:
    (old, old_mods), (new, new_mods) = before, after
    if old == "varchar" and new == "text":
        return True
    if old != new or old not in _WIDENABLE:
        return before == after
    if not new_mods:
        return True  # unbounded
    if not old_mods:
        return False
    if old == "numeric":
        old_scale, new_scale = (*old_mods, 0)[1], (*new_mods, 0)[1]
        return new_scale == old_scale and new_mods[0] >= old_mods[0]
    return new_mods[0] >= old_mods[0]


def _any_old(table: _Table, columns: list[str]) -> bool:
    return any(table.columns.get(c) is None or table.columns[c].old for c in columns)


def _expr(node: Any) -> dict[str, Any]:
    expression: dict[str, Any] = _without_locations(node(depth=None, skip_none=True))
    return expression


def _without_locations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_locations(v) for k, v in value.items()
                if k != "location" and not k.startswith("rexpr_list")}  # fmt: skip
    if isinstance(value, (list, tuple)):
        return [_without_locations(v) for v in value]
    return value


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _column_refs(expression: dict[str, Any]) -> set[str]:
    return {
        node["fields"][-1]["sval"]
        for node in _walk(expression)
        if node.get("@") == "ColumnRef" and node["fields"] and "sval" in node["fields"][-1]
    }


def _in_lists(expression: dict[str, Any]) -> tuple[Any, list[set[str]]]:
    """The expression with each `x IN (constants)` list blanked, and those lists' values in order."""
    lists: list[set[str]] = []

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("@") == "A_Expr" and value.get("kind", {}).get("name") == "AEXPR_IN":
                values = {
                    str(v)
                    for c in value.get("rexpr", [])
                    if isinstance(c, dict) and c.get("@") == "A_Const"
                    for k, v in c.get("val", {}).items()
                    if k != "@"
                }
                lists.append(values)
                return {**value, "rexpr": "…"}
            return {k: blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    return blank(expression), lists


def _narrowed(before: dict[str, Any], after: dict[str, Any]) -> list[str] | None:
    """None when `after` allows everything `before` did; the values it drops when it only differs by
    its IN lists; [] when the two cannot be compared (the caller refuses generically)."""
    if before == after:
        return None
    shape_before, lists_before = _in_lists(before)
    shape_after, lists_after = _in_lists(after)
    if shape_before != shape_after or len(lists_before) != len(lists_after):
        return []
    dropped = sorted({v for old, new in zip(lists_before, lists_after, strict=True) for v in old - new})
    return [repr(v) for v in dropped] or None


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
