"""The benchmark itself, run by bench/run.py inside .bench/venv.

Bakes the template (auth=both, generic provider), writes the variants, starts each
under the same gunicorn settings, and loads them with wrk in rounds (the same order
every round, so drift shows), each row in 1 s slices taking turns with bare Dash's.
Ratios are to the bare slice just before; the table shows their median and each round's.
Then: cold start, imports, bake time, an OIDC sign-in, the generated test suite, and a
profile of a signed-in request.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from base64 import b64encode
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from statistics import median

import instructions
import load
import spy
import variants

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / ".bench"
BIN = Path(sys.executable).parent
CALLBACK = load.CALLBACK_PATH
SHORT = 3  # seconds of load for the scrypt-per-request variant (a few requests/s), in one piece
SLICE = 1  # seconds: a row's load is run in slices of this, in turns with its bare row's


@dataclass(frozen=True)
class Job:
    label: str
    variant: str  # directory under .bench/variants
    client: str  # none | cookie | basic | token | oidc-cookie
    callback: str | None = "echo"  # a key of load.CALLBACKS, or None for a GET of path
    path: str = CALLBACK
    target: str = ""
    short: bool = False
    connections: int = load.CONNECTIONS
    users: int = 1  # distinct signed-in users taking turns (their own session cookies)
    expect: bytes = b""  # in the answer to a GET, as checked before the run


MANY_USERS = 1000
MANY_USERS_VARIANT = "ours-users"  # where they are signed in
P99_TARGET = 1.15  # at most this many times bare Dash's p99, on every row of ours
SIGNED_IN = b"logout"  # the header's sign-out link: in the layout of a signed-in user only


# In this order in every round; each bare row comes before the rows compared with it.
JOBS = [
    Job("bare Dash (the limit)", "bare", "none"),
    Job("ours: session cookie", "ours", "cookie", target=">=0.90"),
    Job("ours: Basic header (scrypt hash)", "ours", "basic", target=">=0.80"),
    Job("ours: personal token (Bearer)", "ours", "token", target=">=0.90"),
    Job("ours: requires(one_of=[admin]) callback", "ours-admin", "cookie", target=">=0.88"),
    Job("ours: 10k members in 1k groups", "ours-10k", "cookie", target="=cookie"),
    # The same wrk script (its per-request Lua costs the load generator's share of the 2 cores)
    # against bare Dash, which ignores the cookies: the row below compares with this one.
    Job(f"bare Dash, {MANY_USERS:,} cookies taking turns", "bare", "none", users=MANY_USERS),
    Job(
        f"ours: {MANY_USERS:,} users taking turns",
        "ours-users",
        "cookie",
        "echo",
        target="=cookie",
        users=MANY_USERS,
    ),
    Job("dash-auth: BasicAuth plain text", "da-basic", "basic"),
    Job("dash-auth: BasicAuth scrypt auth_func", "da-scrypt", "basic", short=True),
    Job("dash-auth: protected_callback", "da-protected", "basic"),
    Job("dash-auth: OIDCAuth session cookie", "da-oidc", "oidc-cookie"),
    Job("bare Dash, 64 connections", "bare", "none", connections=64),
    Job("ours: session cookie, 64 connections", "ours", "cookie", target=">=0.90", connections=64),
    Job("bare Dash: dashboard chart callback", "bare", "none", "chart"),
    Job("ours: cookie, dashboard chart callback", "ours", "cookie", "chart", target=">=0.95"),
    Job("bare Dash GET /_dash-layout", "bare", "none", None, "/_dash-layout"),
    Job(
        "ours: cookie GET /_dash-layout", "ours", "cookie", None, "/_dash-layout", ">=0.90", expect=SIGNED_IN
    ),
    Job("bare Dash GET / (index)", "bare", "none", None, "/"),
    Job("ours: cookie GET / (index)", "ours", "cookie", None, "/", ">=0.95"),
]
# The last line's figures: ours, and dash-auth's on the rows it shares with ours.
HEADLINE = {
    "cookie": "ours: session cookie",
    "protected": "ours: requires(one_of=[admin]) callback",
    "layout": "ours: cookie GET /_dash-layout",
    "index": "ours: cookie GET / (index)",
}
DASH_AUTH_HEADLINE = {
    "basic": "dash-auth: BasicAuth plain text",
    "protected": "dash-auth: protected_callback",
}


def baseline(job: Job) -> Job:
    def load(j: Job) -> tuple:
        return (j.callback, j.path, j.connections, j.users)

    return next(j for j in JOBS if j.variant == "bare" and load(j) == load(job))


def selected(only: list[str] | None) -> list[Job]:
    """The jobs whose label contains one of ``only`` (any case), with the bare rows they compare with."""
    if not only:
        return JOBS
    wanted = {job.label for job in JOBS if any(text.casefold() in job.label.casefold() for text in only)}
    wanted |= {baseline(job).label for job in JOBS if job.label in wanted}
    return [job for job in JOBS if job.label in wanted]


def run(command: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} failed in {cwd}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done


def bake(name: str, **context: str) -> tuple[Path, float]:
    out = WORK / f"bake-{name}"
    shutil.rmtree(out, ignore_errors=True)
    answers = [f"{key}={value}" for key, value in context.items()]
    start = time.perf_counter()
    run([BIN / "cookiecutter", "--no-input", "--output-dir", out, ROOT, *answers], WORK)
    return out / "my_dash_app", time.perf_counter() - start


# Load -------------------------------------------------------------------------------------


def headers_for(job: Job, server: load.Server, token: str) -> dict[str, str]:
    headers = {"Accept": "text/html"} if job.path == "/" else {}
    if job.client == "cookie":
        # A fresh sign-in per run: the session's "last seen" is written back after 60 s,
        # and wrk, unlike a browser, would keep sending the old cookie.
        headers["Cookie"] = load.sign_in(server.port, variants.USER, variants.PASSWORD)
    elif job.client == "basic":
        basic = b64encode(f"{variants.USER}:{variants.PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    elif job.client == "token":
        headers["Authorization"] = f"Bearer {token}"
    elif job.client == "oidc-cookie":
        headers["Cookie"] = variants.dash_auth_oidc_cookie()
    return headers


def request_of(job: Job, headers: dict[str, str]) -> tuple[tuple, bytes]:
    """The job's request as wrk sends it (``load.request``'s arguments after the port), and
    what its answer must contain."""
    if job.callback:
        body, expected = load.CALLBACKS[job.callback]
        return ("POST", job.path, body, {**headers, "Content-Type": "application/json"}), expected
    return ("GET", job.path, None, headers), job.expect


def check(job: Job, server: load.Server, headers: dict[str, str]) -> None:
    """One request as wrk will send it: it must pass auth and give the expected answer;
    and, from our app, no new cookie: a browser would send that one next, wrk the old one."""
    args, expected = request_of(job, headers)
    status, answered, answer = load.request(server.port, *args)
    if status != 200 or expected not in answer:
        raise RuntimeError(f"{job.label}: HTTP {status} {answer[:300]!r}")
    if job.variant.startswith("ours") and answered.get_all("Set-Cookie"):
        raise RuntimeError(f"{job.label}: answered with Set-Cookie {answered.get_all('Set-Cookie')}")


def load_rounds(dirs: dict[str, Path], jobs: list[Job], rounds: int, seconds: int, token: str) -> dict:
    """Each row's ``seconds`` of load, cut into slices of SLICE seconds taking turns with its
    bare row's: bare, ours, bare, ours... A shared machine's speed drifts by a tenth within a
    minute, and bursts of other work come and go within seconds: each slice is compared with
    the bare slice just before it, at the same speed, and the median over slices leaves out the
    few that a burst hit. The bare rows show the slices run for the rows compared with them."""
    scripts = {}
    for name, (body, _) in load.CALLBACKS.items():
        scripts[name] = WORK / f"{name}.lua"
        scripts[name].write_text(load.lua_script(body))
    logs = WORK / "logs"
    logs.mkdir(exist_ok=True)
    servers = {
        name: load.Server(name, dirs[name], BIN, logs) for name in dict.fromkeys(j.variant for j in jobs)
    }
    # Per row, per round: [(the row's slice, the bare slice just before it), ...]
    measured: dict[str, list[list[tuple[load.Result, load.Result]]]] = {job.label: [] for job in jobs}

    def ready(job: Job) -> Callable[[float], load.Result]:
        """Checked and warmed up: a function that loads this row for the seconds it is given."""
        server = servers[job.variant]
        script = scripts.get(job.callback)
        if job.users > 1:  # (bare Dash gets the same users' cookies, and ignores them)
            script, headers = taking_turns(job, server, dirs[MANY_USERS_VARIANT])
        else:
            headers = headers_for(job, server, token)
            check(job, server, headers)
        # Warm up both workers; many users: long enough for each worker to see most cookies.
        load.wrk(server, job.path, 3 if job.users > 1 else 1, headers, script, job.connections)

        def run(length: float) -> load.Result:
            result = load.wrk(server, job.path, length, headers, script, job.connections)
            server.wait_idle()
            if job.users > 1 and result.cookies_sent != job.users:
                raise RuntimeError(f"{job.label}: wrk sent {result.cookies_sent} of {job.users} cookies")
            return result

        return run

    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        for r in range(1, rounds + 1):
            for label in measured:
                measured[label].append([])
            for job in jobs:
                base = baseline(job)
                if base is job and any(baseline(j) is job for j in jobs if j is not job):
                    continue  # run in turns with the rows compared with it
                slices = 1 if job.short else max(1, seconds // SLICE)
                length = SHORT if job.short else seconds / slices
                run_base = ready(base)
                run_job = ready(job) if base is not job else None
                for _ in range(slices):
                    bare = run_base(length)
                    measured[base.label][-1].append((bare, bare))
                    if run_job is not None:
                        measured[job.label][-1].append((run_job(length), bare))
                now = load.summarize([measured[job.label][-1]])  # this round's figures
                line = f"  round {r}/{rounds}  {job.label:42} {now['rps']:8.1f} req/s {now['ratio']:6.3f}"
                print(f"{line} x bare", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return {job.label: load.summarize(measured[job.label]) for job in jobs}


def taking_turns(job: Job, server: load.Server, directory: Path) -> tuple[Path, dict]:
    """A wrk script sending the cookies of ``job.users`` users signed in just now, each checked
    like a single user's (the first and the last); no -H headers then."""
    cookies = variants.signed_in_cookies(directory, job.users)
    for cookie in (cookies[0], cookies[-1]):
        check(job, server, {"Cookie": cookie})
    script = WORK / f"users-{job.users}.lua"
    script.write_text(load.lua_taking_turns(load.CALLBACKS[job.callback][0], cookies))
    return script, {}


