"""Puts wapiti's own SQLite store in WAL mode. Loaded into the battery's
wapiti by a .pth line in its virtual environment (scripts/attack).

Why: wapiti 3.2.3 reads the pages to attack through an async generator that
stays inside an open read (sql_persister._get_paths yields from within
`conn.stream`). When --max-attack-time cuts a module, that generator is left
suspended until it is garbage-collected, and its read keeps SQLite's shared
lock; the module's last write (`set_attacked`) then waits 5 s for the lock
and wapiti dies with "database is locked", writing no report. In WAL mode a
write commits beside an open read. Nothing of wapiti's attacks changes."""

try:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
except ImportError:  # the environment before wapiti is installed in it
    Engine = None

if Engine is not None:

    @event.listens_for(Engine, "connect")
    def _write_ahead_log(dbapi_connection, _record) -> None:
        if type(dbapi_connection).__module__.startswith("sqlalchemy.dialects.sqlite"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
