"""PostgreSQL side of a backup: client tools, a snapshot-consistent dump with its statistics, scratch
databases, and an all-or-nothing restore."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from alojamientos.config import sqlalchemy_url
from alojamientos.ops.backup.common import BackupError, Progress, human_size, last_line, run_tool, say

TOOL_TIMEOUT = 3 * 3600.0  # seconds; a dump or restore of this application's data takes far less
PG_ROOT = Path("/usr/lib/postgresql")

# Text output of every type fixed, so a checksum depends on the data only, never on the session.
_STABLE_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
)


@dataclass(frozen=True, slots=True)
class Target:
    """One database: `conninfo` for our own connections (may carry the password), `tool_url` and
    `tool_env` for the client binaries (the password only ever travels in PGPASSWORD)."""

    conninfo: str
    tool_url: str
    tool_env: dict[str, str]
    host: str
    port: int
    database: str
    user: str

    def other(self, database: str) -> Target:
        url = make_url(self.conninfo).set(database=database)
        return target(url.render_as_string(hide_password=False))


def target(database_url: str) -> Target:
    url = make_url(sqlalchemy_url(database_url)).set(drivername="postgresql")
    tool_url = url.set(password=None).render_as_string(hide_password=False)
    env = {"PGPASSWORD": url.password} if url.password else {}
    return Target(
        conninfo=url.render_as_string(hide_password=False),
        tool_url=tool_url,
        tool_env={**env, "PGCONNECT_TIMEOUT": "10"},
        host=url.host or "localhost",
        port=url.port or 5432,
        database=url.database or "",
        user=url.username or "",
    )


@dataclass(frozen=True, slots=True)
class Stats:
    """What a restore must reproduce: rows and a content checksum per table, and the revision."""

    tables: dict[str, dict[str, int | str]]
    revision: str | None

    @property
    def total_rows(self) -> int:
        return sum(int(t["rows"]) for t in self.tables.values())


def connect(tgt: Target) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(tgt.conninfo, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise BackupError(
            f"cannot reach the database {tgt.database} on {tgt.host}:{tgt.port}: {last_line(str(exc))}"
        ) from None


def server_major(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(str(row[0])) // 10000


def tools_dir(major: int) -> Path:
    """The client binaries for a server of version `major`: that version's own when installed,
    otherwise the newest installed one that is newer (pg_dump refuses servers newer than itself)."""
    installed = sorted(
        (int(p.name) for p in PG_ROOT.glob("*") if p.name.isdigit() and (p / "bin" / "pg_dump").exists()),
        reverse=True,
    )
    for version in [major] + [v for v in installed if v > major]:
        if version in installed:
            return PG_ROOT / str(version) / "bin"
    on_path = shutil.which("pg_dump")  # other layouts (Homebrew, RPM): the one on PATH, if new enough
    if on_path is not None:
        try:
            out = subprocess.run(  # noqa: S603 - explicit argument list, no shell
                [on_path, "--version"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        found_major = re.search(r"(\d+)(?:\.\d+)?", out)
        if found_major and int(found_major.group(1)) >= major:
            return Path(on_path).resolve().parent
    found = ", ".join(map(str, installed)) or "none"
    raise BackupError(
        f"no PostgreSQL {major} client tools (pg_dump) under {PG_ROOT} (installed: {found}) or on PATH; "
        f"install postgresql-client-{major}"
    )


def _tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' "
        "ORDER BY 1, 2"
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def stats(conn: psycopg.Connection[tuple[object, ...]], progress: Progress | None = None) -> Stats:
    """Row count and sha256 of every table's rows (COPY text, in a collation-independent order)."""
    for statement in _STABLE_SESSION:
        conn.execute(statement)
    tables: dict[str, dict[str, int | str]] = {}
    for schema, table in _tables(conn):
        ident = sql.Identifier(schema, table)
        query = sql.SQL('COPY (SELECT * FROM {t} ORDER BY ({t}.*)::text COLLATE "C") TO STDOUT').format(
            t=ident
        )
        digest = hashlib.sha256()
        rows = 0
        with conn.cursor() as cur, cur.copy(query) as copy:
            for chunk in copy:
                data = bytes(chunk)
                digest.update(data)
                rows += data.count(b"\n")  # text COPY escapes newlines inside values
        tables[f"{schema}.{table}"] = {"rows": rows, "sha256": digest.hexdigest()}
    revision = None
    if ("public", "alembic_version") in _tables(conn):
        row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
        revision = str(row[0]) if row else None
    result = Stats(tables=tables, revision=revision)
    say(progress, f"counted {len(tables)} tables, {result.total_rows} rows")
    return result


