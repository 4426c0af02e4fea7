"""The only module that reads htmx's request headers: it decides page or fragment."""
from __future__ import annotations

import re

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

VARY = ("HX-Request", "HX-Request-Type")
# An answer for the alert line of the form that sent the request, which leaves the form and the
# text typed into it as they are.
_INTO_FORM_ALERT = {"HX-Retarget": "find .form-alert", "HX-Reswap": "innerHTML"}
_FORM_TARGET = re.compile(r"form#([A-Za-z][\w-]*)")  # htmx 4's HX-Target: the tag, then the id


def into_form_alert() -> dict[str, str]:
    """_INTO_FORM_ALERT for the form that holds the text. "find" looks inside the element that sent
    the request: the form itself, or, for a control outside it that sends the form along and
    swaps it («Цитировать»: hx-include and hx-target), the form it targets, found by its id."""
    source = request.headers.get("HX-Source", "")
    target = _FORM_TARGET.fullmatch(request.headers.get("HX-Target", ""))
    if target is not None and not source.startswith("form"):
        return {**_INTO_FORM_ALERT, "HX-Retarget": f"#{target.group(1)} .form-alert"}
    return _INTO_FORM_ALERT


def is_htmx_request() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_fragment_request() -> bool:
    """A targeted htmx swap wants one block; a boost, a history restore or a plain visit wants the page."""
    return is_htmx_request() and request.headers.get("HX-Request-Type") == "partial"


def render(template: str, block: str | None = None, *, status: int = 200, headers: dict | None = None, **context) -> Response:
    """Render the page, or only `block` of it when htmx asked for a fragment."""
    if block is not None and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    if headers:
        response.headers.update(headers)
    return response


def add_vary(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.vary.update(VARY)  # `response.vary` parses the header anew on each access: once
    return response


def redirect_for(url: str, status: int = 303) -> Response:
    """After a form post: a plain browser follows a redirect; htmx is told where to go."""

    if is_htmx_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, status)
