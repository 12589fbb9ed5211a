from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Readers sign in with their e-mail address (any case); staff may still use a user name
    in the Wagtail admin. An unknown account costs one password hash, like a known one, so
    timing does not tell them apart."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        users = get_user_model()
        if username is None:
            username = kwargs.get(users.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = username.strip()
        lookup = {"email__iexact": username} if "@" in username else {"username": username}
        try:
            user = users._default_manager.get(**lookup)
        except (users.DoesNotExist, users.MultipleObjectsReturned):
            users().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