def print_table(summary: dict[str, dict], jobs: list[Job]) -> None:
    print(
        f"\n{'variant':42} {'req/s':>7} {'x bare':>6} {'target':>7}  {'x bare per round':16}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'p99 x':>5} {'<=' + str(P99_TARGET):>6} {'cpu us':>6} {'cpu x':>5}"
    )
    for job in jobs:
        s = summary[job.label]
        rounds = " ".join(f"{r:.2f}" for r in s["ratios"])
        errors = f"  {s['errors']} errors" if s["errors"] else ""
        print(
            f"{job.label:42} {s['rps']:7.1f} {s['ratio']:6.3f} {job.target:>7}  {rounds:16}"
            f" {s['p50']:7.2f} {s['p99']:7.2f} {s['p99_ratio']:5.2f} {p99_verdict(job, s):>6}"
            f" {s['cpu_us']:6.0f} {s['cpu_ratio']:5.2f}{errors}"
        )


def p99_verdict(job: Job, summary: dict) -> str:
    if not job.variant.startswith("ours"):
        return ""
    return "ok" if summary["p99_ratio"] <= P99_TARGET else "over"


def headline(summary: dict[str, dict], what: str = "bench") -> str:
    missing = [label for label in (*HEADLINE.values(), *DASH_AUTH_HEADLINE.values()) if label not in summary]
    if missing:
        return f"{what}: no headline (--only left out {', '.join(missing)})"
    ours = ", ".join(f"{name} {summary[label]['ratio']:.2f}" for name, label in HEADLINE.items())
    theirs = ", ".join(f"{name} {summary[label]['ratio']:.2f}" for name, label in DASH_AUTH_HEADLINE.items())
    return f"{what}: {ours} of bare (dash-auth {theirs})"


