"""screening results: their references to runs and applications checked once per statement, not per row

PostgreSQL checks a foreign key row by row: inserting the 80,000 results of a re-screened library ran
160,000 lookups (two thirds of the write's time). On PostgreSQL the two foreign keys of ``screening_results``
become statement-level triggers with the same guarantees, checked once per INSERT over its transition table:

* every inserted result's run and application exist, and are locked FOR KEY SHARE until the transaction ends,
  as a foreign key locks them (so a concurrent delete of either waits, then cascades to the new rows too);
* deleting runs or applications deletes their results (ON DELETE CASCADE), in the same statement;
* changing a result's run or application checks the new one; changing the id of a run or application that
  results refer to is refused (NO ACTION).

Violations raise ``foreign_key_violation`` (SQLSTATE 23503) naming the former constraints. SQLite (the embedded
mode) keeps the foreign keys.

Revision ID: 0012_results_statement_refs
Revises: 0011_features_without_quotes
Create Date: 2026-11-26 15:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012_results_statement_refs"
down_revision = "0011_features_without_quotes"
branch_labels = None
depends_on = None

_RUN_FK = "fk_screening_results_run_id_screening_runs"
_APPLICATION_FK = "fk_screening_results_application_id_applications"


def _violation(constraint: str, detail: str) -> str:
    return (
        "RAISE foreign_key_violation USING "
        f'MESSAGE = \'insert or update on table "screening_results" violates foreign key constraint "{constraint}"\', '
        f"DETAIL = {detail}, TABLE = 'screening_results', CONSTRAINT = '{constraint}'"
    )


# PostgreSQL's own wording, with the missing key.
_RUN_DETAIL = """format('Key (run_id)=(%s) is not present in table "screening_runs".', {key})"""
_APPLICATION_DETAIL = """format('Key (application_id)=(%s) is not present in table "applications".', {key})"""
_RUN_MOVED = _violation(_RUN_FK, _RUN_DETAIL.format(key="NEW.run_id"))
_APPLICATION_MOVED = _violation(_APPLICATION_FK, _APPLICATION_DETAIL.format(key="NEW.application_id"))


def _cascade(table: str, column: str) -> tuple[str, str]:
    """ON DELETE CASCADE from ``table``: a statement trigger deleting the results of its deleted rows."""
    return (
        f"""
        CREATE FUNCTION hub_{table}_results_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM screening_results s USING hub_old_{table} o WHERE s.{column} = o.id;
            RETURN NULL;
        END $$
        """,  # noqa: S608 - only this module's constants are interpolated
        f"""
        CREATE TRIGGER {table}_results_cascade AFTER DELETE ON {table}
        REFERENCING OLD TABLE AS hub_old_{table} FOR EACH STATEMENT EXECUTE FUNCTION hub_{table}_results_cascade()
        """,
    )


_UP = [
    # INSERT: the runs and the applications the statement's rows name exist, and are locked as a foreign key
    # locks them. The runs are few (one for a run's chunk): the distinct ones are locked. The applications
    # are one per row: the rows are joined with them (a hash join for a large statement, index lookups for a
    # small one; no DISTINCT, whose estimate over a transition table would choose 80,000 lookups) and the
    # joined applications locked; a row whose application is missing is missing from the count.
    f"""
    CREATE FUNCTION hub_screening_results_references() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        runs uuid[];
        named bigint;
        locked bigint;
        missing uuid;
    BEGIN
        SELECT array_agg(run_id) INTO runs FROM (SELECT DISTINCT run_id FROM hub_new_results) d;
        SELECT count(*) INTO locked FROM (
            SELECT 1 FROM screening_runs t WHERE t.id = ANY(runs) FOR KEY SHARE OF t
        ) l;
        IF locked <> coalesce(cardinality(runs), 0) THEN
            SELECT r INTO missing FROM unnest(runs) r WHERE NOT EXISTS (SELECT 1 FROM screening_runs t WHERE t.id = r)
            LIMIT 1;
            {_violation(_RUN_FK, _RUN_DETAIL.format(key="missing"))};
        END IF;
        SELECT count(*) INTO named FROM hub_new_results;
        SELECT count(*) INTO locked FROM (
            SELECT 1 FROM hub_new_results n JOIN applications t ON t.id = n.application_id FOR KEY SHARE OF t
        ) l;
        IF locked <> named THEN
            SELECT n.application_id INTO missing FROM hub_new_results n
            WHERE NOT EXISTS (SELECT 1 FROM applications t WHERE t.id = n.application_id) LIMIT 1;
            {_violation(_APPLICATION_FK, _APPLICATION_DETAIL.format(key="missing"))};
        END IF;
        RETURN NULL;
    END $$
    """,  # noqa: S608 - only this module's constants are interpolated
    """
    CREATE TRIGGER screening_results_references AFTER INSERT ON screening_results
    REFERENCING NEW TABLE AS hub_new_results FOR EACH STATEMENT EXECUTE FUNCTION hub_screening_results_references()
    """,
    # UPDATE of a result's run or application (the hub never does it): the new ones must exist, locked.
    f"""
    CREATE FUNCTION hub_screening_results_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.run_id IS DISTINCT FROM OLD.run_id THEN
            PERFORM 1 FROM screening_runs r WHERE r.id = NEW.run_id FOR KEY SHARE OF r;
            IF NOT FOUND THEN
                {_RUN_MOVED};
            END IF;
        END IF;
        IF NEW.application_id IS DISTINCT FROM OLD.application_id THEN
            PERFORM 1 FROM applications a WHERE a.id = NEW.application_id FOR KEY SHARE OF a;
            IF NOT FOUND THEN
                {_APPLICATION_MOVED};
            END IF;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER screening_results_moved BEFORE UPDATE OF run_id, application_id ON screening_results
    FOR EACH ROW EXECUTE FUNCTION hub_screening_results_moved()
    """,
    # DELETE of runs or applications: their results go with them.
    *_cascade("screening_runs", "run_id"),
    *_cascade("applications", "application_id"),
    # UPDATE of the id of a run or application that results refer to is refused (NO ACTION).
    """
    CREATE FUNCTION hub_screening_results_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'screening_runs' THEN
            PERFORM 1 FROM screening_results WHERE run_id = OLD.id LIMIT 1;
        ELSE
            PERFORM 1 FROM screening_results WHERE application_id = OLD.id LIMIT 1;
        END IF;
        IF FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('update on table "%s" violates foreign key constraint on table "screening_results"',
                                 TG_TABLE_NAME),
                DETAIL = format('Key (id)=(%s) is still referenced from table "screening_results".', OLD.id),
                TABLE = TG_TABLE_NAME;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER screening_runs_id_referenced BEFORE UPDATE OF id ON screening_runs
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION hub_screening_results_referenced()
    """,
    """
    CREATE TRIGGER applications_id_referenced BEFORE UPDATE OF id ON applications
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION hub_screening_results_referenced()
    """,
]

_DOWN = [
    "DROP TRIGGER IF EXISTS applications_id_referenced ON applications",
    "DROP TRIGGER IF EXISTS screening_runs_id_referenced ON screening_runs",
    "DROP FUNCTION IF EXISTS hub_screening_results_referenced()",
    "DROP TRIGGER IF EXISTS applications_results_cascade ON applications",
    "DROP FUNCTION IF EXISTS hub_applications_results_cascade()",
    "DROP TRIGGER IF EXISTS screening_runs_results_cascade ON screening_runs",
    "DROP FUNCTION IF EXISTS hub_screening_runs_results_cascade()",
    "DROP TRIGGER IF EXISTS screening_results_moved ON screening_results",
    "DROP FUNCTION IF EXISTS hub_screening_results_moved()",
    "DROP TRIGGER IF EXISTS screening_results_references ON screening_results",
    "DROP FUNCTION IF EXISTS hub_screening_results_references()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(_RUN_FK, "screening_results", type_="foreignkey")
    op.drop_constraint(_APPLICATION_FK, "screening_results", type_="foreignkey")
    for statement in _UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DOWN:
        op.execute(statement)
    op.create_foreign_key(_RUN_FK, "screening_results", "screening_runs", ["run_id"], ["id"], ondelete="CASCADE")
    op.create_foreign_key(
        _APPLICATION_FK, "screening_results", "applications", ["application_id"], ["id"], ondelete="CASCADE"
    )
