"""The migration compatibility check: what the running release cannot live with, found before the deploy.

Each case is a release tag in a throwaway git repository (this tree as v1.0.0, as the rollback drill
builds it) plus ONE migration on top of its head, read back from git by `unsafe_migrations` the way
`deploy` and `predeploy` do.
"""

from __future__ import annotations

import json
import subprocess
from itertools import count
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from alojamientos.migrations import alembic_config, head_revision
from alojamientos.ops import release
from alojamientos.ops.compat import Unsafe, unsafe_migrations
from alojamientos.ops.release import VERSIONS, ReleaseError
from tests.cli.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]
HEAD = head_revision()  # v1.0.0's head: what the running database is at
NEXT = int(HEAD[:4]) + 1  # the number the cases' migrations take after it

_minor = count(1)


class Releases:
    """v1.0.0 is this tree; `tag(...)` adds migrations on top of a tag and tags the result."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.git = release.release_repo(ROOT, repo, "v1.0.0")

    def tag(self, *bodies: str, base: str = "v1.0.0", down: str = HEAD) -> tuple[str, list[str]]:
        """Each body is an upgrade() (indented 4) or a whole module after the header; returns the tag and
        the new revisions, `<NEXT>_case_N`, `<NEXT + 1>_case_N`, … chained from `down`."""
        n = next(_minor)
        tag = f"v1.{n}.0"
        subprocess.run([*self.git, "checkout", "-q", "--detach", base], check=True)
        revisions = []
        for i, body in enumerate(bodies):
            revision = f"{NEXT + i:04d}_case_{n}"
            module = body if "def upgrade" in body else f"def upgrade() -> None:\n{body}\n"
            (self.repo / VERSIONS / f"2026-12-01-{i:04d}_case_{n}.py").write_text(
                f'"""Case {n}."""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
                f"revision = {revision!r}\ndown_revision = {down!r}\n\n{module}\n\n"
                "def downgrade() -> None:\n    pass\n"
            )
            revisions.append(revision)
            down = revision
        subprocess.run([*self.git, "add", "-A"], check=True)
        subprocess.run([*self.git, "commit", "-q", "-m", tag], check=True)
        subprocess.run([*self.git, "tag", tag], check=True)
        return tag, revisions

    def check(self, body: str) -> list[Unsafe]:
        tag, _ = self.tag(body)
        return unsafe_migrations(self.repo, HEAD, tag)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    return Releases(tmp_path_factory.mktemp("compat") / "deploy")


def only(releases: Releases, body: str) -> str:
    """The single finding's text for a one-migration release (the revision is always <NEXT>_case_N)."""
    found = releases.check(body)
    assert len(found) == 1, found
    assert found[0].revision.startswith(f"{NEXT:04d}_case_")
    assert str(found[0]) == f"{found[0].revision}: {found[0].reason}"
    return found[0].reason


# ------------------------------------------------------------------------------------- refused kinds


def test_dropping_a_column_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.drop_column("reservations", "guest_name")')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(revision, "drops column reservations.guest_name, which the running release reads and writes")
    ]


def test_dropping_a_table_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.drop_table("bot_answers")')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(revision, "drops table bot_answers, which the running release reads and writes")
    ]


def test_renaming_a_column_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag(
        '    op.alter_column("reservations", "guest_name", new_column_name="guest")'
    )
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(
            revision, "renames column reservations.guest_name to guest: the running release uses the old name"
        )
    ]


def test_renaming_a_table_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.rename_table("bot_answers", "answers")')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(revision, "renames table bot_answers to answers: the running release uses the old name")
    ]


def test_a_new_not_null_column_without_a_default_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag(
        '    op.add_column("reservations", sa.Column("channel", sa.String(20), nullable=False))'
    )
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(
            revision,
            "adds reservations.channel NOT NULL without a server default: the running release inserts rows"
            " without it",
        )
    ]


def test_set_not_null_on_an_existing_column_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.alter_column("reservations", "payment_method", nullable=False)')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(
            revision,
            "sets reservations.payment_method NOT NULL: the running release may write rows without it",
        )
    ]


