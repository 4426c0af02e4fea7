"""Response headers every page carries: a strict CSP, no sniffing, no caching of signed-in pages."""
from __future__ import annotations

from flask import Flask, Response, g

from .config import HTMX_CDN_URL
from .htmx import add_vary


def loaded_user():
    """The signed-in person if this request has already asked who is there (Flask-Login keeps
    them in g), else None. Hooks that run on every response use it: a response that never
    loaded the person shows nothing of theirs, and the hook must not cost a query of its own."""
    user = g.get("_login_user")
    return user if user is not None and user.is_authenticated else None


def content_security_policy(htmx_from_cdn: bool) -> str:
    # A source with a path allows that very file and nothing else from the host (CSP Level 2).
    script = "'self'" + (f" {HTMX_CDN_URL}" if htmx_from_cdn else "")
    return (
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self'; "
        "img-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def init_app(app: Flask) -> None:
    policy = content_security_policy(app.config["HTMX_SOURCE"] != "local")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if loaded_user() is not None:
            response.headers["Cache-Control"] = "no-store"
        return add_vary(response)
