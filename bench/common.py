"""Shared pieces of the HTTP benchmarks: the production-like environment, the bench database,
gunicorn, a small asyncio HTTP client, load loops, percentiles, RSS and the result table.

Every HTTP benchmark runs the app the way production does (gunicorn, PostgreSQL, Redis,
DEBUG off, whitenoise serving collected, compressed static files) against its own database
on 127.0.0.1. The floor (bench/urls.py) is served by the same server in the same run.
"""

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = BASE_DIR / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Not ldn_bench (bench.dashboard) nor ldn_tracker_bench (bench.reminders): runs never collide.
DB_NAME = os.environ.get("BENCH_HTTP_DB", "ldn_bench_http")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
# A Redis database number of our own: FLUSHDB on it touches nobody else's queues.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
HOST = "127.0.0.1"
GUNICORN_WORKERS = int(os.environ.get("BENCH_WORKERS", "5"))  # as in README's deployment
RESULT_PREFIX = "BENCH-RESULT "


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bench_env(*, static_root: str, email_url: str = "smtp://127.0.0.1:1") -> dict:
    """The environment of every process in a run: production settings, bench database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        ENV_FILE="/dev/null",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        EMAIL_URL=email_url,
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def django_setup(env: dict) -> None:
    """Configure this process exactly as the server is configured, then set Django up."""
    os.environ.update(env)
    import django

    django.setup()


def run_checked(args, env, what):
    done = subprocess.run(args, env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stdout}\n{done.stderr}")
    return done


def collectstatic(env: dict) -> None:
    run_checked(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "--clear", "-v", "0"],
        env,
        "collectstatic",
    )


def prepare(*, patients: int, static_root: str | None = None) -> dict:
    """Environment, seeded database and collected static files: returns the environment.

    Seeding happens in this process (bench.seed), so Django is set up here with the same
    settings as the server.
    """
    # One directory, emptied by every run (--clear), rather than a new one per run.
    static_root = static_root or os.path.join(tempfile.gettempdir(), "ldn-bench-static")
    env = bench_env(static_root=static_root)
    collectstatic(env)
    from bench import seed

    seed.database_ready(env, patients=patients)
    return env


# --- processes ------------------------------------------------------------------------------


class Server:
    """gunicorn with the production command line (sync workers), on a free local port."""

    def __init__(self, env: dict, *, workers: int = GUNICORN_WORKERS, log_dir: str):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log_path = Path(log_dir) / "gunicorn.log"
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "ldn_tracker.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"{HOST}:{self.port}",
                "--backlog",
                "2048",
            ],
            env=self.env,
            cwd=BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(HOST, self.port, "/healthz", seconds=30)
        # Every worker answered once (imports, template loading, DB connection).
        asyncio.run(_warm(self.port, self.workers * 20))
        return self

    def __exit__(self, *exc):
        stop(self.proc)
        self.log.close()

    def errors_logged(self) -> list[str]:
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]


async def _warm(port, count):
    for _ in range(count):
        await http_request(port, "GET", "/healthz")


def wait_for_http(host, port, path, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status = asyncio.run(http_request(port, "GET", path)).status
        except OSError:
            time.sleep(0.2)
            continue
        if status:
            return
    raise RuntimeError(f"nothing answered on {host}:{port}{path} within {seconds} s")


def start(args, env, log_path) -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115 - the child owns it until it exits
    return subprocess.Popen(args, env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)


def stop(proc, seconds=20):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- memory ---------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_rss(named_roots: dict[str, int]) -> dict[str, int]:
    """RSS in KiB of each root process and each of its children, by a readable name."""
    tree = _children()
    sizes = {}
    for name, pid in named_roots.items():
        sizes[name] = rss_kib(pid)
        for n, child in enumerate(sorted(tree.get(pid, [])), start=1):
            sizes[f"{name} child {n}"] = rss_kib(child)
    return sizes


# --- HTTP client ----------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    wire_bytes: int  # everything received: status line, headers, body as sent (compressed)


async def http_request(
    port, method, path, *, headers=None, body: bytes = b"", timeout=30.0
) -> Response:
    """One HTTP/1.1 request on a new connection (gunicorn's sync workers close it anyway)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        raw = await asyncio.wait_for(reader.read(-1), timeout)
    finally:
        writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1]) if head_lines and head_lines[0] else 0
    parsed = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        parsed.setdefault(name.strip().lower(), []).append(value.strip())
    return Response(status, parsed, content, len(raw))