def test_a_type_change_is_refused_and_widening_a_varchar_is_not(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.alter_column("payments", "provider", type_=sa.String(10))')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(
            revision,
            "changes the type of payments.provider from varchar(20) to varchar(10): the running release"
            " reads and writes the old type",
        )
    ]
    assert only(releases, '    op.alter_column("payments", "amount", type_=sa.Integer())') == (
        "changes the type of payments.amount from numeric(12, 2) to int4: the running release reads and"
        " writes the old type"
    )
    assert releases.check('    op.alter_column("payments", "provider", type_=sa.String(40))') == []
    assert releases.check('    op.alter_column("payments", "provider", type_=sa.Text())') == []
    assert releases.check('    op.alter_column("payments", "amount", type_=sa.Numeric(14, 2))') == []


def test_dropping_a_value_the_running_release_writes_is_refused(releases: Releases) -> None:
    """Status "enums" here are CHECK (col IN (…)) constraints: rewriting one without 'held' narrows it."""
    tag, (revision,) = releases.tag(
        '    op.drop_constraint("ck_jobs_status_known", "jobs", type_="check")\n'
        '    op.create_check_constraint("ck_jobs_status_known", "jobs",'
        " \"status IN ('pending', 'running', 'done', 'dead')\")"
    )
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(
            revision,
            "narrows CHECK ck_jobs_status_known on jobs: no longer allows 'held', which the running release"
            " may write",
        )
    ]
    # Adding a value, as 0007_held_messages did, is what expanding means.
    assert (
        releases.check(
            '    op.drop_constraint("ck_jobs_status_known", "jobs", type_="check")\n'
            '    op.create_check_constraint("ck_jobs_status_known", "jobs",'
            " \"status IN ('pending', 'running', 'done', 'dead', 'held', 'paused')\")"
        )
        == []
    )


def test_renaming_a_postgres_enum_value_is_refused_adding_one_is_not(releases: Releases) -> None:
    """A native enum made by one release (v1.N.0's first migration), renamed by the next."""
    create = (
        '    sa.Enum("web", "whatsapp", name="channel").create(op.get_bind())\n'
        '    op.add_column("reservations", sa.Column("channel", sa.Enum(name="channel", create_type=False)))'
    )
    tag, (created, renamed) = releases.tag(
        create, "    op.execute(\"ALTER TYPE channel RENAME VALUE 'web' TO 'site'\")"
    )
    assert unsafe_migrations(releases.repo, created, tag) == [
        Unsafe(
            renamed,
            "renames value 'web' of enum channel to 'site': the running release still writes the old one",
        )
    ]
    tag, (created, _) = releases.tag(create, "    op.execute(\"ALTER TYPE channel ADD VALUE 'airbnb'\")")
    assert unsafe_migrations(releases.repo, created, tag) == []


def test_raw_sql_that_cannot_be_classified_is_refused(releases: Releases) -> None:
    tag, (revision,) = releases.tag('    op.execute("DO $$ BEGIN PERFORM 1; END $$")')
    assert unsafe_migrations(releases.repo, HEAD, tag) == [
        Unsafe(revision, "runs a DO block, which cannot be checked: DO $$ BEGIN PERFORM 1; END $$")
    ]
    assert only(releases, '    op.execute("CLUSTER reservations USING pk_reservations")') == (
        "cannot classify ClusterStmt: CLUSTER reservations USING pk_reservations"
    )
    assert only(releases, '    op.execute("ALTER TABLE reservations DISABLE TRIGGER ALL")') == (
        "cannot classify ALTER TABLE reservations (AT_DisableTrigAll): ALTER TABLE reservations DISABLE TRIGGER ALL"
    )
    assert only(releases, '    op.execute("UPDATE reservations SET")') == (
        'SQL that PostgreSQL\'s parser rejects: syntax error at or near ";", at index 23'
    )


