"""The three processes of a deployment on one machine: two gunicorn web processes and one worker.

    python -m deploy.local --database postgresql://loom:…@127.0.0.1:5432/loom --ports 8001 8002

starts them against one database and stops them on Ctrl-C. From Python, `start(url)` returns a
Deployment that can also kill a process as a crash would (SIGKILL) and start it again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass
class Deployment:
    """Running web processes and workers, each leading its own process group: a kill takes its children."""

    database_url: str
    ports: tuple[int, ...]
    environment: dict[str, str]
    log_dir: Path
    web_workers: int = 1
    worker_interval: float = 1.0
    webs: list[subprocess.Popen | None] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    workers_started: int = 0  # numbers each worker's log: worker1.log, worker2.log, …

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start_web(self, index: int) -> None:
        """Start web process `index` (again) on its port and wait until it answers."""
        port = self.ports[index]
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.web_workers), "-b", f"127.0.0.1:{port}"]
        # Its default control socket path is per user: two gunicorns on one machine would collide.
        command += ["--no-control-socket", "runtime.wsgi:app"]
        process = self._spawn(command, f"web{index + 1}")
        while len(self.webs) <= index:
            self.webs.append(None)
        self.webs[index] = process
        _wait_until_answering(process, self.urls[index], self.log_dir / f"web{index + 1}.log")

    def kill_web(self, index: int) -> None:
        """Kill web process `index` and its gunicorn workers at once, as a crash of the machine would."""
        process = self.webs[index]
        if process is not None:
            _kill(process)
            self.webs[index] = None

    def start_worker(self, environment: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a `loom worker`, with `environment` added to the deployment's.

        A deployment runs one; a second one is a mistake the deployment must survive.
        """
        command = [sys.executable, "-m", "runtime.cli", "worker", "--interval", str(self.worker_interval)]
        self.workers_started += 1
        process = self._spawn(command, f"worker{self.workers_started}", environment)
        self.workers.append(process)
        return process

    def stop_worker(self, index: int = 0) -> None:
        """Stop worker `index` as a service manager would (SIGTERM): it finishes the pass in progress."""
        _stop([self.workers.pop(index)])

    def kill_worker(self, index: int = 0) -> None:
        """Kill worker `index` at once (SIGKILL): a pass in progress stops where it is."""
        _kill(self.workers.pop(index))

    def stop(self) -> None:
        """Stop every process as a service manager would (SIGTERM), killing any that do not stop in time."""
        _stop([process for process in [*self.webs, *self.workers] if process is not None])
        self.webs = [None] * len(self.ports)
        self.workers = []

    def log(self, name: str) -> str:
        """What process `name` has written so far: web1, web2 (each across its restarts), worker1, …"""
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _spawn(self, command: list[str], name: str, extra: dict[str, str] | None = None) -> subprocess.Popen:
        environment = {
            **os.environ,
            **self.environment,
            **(extra or {}),
            "LOOM_DATABASE_URL": self.database_url,
        }
        with (self.log_dir / f"{name}.log").open("ab") as output:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def start(
    database_url: str,
    ports: tuple[int, ...] | None = None,
    *,
    worker: bool = True,
    worker_interval: float = 1.0,
    web_workers: int = 1,
    environment: dict[str, str] | None = None,
    log_dir: Path | None = None,
) -> Deployment:
    """Create Loom's tables if missing, then start a web process per port (two free ones) and a worker.

    Returns once every web process answers. LOOM_SECRET_KEY is made up unless given: all web
    processes of a deployment must share one.
    """
    environment = dict(environment or {})
    environment.setdefault("LOOM_SECRET_KEY", os.environ.get("LOOM_SECRET_KEY") or secrets.token_hex(32))
    deployment = Deployment(
        database_url=database_url,
        ports=tuple(ports) if ports else (free_port(), free_port()),
        environment=environment,
        log_dir=log_dir or Path(tempfile.mkdtemp(prefix="loom-deploy-")),
        web_workers=web_workers,
        worker_interval=worker_interval,
    )
    deployment.log_dir.mkdir(parents=True, exist_ok=True)
    # Once, before the processes start: each would otherwise create the same tables at the same time.
    init = deployment._spawn([sys.executable, "-m", "runtime.cli", "init"], "init")
    try:
        if init.wait() != 0:
            raise RuntimeError(f"loom init failed:\n{deployment.log('init')}")
        for index in range(len(deployment.ports)):
            deployment.start_web(index)
        if worker:
            deployment.start_worker()
    except BaseException:
        _stop([init])
        deployment.stop()
        raise
    return deployment


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill(process)


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):  # it had already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait_until_answering(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base} exited with status {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it serves
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not answer within {READY_TIMEOUT:.0f} s:\n{log.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local", description=__doc__.splitlines()[0])
    parser.add_argument("--database", "-d", default=os.environ.get("LOOM_DATABASE_URL"), help="database URL")
    parser.add_argument("--ports", type=int, nargs=2, default=(8001, 8002), metavar="PORT")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per web process")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between worker passes")
    parser.add_argument("--no-worker", action="store_true", help="start the web processes only")
    args = parser.parse_args(argv)
    if not args.database:
        parser.error("give --database or set LOOM_DATABASE_URL")
    # SIGTERM as Ctrl-C: even during start(), which then stops what it had started.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        deployment = start(
            args.database,
            tuple(args.ports),
            worker=not args.no_worker,
            worker_interval=args.interval,
            web_workers=args.web_workers,
        )
    except KeyboardInterrupt:
        return 130
    try:
        urls = " and ".join(deployment.urls)
        print(f"serving {urls}; logs in {deployment.log_dir}; Ctrl-C stops", flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        deployment.stop()
    return 0


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
