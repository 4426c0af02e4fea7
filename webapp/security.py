"""Response headers every page carries: a strict CSP, no sniffing, no caching of signed-in pages."""
from __future__ import annotations

from flask import Flask, Response
from flask_login import current_user

from .config import HTMX_CDN_ORIGIN
from .htmx import add_vary


def content_security_policy(htmx_from_cdn: bool) -> str:
    script = "'self'" + (f" {HTMX_CDN_ORIGIN}" if htmx_from_cdn else "")
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
        if current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return add_vary(response)
