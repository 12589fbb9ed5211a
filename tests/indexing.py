"""Search and reference indexing for the fixtures that build content."""

from contextlib import contextmanager
from importlib import import_module

# The tasks that Wagtail's and modelsearch's post_save receivers enqueue for each save, by
# the module whose receiver looks them up.
INDEX_TASKS = (
    ("modelsearch.signal_handlers", "insert_or_update_object_task"),
    ("wagtail.signal_handlers", "update_reference_index_task"),
)


@contextmanager
def indexed_once():
    """The search and reference indexes brought up to date at the end of the block, once per
    object, instead of at every save: a page is saved three or four times as a fixture adds
    and publishes it (its parent too), and those index updates were half of building the
    small publication of tests/integration/conftest.py (cProfile). The indexes end as they
    would have: each object is indexed with its content when the block ends (objects deleted
    in the block are not); pages a test saves itself are indexed as they are saved. For
    fixtures that build content, not for tests of indexing."""
    from django.apps import apps

    pending = {}

    class Deferred:
        def __init__(self, task):
            self.task = task

        def enqueue(self, app_label, model_name, pk):
            pending[(self.task, app_label, model_name, pk)] = None

    modules = [(import_module(name), attribute) for name, attribute in INDEX_TASKS]
    tasks = [getattr(module, attribute) for module, attribute in modules]
    for (module, attribute), task in zip(modules, tasks, strict=True):
        setattr(module, attribute, Deferred(task))
    try:
        yield
    finally:
        for (module, attribute), task in zip(modules, tasks, strict=True):
            setattr(module, attribute, task)
    for task, app_label, model_name, pk in pending:
        if apps.get_model(app_label, model_name).objects.filter(pk=pk).exists():
            task.enqueue(app_label, model_name, pk)
