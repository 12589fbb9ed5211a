"""Campaigns: site-wide banners and free-access windows.

Only the pure window rule is re-exported here (models cannot be imported while apps load).
The rest of the public surface: ``fetch.current_campaigns(now)``,
``fetch.free_access_active(now)`` and the ``context_processors.campaigns`` context processor.
"""

from .windows import Window, active, is_active

__all__ = ["Window", "active", "is_active"]
