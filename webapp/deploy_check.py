"""flask check-deploy: what is unsafe in the configuration this server actually runs with.

Each check returns the problems it found as plain Russian lines for the operator; the command
prints them and exits 1 when there is any, 0 with a short summary otherwise.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

SECRET_MIN_LENGTH = 32
# Keys copied from tutorials and examples, or typed in a hurry.
WEAK_SECRETS = frozenset({
    "dev", "development", "secret", "secret-key", "secret_key", "secretkey", "changeme", "change-me", "change_me",
    "replace-me", "test", "testing", "password", "default", "flask", "rost", "key", "development key", "your-secret-key",
})
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "sshfs", "glusterfs", "fuse.glusterfs", "ceph",
    "fuse.ceph", "cephfs", "lustre", "afs", "ocfs2", "gfs2", "davfs", "fuse.davfs", "fuse.s3fs", "fuse.rclone",
})
BACKUP_PATTERNS = ("rost-*.sqlite", "rost-*.dump")
BACKUP_MAX_AGE_HOURS = 48
MOUNTS_FILE = Path("/proc/mounts")


def init_app(app: Flask) -> None:
    # The flask command sets app.debug from FLASK_DEBUG alone when it loads the app, hiding a
    # DEBUG = True in instance/config.py that gunicorn would honour: remember the configured value.
    app.extensions["deploy_check"] = {"debug": bool(app.config.get("DEBUG"))}
    app.cli.add_command(check_deploy_command)


def check_debug(config) -> list[str]:
    configured = current_app.extensions.get("deploy_check", {}).get("debug", False)
    if current_app.debug or config.get("DEBUG") or configured:
        return ["Включён режим отладки (DEBUG / FLASK_DEBUG): на рабочем сервере он показывает код и позволяет "
                "выполнить его из браузера. Уберите FLASK_DEBUG из окружения и DEBUG из instance/config.py."]
    return []


def check_secret_key(config) -> list[str]:
    key = config.get("SECRET_KEY") or ""
    advice = ("Уберите SECRET_KEY из настроек (ключ будет создан в instance/secret_key) или задайте случайный: "
              "python3 -c 'import secrets; print(secrets.token_hex(32))'.")
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    if key.strip().lower() in WEAK_SECRETS or len(set(key)) < 8:
        return [f"SECRET_KEY — известное или слабое значение: любой может подделать вход. {advice}"]
    if len(key) < SECRET_MIN_LENGTH:
        return [f"SECRET_KEY короче {SECRET_MIN_LENGTH} символов ({len(key)}). {advice}"]
    return []


def check_cookies(config) -> list[str]:
    insecure = [name for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE") if not config.get(name)]
    if insecure:
        return [f"Cookies входа уходят и по HTTP ({', '.join(insecure)} выключено). Сайт работает за HTTPS: "
                "задайте FLASK_PREFERRED_URL_SCHEME=https — это включит флаг Secure."]
    return []


def check_proxy(config) -> list[str]:
    if not config.get("PROXY_COUNT"):
        return ["PROXY_COUNT не задан: за nginx приложение видит адрес 127.0.0.1 у всех (ограничение попыток входа "
                "общее на всех) и строит ссылки-приглашения с http://. Задайте FLASK_PROXY_COUNT=1."]
    return []


def check_throttle_storage(config) -> list[str]:
    uri = config.get("RATELIMIT_STORAGE_URI") or ""
    if uri.startswith("memory://"):
        return ["RATELIMIT_STORAGE_URI=memory:// считает неудачные входы в каждом процессе отдельно: ограничение "
                "попыток слабеет во столько раз, сколько процессов. Уберите его (счёт в базе) или укажите Redis."]
    return []


def filesystem_of(path: Path, mounts_file: Path) -> str | None:
    """The type of the filesystem `path` lives on: the longest mount point that contains it."""
    path = path.resolve()
    best, best_type = None, None
    try:
        lines = mounts_file.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(_unescape_mount(fields[1]))
        if (path == point or point in path.parents) and (best is None or len(point.parts) >= len(best.parts)):
            best, best_type = point, fields[2]  # a later line mounted over the same point wins
    return best_type


def _unescape_mount(field: str) -> str:
    # /proc/mounts writes a space as \040, a tab as \011 and so on.
    return field.encode("latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def check_database_filesystem(config, mounts_file: Path = MOUNTS_FILE) -> list[str]:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return []
    folder = Path(url.database).parent
    fstype = filesystem_of(folder, mounts_file)
    if fstype and (fstype in NETWORK_FILESYSTEMS or fstype.split(".")[-1] in NETWORK_FILESYSTEMS):
        return [f"База SQLite {url.database} лежит на сетевой файловой системе ({fstype}): блокировки там ненадёжны, "
                "база может испортиться. Держите файл на локальном диске сервера или перейдите на PostgreSQL."]
    return []


def check_backups(config, now: float | None = None) -> list[str]:
    folder = config.get("BACKUP_DIR")
    if not folder:
        return ["Резервные копии не настроены: задайте FLASK_BACKUP_DIR и запускайте flask backup по расписанию "
                "(docs/backup.md)."]
    path = Path(folder).expanduser()
    if not path.is_absolute():  # as flask backup reads it: relative to the instance folder
        path = Path(current_app.instance_path) / path
    if not path.is_dir():
        return [f"Папки для резервных копий {path} нет: копия ни разу не делалась. Запустите flask backup "
                "от имени пользователя, под которым работает Rost, и включите таймер (docs/backup.md)."]
    if not os.access(path, os.W_OK | os.X_OK):
        return [f"В папку для резервных копий {path} нельзя писать. Дайте права пользователю, от имени которого "
                "работает Rost."]
    copies = [p for pattern in BACKUP_PATTERNS for p in path.glob(pattern) if p.is_file()]
    if copies:
        newest = max(p.stat().st_mtime for p in copies)
        age_hours = ((now if now is not None else time.time()) - newest) / 3600
        if age_hours > BACKUP_MAX_AGE_HOURS:
            return [f"Последней резервной копии в {path} уже {age_hours / 24:.0f} дн.: расписание не работает? "
                    "Проверьте: systemctl status rost-backup.timer, journalctl -u rost-backup."]
    return []


def problems(mounts_file: Path = MOUNTS_FILE) -> list[str]:
    config = current_app.config
    checks: list[Callable[[], list[str]]] = [
        lambda: check_debug(config),
        lambda: check_secret_key(config),
        lambda: check_cookies(config),
        lambda: check_proxy(config),
        lambda: check_throttle_storage(config),
        lambda: check_database_filesystem(config, mounts_file),
        lambda: check_backups(config),
    ]
    return [problem for check in checks for problem in check()]


@click.command("check-deploy")
@click.option("--mounts", "mounts_file", type=click.Path(dir_okay=False, path_type=Path), default=str(MOUNTS_FILE),
              hidden=True, help="Where the mount table is read from (tests pass a file of their own).")
@with_appcontext
def check_deploy_command(mounts_file: Path) -> None:
    """Проверить настройки рабочего сервера: отладка, секретный ключ, cookies, прокси, база, резервные копии.

    Выходит с кодом 1, если найдено что-то небезопасное.
    """
    found = problems(mounts_file)
    for problem in found:
        click.secho(f"✗ {problem}", fg="red")
    if found:
        click.secho(f"Найдено проблем: {len(found)}.", fg="red")
        raise click.exceptions.Exit(1)
    click.secho("Всё в порядке: отладка выключена, секретный ключ надёжный, cookies только по HTTPS, "
                "адреса от прокси учитываются, база на локальном диске, резервные копии настроены.", fg="green")
