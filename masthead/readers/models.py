from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Our own user model from the first migration, because swapping it later is painful.

    Readers sign in by e-mail, so an address belongs to one account at most."""

    email = models.EmailField("email address", unique=True)
