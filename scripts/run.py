"""Run LeadHandoff with demo data: web server, Celery worker and Celery beat.

Embedded defaults (SQLite, kombu's filesystem broker) need no server; set
DATABASE_URL and REDIS_URL to use PostgreSQL and Redis instead. Ctrl-C stops all.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = os.environ.get("PORT", "8000")

env = dict(os.environ)
env.setdefault("DJANGO_SETTINGS_MODULE", "leadhandoff.settings.local")
env.setdefault("PYTHONUNBUFFERED", "1")
if env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL"):
    env["CELERY_BROKER_URL"] = env["REDIS_URL"]


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    manage("collectstatic", "--no-input", "-v", "0")
    processes = {
        "web": [PY, "manage.py", "runserver", f"0.0.0.0:{PORT}", "--noreload"],
        # --pool=solo keeps the demo light; one worker process is plenty for a laptop.
        "worker": [PY, "-m", "celery", "-A", "leadhandoff", "worker", "--loglevel=INFO", "--pool=solo"],
        "beat": [PY, "-m", "celery", "-A", "leadhandoff", "beat", "--loglevel=INFO"],
    }
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in processes.items()}
    print(
        f"\nLeadHandoff is running at http://localhost:{PORT}\n"
        "Demo logins (password 'leadhandoff', demo only): marketer, rep1, rep2, rep3, manager, admin\n"
        "Press Ctrl-C to stop the web server, worker and beat.\n",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in running.values()):
            time.sleep(0.5)
        dead = [name for name, p in running.items() if p.poll() is not None]
        print(f"{', '.join(dead)} stopped; shutting down the rest.", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        for p in running.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in running.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
