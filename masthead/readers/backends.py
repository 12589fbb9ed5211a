from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import DEFAULT_CACHE_ALIAS, cache

from masthead.access import entitlements
from masthead.core.generations import forget_with_transaction

# The signed-in reader of every request, from the shared cache: deleted on every save or
# delete of the account (a new password, sign out everywhere, deactivation, a verified
# address) and again when the transaction commits; the timeout bounds what a request racing
# that commit could keep. A dead cache is a miss (IGNORE_EXCEPTIONS): the database answers.
USER_CACHE_TIMEOUT = 60


# The cache the accounts are kept in (`cache`), which the session engine reads ahead from.
ACCOUNT_CACHE_ALIAS = DEFAULT_CACHE_ALIAS

# What the session engine read ahead for this request's account (read_with_session), until
# the backend takes it or the request ends: (account id as the session holds it, found).
_read_with_session: ContextVar[tuple[str, dict] | None] = ContextVar(
    "masthead_read_with_session", default=None
)


def _user_key(user_id) -> str:
    return f"masthead:user:{user_id}"


def account_keys(user_id) -> list[str]:
    """The shared-cache keys read for a signed-in account: the account, and the entitlement
    provider's facts for it (access.entitlements)."""
    return [_user_key(user_id), *entitlements.cache_keys(user_id)]


def read_with_session(user_id: str, found: dict) -> None:
    """Hand over what the session's round trip found under account_keys(user_id) (masthead.
    readers.sessions): the next get_user of this request, for that account, uses it instead
    of asking the cache again."""
    _read_with_session.set((str(user_id), found))


def forget_read_with_session(**kwargs) -> None:
    """Nothing read ahead outlives its request, another session's load, nor a change to an
    account (receiver of request_finished and the account's post_save / post_delete; called
    by every session load)."""
    _read_with_session.set(None)


def _taken_with_session(user_id) -> dict | None:
    held = _read_with_session.get()
    if held is None:
        return None
    _read_with_session.set(None)  # once
    account, found = held
    return found if account == str(user_id) else None


def forget_user(sender, instance, **kwargs) -> None:
    """post_save / post_delete receiver for accounts."""
    forget_read_with_session()
    forget_with_transaction(_user_key(instance.pk), kwargs.get("using"))


class EmailBackend(ModelBackend):
    """Readers sign in with their e-mail address (any case); staff may still use a user name
    in the Wagtail admin. An unknown account costs one password hash, like a known one, so
    timing does not tell them apart.

    A reader's password works only once the address is confirmed: anyone can sign up with
    somebody else's address, and that password must not open the account the owner later
    confirms (actions.confirm_address drops it). The rule is for sign-in by address:
    accounts made by sign-up have a random user name nobody is told, while staff and editors,
    made in the admin, sign in by the user name they were given (staff by address too)
    whether or not an address was confirmed."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        users = get_user_model()
        if username is None:
            username = kwargs.get(users.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = username.strip()
        by_email = "@" in username
        lookup = {"email__iexact": username} if by_email else {"username": username}
        try:
            user = users._default_manager.get(**lookup)
        except (users.DoesNotExist, users.MultipleObjectsReturned):
            users().set_password(password)
            return None
        if not user.check_password(password) or not self.user_can_authenticate(user):
            return None
        if by_email and not (user.email_verified or user.is_staff):
            return None
        return user

    def get_user(self, user_id):
        """The session's account, as ModelBackend finds it, through the cache. Only the row
        is cached, never permissions: those are asked of the database when needed. The
        entitlement provider's facts for the account come in the same round trip
        (access.entitlements: every page a subscriber reads needs them), or in the session's
        when its key names the account (masthead.readers.sessions)."""
        key = _user_key(user_id)
        found = _taken_with_session(user_id)
        if found is None:
            found = cache.get_many(account_keys(user_id))
        user = found.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, USER_CACHE_TIMEOUT)
        if user is None or not self.user_can_authenticate(user):
            return None
        entitlements.read_with_account(user, found)  # after the cache has its copy
        return user
