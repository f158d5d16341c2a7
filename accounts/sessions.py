"""The session store: Django's database sessions, with a cheaper refresh on PostgreSQL.

Every authenticated request rewrites its session row (SessionPolicyMiddleware refreshes the
idle expiry). Django's store does that as BEGIN, UPDATE, COMMIT, and the COMMIT waits for the
disk to flush. Here the refresh is one statement that commits asynchronously
(`synchronous_commit` off for that statement's own transaction only): should PostgreSQL
crash in the fraction of a second before the WAL writer flushes it, the session keeps the
expiry of the request before, which only shortens it. Creating, rotating and deleting a
session (login, logout) keep Django's durable path, and so does any save made inside a
transaction someone else opened: the setting would otherwise last to that transaction's end.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router


class SessionStore(DatabaseSessionStore):
    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create)
        obj = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=obj)
        connection = connections[using]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return super().save(must_create)
        with connection.cursor() as cursor:
            cursor.execute(
                _REFRESH_SQL.format(table=connection.ops.quote_name(self.model._meta.db_table)),
                [obj.session_data, obj.expire_date, obj.session_key],
            )
            if cursor.rowcount != 1:
                # Deleted meanwhile (logged out in another tab): as Django's store reports it.
                raise UpdateError


# The CTE is referenced, so PostgreSQL runs it (once) before the update; `true` makes the
# setting local to the statement's own transaction.
_REFRESH_SQL = (
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "UPDATE {table} SET session_data = %s, expire_date = %s "
    "WHERE session_key = %s AND EXISTS (SELECT FROM async)"
)
