"""flask check-deploy: each unsafe setting is named and fails the command; a safe configuration passes."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from webapp import config as config_module
from webapp.deploy_check import check_database_filesystem, check_secret_key, filesystem_of

from .conftest import make_test_app

STRONG_KEY = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4f6a8b0c1d3e5f"


@pytest.fixture
def check(tmp_path):
    """Run `flask check-deploy` for an app whose settings start safe and take the given overrides."""
    backups = tmp_path / "backups"
    backups.mkdir()
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n")
    database = f"sqlite:///{tmp_path / 'rost.sqlite'}"

    def run(mount_table: str | None = None, **overrides):
        if mount_table is not None:
            mounts.write_text(mount_table)
        settings = {"SECRET_KEY": STRONG_KEY, "PREFERRED_URL_SCHEME": "https", "PROXY_COUNT": 1,
                    "BACKUP_DIR": str(backups), "DATABASE_URL": database, "SQLALCHEMY_DATABASE_URI": database}
        settings.update(overrides)
        app = make_test_app(tmp_path, **settings)
        return app.test_cli_runner().invoke(args=["check-deploy", "--mounts", str(mounts)])

    run.backups = backups
    run.tmp_path = tmp_path
    return run


def problems_in(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("✗")]


def test_a_safe_configuration_passes(check):
    result = check()
    assert result.exit_code == 0, result.output
    assert problems_in(result) == []


def test_debug_on_is_reported(check):
    result = check(DEBUG=True)  # as DEBUG = True in instance/config.py, which the flask command itself overrides
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "DEBUG" in problem


def test_flask_debug_in_the_environment_is_reported(check, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = check()
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "DEBUG" in problem


@pytest.mark.parametrize("key", ["dev", "change-me", "short-but-random-Xq81", "a" * 64])
def test_a_known_short_or_repetitive_secret_key_is_reported(check, key):
    result = check(SECRET_KEY=key)
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "SECRET_KEY" in problem
    assert key not in result.output  # the key itself is never printed


def test_the_generated_instance_secret_key_is_strong(tmp_path):
    assert check_secret_key({"SECRET_KEY": config_module._instance_secret(tmp_path / "instance")}) == []


def test_cookies_without_secure_are_reported(check):
    result = check(PREFERRED_URL_SCHEME="http")
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "SESSION_COOKIE_SECURE" in problem and "REMEMBER_COOKIE_SECURE" in problem


def test_a_remember_cookie_alone_without_secure_is_reported(check):
    result = check(PREFERRED_URL_SCHEME="http", SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=False)
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "REMEMBER_COOKIE_SECURE" in problem and "SESSION_COOKIE_SECURE" not in problem


def test_no_proxy_count_is_reported(check):
    result = check(PROXY_COUNT=0)
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "PROXY_COUNT" in problem


def test_per_process_throttle_storage_is_reported(check):
    result = check(RATELIMIT_STORAGE_URI="memory://")
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "memory://" in problem


@pytest.mark.parametrize("fstype", ["nfs4", "cifs", "fuse.sshfs", "9p"])
def test_sqlite_on_a_network_filesystem_is_reported(check, fstype):
    table = f"/dev/sda1 / ext4 rw 0 0\nserver:/export {check.tmp_path} {fstype} rw 0 0\n"
    result = check(mount_table=table)
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert fstype in problem


def test_a_local_disk_mounted_inside_a_network_share_is_fine(check):
    table = f"server:/export {check.tmp_path.parent} nfs4 rw 0 0\n/dev/sdb1 {check.tmp_path} ext4 rw 0 0\n"
    assert check(mount_table=table).exit_code == 0


def test_mount_points_with_spaces_are_read(tmp_path):
    folder = tmp_path / "school data"
    folder.mkdir()
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n//nas/share " + str(folder).replace(" ", "\\040") + " cifs rw 0 0\n")
    assert filesystem_of(folder, mounts) == "cifs"
    assert check_database_filesystem({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/rost.sqlite"}, mounts) != []


def test_postgresql_has_no_file_to_check(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("server:/ / nfs4 rw 0 0\n")
    assert check_database_filesystem({"SQLALCHEMY_DATABASE_URI": "postgresql://rost@db.example/rost"}, mounts) == []


def test_no_backup_folder_configured_is_reported(check):
    result = check(BACKUP_DIR=None)
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert "BACKUP_DIR" in problem


def test_a_missing_backup_folder_is_reported(check):
    missing = check.tmp_path / "nowhere"
    result = check(BACKUP_DIR=str(missing))
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert str(missing) in problem


def test_a_backup_folder_that_cannot_be_written_is_reported(check):
    # A folder nobody may create files in, root included (tests run as root, who ignores modes).
    unwritable = Path("/proc/1")
    assert unwritable.is_dir() and not os.access(unwritable, os.W_OK)
    result = check(BACKUP_DIR=str(unwritable))
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert str(unwritable) in problem


def _backup(folder: Path, name: str, age_hours: float) -> None:
    path = folder / name
    path.write_bytes(b"copy")
    stamp = time.time() - age_hours * 3600
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("name", ["rost-20261120-023000.sqlite", "rost-20261120-023000.dump"])
def test_backups_older_than_two_days_are_reported(check, name):
    _backup(check.backups, name, age_hours=75)
    result = check()
    assert result.exit_code == 1
    (problem,) = problems_in(result)
    assert str(check.backups) in problem


def test_a_recent_backup_among_old_ones_passes(check):
    _backup(check.backups, "rost-20261101-023000.sqlite", age_hours=24 * 20)
    _backup(check.backups, "rost-20261124-023000.sqlite", age_hours=20)
    _backup(check.backups, "notes.txt", age_hours=24 * 30)  # not a backup: never judged
    assert check().exit_code == 0


def test_every_problem_is_listed_at_once(check):
    result = check(DEBUG=True, SECRET_KEY="dev", PREFERRED_URL_SCHEME="http", PROXY_COUNT=0, BACKUP_DIR=None)
    assert result.exit_code == 1
    assert len(problems_in(result)) == 5
