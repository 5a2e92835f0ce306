import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_docker_compose_accepts_the_file():
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is installed by `make test` (Makefile target `browser`)"
    result = subprocess.run(
        [binary, "config", "-q"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 60},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_web_worker_and_beat_share_one_image_definition():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert images == {"leadhandoff:latest"}
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A leadhandoff worker")
    assert services["beat"]["command"].startswith("celery -A leadhandoff beat")