def test_a_migration_that_needs_a_database_to_render_is_refused(releases: Releases) -> None:
    reason = only(
        releases,
        '    for (unit,) in op.get_bind().execute(sa.text("SELECT id FROM accommodations")):\n'
        '        op.execute(f"UPDATE accommodations SET name = name WHERE id = {unit}")',
    )
    assert reason.startswith("cannot be rendered as SQL without a database (")
    assert reason.endswith("); check it by hand")


# ----------------------------------------------------------------------------------- refused siblings


def test_sibling_refusals(releases: Releases) -> None:
    cases = {
        '    op.alter_column("reservations", "status", server_default=None)': (
            "drops the default of reservations.status (NOT NULL): the running release's inserts rely on it"
        ),
        '    op.create_index("ix_guest_phone", "reservations", ["guest_phone"], unique=True)': (
            "adds unique index ix_guest_phone on reservations(guest_phone): rows the running release writes"
            " may repeat a value"
        ),
        '    op.create_unique_constraint("uq_payments_method", "payments", ["method"])': (
            "adds unique constraint uq_payments_method on payments(method): rows the running release writes"
            " or deletes may violate it"
        ),
        '    op.create_foreign_key("fk_x", "operator_alerts", "reservations", ["id"], ["id"])': (
            "adds foreign key fk_x on operator_alerts(id): rows the running release writes or deletes may"
            " violate it"
        ),
        '    op.create_check_constraint("ck_guests", "reservations", "guests <= 8")': (
            "adds CHECK ck_guests on reservations over existing columns (guests): rows the running release"
            " writes may violate it"
        ),
        '    op.execute("DROP FUNCTION search_fold(text)")': (
            "drops function search_fold, which the running release uses"
        ),
        '    op.execute("CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text LANGUAGE sql'
        ' IMMUTABLE RETURN lower(value)")': "replaces function search_fold, which the running release may call",
        '    op.execute("TRUNCATE jobs")': "empties jobs (TRUNCATE)",
        '    op.execute("CREATE TRIGGER t BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION f()")': (
            "adds trigger t on jobs: what it does to the running release's writes cannot be checked"
        ),
        '    op.alter_column("reservations", "payment_method", nullable=False, server_default="cash")': (
            "sets reservations.payment_method NOT NULL: the running release may write rows without it"
        ),
    }
    for body, reason in cases.items():
        assert only(releases, body) == reason, body


def test_several_findings_come_one_per_thing_in_migration_order(releases: Releases) -> None:
    tag, (first, second) = releases.tag(
        '    op.drop_column("reservations", "guest_name")\n    op.drop_table("bot_answers")',
        '    op.alter_column("jobs", "kind", new_column_name="job_kind")',
    )
    assert [str(u) for u in unsafe_migrations(releases.repo, HEAD, tag)] == [
        f"{first}: drops column reservations.guest_name, which the running release reads and writes",
        f"{first}: drops table bot_answers, which the running release reads and writes",
        f"{second}: renames column jobs.kind to job_kind: the running release uses the old name",
    ]
    # From the first migration on, the running release already has its schema: only the rename counts.
    assert [u.revision for u in unsafe_migrations(releases.repo, first, tag)] == [second]
    assert unsafe_migrations(releases.repo, second, tag) == []


def test_a_database_the_tag_does_not_know_is_refused(releases: Releases) -> None:
    tag, _ = releases.tag('    op.add_column("jobs", sa.Column("note", sa.Text()))')
    assert unsafe_migrations(releases.repo, "0099_from_the_future", tag) == [
        Unsafe(
            "0099_from_the_future",
            f"the database is at a revision {tag} does not have: only a full deploy (--with-downtime) or a"
            " rollback can move it",
        )
    ]
    with pytest.raises(ReleaseError, match=r"v9\.9\.9"):
        unsafe_migrations(releases.repo, HEAD, "v9.9.9")


