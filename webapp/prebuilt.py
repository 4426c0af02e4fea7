"""Statements that apply webapp.access's rules, built once with the viewer as a bound parameter.

The rules themselves stay in webapp.access: a statement here is whatever the caller builds with
them, only built for a stand-in viewer instead of a person."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam

if TYPE_CHECKING:
    from .models import User


class _AnyViewer:
    """Stands for "a signed-in, active person" while a statement is built once (PerViewer): the id
    is the bound parameter `viewer_id`. It has nothing else on purpose: a rule that comes to depend
    on the role, say, fails where the statement is built instead of being built for one role only."""

    __slots__ = ()
    is_authenticated = True
    active = True
    id = bindparam("viewer_id", type_=Integer)


S = TypeVar("S", bound=Select)


class PerViewer(Generic[S]):
    """A statement applying webapp.access's rules, built once for every signed-in, active viewer.

    Polls run one statement many times a minute for everyone; building it and its cache key costs
    more than running it. For such a viewer those rules differ only in the viewer's id, so
    `build(viewer)` is called once (on first use: the modules that define one are imported while
    webapp.access is) with the id as a bound parameter; anyone else, to whom the rules show nothing,
    gets the statement built for them, as a direct call would. The statement's other values are
    bound parameters too, passed with the viewer's at execution."""

    def __init__(self, build: Callable[[Any], S]) -> None:
        self._build = build
        self._statement: S | None = None

    def for_viewer(self, user: User, **params: Any) -> tuple[S, dict[str, Any]]:
        """The statement for `user` and its parameters (`params` and the viewer's id)."""
        if not (user.is_authenticated and user.active):
            return self._build(user), params
        if self._statement is None:
            self._statement = self._build(_AnyViewer())
        return self._statement, {**params, "viewer_id": user.id}
