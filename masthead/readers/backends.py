from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from masthead.access import entitlements
from masthead.core.generations import forget_with_transaction

# The signed-in reader of every request, from the shared cache: deleted on every save or
# delete of the account (a new password, sign out everywhere, deactivation, a verified
# address) and again when the transaction commits; the timeout bounds what a request racing
# that commit could keep. A dead cache is a miss (IGNORE_EXCEPTIONS): the database answers.
USER_CACHE_TIMEOUT = 60


def _user_key(user_id) -> str:
    return f"masthead:user:{user_id}"


def forget_user(sender, instance, **kwargs) -> None:
    """post_save / post_delete receiver for accounts."""
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
        (access.entitlements: every page a subscriber reads needs them)."""
        key = _user_key(user_id)
        found = cache.get_many([key, *entitlements.cache_keys(user_id)])
        user = found.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, USER_CACHE_TIMEOUT)
        if user is None or not self.user_can_authenticate(user):
            return None
        entitlements.read_with_account(user, found)  # after the cache has its copy
        return user
