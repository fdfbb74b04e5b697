"""The fix for wapiti's "database is locked" at a module's time bound
(wapiti_wal.py), on the libraries wapiti runs on: a read left suspended as
a cut module leaves it, then a write. Needs wapiti's environment (SQLAlchemy
and aiosqlite); scripts/attack runs it with that Python."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from sqlalchemy import Column, Integer, MetaData, Table, event, exc, insert, select
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import create_async_engine

    import wapiti_wal
except ImportError:
    wapiti_wal = None

BUSY_SECONDS = 0.2  # SQLite's busy timeout here (wapiti's is the default, 5 s)


async def write_beside_a_cut_read(directory: str) -> str:
    """Commits a write while a generator is suspended inside a read, as
    sql_persister._get_paths is when --max-attack-time cuts a module; then
    the journal mode."""
    meta = MetaData()
    paths = Table("paths", meta, Column("path_id", Integer, primary_key=True))
    engine = create_async_engine(f"sqlite+aiosqlite:///{directory}/store.db", connect_args={"timeout": BUSY_SECONDS})

    async def to_attack():
        async with engine.begin() as conn:
            async for row in await conn.stream(select(paths)):
                yield row

    try:
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)
            await conn.execute(insert(paths), [{"path_id": i} for i in range(10)])
        cut = to_attack()
        await cut.__anext__()
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(paths).values(path_id=100))  # set_attacked
            async with engine.connect() as conn:
                return (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        finally:
            await cut.aclose()
    finally:
        await engine.dispose()


@unittest.skipIf(wapiti_wal is None, "needs wapiti's environment (scripts/attack runs it there)")
class WriteAheadLog(unittest.TestCase):
    def test_a_write_commits_beside_a_cut_read(self):
        with tempfile.TemporaryDirectory() as directory:
            self.assertEqual(asyncio.run(write_beside_a_cut_read(directory)), "wal")

    def test_without_it_the_write_fails_as_wapiti_did(self):
        # The test reproduces the failure: the fix is what makes the other pass.
        event.remove(Engine, "connect", wapiti_wal._write_ahead_log)
        try:
            with tempfile.TemporaryDirectory() as directory:
                with self.assertRaisesRegex(exc.OperationalError, "database is locked"):
                    asyncio.run(write_beside_a_cut_read(directory))
        finally:
            event.listen(Engine, "connect", wapiti_wal._write_ahead_log)


if __name__ == "__main__":
    unittest.main()