@dataclass
class Sample:
    kind: str
    latency_ms: float
    ok: bool
    detail: str = ""


@dataclass
class LoadResult:
    samples: list = field(default_factory=list)
    seconds: float = 0.0

    def of(self, kind=None):
        return [s for s in self.samples if kind is None or s.kind == kind]

    def throughput(self, kind=None) -> float:
        return len([s for s in self.of(kind) if s.ok]) / self.seconds if self.seconds else 0.0

    def errors(self, kind=None) -> int:
        """Wrong answers and failed requests; requests the client shed are counted apart."""
        return len([s for s in self.of(kind) if not s.ok and s.kind != "overload"])

    def shed(self) -> int:
        """Requests an open loop did not send because too many were waiting: the rate was
        above what the server can answer."""
        return len(self.of("overload"))

    def percentile(self, p, kind=None) -> float:
        return percentile([s.latency_ms for s in self.of(kind) if s.kind != "overload"], p)

    def error_details(self, limit=5) -> list[str]:
        return sorted({s.detail for s in self.samples if not s.ok and s.kind != "overload"})[:limit]


async def _timed(make, scheduled=None):
    """Run one request; latency counts from its scheduled time when there is one, so a
    client that falls behind shows up as latency (no coordinated omission)."""
    started = scheduled if scheduled is not None else time.perf_counter()
    try:
        kind, ok, detail = await make()
    except Exception as exc:  # noqa: BLE001 - any failure is an error sample
        kind, ok, detail = "error", False, f"{type(exc).__name__}: {exc}"
    return Sample(kind, (time.perf_counter() - started) * 1000, ok, detail)


async def closed_loop(make, *, concurrency: int, seconds: float, max_requests: int = 10**7):
    """`concurrency` clients each sending the next request as soon as the last answered:
    the most the server can do. `make()` returns (kind, ok, detail) or None when out of work.
    """
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def client():
        nonlocal sent
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            sample = await _timed(make)
            if sample.kind == "exhausted":
                return
            result.samples.append(sample)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - began
    return result


async def open_loop(make, *, rate: float, seconds: float, max_in_flight: int = 500):
    """Requests started at a fixed rate whatever the answers: latency at a given load."""
    result = LoadResult()
    tasks = set()
    began = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = began + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= max_in_flight:
            result.samples.append(Sample("overload", 0.0, False, "client: too many in flight"))
            continue
        task = asyncio.create_task(_timed(make, scheduled))
        tasks.add(task)
        task.add_done_callback(lambda t: (tasks.discard(t), result.samples.append(t.result())))
    if tasks:
        await asyncio.gather(*tasks)
    result.seconds = max(time.perf_counter() - began, seconds)
    result.samples = [s for s in result.samples if s.kind != "exhausted"]
    return result


# --- figures --------------------------------------------------------------------------------


def percentile(values, p) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    """One line of the table: a figure, its floor from the same run, and the target."""

    bench: str
    figure: str
    value: float
    unit: str
    floor: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor in (None, 0) or self.value != self.value:
            return None
        return self.value / self.floor


def fmt(value, unit="") -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return "n/a"
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    headers = ["bench", "figure", "value", "floor", "ratio", "target", "met"]
    cells = [
        [
            r.bench,
            r.figure,
            fmt(r.value, r.unit),
            fmt(r.floor, r.unit) if r.floor is not None else "",
            f"{r.ratio:.2f}" if r.ratio is not None else "",
            r.target,
            {True: "yes", False: "NO", None: ""}[r.met],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for c in cells:
        lines.append("| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |")
    return "\n".join(lines)


def emit(rows: list[Row]) -> None:
    """The table for people, and one JSON line per row for bench/run_all.py."""
    print(table(rows))
    for row in rows:
        if row.note:
            print(f"  {row.bench} / {row.figure}: {row.note}")
    for row in rows:
        print(RESULT_PREFIX + json.dumps(asdict(row)))
    sys.stdout.flush()


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} CPUs ({cpu}){memory}, Python {sys.version.split()[0]}"
