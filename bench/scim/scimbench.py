#!/usr/bin/env python3
"""Helpers for bench/scim/run (python3 standard library only; loopback only).

Sub-commands:
  setup URL BOOTTOKEN DIR   on a fresh server: tenant "bench", a role holding scim.provision, a
                            user with it and its API token (DIR/token), and one user created
                            through SCIM POST /Users whose row is the template of the bulk load
                            (DIR/template-username)
  load-pg URI N TEMPLATE    the same on PostgreSQL, streamed to psql's COPY
  load DB N TEMPLATE        inserts users 1…N into DB (the server stopped), each a copy of the
                            template row with its own id, userName, e-mail, names, externalId
                            and times; big transactions, synchronous=OFF for the load only
  queries N DIR SEED        the request files for loadgen (query strings, one a line)
  orders URL TOKEN N         50 pages in the default order (id) against the same 50 sorted by
                            meta.created, alternating: medians, as JSON
  seek URL TOKEN N           5 pages reached by OFFSET against the 5 pages after them (from the
                            position each remembered): medians, as JSON
  table DIR                 the Markdown report from the files bench/scim/run left in DIR

Every loaded user n (1…N) is, deterministically:
  userName     user{n:07d}
  name         givenName FIRST[n % 211], familyName LAST[(n * 7919) % 2003]
  emails.value {first}.{last}{n}@example.com, lower case
  externalId   ext-{n}
The SQL below writes exactly the columns the core's Q_USER_INSERT writes, with the key
columns lower-cased the way str_lower() does (ASCII only; every generated value is ASCII).
"""
import json
import os
import random
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FIRST_SYL = ["an", "bel", "car", "dan", "el", "fi", "gre", "ha", "is", "jo", "ka", "li", "ma",
             "no", "ol", "pe", "ri", "sa", "te", "vi"]
LAST_SYL = ["ber", "cov", "dal", "fen", "gor", "hal", "kin", "lor", "mar", "nov", "pet", "quin",
            "ros", "sten", "tal", "vor", "wes", "zan", "brook", "ford", "man", "son", "ski",
            "wick", "ley", "ton", "sen", "berg", "ova", "ez"]


def names():
    rnd = random.Random(20261122)
    first, last, seen = [], [], set()
    while len(first) < 211:
        s = "".join(rnd.choice(FIRST_SYL) for _ in range(rnd.randint(2, 3))).capitalize()
        if s not in seen:
            seen.add(s)
            first.append(s)
    while len(last) < 2003:
        s = "".join(rnd.choice(LAST_SYL) for _ in range(rnd.randint(2, 3))).capitalize()
        if s not in seen:
            seen.add(s)
            last.append(s)
    return first, last


FIRST, LAST = names()


def user_of(n):
    first = FIRST[n % len(FIRST)]
    last = LAST[(n * 7919) % len(LAST)]
    return {"username": f"user{n:07d}", "first": first, "last": last,
            "email": f"{first}.{last}{n}@example.com".lower(), "external_id": f"ext-{n}"}


def die(msg):
    print(f"bench/scim: {msg}", file=sys.stderr)
    sys.exit(1)


def loopback_or_die(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1") and not (host or "").startswith("127."):
        die(f"refusing non-loopback URL {url}")


def request(method, url, tok, body=None, ctype="application/json"):
    loopback_or_die(url)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("Content-Type", ctype)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def expect(what, got, status):
    if got[0] != status:
        die(f"{what}: HTTP {got[0]}: {str(got[1])[:500]}")
    return got[1]


def setup(url, boot, out):
    expect("creating tenant bench", request("POST", f"{url}/api/v1/tenants", boot,
           {"slug": "bench", "name": "Bench", "template": "default"}), 201)
    t = f"{url}/api/v1/tenants/bench"
    perms = ["users.read", "users.create", "users.update", "users.suspend", "users.delete",
             "groups.read", "scim.provision"]
    expect("creating the provisioner role", request("POST", f"{t}/roles", boot, {
        "name": "SCIM Bench", "scope": "system", "rank": 650, "permissions": perms}), 201)
    u = expect("creating the provisioner", request("POST", f"{t}/users", boot, {
        "username": "scim-bench", "system_role": "SCIM Bench"}), 201)
    tok = expect("creating its token", request("POST", f"{t}/tokens", boot, {
        "name": "scim-bench", "user_id": u["id"]}), 201)["secret"]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "template", "externalId": "ext-template", "active": True,
            "name": {"givenName": "Template", "familyName": "Row"},
            "emails": [{"value": "template.row@example.com", "type": "work", "primary": True}]}
    expect("creating the template user through SCIM", request(
        "POST", f"{url}/scim/v2/Users", tok, body, "application/scim+json"), 201)
    with open(os.path.join(out, "token"), "w") as f:
        f.write(tok + "\n")
    with open(os.path.join(out, "template-username"), "w") as f:
        f.write("template\n")


