"""What names this release of the code: the package's version and its database migrations.

Cache keys start with it (settings ``CACHE_KEY_PREFIX``), so values pickled by one release
(model instances, rendered pages) are never read by another whose rows or templates differ:
a deploy that adds a migration or bumps the version starts from an empty namespace, and the
old keys expire. ``MASTHEAD_RELEASE`` names a release by hand (a build id, a git commit) for
deploys that change templates without either. No Django imports: settings read it."""

import hashlib
import os
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


@cache
def release() -> str:
    named = os.environ.get("MASTHEAD_RELEASE", "").strip()
    try:
        version = metadata.version("masthead")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "0"
    migrations = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.glob("*/migrations/[0-9]*.py")
    )
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:8]
    return ":".join(filter(None, [version, digest, named]))
