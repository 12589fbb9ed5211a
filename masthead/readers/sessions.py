"""The session engine with Redis (settings: SESSION_ENGINE): Django's cached_db sessions,
whose key also names the signed-in account, so that a signed-in reader's session, account
and entitlements come from the shared cache in one round trip instead of two.

Django reads the session first and only then knows whose account to load
(``auth.get_user``: the session's user id, then the backend's ``get_user``). Here the key of
a signed-in session ends in that id (``<32 random characters>-<id in base 36>``), and loading
the session asks for the account's keys (``backends.account_keys``) in the same
``get_many``; what came back waits for the backend's ``get_user`` of this request
(``backends.read_with_session``).

The id in the key is a hint for reading ahead, never a credential:

- the session is still found by its whole key, 32 random characters included, so editing
  the id finds no session at all (a new anonymous one, as any unknown key);
- what was read ahead is handed over only when the session's own data names that account,
  and the backend uses it only for that account, as the cache would have answered it;
- a key without the ending (sessions made before this engine, an account id that is not a
  whole number) is loaded as cached_db loads it.

A session that comes to hold an account its key does not name (signing in, another account
signing in) gets a new key when it is saved, as ``login()`` gives one anyway; signing out
flushes the session and the next one has a plain key. The async methods are Django's own
(the site runs under WSGI): they read no account ahead."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.utils.http import base36_to_int, int_to_base36

from . import backends

_SEPARATOR = "-"  # not in Django's VALID_KEY_CHARS, so a plain key never has one


def account_in_key(session_key: str | None) -> str | None:
    """The account id a session key names, as the session stores it (a string), or None."""
    _random, separator, ending = (session_key or "").rpartition(_SEPARATOR)
    if not separator or not ending:
        return None
    try:
        return str(base36_to_int(ending))
    except ValueError:  # not base 36, or longer than Django reads (13 characters)
        return None


def _nameable(account) -> str | None:
    """The account id as a key can name it, or None: a whole number that base36_to_int reads
    back (13 digits in base 36, more than a 64-bit primary key needs)."""
    account = "" if account is None else str(account)
    if not account.isascii() or not account.isdigit() or int(account) >= 36**13:
        return None
    return str(int(account))


def _account_held(data: dict) -> str | None:
    """The account a session's data holds, as a key can name it, or None."""
    return _nameable(data.get(SESSION_KEY))


class SessionStore(cached_db.SessionStore):
    def _get_new_session_key(self) -> str:
        # Django's 32 random characters (checked unused), and the account if there is one
        # (the data being saved under the new key: create() runs with it in place).
        key = super()._get_new_session_key()
        account = _account_held(getattr(self, "_session_cache", {}))
        return key if account is None else f"{key}{_SEPARATOR}{int_to_base36(int(account))}"

    def save(self, must_create: bool = False) -> None:
        if (
            not must_create
            and self.session_key
            and account_in_key(self.session_key) != _account_held(self._get_session())
        ):
            # Another account (or none) than its key names: cycle_key saves the session under
            # a new key (create(), the data kept) and deletes the old one.
            self.cycle_key()
            return
        super().save(must_create)

    def load(self) -> dict:
        backends.forget_read_with_session()  # whatever this request reads ahead, nothing older
        account = account_in_key(self.session_key)
        if account is None or settings.SESSION_CACHE_ALIAS != backends.ACCOUNT_CACHE_ALIAS:
            return super().load()
        account_keys = backends.account_keys(account)
        try:
            found = self._cache.get_many([self.cache_key, *account_keys])
        except Exception:  # as cached_db.load: a key the cache refuses is a miss
            found = {}
        data = found.get(self.cache_key)
        if data is None:  # not in the cache: cached_db reads the database (and caches it)
            return super().load()
        if _account_held(data) == account:
            backends.read_with_session(account, found)
        return data
