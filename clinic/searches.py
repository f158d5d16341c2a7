"""The panel's search text stays out of URLs, and so out of access logs, browser history and
the audit log: a search is posted, kept in the clinician's session under a random id for a
short while, and the panel's address names only the id."""

import secrets
import time

SESSION_KEY = "clinic_panel_searches"
# As long as a clinician's idle session lasts: a search is for now, not for a bookmark.
MAX_AGE_SECONDS = 15 * 60
KEPT = 10


def _fresh(session) -> dict:
    now = time.time()
    searches = session.get(SESSION_KEY) or {}
    return {
        key: entry
        for key, entry in searches.items()
        if isinstance(entry, dict) and now - entry.get("at", 0) < MAX_AGE_SECONDS
    }


def search_remember(session, text: str) -> str:
    """Keep the search text; returns the id the panel's URL carries instead."""
    searches = _fresh(session)
    search_id = secrets.token_urlsafe(9)
    searches[search_id] = {"text": text, "at": time.time()}
    newest = sorted(searches.items(), key=lambda item: item[1]["at"])[-KEPT:]
    session[SESSION_KEY] = dict(newest)
    return search_id


def search_recall(session, search_id: str) -> str | None:
    """The text searched under this id, or None when it is unknown or too old. Old searches
    are dropped from the session on the way."""
    searches = _fresh(session)
    if searches != (session.get(SESSION_KEY) or {}):
        session[SESSION_KEY] = searches
    entry = searches.get(search_id)
    return entry["text"] if entry else None
