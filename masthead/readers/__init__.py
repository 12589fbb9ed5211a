"""Readers: accounts, e-mail verification, sign-in by password or one-time link, sign-out
everywhere, password reset and change of e-mail. See docs/readers-glossary.md."""
