#!/usr/bin/env python3
"""Helpers for bench/run (python3 standard library only; loopback only).

Sub-commands:
  token                      print a fresh bootstrap token rst_<16 hex>_<43 base64url>
  freeport                   print a free TCP port on 127.0.0.1
  ready BIN DBDIR N LOGFILE  start `BIN serve` N times (fresh DB under DBDIR each time unless
                             DBDIR is a file path ending in .db, then that DB is reused),
                             print the start-to-ready milliseconds as JSON
  api METHOD URL TOKEN [BODY]  one JSON request; prints '<status> <body>'
  ids URL TOKEN TENANT PAGES OUT  list users ?limit=200 for PAGES pages, write ids to OUT
  tenant-token URL TOKEN TENANT  print a bearer token that can manage users in TENANT
  field FILE KEY             print KEY of the JSON object in FILE
  users DIR                  users created so far (2xx answers of the create runs in DIR)
  table DIR                  print the Markdown report from the files bench/run left in DIR
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


def ready(binary, dbspec, n, logfile, timeout=10.0):
    times = []
    env = dict(os.environ)
    for i in range(int(n)):
        port = freeport()
        if dbspec.endswith(".db"):
            db = dbspec
        else:
            d = os.path.join(dbspec, f"ready{i}")
            os.makedirs(d, exist_ok=True)
            db = os.path.join(d, "roster.db")
        with open(logfile, "ab") as log:
            t0 = time.perf_counter()
            p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--db", db],
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
    R = rd("meta.json")
    R["runs"] = {}
    for key in ("create_c1", "create_c16", "fill", "get_c16", "search_c16"):
        r = rd(f"run_{key}.json")
        if r:
            R["runs"][key] = r
    for key in ("ready", "ready_loaded", "rss_loaded", "rss_after_reads"):
        R[key] = rd(f"{key}.json")
    R["users"] = sum(r["requests"] - r["non2xx"] for k, r in R["runs"].items()
                     if k in ("create_c1", "create_c16", "fill"))
    return R


def users(d):
    print(load_results(d)["users"])


def client_cpu(r):
    if "client_cpu_s" not in r or not r["seconds"]:
        return "—"
    return f"{100.0 * r['client_cpu_s'] / r['seconds']:.0f} %"


def table(d):
    R = load_results(d)
    quick = R.get("quick", False)
    m = R["machine"]
    out = []
    out.append(f"### roster benchmark — {R['date']}{' (QUICK smoke run: counts ÷20, not comparable)' if quick else ''}")
    out.append("")
    out.append(f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}; "
               f"roster {m['commit']} ({m['buildtype']} build); loadgen on the same machine.")
    out.append("")

    def flags(r):
        bad = []
        if r["errors"]:
            bad.append(f"{r['errors']} errors")
        if r["non2xx"]:
            bad.append(f"{r['non2xx']} non-2xx")
        return ", ".join(bad) if bad else "0"

    out.append("| workload | conc. | requests | failed | seconds | req/s | p50 ms | p99 ms | max ms | loadgen CPU | target | verdict |")
    out.append("| --- | --: | --: | --- | --: | --: | --: | --: | --: | --: | --- | :-: |")
    rows = [
        ("create user (POST)", "create_c1", 1, None),
        ("create user (POST)", "create_c16", 16, "≥ 5,000/s"),
        ("create user (fill up)", "fill", 16, None),
        ("get user by id (GET)", "get_c16", 16, "≥ 30,000/s, p99 < 5 ms"),
        ("search by username (GET)", "search_c16", 16, None),
    ]
    for name, key, conc, target in rows:
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
        out.append(f"| {name} | {conc} | {fnum(r['requests'])} | {flags(r)} | {r['seconds']:.2f} | "
                   f"{fnum(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
                   f"{client_cpu(r)} | "
                   f"{target or '—'} | {v} |")
    out.append("")

    out.append("| figure | value | target | verdict |")
    out.append("| --- | --: | --- | :-: |")
    rd = R.get("ready")
    if rd:
        out.append(f"| start → ready, fresh DB (median of {len(rd['runs_ms'])}; runs {', '.join(str(x) for x in rd['runs_ms'])}) | "
                   f"{rd['median_ms']:.1f} ms | < 200 ms | {verdict(rd['median_ms'] < 200)} |")
    rl = R.get("ready_loaded")
    if rl:
        out.append(f"| start → ready, DB with {fnum(R['users'])} users (median of {len(rl['runs_ms'])}) | "
                   f"{rl['median_ms']:.1f} ms | < 200 ms | {verdict(rl['median_ms'] < 200)} |")
    for key, label in (("rss_loaded", f"after {fnum(R['users'])} users loaded"),
                       ("rss_after_reads", "after the read loads")):
        s = R.get(key)
        if not s:
            continue
        rss, hwm = s["VmRSS"] / 1024.0, s["VmHWM"] / 1024.0
        tgt = "< 40 MiB" + (" (at 100,000 users)" if quick else "")
        out.append(f"| server VmRSS {label} | {rss:.1f} MiB | {tgt} | {verdict(rss < 40)} |")
        out.append(f"| server VmHWM (peak) {label} | {hwm:.1f} MiB | — | |")
    c16, g16 = R["runs"].get("create_c16"), R["runs"].get("get_c16")
    if c16 and g16 and c16["rps"] > 0:
        out.append(f"| ratio GET-by-id req/s ÷ create req/s (c16, same run) | {g16['rps'] / c16['rps']:.2f}× | — | |")
    out.append(f"| users in the tenant (2xx creates) | {fnum(R['users'])} | {'5,000 (quick)' if quick else '100,000'} | |")
    out.append(f"| ids used for GET by id | {fnum(R.get('nids', 0))} | — | |")
    out.append("")
    out.append("failed = transport errors + non-2xx answers (the first non-2xx body is on stderr); "
               "latency = request sent → full response read, per request, nearest-rank percentiles; "
               "loadgen CPU = the client's own CPU time ÷ wall time (100 % = one of the cores).")
    print("\n".join(out))


def main():
    # SIGTERM unwinds like Ctrl-C, so `ready` stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fns = {"token": token, "freeport": freeport, "ready": ready, "api": api, "ids": ids,
           "tenant-token": tenant_token, "field": field, "users": users, "table": table}
    if cmd not in fns:
        die(__doc__)
    r = fns[cmd](*args)
    if r is not None:
        print(r)


if __name__ == "__main__":
    main()