# Instructions instead of load (--instructions) ----------------------------------------------


def countable(job: Job) -> bool:
    """Rows fast enough under callgrind: all but the scrypt per request and the chart. Nor 64
    connections (one worker answers one request at a time: the cookie row's count), nor the
    users taking turns: a turn of 1,000 requests there takes about 40 s, past the 10 s a
    "not revoked" answer is trusted for (auth/clock.py), so each would read the store again,
    which at wrk's pace (a turn in a third of a second) none does."""
    one_client = job.users == 1 and job.connections == load.CONNECTIONS
    return one_client and not job.short and job.callback != "chart"


def instruction_counts(dirs: dict[str, Path], jobs: list[Job], token: str) -> dict[str, dict]:
    """Instructions per request of each countable job in one worker under callgrind; its
    ratio is bare's count over its own (as the load table's: higher is cheaper)."""
    jobs = [job for job in jobs if countable(job)]

    def count_variant(name: str) -> dict[str, float]:
        server = instructions.CountedServer(name, dirs[name], BIN, WORK / "logs")
        counted = {}
        try:
            server.start()
            server.wait_ready()
            for job in (job for job in jobs if job.variant == name):
                headers = headers_for(job, server, token)
                check(job, server, headers)
                args, _ = request_of(job, headers)
                counted[job.label] = server.per_request(partial(load.request, server.port, *args))
                print(f"  {job.label:42} {counted[job.label]:12,.0f} instructions/request", flush=True)
        finally:
            server.stop()
        return counted

    counts: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:  # a variant per core: the counts do not depend on it
        for counted in pool.map(count_variant, dict.fromkeys(job.variant for job in jobs)):
            counts.update(counted)
    ratio = {job.label: counts[baseline(job).label] / counts[job.label] for job in jobs}
    return {job.label: {"instructions": counts[job.label], "ratio": ratio[job.label]} for job in jobs}