def test_what_the_replay_could_not_see_counts_as_the_running_releases(releases: Releases) -> None:
    """A column made by SQL the check cannot read (already live, so not reported again) is still one the
    running release may use: dropping it or changing its type is refused, not waved through."""
    made_blindly = "    op.execute(\"DO $$ BEGIN EXECUTE 'ALTER TABLE jobs ADD COLUMN note text'; END $$\")"
    tag, (live, dropped) = releases.tag(made_blindly, '    op.drop_column("jobs", "note")')
    assert unsafe_migrations(releases.repo, live, tag) == [
        Unsafe(dropped, "drops column jobs.note, which the running release reads and writes")
    ]
    tag, (live, retyped) = releases.tag(
        made_blindly, '    op.alter_column("jobs", "note", type_=sa.String(20))'
    )
    assert unsafe_migrations(releases.repo, live, tag) == [
        Unsafe(
            retyped,
            "changes the type of jobs.note from its type to varchar(20): the running release reads and writes"
            " the old type",
        )
    ]


def test_a_migration_that_cannot_load_is_an_error_naming_it(releases: Releases) -> None:
    tag, _ = releases.tag("def upgrade() -> None:\n    op.drop_column(\n")
    with pytest.raises(ReleaseError, match=r"_case_\d+\.py at v1\.\d+\.0 cannot be loaded: SyntaxError: "):
        unsafe_migrations(releases.repo, HEAD, tag)


# ---------------------------------------------------------------------------------------- safe kinds


def test_expand_migrations_are_accepted(releases: Releases) -> None:
    safe = [
        '    op.add_column("reservations", sa.Column("channel", sa.String(20), nullable=True))',
        '    op.create_table("notes", sa.Column("id", sa.BigInteger(), primary_key=True),'
        ' sa.Column("body", sa.Text(), nullable=False))\n'
        '    op.create_index("ix_notes_body", "notes", ["body"], unique=True)\n'
        '    op.alter_column("notes", "body", new_column_name="text")\n'
        '    op.drop_table("notes")',
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_res_guest_phone", "reservations", ["guest_phone"],'
        " postgresql_concurrently=True)",
        '    op.add_column("reservations", sa.Column("channel", sa.String(20), server_default="web",'
        " nullable=False))",
        '    op.add_column("reservations", sa.Column("channel", sa.String(20), nullable=True))\n'
        "    op.execute(\"UPDATE reservations SET channel = 'web'\")\n"
        '    op.alter_column("reservations", "channel", server_default="web")\n'
        '    op.alter_column("reservations", "channel", nullable=False)',
        '    op.alter_column("reservations", "guest_name", nullable=True)',
        '    op.drop_index("ix_reservations_kind", table_name="reservations")',
        '    op.drop_constraint("ck_payments_kind_known", "payments", type_="check")',
        '    op.alter_column("reservations", "payment_method", server_default="cash")',
        '    op.add_column("payments", sa.Column("batch", sa.Integer(), nullable=True))\n'
        '    op.create_check_constraint("ck_payments_batch", "payments", "batch > 0")\n'
        '    op.create_unique_constraint("uq_payments_batch", "payments", ["batch"])',
        '    op.execute("CREATE EXTENSION IF NOT EXISTS citext")\n'
        '    op.execute("CREATE FUNCTION plus_one(x int) RETURNS int LANGUAGE sql IMMUTABLE RETURN x + 1")\n'
        "    op.execute(\"COMMENT ON TABLE jobs IS 'the queue'\")\n"
        "    op.execute(\"INSERT INTO bot_answers (topic, text) VALUES ('x', 'y')\")\n"
        "    op.execute(\"DELETE FROM bot_answers WHERE topic = 'x'\")",
    ]
    for body in safe:
        assert releases.check(body) == [], body


def test_a_reviewed_marker_vouches_for_what_a_static_reading_cannot_prove(releases: Releases) -> None:
    check = '    op.create_check_constraint("ck_guests", "reservations", "guests <= 50")'
    assert len(releases.check(check)) == 1
    vouched = (
        'zero_downtime_safe = "every release caps guests at capacity, at most 12"\n\n\n'
        f"def upgrade() -> None:\n{check}\n"
    )
    assert releases.check(vouched) == []
    empty = f'zero_downtime_safe = ""\n\n\ndef upgrade() -> None:\n{check}\n'
    assert len(releases.check(empty)) == 1, "an empty marker vouches for nothing"


