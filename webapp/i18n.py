"""Language: Russian by default, English if the person chose it."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from .extensions import babel

LOCALES = {"ru": "Русский", "en": "English"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return "ru"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
