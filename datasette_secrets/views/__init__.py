"""The admin pages and htmx fragments under /-/secrets: the table of contents.

One module per page or family (``index``: the list; ``row``: a secret's row
and the changes made from it; ``values``: reveal, copy, Test and the mask,
of a shared value and of an actor's own alike; ``audit``; ``keys``;
``importing``; ``mine``: an actor's own values of personal secrets, in the
list's rows; ``owners``: who has one, for admins), each view a
``base.SecretsView`` that checks permission first. ``render`` renders pages and fragments, ``context`` builds
what templates share, ``feedback`` carries a change's message to its row,
``paging`` cuts the list into pages,
``errors`` answers htmx requests that failed.
"""

from .audit import AuditView
from .errors import error_fragment, wants_fragment_error
from .importing import ImportConfirmView, ImportView
from .index import IndexView
from .keys import KeysView, RotateView
from .mine import MineView, OwnDeleteView, OwnEditView, OwnHistoryView, OwnRowView
from .owners import OwnersView
from .row import DeleteView, EditView, HistoryView, RestoreView, RowView
from .values import (
    CopyView, MaskView, OwnCopyView, OwnMaskView, OwnRevealView, OwnTestView, RevealView, TestView,
)

__all__ = ["ROUTES", "error_fragment", "wants_fragment_error"]

ROUTES = [
    (r"^/-/secrets$", IndexView),
    (r"^/-/secrets/-/keys$", KeysView),
    (r"^/-/secrets/-/keys/rotate$", RotateView),
    (r"^/-/secrets/-/audit(?P<format>\.json)?$", AuditView),
    (r"^/-/secrets/-/import$", ImportView),
    (r"^/-/secrets/-/import/confirm$", ImportConfirmView),
    (r"^/-/secrets/-/mine$", MineView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)$", OwnEditView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/row$", OwnRowView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/delete$", OwnDeleteView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/reveal$", OwnRevealView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/copy$", OwnCopyView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/test$", OwnTestView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/mask$", OwnMaskView),
    (r"^/-/secrets/-/mine/(?P<name>[^/]+)/history$", OwnHistoryView),
    (r"^/-/secrets/(?P<name>[^/]+)$", EditView),
    (r"^/-/secrets/(?P<name>[^/]+)/row$", RowView),
    (r"^/-/secrets/(?P<name>[^/]+)/history$", HistoryView),
    (r"^/-/secrets/(?P<name>[^/]+)/restore$", RestoreView),
    (r"^/-/secrets/(?P<name>[^/]+)/delete$", DeleteView),
    (r"^/-/secrets/(?P<name>[^/]+)/reveal$", RevealView),
    (r"^/-/secrets/(?P<name>[^/]+)/copy$", CopyView),
    (r"^/-/secrets/(?P<name>[^/]+)/mask$", MaskView),
    (r"^/-/secrets/(?P<name>[^/]+)/test$", TestView),
    (r"^/-/secrets/(?P<name>[^/]+)/owners$", OwnersView),
]
