"""Permission policies shared by the admin's read-only views."""

from wagtail.permission_policies.base import ModelPermissionPolicy


class ViewOnlyPermissionPolicy(ModelPermissionPolicy):
    """Look, never add, edit or delete, whatever a user's permissions say: for rows that
    change only through their own actions (subscriptions, which write the ledger) or
    workers (the mail queue)."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission([a for a in actions if a == "view"])
