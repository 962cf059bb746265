#!/usr/bin/env python3
"""Helpers for bench/run (python3 standard library only; loopback only).

Sub-commands:
  token                      print a fresh bootstrap token rst_<16 hex>_<43 base64url>
  freeport                   print a free TCP port on 127.0.0.1
  ready BIN DB N LOGFILE [ARGS…]  start `BIN serve --db …` N times and print the start-to-ready
                             milliseconds as JSON. DB: a directory (a fresh SQLite DB under it
                             each time), a file ending in .db or a postgres(ql):// URI (reused),
                             or a URI containing {i} (replaced by the run's number 0…N-1).
                             ARGS go to `serve` (e.g. --key-file K)
  load CMDFILE PIDS PGPID    run the loadgen command lines of CMDFILE (one JSON argv a line) at
                             the same time, print their combined JSON with the CPU seconds the
                             roster processes PIDS (comma-separated) and the PostgreSQL cluster
                             of postmaster PGPID ("-": none) used meanwhile
  api METHOD URL TOKEN [BODY]  one JSON request; prints '<status> <body>'
  ids URL TOKEN TENANT PAGES OUT  list users ?limit=200 for PAGES pages, write ids to OUT
  tenant-token URL TOKEN TENANT  print a bearer token that can manage users in TENANT
  field FILE KEY             print KEY of the JSON object in FILE
  users DIR                  users created so far (2xx answers of the create runs in DIR)
  table DIR                  print the Markdown report from the files bench/run left in DIR
  compare DIR…               the scenarios' directories side by side (SQLite / PG 1 / PG 2 nodes),
                             with the ratios, then each scenario's own report
"""
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def check_loopback(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1") and not (host or "").startswith("127."):
        die(f"refusing non-loopback URL {url}")


def token():
    # 8 random bytes as 16 hex digits; 32 random bytes as 43 base64url characters.
    return f"rst_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


def freeport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_ready(port):
    """One GET /readyz; True when it answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def ready(binary, dbspec, n, logfile, *args, timeout=10.0):
    times = []
    env = dict(os.environ)
    for i in range(int(n)):
        port = freeport()
        if "{i}" in dbspec:
            db = dbspec.replace("{i}", str(i))
        elif dbspec.endswith(".db") or dbspec.startswith(("postgres://", "postgresql://")):
            db = dbspec
        else:
            d = os.path.join(dbspec, f"ready{i}")
            os.makedirs(d, exist_ok=True)
            db = os.path.join(d, "roster.db")
        with open(logfile, "ab") as log:
            t0 = time.perf_counter()
            p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--db", db, *args],
                                 env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            ms = None
            try:
                while time.perf_counter() - t0 < timeout:
                    if probe_ready(port):
                        ms = (time.perf_counter() - t0) * 1000.0
                        break
                    if p.poll() is not None:
                        break
                    time.sleep(0.001)
            finally:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            if ms is None:
                die(f"server not ready within {timeout:.0f} s (exit status {p.returncode}); see {logfile}")
            times.append(ms)
    print(json.dumps({"runs_ms": [round(t, 1) for t in times],
                      "median_ms": round(statistics.median(times), 1)}))


def request(method, url, tok, body=None):
    check_loopback(url)
    data = None if body is None else body.encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def api(method, url, tok, body=None):
    status, text = request(method, url, tok, body)
    print(status, text.replace("\n", " "))


def ids(url, tok, tenant, pages, out):
    got, cursor = [], None
    for _ in range(int(pages)):
        q = "limit=200" + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else "")
        status, text = request("GET", f"{url}/api/v1/tenants/{tenant}/users?{q}", tok)
        if status != 200:
            die(f"listing users: HTTP {status}: {text[:500]}")
        doc = json.loads(text)
        got.extend(u["id"] for u in doc.get("items", []))
        cursor = doc.get("next_cursor")
        if not cursor:
            break
    if not got:
        die("listing users returned no ids")
    with open(out, "w") as f:
        f.write("\n".join(got) + "\n")
    print(len(got))


def tenant_token(url, tok, tenant):
    """A token able to create and read users in tenant: the bootstrap token itself when it
    can, else a token of a new user holding the tenant's highest-ranked system role."""
    status, _ = request("GET", f"{url}/api/v1/tenants/{tenant}/users?limit=1", tok)
    if status == 200:
        print(tok)
        return
    status, text = request("GET", f"{url}/api/v1/tenants/{tenant}/roles", tok)
    if status != 200:
        die(f"the bootstrap token cannot read users ({status}) nor roles of tenant {tenant}: "
            f"HTTP {status}: {text[:300]}")
    roles = [r for r in json.loads(text).get("items", []) if r.get("scope") == "system"]
    if not roles:
        die(f"tenant {tenant} has no system role to give the bench admin")
    role = max(roles, key=lambda r: r.get("rank", 0))
    status, text = request("POST", f"{url}/api/v1/tenants/{tenant}/users", tok,
                           json.dumps({"username": "bench-admin", "system_role": role["name"]}))
    if status != 201:
        die(f"creating bench-admin: HTTP {status}: {text[:300]}")
    uid = json.loads(text)["id"]
    status, text = request("POST", f"{url}/api/v1/tenants/{tenant}/tokens", tok,
                           json.dumps({"name": "bench", "user_id": uid}))
    if status != 201:
        die(f"creating the bench token: HTTP {status}: {text[:300]}")
    print(json.loads(text)["secret"])


def field(path, key):
    with open(path) as f:
        v = json.load(f)
    for k in key.split("."):
        v = v[k]
    print(v)


def cpu_seconds(pids, pgpid):
    """(CPU seconds of the processes pids, of the PostgreSQL cluster: its postmaster pgpid and
    that postmaster's children), user + system, from /proc/PID/stat."""
    tck = os.sysconf("SC_CLK_TCK")

    def stat(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return int(rest[1]), (int(rest[11]) + int(rest[12])) / tck  # ppid, utime + stime

    roster = sum((stat(p) or (0, 0.0))[1] for p in pids)
    pg = None
    if pgpid:
        pg = 0.0
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            st = stat(d)
            if st and (int(d) == pgpid or st[0] == pgpid):
                pg += st[1]
    return roster, pg


def combine(parts):
    """One loadgen-like result from loadgens run at the same time: counts summed, req/s = all
    requests ÷ the longest run, percentiles and max = the worst part's."""
    if len(parts) == 1:
        return dict(parts[0])
    secs = max(p["seconds"] for p in parts)
    req = sum(p["requests"] for p in parts)
    r = {"requests": req,
         "errors": sum(p["errors"] for p in parts),
         "non2xx": sum(p["non2xx"] for p in parts),
         "seconds": secs,
         "rps": round(req / secs, 1) if secs else 0.0}
    for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
        r[k] = max(p[k] for p in parts)
    r["mean_ms"] = round(sum(p["mean_ms"] * p["requests"] for p in parts) / req, 3) if req else 0.0
    for k in ("connects", "concurrency"):
        r[k] = sum(p[k] for p in parts)
    if all("client_cpu_s" in p for p in parts):
        r["client_cpu_s"] = round(sum(p["client_cpu_s"] for p in parts), 3)
    r["parts"] = parts
    return r


def load(cmdfile, pids, pgpid):
    with open(cmdfile) as f:
        cmds = [json.loads(line) for line in f if line.strip()]
    pids = [int(p) for p in pids.split(",") if p]
    pgpid = None if pgpid in ("", "-") else int(pgpid)
    outs = [f"{cmdfile}.out{i}" for i in range(len(cmds))]
    procs = []
    r0, pg0 = cpu_seconds(pids, pgpid)
    try:
        for cmd, out in zip(cmds, outs):
            with open(out, "wb") as f:
                procs.append(subprocess.Popen(cmd, stdout=f, stdin=subprocess.DEVNULL))
        codes = [p.wait() for p in procs]
    finally:
        for p in procs:  # only on an early exit (SIGTERM, Ctrl-C): stop the loadgens still running
            if p.poll() is None:
                p.terminate()
                p.wait()
    r1, pg1 = cpu_seconds(pids, pgpid)
    if any(codes):
        die(f"loadgen exited with {codes}")
    parts = []
    for out in outs:
        with open(out) as f:
            parts.append(json.loads(f.read()))
    r = combine(parts)
    r["nodes"] = len(cmds)
    r["server_cpu_s"] = round(r1 - r0, 2)
    if pgpid:
        r["pg_cpu_s"] = round(pg1 - pg0, 2)
    print(json.dumps(r))


# ------------------------------------------------------------------ report

def fnum(x, nd=0):
    return f"{x:,.{nd}f}"


def verdict(ok):
    return "✅" if ok else "❌"


def load_results(d):
    """Gathers the files bench/run leaves in directory d into one dict."""
    def rd(name):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.load(f)
    R = rd("meta.json") or {}
    R["runs"] = {}
    for key in ("create_c1", "create_c16", "fill", "get_c16", "search_c16"):
        r = rd(f"run_{key}.json")
        if r:
            R["runs"][key] = r
    for key in ("ready", "ready_migrated", "ready_loaded", "rss_loaded", "rss_after_reads"):
        R[key] = rd(f"{key}.json")
        if isinstance(R[key], list):  # RSS: one object per node
            R[key + "_nodes"] = R[key]
            R[key] = R[key][0] if R[key] else None
    R["users"] = sum(r["requests"] - r["non2xx"] for k, r in R["runs"].items()
                     if k in ("create_c1", "create_c16", "fill"))
    return R


def users(d):
    print(load_results(d)["users"])


def pct(cpu_s, secs):
    return f"{100.0 * cpu_s / secs:.0f} %" if secs else "—"


def client_cpu(r):
    if "client_cpu_s" not in r or not r["seconds"]:
        return "—"
    return pct(r["client_cpu_s"], r["seconds"])


def flags(r):
    bad = []
    if r["errors"]:
        bad.append(f"{r['errors']} errors")
    if r["non2xx"]:
        bad.append(f"{r['non2xx']} non-2xx")
    return ", ".join(bad) if bad else "0"


def machine_line(R, pg=None):
    m = R["machine"]
    line = (f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}; "
            f"roster {m['commit']} ({m['buildtype']} build); loadgen on the same machine.")
    if pg:
        line += (f" {pg}: a private cluster from `scripts/pg` on the same machine, default "
                 f"settings otherwise; roster's pool is the default 16 connections per node.")
    return line


WORKLOADS = [  # name, key, concurrency, target
    ("create user (POST)", "create_c1", 1, None),
    ("create user (POST)", "create_c16", 16, "≥ 5,000/s"),
    ("create user (fill up)", "fill", 16, None),
    ("get user by id (GET)", "get_c16", 16, "≥ 30,000/s, p99 < 5 ms"),
    ("search by username (GET)", "search_c16", 16, None),
]


def table(d, heading=None):
    R = load_results(d)
    quick = R.get("quick", False)
    pg = R.get("engine") == "pg"
    nodes = R.get("nodes", 1)
    target_users = R.get("target_users", 100000)
    out = []
    if heading is None:
        out.append(f"### roster benchmark — {R['date']}{' (QUICK smoke run: counts ÷20, not comparable)' if quick else ''}")
        out.append("")
        out.append(machine_line(R, R.get("pg") if pg else None))
        out.append("")
    else:
        out.append(heading)
        out.append("")

    cols = "| workload | conc. | requests | failed | seconds | req/s | p50 ms | p99 ms | max ms | loadgen CPU | roster CPU |"
    seps = "| --- | --: | --: | --- | --: | --: | --: | --: | --: | --: | --: |"
    if pg:
        cols += " PostgreSQL CPU |"
        seps += " --: |"
    out.append(cols + " target | verdict |")
    out.append(seps + " --- | :-: |")
    for name, key, conc, target in WORKLOADS:
        r = R["runs"].get(key)
        if not r:
            continue
        v = ""
        clean = not r["errors"] and not r["non2xx"]
        if key == "create_c16":
            v = verdict(clean and r["rps"] >= 5000)
        elif key == "get_c16":
            v = verdict(clean and r["rps"] >= 30000 and r["p99_ms"] < 5)
        elif not clean:
            v = "⚠️"
        n = r.get("nodes", 1)
        c = f"{conc}" if n == 1 else f"{n} × {conc // n}"
        if n == 1 and nodes > 1:
            c += " (node 1 only)"
        row = (f"| {name} | {c} | {fnum(r['requests'])} | {flags(r)} | {r['seconds']:.2f} | "
               f"{fnum(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
               f"{client_cpu(r)} | {pct(r['server_cpu_s'], r['seconds']) if 'server_cpu_s' in r else '—'} |")
        if pg:
            row += f" {pct(r['pg_cpu_s'], r['seconds']) if 'pg_cpu_s' in r else '—'} |"
        out.append(row + f" {target or '—'} | {v} |")
    out.append("")

    out.append("| figure | value | target | verdict |")
    out.append("| --- | --: | --- | :-: |")
    what = "database (connect + migrations + bootstrap)" if pg else "DB"
    rd = R.get("ready")
    if rd:
        out.append(f"| start → ready, fresh {what} (median of {len(rd['runs_ms'])}; runs {', '.join(str(x) for x in rd['runs_ms'])}) | "
                   f"{rd['median_ms']:.1f} ms | < 200 ms | {verdict(rd['median_ms'] < 200)} |")
    rm = R.get("ready_migrated")
    if rm:
        out.append(f"| start → ready, migrated empty database (median of {len(rm['runs_ms'])}; runs {', '.join(str(x) for x in rm['runs_ms'])}) | "
                   f"{rm['median_ms']:.1f} ms | < 200 ms | {verdict(rm['median_ms'] < 200)} |")
    rl = R.get("ready_loaded")
    if rl:
        out.append(f"| start → ready, DB with {fnum(R['users'])} users (median of {len(rl['runs_ms'])}) | "
                   f"{rl['median_ms']:.1f} ms | < 200 ms | {verdict(rl['median_ms'] < 200)} |")
    for key, label in (("rss_loaded", f"after {fnum(R['users'])} users loaded"),
                       ("rss_after_reads", "after the read loads")):
        all_nodes = R.get(key + "_nodes") or ([R[key]] if R.get(key) else [])
        for i, s in enumerate(all_nodes):
            node = f" (node {i + 1})" if len(all_nodes) > 1 else ""
            rss, hwm = s["VmRSS"] / 1024.0, s["VmHWM"] / 1024.0
            tgt = "< 40 MiB" + (" (at 100,000 users)" if quick or target_users != 100000 else "")
            out.append(f"| server VmRSS{node} {label} | {rss:.1f} MiB | {tgt} | {verdict(rss < 40)} |")
            out.append(f"| server VmHWM (peak){node} {label} | {hwm:.1f} MiB | — | |")
    c16, g16 = R["runs"].get("create_c16"), R["runs"].get("get_c16")
    if c16 and g16 and c16["rps"] > 0:
        out.append(f"| ratio GET-by-id req/s ÷ create req/s (c16, same run) | {g16['rps'] / c16['rps']:.2f}× | — | |")
    out.append(f"| users in the tenant (2xx creates) | {fnum(R['users'])} | {fnum(target_users)}{' (quick)' if quick else ''} | |")
    out.append(f"| ids used for GET by id | {fnum(R.get('nids', 0))} | — | |")
    out.append("")
    out.append("failed = transport errors + non-2xx answers (the first non-2xx body is on stderr); "
               "latency = request sent → full response read, per request, nearest-rank percentiles; "
               "loadgen / roster" + (" / PostgreSQL" if pg else "") + " CPU = CPU time of the client / the server "
               "process" + ("es / the cluster's processes" if pg else "") + " during the load ÷ wall time (100 % = one of the cores).")
    print("\n".join(out))


def compare(*dirs):
    S = [load_results(d) for d in dirs]
    by = {(R.get("engine", "sqlite"), R.get("nodes", 1)): R for R in S}
    sq, p1, p2 = by.get(("sqlite", 1)), by.get(("pg", 1)), by.get(("pg", 2))
    R0 = S[0]
    quick = any(R.get("quick") for R in S)
    pgv = next((R.get("pg") for R in S if R.get("engine") == "pg"), None)
    out = [f"### SQLite and PostgreSQL, one and two nodes — {R0['date']}"
           f"{' (QUICK smoke run: counts ÷20, not comparable)' if quick else ''}", ""]
    out.append(machine_line(R0, pgv) + " The 2 CPUs are shared by PostgreSQL, the roster node(s) "
               "and the load generator(s): a second node on the same 2 cores adds no CPU, so CPU-bound "
               "work cannot scale here; the 2-node column shows what splitting the load over two "
               "processes on one database costs or gains, not what a second machine would add.")
    out.append("")

    def cell(R, key):
        r = R["runs"].get(key) if R else None
        if not r:
            return "—", "—"
        bad = "" if not r["errors"] and not r["non2xx"] else f" ⚠️ {r['errors'] + r['non2xx']} failed"
        return fnum(r["rps"]) + bad, f"{r['p99_ms']:.2f}"

    def ratio(a, b, key):
        ra = a["runs"].get(key) if a else None
        rb = b["runs"].get(key) if b else None
        if not ra or not rb or not rb["rps"]:
            return "—"
        return f"{ra['rps'] / rb['rps']:.2f}×"

    cols = [("SQLite", sq), ("PG 1 node", p1), ("PG 2 nodes", p2)]
    cols = [(n, R) for n, R in cols if R]
    head = "| workload | conc. |"
    sep = "| --- | --: |"
    for n, R in cols:
        head += f" {n} req/s | {n} p99 ms |" if n != "PG 2 nodes" else f" {n} req/s | {n} worse p99 ms |"
        sep += " --: | --: |"
    if sq and p1:
        head += " PG-1 ÷ SQLite |"
        sep += " --: |"
    if p1 and p2:
        head += " PG-2 ÷ PG-1 |"
        sep += " --: |"
    out.append(head)
    out.append(sep)
    for name, key, conc, _ in WORKLOADS:
        if not any(R["runs"].get(key) for _, R in cols):
            continue
        label = name
        if key == "fill":
            label += " to " + " / ".join(fnum(R.get("target_users", 0)) for _, R in cols) + " users"
        c = str(conc)
        if p2 and p2["runs"].get(key):
            n = p2["runs"][key].get("nodes", 1)
            c += " (PG 2: node 1 only)" if n == 1 else f" (PG 2: {n} × {conc // n})"
        row = f"| {label} | {c} |"
        for _, R in cols:
            a, b = cell(R, key)
            row += f" {a} | {b} |"
        if sq and p1:
            row += f" {ratio(p1, sq, key)} |"
        if p1 and p2:
            row += f" {ratio(p2, p1, key)} |"
        out.append(row)
    out.append("")

    # Where the CPU went, per workload: share of one core, per process group.
    out.append("CPU used during each load (100 % = one core; the machine has "
               f"{R0['machine']['nproc']}): roster / PostgreSQL / loadgen.")
    out.append("")
    out.append("| workload | conc. |" + "".join(f" {n} |" for n, _ in cols))
    out.append("| --- | --: |" + " --- |" * len(cols))
    for name, key, conc, _ in WORKLOADS:
        if not any(R["runs"].get(key) for _, R in cols):
            continue
        row = f"| {name} | {conc} |"
        for _, R in cols:
            r = R["runs"].get(key)
            if not r:
                row += " — |"
                continue
            sv = pct(r["server_cpu_s"], r["seconds"]) if "server_cpu_s" in r else "—"
            pgc = pct(r["pg_cpu_s"], r["seconds"]) if "pg_cpu_s" in r else "(in roster)"
            row += f" {sv} / {pgc} / {client_cpu(r)} |"
        out.append(row)
    out.append("")

    out.append("| figure |" + "".join(f" {n} |" for n, _ in cols))
    out.append("| --- |" + " --: |" * len(cols))

    def ready_cell(R, key):
        v = R.get(key)
        return f"{v['median_ms']:.1f} ms" if v else "—"

    out.append("| start → ready, fresh database (median of 5; PostgreSQL: connect + migrations + bootstrap) |"
               + "".join(f" {ready_cell(R, 'ready')} |" for _, R in cols))
    out.append("| start → ready, migrated empty database (median of 5) |"
               + "".join(f" {ready_cell(R, 'ready_migrated')} |" for _, R in cols))
    out.append("| start → ready, loaded database (median of 5) |"
               + "".join(f" {ready_cell(R, 'ready_loaded')} |" for _, R in cols))

    def rss_cell(R, key, field):
        nodes = R.get(key + "_nodes") or ([R[key]] if R.get(key) else [])
        return " / ".join(f"{n[field] / 1024.0:.1f}" for n in nodes) + " MiB" if nodes else "—"

    for key, label in (("rss_loaded", "after the creates"), ("rss_after_reads", "after the reads")):
        out.append(f"| server VmRSS {label} (per node) |" + "".join(f" {rss_cell(R, key, 'VmRSS')} |" for _, R in cols))
        out.append(f"| server VmHWM (peak) {label} (per node) |" + "".join(f" {rss_cell(R, key, 'VmHWM')} |" for _, R in cols))
    out.append("| users in the tenant (2xx creates) |" + "".join(f" {fnum(R['users'])} |" for _, R in cols))
    out.append("")
    out.append("req/s with two nodes = all requests of both load generators ÷ the longer of their two "
               "runs; its p99 is the worse of the two nodes' p99s. \"—\" for start → ready on two nodes: "
               "the same binary and database as one node, not measured again. Ratios are from this one "
               "run (same machine, minutes apart).")
    out.append("")
    print("\n".join(out))
    for d, R in zip(dirs, S):
        print(f"<details><summary>{R.get('label', d)}: every figure</summary>\n")
        sys.stdout.flush()
        table(d, heading=f"#### {R.get('label', d)} — {R['date']}")
        print("\n</details>\n")


def main():
    # SIGTERM unwinds like Ctrl-C, so `ready` stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fns = {"token": token, "freeport": freeport, "ready": ready, "api": api, "ids": ids,
           "tenant-token": tenant_token, "field": field, "users": users, "table": table,
           "load": load, "compare": compare}
    if cmd not in fns:
        die(__doc__)
    r = fns[cmd](*args)
    if r is not None:
        print(r)


if __name__ == "__main__":
    main()