def sequence_problems(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Sequences behind the column they feed (new rows would collide after a restore)."""
    owned = conn.execute(
        "SELECT s.oid::regclass::text, t.oid::regclass::text, a.attname "
        "FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
        "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
        "WHERE s.relkind = 'S' ORDER BY 1"
    ).fetchall()
    problems = []
    for seq, table, column in owned:
        row = conn.execute(
            sql.SQL(
                "SELECT (SELECT last_value FROM {s}), (SELECT is_called FROM {s}), max({c}) FROM {t}"
            ).format(s=sql.SQL(str(seq)), t=sql.SQL(str(table)), c=sql.Identifier(str(column)))
        ).fetchone()
        assert row is not None
        last_value, is_called, highest = row
        if highest is None:
            continue
        next_value = int(str(last_value)) + (1 if is_called else 0)
        if next_value <= int(str(highest)):
            problems.append(f"{seq} would hand out {next_value} but {table}.{column} has {highest}")
    return problems


def dump(tgt: Target, out: Path, progress: Progress | None = None) -> Stats:
    """pg_dump (custom format) and the statistics, both from one exported snapshot: the manifest
    describes exactly the dumped data even while the application keeps writing."""
    with connect(tgt) as conn:
        bin_dir = tools_dir(server_major(conn))
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = str(row[0])
        say(progress, f"dumping PostgreSQL {tgt.database} on {tgt.host}:{tgt.port} ({bin_dir / 'pg_dump'})…")
        run_tool(
            [
                str(bin_dir / "pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={out}",
                f"--dbname={tgt.tool_url}",
            ],
            env=tgt.tool_env,
            timeout=TOOL_TIMEOUT,
            what="dumping PostgreSQL",
            watch=out,
            progress=progress,
        )
        say(progress, f"dumped {human_size(out.stat().st_size)}")
        result = stats(conn, progress)
        conn.rollback()
    return result


@contextmanager
def scratch_database(tgt: Target, prefix: str = "aloj_verify") -> Iterator[Target]:
    """A new empty database next to `tgt`, dropped afterwards whatever happens."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with connect(tgt) as conn:
        conn.autocommit = True
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise BackupError(f"cannot create the scratch database {name}: {last_line(str(exc))}") from None
    try:
        yield tgt.other(name)
    finally:
        with connect(tgt) as conn:
            conn.autocommit = True
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def restore_into_empty(tgt: Target, dump_file: Path, progress: Progress | None = None) -> None:
    with connect(tgt) as conn:
        bin_dir = tools_dir(server_major(conn))
    say(progress, f"restoring {human_size(dump_file.stat().st_size)} into scratch database {tgt.database}…")
    run_tool(
        [
            str(bin_dir / "pg_restore"),
            "--exit-on-error",
            "--no-owner",
            "--no-password",
            f"--dbname={tgt.tool_url}",
            str(dump_file),
        ],
        env=tgt.tool_env,
        timeout=TOOL_TIMEOUT,
        what="restoring into the scratch database",
    )


def restore_replacing(tgt: Target, dump_file: Path, progress: Progress | None = None) -> None:
    """Replaces every schema of `tgt` with the dump's, in ONE transaction: the database ends up equal
    to the backup (tables added since are gone), or, on any error, exactly as it was."""
    with connect(tgt) as conn:
        bin_dir = tools_dir(server_major(conn))
        schemas = [
            str(r[0])
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                "AND nspname <> 'information_schema' ORDER BY 1"
            ).fetchall()
        ]
    # One transaction, opened here so that the DROPs are in it. pg_restore --single-transaction writes
    # no transaction control but its own BEGIN (a harmless warning now) and a final COMMIT, which exists
    # only when the whole script was produced; on any failure psql is killed before it can get there,
    # and the server rolls everything back.
    prefix = "BEGIN;\nSET LOCAL lock_timeout = '60s';\n"
    prefix += "".join(
        f'DROP SCHEMA IF EXISTS "{s.replace(chr(34), chr(34) * 2)}" CASCADE;\n' for s in schemas
    )
    prefix += "CREATE SCHEMA public;\n"
    say(progress, f"restoring PostgreSQL {tgt.database} on {tgt.host}:{tgt.port} (one transaction)…")
    with (
        tempfile.TemporaryFile() as restore_err,
        tempfile.TemporaryFile() as psql_err,
        subprocess.Popen(  # noqa: S603 - explicit argument list, no shell
            [str(bin_dir / "pg_restore"), "--no-owner", "--single-transaction", "--file=-", str(dump_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=restore_err,
        ) as restore,
        subprocess.Popen(  # noqa: S603 - explicit argument list, no shell
            [
                str(bin_dir / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--set=ON_ERROR_STOP=1",
                f"--dbname={tgt.tool_url}",
                "--file=-",
            ],
            env={**os.environ, **tgt.tool_env},
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
        ) as psql,
    ):
        timed_out = threading.Event()

        def watchdog() -> None:
            timed_out.set()
            restore.kill()
            psql.kill()

        timer = threading.Timer(TOOL_TIMEOUT, watchdog)
        timer.start()
        assert psql.stdin is not None and restore.stdout is not None
        try:
            psql.stdin.write(prefix.encode())
            while block := restore.stdout.read(1 << 16):
                psql.stdin.write(block)
            if restore.wait() != 0:
                psql.kill()  # psql never sees the end of a partial script: the server rolls back
        except BrokenPipeError:  # psql stopped on an error
            restore.kill()
        finally:
            timer.cancel()
            try:
                psql.stdin.close()
            except BrokenPipeError:
                pass
            restore.wait()
            psql.wait()
        if timed_out.is_set():
            raise BackupError(f"restoring PostgreSQL timed out after {TOOL_TIMEOUT:.0f}s; nothing changed")
        # A tool that failed on its own (exit code > 0) explains more than one we killed because of it.
        candidates = ((restore, restore_err, "pg_restore"), (psql, psql_err, "psql"))
        for proc, err, name in sorted(candidates, key=lambda c: (c[0].returncode or 0) <= 0):
            if proc.returncode != 0:
                err.seek(0)
                reason = last_line(err.read())
                raise BackupError(f"restoring PostgreSQL: {name} failed: {reason}; nothing changed")