# ------------------------------------------------------------------------------ the shipped migrations


# What the check says of each migration already shipped in this tree; a migration not named here is one
# the check accepts. 0001 creates the schema (nothing ran before it). 0002–0012 only expand: new tables,
# nullable columns or columns with a server default, CHECKs on new columns, 0007's status CHECKs rewritten
# with one more value each, 0012's function, indexes and a new default. 0013 would have been refused:
# its CHECK ck_seasons_dated_or_yearly reads seasons.start_date and end_date, which the running release
# writes (it writes dated seasons only, which satisfy it: after review, `zero_downtime_safe` says so).
WOULD_HAVE_BEEN_REFUSED = {
    "0013_yearly_seasons": [
        "adds CHECK ck_seasons_dated_or_yearly on seasons over existing columns (end_date, start_date):"
        " rows the running release writes may violate it"
    ],
}


def test_every_shipped_migration_classified(releases: Releases) -> None:
    """Deploying this tree over a database at each shipped revision: exactly the documented findings."""
    script = ScriptDirectory.from_config(alembic_config())
    shipped = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert shipped[0] == "0001_booking_core" and shipped[-1] == HEAD
    assert set(WOULD_HAVE_BEEN_REFUSED) <= set(shipped)
    assert unsafe_migrations(releases.repo, None, "v1.0.0") == []
    for n, running in enumerate(shipped):
        expected = [
            Unsafe(revision, reason)
            for revision in shipped[n + 1 :]
            for reason in WOULD_HAVE_BEEN_REFUSED.get(revision, [])
        ]
        assert unsafe_migrations(releases.repo, running, "v1.0.0") == expected, running


# ---------------------------------------------------------------------------------------------- CLI


def test_predeploy_shows_the_check(releases: Releases, clean_db: str, tmp_path: Path) -> None:
    tag, (revision,) = releases.tag(
        '    op.drop_column("reservations", "guest_name")\n'
        '    op.add_column("reservations", sa.Column("channel", sa.String(20), nullable=False))'
    )
    subprocess.run([*releases.git, "checkout", "-q", "--detach", "v1.0.0"], check=True)
    env = {"DEPLOY_DIR": str(releases.repo), "BACKUP_DIR": str(tmp_path)}
    refused = cli("predeploy", "--to", tag, env=env)
    assert refused.returncode == 1
    lines = refused.stdout.splitlines()
    at = lines.index(
        f"✗ migrations: {revision}: drops column reservations.guest_name, which the running release reads"
        " and writes"
    )
    assert lines[at + 1] == (
        f"✗ migrations: {revision}: adds reservations.channel NOT NULL without a server default: the running"
        " release inserts rows without it"
    )
    assert lines[at + 2] == (
        "    → expand now, contract later: ship the change the running release can live with first"
        f" (or go with downtime: alojamientos deploy --to {tag} --with-downtime)"
    )
    same = cli("predeploy", env=env)  # HEAD's tag, v1.0.0: the database is at its head
    assert "✓ migrations: compatible with the running release" in same.stdout.splitlines()
    not_a_tag = cli("predeploy", "--to", "latest", env=env)
    assert (not_a_tag.returncode, not_a_tag.stdout) == (2, "")
    assert not_a_tag.stderr == "error: --to must be a release tag like v1.2.3, not 'latest'\n"
    unknown = json.loads(cli("predeploy", "--json", "--to", "v9.9.9", env=env).stdout)
    assert [c for c in unknown["checks"] if c["name"] == "migrations"] == [
        {
            "name": "migrations",
            "ok": False,
            "detail": "git rev-parse --verify v9.9.9^{commit}: fatal: Needed a single revision",
            "fix": "check the tag and the database",
        }
    ]
