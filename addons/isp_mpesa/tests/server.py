"""A real Odoo server (prefork, N workers, optionally cron workers) on a free loopback port, for
callbacks that must be served in committed, concurrent transactions (the test server of HttpCase
runs every request in the test's own transaction, one at a time). Used by the concurrency test
and the bench."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    def __init__(
        self, db, config_file, workers=2, credential_key=None, log_level="warn", cron_workers=0
    ):
        self.db = db
        self.config_file = str(config_file)
        self.workers = workers
        self.cron_workers = cron_workers
        self.credential_key = credential_key
        self.log_level = log_level
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="isp_mpesa_server_", suffix=".log")

    def start(self, timeout=90):
        env = dict(os.environ)
        if self.credential_key:
            env["ISP_CREDENTIAL_KEY"] = self.credential_key
        # A script path (not ``-m odoo``): the prefork server re-runs sys.argv[0] for its
        # gevent process.
        launcher = ROOT / ".odoo" / "setup" / "odoo"
        command = [
            sys.executable,
            *([str(launcher)] if launcher.exists() else ["-m", "odoo"]),
            "-c",
            self.config_file,
            # -d without --db-filter: requests go to that database without listing the
            # server's databases (a new connection to "postgres" at every request otherwise)
            "-d",
            self.db,
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--workers={self.workers}",
            f"--max-cron-threads={self.cron_workers}",
            f"--gevent-port={free_port()}",
            f"--log-level={self.log_level}",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and options
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Odoo server stopped at start:\n{self.tail()}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the Odoo server did not start in {timeout} s:\n{self.tail()}")

    def warm_up(self, path="/web/health", count=None):
        """Make every worker load the registry before measuring."""
        for _i in range(count or self.workers * 3):
            requests.get(f"{self.url}{path}", timeout=60)

    def tail(self, lines=40):
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