# Where the layout's extra instructions go: one cost taken away at a time (probes.py's what-ifs,
# applied by what_if.py), and what gunicorn alone spends on ours's Cookie header. Not proposals.
LAYOUT_WHAT_IFS = {
    "ours without the guard's check": "no_guard",
    "ours without the response headers": "no_headers",
    "ours without the users/groups file stat": "no_stat",
    "ours without those three": "no_guard,no_headers,no_stat",
}


def layout_what_ifs(dirs: dict[str, Path]) -> None:
    """Instructions per signed-in GET /_dash-layout with each of LAYOUT_WHAT_IFS, beside ours
    as generated, bare Dash, and bare Dash sent the same Cookie header as ours."""

    def count(variant: str, what_ifs: str = "", cookie: str | None = None) -> tuple[float, str]:
        """(instructions, the Cookie header sent: ``cookie``, or a fresh sign-in's if None)."""
        app, env = "app:server", {}
        if what_ifs:
            app, env = "what_if:server", {"BENCH_WHAT_IFS": what_ifs, "PYTHONPATH": str(HERE)}
        name = "-".join(filter(None, ["layout", variant, *what_ifs.split(","), cookie and "cookie"]))
        server = instructions.CountedServer(name, dirs[variant], BIN, WORK / "logs", app, env)
        try:
            server.start()
            server.wait_ready()
            if cookie is None:
                cookie = load.sign_in(server.port, variants.USER, variants.PASSWORD)
            headers = {"Cookie": cookie} if cookie else {}
            get = partial(load.request, server.port, "GET", "/_dash-layout", None, headers)
            status, _, answer = get()
            if status != 200 or (variant == "ours") != (SIGNED_IN in answer):
                raise RuntimeError(f"{name}: HTTP {status} {answer[:300]!r}")
            return server.per_request(get), cookie
        finally:
            server.stop()

    ours, cookie = count("ours")
    runs = {"bare Dash": ("bare", "", ""), "bare Dash, sent ours's Cookie header": ("bare", "", cookie)}
    runs |= {label: ("ours", what_ifs, None) for label, what_ifs in LAYOUT_WHAT_IFS.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = pool.map(lambda run: count(*run)[0], runs.values())
        counts = dict(zip(runs, answers, strict=True))
    counts["ours as generated"] = ours
    bare = counts["bare Dash"]
    print("\nWhere ours's extra instructions on a signed-in GET /_dash-layout go (what-ifs, not proposals):")
    print(f"{'':42} {'instructions':>12} {'x bare':>6} {'vs ours':>9}")
    for label, counted in counts.items():
        print(f"{label:42} {counted:12,.0f} {bare / counted:6.3f} {counted - ours:+9,.0f}")


def print_instructions(summary: dict[str, dict], jobs: list[Job]) -> None:
    print(f"\n{'variant':42} {'instructions':>12} {'x bare':>6}")
    for job in jobs:
        if job.label in summary:
            row = summary[job.label]
            print(f"{job.label:42} {row['instructions']:12,.0f} {row['ratio']:6.3f}")


# Everything but load ------------------------------------------------------------------------


def import_seconds(directory: Path) -> float:
    start = time.perf_counter()
    run([sys.executable, "-c", "import app"], directory)
    return time.perf_counter() - start


def cold_start(dirs: dict[str, Path], runs: int = 5) -> dict[str, float]:
    """``python -c "import app"``: the median of ``runs``, the apps taking turns."""
    for directory in dirs.values():
        import_seconds(directory)  # compile once
    times: dict[str, list[float]] = {name: [] for name in dirs}
    for _ in range(runs):
        for name, directory in dirs.items():
            times[name].append(import_seconds(directory))
    return {name: median(values) for name, values in times.items()}


def imports(directory: Path) -> tuple[list[str], dict[str, float]]:
    """Authlib & co. if importing the app loads them; ms (cumulative) of the auth modules."""
    code = "import app, sys, json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = run([sys.executable, "-X", "importtime", "-c", code], directory)
    oidc_modules = [m for m in json.loads(done.stdout) if m in ("authlib", "joserfc", "requests")]
    times = {
        m.group(2): int(m.group(1)) / 1e3
        for m in re.finditer(r"\|\s+(\d+) \|\s+(auth|auth\.oidc)$", done.stderr, re.M)
    }
    return oidc_modules, times


def extras(dirs: dict[str, Path], both: Path, basic: Path, bake_times: dict[str, float], token: str) -> None:
    print("\nCold start, `python -c 'import app'` (median of 5, target <= bare + 0.1 s):")
    starts = cold_start({"bare": dirs["bare"], "ours (auth=both)": dirs["ours"], "ours (auth=basic)": basic})
    for name, seconds in starts.items():
        print(f"  {name:20} {seconds:6.3f} s  ({seconds - starts['bare']:+.3f})")

    print("Imports:")
    for name, directory in (("auth=basic", basic), ("auth=both", both)):
        modules, times = imports(directory)
        loaded = ", ".join(modules) or "none of authlib, joserfc, requests"
        took = ", ".join(f"{module} {ms:.0f} ms" for module, ms in times.items())
        print(f"  {name:10} loads {loaded}; import time: {took}")

    print(
        "Bake (cookiecutter CLI, target < 2 s): " + ", ".join(f"{k} {v:.2f} s" for k, v in bake_times.items())
    )

    done = run([sys.executable, HERE / "probes.py", "oidc"], both)
    o = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"OIDC sign-in, our side (median of {o['rounds']}, Flask test client, fake provider on loopback):\n"
        f"  /oidc/generic/login {o['login']:.1f} ms + callback {o['callback']:.1f} ms"
        f" - provider's own handlers {o['provider']:.1f} ms = ours {o['ours']:.1f} ms,"
        f" {o['calls']:.0f} call(s) to the provider; the first, with discovery and JWKS: {o['first']:.0f} ms"
    )

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not browser", "-p", "no:cacheprovider"],
        cwd=basic,
        capture_output=True,
        text=True,
    )
    last = (done.stdout.strip().splitlines() or ["no output"])[-1]
    print(f"Generated test suite (auth=basic, not browser): {time.perf_counter() - start:.1f} s  [{last}]")

    bare = json.loads(run([sys.executable, HERE / "probes.py", "loop", "none"], dirs["bare"]).stdout)["us"]
    print(f"\nProfile (bare Dash in-process: {bare:.0f} us per callback request)")
    print(run([sys.executable, HERE / "probes.py", "profile", token], dirs["ours"]).stdout.rstrip())