def uuid7(ms, counter, rnd):
    """UUIDv7 as src/util/uuid.c makes them: 48-bit ms, version 7, 12-bit counter, variant."""
    b = bytearray(ms.to_bytes(6, "big") + rnd.getrandbits(80).to_bytes(10, "big"))
    b[6] = 0x70 | ((counter >> 8) & 0x0F)
    b[7] = counter & 0xFF
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


COLS = ["tenant_id", "id", "username", "username_key", "email", "email_key", "first_name",
        "first_name_key", "last_name", "last_name_key", "type", "status", "system_role_id",
        "department_id", "locale", "timezone", "description", "external_id",
        "custom_attributes", "required_actions", "idle_logout_minutes", "summary_mail_time",
        "security_profile", "created_at", "updated_at"]


def loaded_row(tpl, i, base, rnd):
    """Loaded user i: the template's row with its own id, names, keys and times (base + i ms)."""
    u = user_of(i)
    ms = base + i
    r = dict(tpl)
    r.update(id=uuid7(ms, i & 0xFFF, rnd), username=u["username"],
             username_key=u["username"].lower(), email=u["email"],
             email_key=u["email"].lower(), first_name=u["first"],
             first_name_key=u["first"].lower(), last_name=u["last"],
             last_name_key=u["last"].lower(), external_id=u["external_id"],
             created_at=ms, updated_at=ms)
    return r


