"""Notices: the e-mails the publication sends a reader about their subscription, each once.

The subscription and payment ledgers are the outbox: nothing in `subscriptions` calls this
app; ``manage.py send_notices`` reads what happened and mails what is due (see CONTEXT.md).
Dependencies point one way: notices -> subscriptions and access, never back. The public
surface is ``outbox.deliver_due(now=...)`` and the ``send_notices`` command.
"""