def py_spy(dirs: dict[str, Path], token: str, seconds: int = 8) -> None:
    """Bare, and ours with a cookie, Basic and a token, under load once more, sampled by py-spy."""
    lua = WORK / "echo.lua"
    samples = {}
    for job in JOBS[:4]:
        server = load.Server(job.variant, dirs[job.variant], BIN, WORK / "logs")
        server.start()
        try:
            server.wait_ready()
            headers = headers_for(job, server, token)
            load.wrk(server, CALLBACK, 1, headers, lua)
            out = WORK / f"py-spy-{job.variant}-{job.client}.txt"
            samples[f"{job.variant}:{job.client}"] = spy.record(server, BIN, out, seconds, headers, lua)
        finally:
            server.stop()
    spy.report(samples)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def template_state() -> str:
    """The commit baked, and whether the template has uncommitted changes (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "{{cookiecutter.project_slug}}", "hooks", "cookiecutter.json"],
        capture_output=True,
        text=True,
    ).stdout
    return f"{head.strip() or 'unknown'}{' + uncommitted changes' if dirty.strip() else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=7, help="seconds of load per row and round")
    parser.add_argument("--no-extras", action="store_true", help="only the load table")
    parser.add_argument("--py-spy", action="store_true", help="also sample the servers with py-spy")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request with callgrind instead of loading with wrk (needs valgrind)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="only the rows whose label contains TEXT (any case; repeatable), with their bare rows",
    )
    args = parser.parse_args()
    jobs = selected(args.only)
    if not jobs:
        sys.exit(f"bench: no row's label contains {' or '.join(map(repr, args.only))}")

    started = time.perf_counter()
    print(f"bench: baking the template ({template_state()}) and writing the variants", flush=True)
    both, both_seconds = bake("both", auth="both", oidc_providers="generic")
    basic, basic_seconds = bake("basic", auth="basic")
    variants.set_password(both, BIN)
    dirs = variants.write_all(both, WORK / "variants")
    token = variants.personal_token(dirs["ours"], BIN)

    if args.instructions:
        counted = f"{instructions.COUNTED} requests after {instructions.WARM_UP}; PYTHONHASHSEED=0"
        print(f"bench: instructions per request in one gunicorn worker, callgrind ({counted})", flush=True)
        summary = instruction_counts(dirs, jobs, token)
        print_instructions(summary, jobs)
        if HEADLINE["layout"] in summary:
            layout_what_ifs(dirs)
        print(f"\n(whole run {time.perf_counter() - started:.0f} s)")
        print(headline(summary, "instructions"))
        return

    wrk = " ".join(load.WRK)
    print(
        f"bench: {args.rounds} rounds of {len(jobs)} rows, {args.duration} s each"
        f" in {SLICE} s slices taking turns with bare Dash's (wrk {wrk})"
    )
    print(f"bench: load average before {load_average()} (other work skews req/s; cpu us/request less)")
    summary = load_rounds(dirs, jobs, args.rounds, args.duration, token)
    print(f"bench: load average after {load_average()}")
    print_table(summary, jobs)
    if args.py_spy:
        py_spy(dirs, token)
    if not args.no_extras:
        extras(dirs, both, basic, {"auth=both": both_seconds, "auth=basic": basic_seconds}, token)

    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")
    print(headline(summary))


if __name__ == "__main__":
    main()
