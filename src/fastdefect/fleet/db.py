"""The defect history database: every recorded run of every camera, in SQLite or PostgreSQL.

One code path for both, on SQLAlchemy Core. A run is one detection of one camera: its
serial and model, when, the operating point (exposures, gain, temperature, bit depth,
frame counts), the thresholds, and the defect list itself (one row per pixel).

Where the database lives
------------------------
:func:`database_url` turns what a user gives into an SQLAlchemy URL:

* nothing or ``default``: the ``FASTDEFECT_DB`` environment variable, else an SQLite
  file ``history.sqlite`` under the user's data directory (``$XDG_DATA_HOME/fastdefect``,
  by default ``~/.local/share/fastdefect``);
* a plain path: an SQLite file there;
* ``sqlite:///path``, ``postgresql://user@host:port/db`` (psycopg 3 is used when
  installed), or any SQLAlchemy URL.

Schema migrations
-----------------
The schema carries its version in a table ``fastdefect_schema`` (one row per applied
migration). :data:`MIGRATIONS` is an ordered list of small functions; opening a
database applies the missing ones inside one transaction that holds the database's
write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``pg_advisory_xact_lock``), so
several processes opening a new database at once apply each migration exactly once.
We chose this over Alembic: the schema is two tables that fastdefect alone owns, the
migrations must run unattended on a user's laptop from inside the command (no
``alembic.ini``, no script directory shipped as data), and a versioned list is a few
lines that the tests run against both databases.

Concurrent writers
------------------
A run is written in one transaction (the run row, then its defects), so readers see
all of it or nothing. On SQLite every transaction starts with ``BEGIN IMMEDIATE`` in
WAL mode with a long busy timeout: writers queue for the lock instead of failing
half-way, and readers are never blocked. PostgreSQL's row-level concurrency needs
nothing special. ``tests/test_fleet_db.py`` runs 8 writer processes at once on both.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..defects import DefectList
from ..errors import InputError, import_optional

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "HistoryDatabase",
    "RunRecord",
    "database_url",
    "default_database_path",
    "open_database",
]

#: Environment variable naming the default database (any form :func:`database_url` reads).
ENV_VARIABLE = "FASTDEFECT_DB"
_LOCK_KEY = 0x46445F484953  # "FD_HIS": the PostgreSQL advisory lock of migrations
_SQLITE_BUSY_SECONDS = 120.0


def _sqlalchemy():
    return import_optional(
        "sqlalchemy", extra="fleet", purpose="the defect history database", package="SQLAlchemy"
    )


def default_database_path() -> Path:
    """``$XDG_DATA_HOME/fastdefect/history.sqlite`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "fastdefect" / "history.sqlite"


def database_url(value: str | os.PathLike | None = None) -> str:
    """The SQLAlchemy URL for what a user gave (see the module documentation)."""
    text = os.fspath(value) if value is not None else ""
    if text in ("", "default"):
        text = os.environ.get(ENV_VARIABLE, "")
        if text in ("", "default"):
            path = default_database_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{path}"
    if "://" not in text:
        path = Path(text).expanduser()
        if path.is_dir():
            raise InputError(f"--db {text}: is a directory; give a database file or URL")
        if not path.parent.is_dir():
            raise InputError(f"--db {text}: directory {path.parent} does not exist")
        return f"sqlite:///{path.resolve()}"
    scheme = text.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        # SQLAlchemy's default PostgreSQL driver is psycopg2; prefer psycopg 3 when present.
        try:
            import psycopg  # noqa: F401

            text = "postgresql+psycopg://" + text.split("://", 1)[1]
        except ImportError:
            text = "postgresql://" + text.split("://", 1)[1]
    return text


# -- schema --------------------------------------------------------------------------------


def _tables(sa, metadata) -> dict[str, Any]:
    """The current schema (what every migration up to SCHEMA_VERSION produces)."""
    version = sa.Table(
        "fastdefect_schema",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    runs = sa.Table(
        "runs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("serial", sa.Text, nullable=False, index=True),
        sa.Column("model", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("software", sa.Text, nullable=False),
        sa.Column("host", sa.Text),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("bit_depth", sa.Integer, nullable=False),
        sa.Column("cfa", sa.Text),
        sa.Column("pixel_threshold", sa.Text, nullable=False),
        sa.Column("line_threshold", sa.Text, nullable=False),
        sa.Column("noise_factor", sa.Float),
        sa.Column("vote", sa.Float),
        sa.Column("exposure_us", sa.Float),
        sa.Column("gain", sa.Float),
        sa.Column("temperature_c", sa.Float),
        sa.Column("dark_frames", sa.Integer, nullable=False),
        sa.Column("bright_frames", sa.Integer, nullable=False),
        sa.Column("saturated_frames", sa.Integer, nullable=False),
        sa.Column("defect_count", sa.Integer, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),  # JSON: pixels per kind
        sa.Column("stacks", sa.Text, nullable=False),  # JSON: per-stack operating point
    )
    defects = sa.Table(
        "defects",
        metadata,
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("column", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.Text, nullable=False),
    )
    return {"version": version, "runs": runs, "defects": defects}


def _migration_1(connection, tables: dict[str, Any]) -> None:
    """Version 1: the runs and their defects."""
    tables["runs"].create(connection, checkfirst=True)
    tables["defects"].create(connection, checkfirst=True)


#: ``(version, description, apply(connection, tables))`` in order. A new version appends
#: a function (``ALTER TABLE ...`` through ``connection.execute``) and updates
#: :func:`_tables` to the resulting schema; released migrations are never edited.
MIGRATIONS: list[tuple[int, str, Callable[[Any, dict[str, Any]], None]]] = [
    (1, "runs and defects", _migration_1),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


# -- records -------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One recorded run (a row of ``runs``; the defects are read on demand)."""

    id: int
    serial: str
    model: str | None
    recorded_at: datetime
    command: str
    software: str
    host: str | None
    width: int
    height: int
    bit_depth: int
    cfa: str | None
    pixel_threshold: str
    line_threshold: str
    noise_factor: float | None
    vote: float | None
    exposure_us: float | None
    gain: float | None
    temperature_c: float | None
    dark_frames: int
    bright_frames: int
    saturated_frames: int
    defect_count: int
    counts: dict[str, int] = field(default_factory=dict)
    stacks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        record = dict(self.__dict__)
        record["recorded_at"] = self.recorded_at.isoformat()
        return record


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:  # SQLite hands back what it stored, without the zone
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _operating_point(result) -> dict[str, Any]:
    """Run columns from a :class:`~fastdefect.detection.DetectionResult`."""
    stacks = result.defects.metadata.get("stacks") or [
        {"role": s.role, "source": s.label, "frames": s.n_frames, "exposure_us": s.exposure_us}
        for s in result.stacks
    ]
    frames = {role: 0 for role in ("dark", "bright", "saturated")}
    for report in result.stacks:
        frames[report.role] += report.n_frames

    def first(key: str, role_order: Sequence[str] = ("dark", "bright", "saturated")):
        for role in role_order:
            for stack in stacks:
                if stack.get("role") == role and stack.get(key) is not None:
                    return float(stack[key])
        return None

    dark_exposures = [s.exposure_us for s in result.stacks if s.role == "dark" and s.exposure_us]
    config = result.config
    return {
        "width": int(result.shape[1]),
        "height": int(result.shape[0]),
        "bit_depth": int(result.bit_depth),
        "cfa": config.cfa,
        "pixel_threshold": str(config.pixel_threshold),
        "line_threshold": str(config.line_threshold),
        "noise_factor": float(config.noise_factor),
        "vote": float(config.vote),
        "exposure_us": max(dark_exposures) if dark_exposures else first("exposure_us"),
        "gain": first("gain"),
        "temperature_c": first("temperature_c"),
        "dark_frames": frames["dark"],
        "bright_frames": frames["bright"],
        "saturated_frames": frames["saturated"],
        "stacks": json.dumps(stacks, default=str),
    }


def _configure_sqlite(sa, engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for every transaction (see the module notes)."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE itself (pysqlite's own
        # deferred BEGIN would take the write lock only at the first write, and two
        # such writers can deadlock into "database is locked").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class HistoryDatabase:
    """A connection to the history database, migrated to :data:`SCHEMA_VERSION`.

    Use :func:`open_database`. Methods are safe to call from several processes at once.
    """

    def __init__(self, url: str) -> None:
        sa = _sqlalchemy()
        self.url = url
        self._sa = sa
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise InputError(f"cannot read database URL {url!r}: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        try:
            self.engine = self._engine(parsed)
        except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as exc:
            raise InputError(
                f"cannot use database URL {url!r}: {exc}; use sqlite:///PATH or "
                "postgresql://USER@HOST:PORT/DB"
            ) from exc
        self.tables = _tables(sa, sa.MetaData())
        self.migrate()

    def _engine(self, parsed):
        sa = self._sa
        if self.dialect == "sqlite":
            engine = sa.create_engine(
                parsed, connect_args={"timeout": _SQLITE_BUSY_SECONDS}, poolclass=sa.pool.NullPool
            )
            _configure_sqlite(sa, engine)
            return engine
        if self.dialect == "postgresql":
            import_optional(
                parsed.get_driver_name(), extra="fleet", purpose="a PostgreSQL history database"
            )
        return sa.create_engine(parsed, pool_pre_ping=True)

    def __repr__(self) -> str:
        return f"HistoryDatabase({self.engine.url.render_as_string(hide_password=True)!r})"

    def _connect_error(self, exc: Exception) -> InputError:
        where = self.engine.url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return InputError(f"history database {where}: {reason}")

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Any]:
        """A connection in a transaction; a database that cannot be reached is an InputError."""
        try:
            connection = self.engine.connect()
        except self._sa.exc.OperationalError as exc:
            raise self._connect_error(exc) from exc
        with connection, connection.begin():
            yield connection

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HistoryDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        sa = self._sa
        with self._begin() as connection:
            if not sa.inspect(connection).has_table("fastdefect_schema"):
                return 0
            version = connection.execute(
                sa.select(sa.func.max(self.tables["version"].c.version))
            ).scalar()
        return int(version or 0)

    def migrate(self) -> list[int]:
        """Apply the missing migrations, each once even with concurrent callers.

        Returns the versions applied by this call. Refuses a database newer than this
        fastdefect (made by a later version).
        """
        sa = self._sa
        applied = []
        with self._begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
            version_table = self.tables["version"]
            version_table.create(connection, checkfirst=True)
            current = connection.execute(sa.select(sa.func.max(version_table.c.version))).scalar()
            current = int(current or 0)
            if current > SCHEMA_VERSION:
                raise InputError(
                    f"history database {self!r} has schema version {current}, newer than "
                    f"this fastdefect's {SCHEMA_VERSION}: upgrade fastdefect"
                )
            for version, description, apply in MIGRATIONS:
                if version <= current:
                    continue
                apply(connection, self.tables)
                connection.execute(
                    version_table.insert().values(
                        version=version, description=description, applied_at=_utc(None)
                    )
                )
                applied.append(version)
        return applied

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        serial: str,
        result,
        *,
        model: str | None = None,
        recorded_at: datetime | None = None,
        command: str = "detect",
    ) -> int:
        """Record a :class:`~fastdefect.detection.DetectionResult`; return the run id.

        The run and its defects are written in one transaction.
        """
        serial = _check_serial(serial)
        defects = result.defects.deduplicated()
        counts = defects.count_by_kind()
        row = {
            "serial": serial,
            "model": model,
            "recorded_at": _utc(recorded_at),
            "command": command,
            "software": f"fastdefect {__version__}",
            "host": socket.gethostname(),
            "defect_count": len(defects),
            "counts": json.dumps(counts),
            **_operating_point(result),
        }
        runs, table = self.tables["runs"], self.tables["defects"]
        kinds = defects.kinds
        with self._begin() as connection:
            run_id = int(connection.execute(runs.insert().values(**row)).inserted_primary_key[0])
            if len(defects):
                connection.execute(
                    table.insert(),
                    [
                        {"run_id": run_id, "row": r, "column": c, "kind": k}
                        for r, c, k in zip(
                            defects.rows.tolist(),
                            defects.columns.tolist(),
                            kinds.tolist(),
                            strict=True,
                        )
                    ],
                )
        return run_id

    # -- reading ---------------------------------------------------------------------------

    def serials(self) -> list[str]:
        """Every camera serial with a recorded run, sorted."""
        runs = self.tables["runs"]
        with self._begin() as connection:
            rows = connection.execute(
                self._sa.select(runs.c.serial).distinct().order_by(runs.c.serial)
            )
            return [r[0] for r in rows]

    def runs(self, serial: str) -> list[RunRecord]:
        """The camera's runs, oldest first (by time, then by id)."""
        runs = self.tables["runs"]
        query = (
            self._sa.select(runs)
            .where(runs.c.serial == serial)
            .order_by(runs.c.recorded_at, runs.c.id)
        )
        with self._begin() as connection:
            rows = connection.execute(query).mappings().all()
        records = []
        for row in rows:
            values = dict(row)
            values["recorded_at"] = _utc(values["recorded_at"])
            values["counts"] = json.loads(values["counts"])
            values["stacks"] = json.loads(values["stacks"])
            records.append(RunRecord(**values))
        return records

    def run_count(self) -> int:
        """Runs recorded, all cameras."""
        runs = self.tables["runs"]
        with self._begin() as connection:
            return int(connection.execute(self._sa.select(self._sa.func.count(runs.c.id))).scalar())

    def defects(self, run_id: int) -> DefectList:
        """The defect list of one run (positions and kinds), sorted by row then column."""
        table = self.tables["defects"]
        query = (
            self._sa.select(table.c.row, table.c.column, table.c.kind)
            .where(table.c.run_id == run_id)
            .order_by(table.c.row, table.c.column)
        )
        with self._begin() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return DefectList.empty(source="detected")
        rows_, columns, kinds = zip(*rows, strict=True)
        return DefectList.from_arrays(
            np.asarray(rows_, np.int64),
            np.asarray(columns, np.int64),
            kinds=list(kinds),
            source="detected",
        )


def _check_serial(serial: str) -> str:
    serial = str(serial).strip()
    if not serial:
        raise InputError("a camera serial is needed to record a run (--serial)")
    return serial


def open_database(value: str | os.PathLike | None = None) -> HistoryDatabase:
    """Open (and create or migrate) the history database named by ``value``.

    See :func:`database_url` for what ``value`` may be.
    """
    return HistoryDatabase(database_url(value))