def load(db, n, template):
    n = int(n)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")  # the load only; the server sets its own
    con.execute("PRAGMA cache_size=-262144")
    con.row_factory = sqlite3.Row
    row = con.execute(f"SELECT {', '.join(COLS)} FROM users WHERE username_key = ?",
                      (template,)).fetchone()
    if row is None:
        die(f"no template user {template} in {db}")
    tpl = dict(row)
    rnd = random.Random(7)
    base = tpl["created_at"] - n  # every loaded user is older than the template, 1 ms apart
    sql = f"INSERT INTO users ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})"
    t0 = time.monotonic()
    batch = 50000
    for lo in range(1, n + 1, batch):
        rows = []
        for i in range(lo, min(n, lo + batch - 1) + 1):
            r = loaded_row(tpl, i, base, rnd)
            rows.append(tuple(r[c] for c in COLS))
        con.execute("BEGIN")
        con.executemany(sql, rows)
        con.execute("COMMIT")
        print(f"bench/scim: loaded {min(n, lo + batch - 1)} users "
              f"({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(json.dumps({"users": n, "seconds": round(time.monotonic() - t0, 1)}))


def load_pg(uri, n, template):
    """load on PostgreSQL: the same rows, streamed to COPY through psql (no Python driver)."""
    import subprocess
    n = int(n)
    psql = ["psql", uri, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    got = subprocess.run(psql + ["-At", "-c", f"SELECT row_to_json(u) FROM (SELECT {', '.join(COLS)} "
                                 f"FROM users WHERE username_key = '{template}') u"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if not got:
        die(f"no template user {template} at {uri}")
    tpl = json.loads(got)
    rnd = random.Random(7)
    base = tpl["created_at"] - n
    t0 = time.monotonic()
    cp = subprocess.Popen(psql + ["-c", f"\\copy users ({', '.join(COLS)}) FROM pstdin"],
                          stdin=subprocess.PIPE, text=True)

    def cell(v):
        return "\\N" if v is None else str(v)

    for i in range(1, n + 1):
        r = loaded_row(tpl, i, base, rnd)
        cp.stdin.write("\t".join(cell(r[c]) for c in COLS) + "\n")
        if i % 100000 == 0:
            print(f"bench/scim: streamed {i} users ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    cp.stdin.close()
    if cp.wait() != 0:
        die("COPY into users failed")
    subprocess.run(psql + ["-c", "ANALYZE"], check=True)
    print(json.dumps({"users": n, "seconds": round(time.monotonic() - t0, 1)}))


def q(s):
    return urllib.parse.quote(s, safe="")


def queries(n, out, seed):
    n = int(n)
    rnd = random.Random(int(seed))
    picks = [rnd.randint(1, n) for _ in range(2000)]
    with open(os.path.join(out, "q_eq.txt"), "w") as f:
        for i in picks:
            f.write("filter=" + q(f'userName eq "{user_of(i)["username"]}"') + "\n")
    with open(os.path.join(out, "q_co.txt"), "w") as f:
        # "{last}{n}" of a random user: its own e-mail, and those of users whose number starts
        # with n's digits and share the surname (a handful at most).
        for i in picks:
            u = user_of(i)
            f.write("filter=" + q(f'emails.value co "{u["last"].lower()}{i}"') + "\n")
    with open(os.path.join(out, "q_sw.txt"), "w") as f:
        # The first 5 letters of a surname: the users of one or a few of the 2,003 surnames.
        for i in picks:
            f.write("filter=" + q(f'name.familyName sw "{user_of(i)["last"][:5]}"') + "\n")
    total = n + 2  # the provisioner and the template user
    with open(os.path.join(out, "q_pages.txt"), "w") as f:
        for s in range(1, total + 1, 1000):
            f.write(f"startIndex={s}&count=1000\n")
    print(json.dumps({"pages": (total + 999) // 1000, "total": total}))


def page_timer(url, tok):
    """page(start, extra): ms to read the page of 1000 users at startIndex start (query extra
    appended), which must be a ListResponse."""
    loopback_or_die(url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def page(start, extra=""):
        req = urllib.request.Request(f"{url}/scim/v2/Users?startIndex={start}&count=1000{extra}")
        req.add_header("Authorization", f"Bearer {tok}")
        t0 = time.perf_counter()
        with opener.open(req, timeout=60) as r:
            body = r.read()
        if len(body) < 1000:
            die(f"page {start}{extra}: {body[:200]!r}")
        return (time.perf_counter() - t0) * 1000.0
    return page


def seek(url, tok, n):
    """Median ms of 5 pages reached by OFFSET and of the 5 pages after them (remembered)."""
    import statistics
    page = page_timer(url, tok)
    n = int(n)
    off, rem = [], []
    for k in range(5):
        start = max(1, (n * (5 + k)) // 10) // 1000 * 1000 + 501
        off.append(page(start))
        rem.append(page(start + 1000))
    print(json.dumps({"offset_ms": round(statistics.median(off), 1),
                      "seek_ms": round(statistics.median(rem), 1),
                      "offset_runs": [round(x, 1) for x in off],
                      "seek_runs": [round(x, 1) for x in rem]}))


def orders(url, tok, n):
    """Median ms of 50 (fewer in a small tenant) consecutive pages of 1000 in the default order
    (id: a walk of the primary key) and of the same stretch with sortBy=meta.created (a walk of
    users_created, each row then looked up by key), alternating page by page, from the middle
    of the tenant; each walk's first position is remembered by a page before the stretch."""
    import statistics
    page = page_timer(url, tok)
    first = (int(n) // 2) // 1000 * 1000 + 1
    kinds = {"id": "", "created": "&sortBy=meta.created"}
    runs = {k: [] for k in kinds}
    for k, extra in kinds.items():
        page(first - 1000, extra)
    for i in range(max(1, min(50, (int(n) - first) // 1000))):
        for k, extra in kinds.items():
            runs[k].append(page(first + 1000 * i, extra))
    out = {k + "_ms": round(statistics.median(v), 2) for k, v in runs.items()}
    out["pages"] = len(runs["id"])
    print(json.dumps(out))


def fmt_n(v):
    return f"{v:,.0f}"


def table(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    m = meta["machine"]
    print(f"### bench/scim/run — {meta['date']}\n")
    print(f"Machine: {m['nproc']} CPUs, {m['cpu']}, {m['ram']} RAM, {m['disk']}, Linux "
          f"{m['kernel']}, {m['engine']}; roster {m['commit']} ({m['buildtype']} build); "
          f"loadgen on the same machine, concurrency 1.\n")
    print(f"Users in the tenant: {fmt_n(meta['total'])} ({fmt_n(meta['users'])} loaded + the "
          f"provisioner + the template). Loading: {meta['load']}. Database: "
          f"{meta['db_mib']:,.0f} MiB.\n")
    print("| request | requests | failed | seconds | req/s | p50 ms | p99 ms | max ms | target | verdict |")
    print("| --- | --: | --: | --: | --: | --: | --: | --: | --- | :-: |")
    rows = [("eq", '`filter=userName eq "user…"` (random users)', "p99 < 2 ms", 2.0),
            ("co", '`filter=emails.value co "{surname}{n}"` (1–few matches)', "p99 < 50 ms", 50.0),
            ("sw", '`filter=name.familyName sw "{5 letters}"` (first page of 100)', "p99 < 50 ms", 50.0)]
    for key, label, target, lim in rows:
        r = json.load(open(os.path.join(d, f"run_{key}.json")))
        failed = r["errors"] + r["non2xx"]
        ok = failed == 0 and r["p99_ms"] < lim
        print(f"| {label} | {fmt_n(r['requests'])} | {failed} | {r['seconds']:.2f} | "
              f"{fmt_n(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
              f"{target} | {'✅' if ok else '❌'} |")
    r = json.load(open(os.path.join(d, "run_pages.json")))
    failed = r["errors"] + r["non2xx"]
    pages = r["requests"]
    users = min(pages * 1000, meta["total"])
    ups = users / r["seconds"] if r["seconds"] else 0
    done = pages >= meta["pages"]
    print(f"| paging `startIndex=1, 1001, …&count=1000` | {fmt_n(pages)} of {fmt_n(meta['pages'])} "
          f"| {failed} | {r['seconds']:.2f} | {fmt_n(r['rps'])} | {r['p50_ms']:.2f} | "
          f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} | ≥ 200,000 users/s | "
          f"{'✅' if done and failed == 0 and ups >= 200000 else '❌'} |")
    print()
    print(f"Paging: {fmt_n(users)} users in {r['seconds']:.1f} s = **{fmt_n(ups)} users/s**"
          + ("" if done else f" (stopped by the {meta['page_secs']} s bound before the last page)")
          + ".\n")
    p = os.path.join(d, "seek.json")
    if os.path.exists(p):
        k = json.load(open(p))
        print(f"A page of 1,000 at a position no earlier page ended at (`OFFSET`, startIndex "
              f"50–90 % into the tenant) against the page after it (seek from the remembered "
              f"position), 5 pairs, medians: {k['offset_ms']:.1f} ms vs {k['seek_ms']:.1f} ms "
              f"= **{k['offset_ms'] / k['seek_ms']:.1f}×** (runs: {k['offset_runs']} / "
              f"{k['seek_runs']}).\n")

    p = os.path.join(d, "orders.json")
    if os.path.exists(p):
        k = json.load(open(p))
        print(f"The same {k.get('pages', 50)} pages of 1,000 from the middle of the tenant, "
              f"alternately in the "
              f"default order (id: one walk of the primary key) and with `sortBy=meta.created` "
              f"(a walk of the creation index, each row then read by key), medians through "
              f"Python's urllib: {k['created_ms']:.2f} ms vs {k['id_ms']:.2f} ms = "
              f"**{k['created_ms'] / k['id_ms']:.2f}×**.\n")


def main():
    if len(sys.argv) < 2:
        die("usage: scimbench.py setup|load|queries|table …")
    cmd, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "load": load, "queries": queries, "table": table, "seek": seek,
     "orders": orders, "load-pg": load_pg}.get(
        cmd, lambda *a: die(f"unknown sub-command {cmd}"))(*args)


if __name__ == "__main__":
    main()
