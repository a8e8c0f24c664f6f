import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "KAIROS_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level=WARNING",
        env={"DJANGO_SECURE": "true", "DJANGO_SECRET_KEY": "k" * 30 + "-unique-" + "z" * 30},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_without_a_secret_key_one_is_made_and_kept_private(tmp_path):
    result = run_manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "secret_key"
    assert len(key_file.read_text()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_processes_starting_together_on_a_fresh_folder_share_one_key(tmp_path):
    environment = {"PATH": os.environ["PATH"], "KAIROS_DATA_DIR": str(tmp_path)}
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    starters = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v0", "-c", script],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    keys = {starter.communicate(timeout=60)[0].strip() for starter in starters}
    assert len(keys) == 1
    assert keys == {(tmp_path / "secret_key").read_text()}
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".secret")] == []


def test_a_cache_url_puts_the_shared_cache_in_redis(tmp_path):
    script = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    database = run_manage("shell", "-v0", "-c", script, env={}, tmp_path=tmp_path)
    assert database.stdout.strip() == "django.core.cache.backends.db.DatabaseCache"
    redis = run_manage(
        "shell",
        "-v0",
        "-c",
        script,
        env={"KAIROS_CACHE_URL": "redis://127.0.0.1:6379/1"},
        tmp_path=tmp_path,
    )
    assert redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache", redis.stderr


def test_a_cache_url_that_is_not_redis_is_refused(tmp_path):
    result = run_manage(
        "check", env={"KAIROS_CACHE_URL": "memcached://127.0.0.1:11211"}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "KAIROS_CACHE_URL" in result.stderr
