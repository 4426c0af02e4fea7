"""Statements built once for every viewer: the viewer's id is a bound parameter, and the rules of
webapp.access are applied to a stand-in for "a signed-in, active person" while the statement is
built. A page's lists and the polls run such statements many times a minute, and building a
statement and its cache key costs more than running it (docs/performance.md)."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import abort
from sqlalchemy import Integer, Select, bindparam

VIEWER_ID = bindparam("viewer_id", type_=Integer)


class AnyViewer:
    """Stands for "a signed-in, active person" while a statement is built once for everyone: the
    id is the bound parameter `viewer_id`. It has nothing else on purpose: a rule that comes to
    depend on the role, say, fails where the statement is built instead of being built for one
    role only. A page runs such a statement with `params_for(person)`, which stands for a signed-in,
    active person only; a poll checks that in its own statement (webapp.polls)."""

    __slots__ = ()
    is_authenticated = True
    active = True
    id = VIEWER_ID


def built_once(build: Callable[..., Select]) -> Callable[..., Select]:
    """`build(viewer, *variant)` for AnyViewer, run once per variant (a filter in use or not) and
    kept for the process: building a statement and its cache key costs more than running it. Run
    the statement with `viewer_id` among its parameters."""
    built: dict[tuple, Select] = {}

    def statement(*variant: Hashable) -> Select:
        found = built.get(variant)
        if found is None:
            found = built[variant] = build(AnyViewer(), *variant)
        return found

    return statement


def params_for(viewer, **params: Any) -> dict[str, Any]:
    """The parameters of a statement built for AnyViewer, run for `viewer`. Only a signed-in,
    active person stands for AnyViewer: for anyone else nothing is there (404), as the rules of
    webapp.access give them nothing."""
    if not viewer.is_authenticated or not viewer.active:
        abort(404)
    return {**params, "viewer_id": viewer.id}
