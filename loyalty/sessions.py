"""Database sessions that end after SESSION_COOKIE_AGE without use, not after SESSION_COOKIE_AGE in all.

Django's SESSION_SAVE_EVERY_REQUEST gives the same sliding expiry by writing the session row on every
request: the dashboard's lazily loaded cards would each write it, one after another on the embedded
SQLite's single writer. This store writes it only when its expiry has fallen behind a fresh one by more
than a few minutes, so a session still ends within minutes of SESSION_COOKIE_AGE after its last use.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.sessions.models import Session

# At most this late: a session idle for SESSION_COOKIE_AGE minus this may already have ended.
MAX_LAG = timedelta(minutes=5)


class SessionStore(DatabaseSessionStore):
    def _mark_stale(self, session: "Session | None") -> "Session | None":
        age = timedelta(seconds=self.get_session_cookie_age())
        if session is not None and timezone.now() + age - session.expire_date > min(MAX_LAG, age / 10):
            # SessionMiddleware saves a modified session, with a new expiry and cookie, after the response.
            self.modified = True
        return session

    def _get_session_from_db(self) -> "Session | None":
        return self._mark_stale(super()._get_session_from_db())

    async def _aget_session_from_db(self) -> "Session | None":
        return self._mark_stale(await super()._aget_session_from_db())
