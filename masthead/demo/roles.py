"""The demo's newsroom roles. `admin` is a superuser; `editor` is in the *Editors* group,
which this module gives what a newsroom editor does all day: write, publish and schedule
stories, review what others submit, choose and upload pictures, keep the authors and topics
up to date. Subscriptions, plans, offers, payments, campaigns, the meter and the site's
settings stay with the business side (`admin`); sponsors too, except that an editor may
see them and pick one for a story (a sponsor's disclosure is a commercial agreement).

Wagtail's own migration makes an *Editors* group that may only draft and submit; the
permissions below are added to it (or to a new group of that name, in a database without
Wagtail's initial data, as a flushed test database is). Each is granted once: a second
call adds nothing."""

from django.contrib.auth.models import Group, Permission
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
)

EDITORS = "Editors"

# Pages, on the root of the tree so every section and series is covered: add and edit any
# page, publish, schedule and unpublish (all "publish"), lock a page while working on it.
PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page"]
# Pictures and documents, in every collection: upload, edit, and pick in the choosers.
COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
]
# Model permissions: the admin itself, authors and topics (taggit's tags) to add and edit,
# sponsors to look at only.
MODEL_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("news", "add_author"),
    ("news", "change_author"),
    ("news", "view_author"),
    ("taggit", "add_tag"),
    ("taggit", "change_tag"),
    ("taggit", "view_tag"),
    ("news", "view_sponsor"),
]
# Wagtail's default workflow asks this task's groups to approve what is submitted.
REVIEW_TASK = "Moderators approval"


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def newsroom_editors() -> tuple[Group, list[str]]:
    """The *Editors* group with a newsroom editor's permissions, and what this call added
    (empty when the group had them all already)."""
    group, created = Group.objects.get_or_create(name=EDITORS)
    added = [f"group {EDITORS}"] if created else []

    have = set(group.permissions.values_list("content_type__app_label", "codename"))
    for app_label, codename in MODEL_PERMISSIONS:
        if (app_label, codename) not in have:
            group.permissions.add(_permission(app_label, codename))
            added.append(f"{app_label}.{codename}")

    root = Page.get_first_root_node()
    for codename in PAGE_PERMISSIONS if root else []:
        _, new = GroupPagePermission.objects.get_or_create(
            group=group, page=root, permission=_permission("wagtailcore", codename)
        )
        if new:
            added.append(f"pages: {codename}")

    collection = Collection.get_first_root_node()
    for app_label, codename in COLLECTION_PERMISSIONS if collection else []:
        _, new = GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=_permission(app_label, codename)
        )
        if new:
            added.append(f"collections: {codename}")

    # Editors review what others submit (the default workflow's only task), beside the
    # Moderators Wagtail put there.
    for task in GroupApprovalTask.objects.filter(name=REVIEW_TASK):
        if not task.groups.filter(pk=group.pk).exists():
            task.groups.add(group)
            added.append(f"reviews: {task.name}")
    return group, added
