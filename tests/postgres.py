"""A real PostgreSQL server for the database tests (imported by tests, like engines.py).

:func:`server` makes a throw-away cluster with Debian's ``postgresql`` binaries (``make
test`` installs the package where it is missing): ``initdb`` in a temporary folder, with
password authentication (SCRAM) over TCP on 127.0.0.1 and a free port, started with
``pg_ctl start`` and stopped (``-m immediate``) and removed at the end::

    with server() as pg:
        pg.url            # postgresql://journey@127.0.0.1:PORT/journey, no password
        pg.password       # what .pgpass or PGPASSWORD supply
        pg.sql("CREATE TABLE t (a int)")
        pg.stop(); pg.start()

``initdb`` refuses to run as root, and this project's sessions and CI run as root: the
cluster then belongs to the ``postgres`` user (which the package creates) and its commands
run as that user through ``runuser``. Where the binaries or that user are missing the tests
skip through ``engines.missing`` (which fails instead under ``JOURNEY_REQUIRE_ALL=1``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engines import missing

#: The role and database the tests use, and its password (auth is SCRAM, not trust, so that
#: a wrong password is refused as a real server refuses it).
USER, DATABASE, PASSWORD = "journey", "journey", "s3cret-Pass"


def binaries() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest /usr/lib/postgresql/N/bin,
    else where PATH finds them; the test skips (see :func:`engines.missing`) without."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    missing("PostgreSQL's initdb is not installed (make test installs Debian's postgresql)")


@dataclass
class Server:
    """A running throw-away cluster (see :func:`server`)."""

    folder: Path
    port: int
    bin: Path
    owner: str | None

    @property
    def url(self) -> str:
        """The database's URL, without the password."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def password(self) -> str:
        return PASSWORD

    @property
    def secret_url(self) -> str:
        """The URL with the password in it."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=check, timeout=120
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` kills it as a crash would."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "stop")

    def sql(self, statement: str) -> list[tuple]:
        """Run ``statement`` as the test role (through ADBC, the suite's own driver)."""
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(self.secret_url) as connection, connection.cursor() as cursor:
            cursor.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
            connection.commit()
        return rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server() -> Iterator[Server]:
    """A fresh cluster, started; stopped and removed on exit (see the module's text)."""
    bin_folder = binaries()
    owner = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            missing("running as root, and runuser is missing to start PostgreSQL as postgres")
        try:
            import pwd

            account = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root, and there is no postgres user to own a test cluster")
        owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    if owner:
        os.chown(folder, account.pw_uid, account.pw_gid)
    (folder / "password").write_text(PASSWORD + "\n", encoding="utf-8")
    if owner:
        os.chown(folder / "password", account.pw_uid, account.pw_gid)
    pg = Server(folder, free_port(), bin_folder, owner)
    try:
        pg._run(
            str(bin_folder / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={folder / 'password'}",
            "--encoding=UTF8",
            "--no-locale",
        )
        pg.start()
        import adbc_driver_postgresql.dbapi as adbc

        admin = pg.secret_url.rsplit("/", 1)[0] + "/postgres"
        with adbc.connect(admin, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        yield pg
    finally:
        pg.stop("immediate") if (folder / "data" / "postmaster.pid").exists() else None
        shutil.rmtree(folder, ignore_errors=True)
