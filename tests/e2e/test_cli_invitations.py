#!/usr/bin/env python3
"""The roster CLI's invitation commands against a running server, with a real SMTP server on
loopback (test_outbox.MailServer) delivering the links: create, list, get, resend, revoke,
view and accept, their error paths and exit codes (usage 2, 401 -> 4, 403 -> 5, 404 -> 6,
409 -> 7, 400 -> 8), and accept's password, which never comes from argv (a pipe, a file, or a
terminal with echo off).

User deletion as a task: CliUserDeleteWaitStubTest runs the binary against a stub that speaks
the documented task API (202 + task, GET …/tasks/{id}), so --wait's outcomes and bounds are
checked today; CliUserDeleteTaskTest does the same against the real server and waits for its
asynchronous deletion (branch main): it is skipped until TASKS_ENABLED is set to True after
both are merged."""

import http.server
import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import test_outbox as ob  # noqa: E402

TASKS_ENABLED = True

S = None
MAIL = None
LINK = re.compile(re.escape(ob.PUBLIC) + r"/invitations/([A-Za-z0-9_\-]+)")
PASSWORD = "correct horse battery staple"
UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"


def setUpModule():
    global S, MAIL
    MAIL = ob.MailServer()
    S = h.Server(extra_env={"ROSTER_SMTP_URL": MAIL.url,
                            "ROSTER_SMTP_FROM": "Roster <noreply@roster.test>",
                            "ROSTER_PUBLIC_URL": ob.PUBLIC, "ROSTER_JOB_POLL_MS": "50"}).start()


def tearDownModule():
    if S is not None:
        S.stop()
    if MAIL is not None:
        MAIL.close()


def roster(*args, input=None, env=None):
    # ROSTER_TOKEN etc. from the caller's environment must not leak into these runs.
    e = {"ROSTER_TOKEN": "", "ROSTER_TENANT": "", "ROSTER_URL": ""}
    e.update(env or {})
    return h.run_roster(*args, env=e, timeout=60,
                        input=input.encode() if isinstance(input, str) else input)


def closed_url():
    return "http://127.0.0.1:%d" % h.free_port()


def mail_to(addr, count=1, subject=None):
    def got():
        ms = [m for m in MAIL.messages() if addr in m["envelope"]["to"]
              and (subject is None or subject in m["subject"])]
        return ms if len(ms) >= count else None
    return ob.wait_for(got, 30, "%d e-mail(s) to %s" % (count, addr))


def token_of(link):
    m = LINK.fullmatch(link)
    assert m, link
    return m.group(1)


def mailed_link(addr, subject=None):
    return LINK.search(mail_to(addr, subject=subject)[-1]["text"]).group(0)


def field(out, key):
    """The value of "key: value" in a key: value block."""
    m = re.search(r"^%s:\s+(.*)$" % re.escape(key), out, re.M)
    assert m, "no %r in %r" % (key, out)
    return m.group(1)


class CliBase(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user = h.make_user(self.root, self.t, "adm-" + h.uid(), system_role="Administrator")
        self.admin_token = h.token_for(self.root, self.t, self.admin_user["id"])
        self.admin = S.client(self.admin_token)

    def cli(self, *args, token=None, url=None, tenant=True, **kw):
        """roster ARGS as the administrator, in the test's tenant."""
        a = list(args) + ["--server", url or S.base_url, "--token", token or self.admin_token]
        if tenant:
            a += ["--tenant", self.t["slug"]]
        return roster(*a, **kw)

    def anon(self, *args, **kw):
        """roster ARGS with no API token at all, as an invitee."""
        return roster(*(list(args) + ["--server", S.base_url]), **kw)

    def ok(self, res):
        code, out, err = res
        self.assertEqual(code, 0, "exit %d\nstdout: %s\nstderr: %s" % (code, out, err))
        return out

    def fails(self, res, code, text=None):
        c, out, err = res
        self.assertEqual(c, code, "exit %d, wanted %d\nstdout: %s\nstderr: %s" % (c, code, out, err))
        if text is not None:
            self.assertIn(text, err)
        return out, err

    def invite(self, email=None, *extra):
        """An invitation made with the CLI (--json): (answer, email)."""
        email = email or "cli-inv-%s@example.com" % h.uid()
        out = self.ok(self.cli("invitation", "create", "--json", "--email", email, *extra))
        return json.loads(out), email

    def inv(self, iid):
        return h.expect(self.admin.get(h.tpath(self.t, "invitations", iid)), 200).json

    def dept(self, name):
        return h.expect(self.admin.post(h.tpath(self.t, "departments"), json={"name": name}), 201).json

    def user(self, uid, status=200):
        return h.expect(self.admin.get(h.tpath(self.t, "users", uid)), status).json


class CliInvitationTest(CliBase):
    def test_create_list_get_view_accept(self):
        email = "ada-%s@example.com" % h.uid()
        research = self.dept("Research")
        out = self.ok(self.cli("invitation", "create", "--email", email, "--system-role", "User",
                               "--role", "Standard User", "--department", research["id"],
                               "--type", "standard", "--message", "Welcome to the SOC team"))
        iid = field(out, "id")
        self.assertEqual(field(out, "status"), "pending")
        printed = LINK.findall(out)
        self.assertEqual(len(printed), 1, out)
        inv = self.inv(iid)
        u = self.user(inv["user_id"])
        self.assertEqual((u["status"], u["username"], u["department"]["id"], u["system_role"]["name"]),
                         ("invited", email, research["id"], "User"))
        self.assertEqual([r["name"] for r in u["roles"]], ["Standard User"])
        # the e-mail carries the link the CLI printed
        m = mail_to(email)[0]
        self.assertIn("Welcome to the SOC team", m["text"])
        link = LINK.search(m["text"]).group(0)
        self.assertEqual(token_of(link), printed[0])
        tok = token_of(link)

        out = self.ok(self.cli("invitation", "get", iid, "--json"))
        self.assertEqual(json.loads(out), inv)
        out = self.ok(self.cli("invitation", "get", iid))
        self.assertEqual((field(out, "email"), field(out, "status")), (email, "pending"))
        out = self.ok(self.cli("invitation", "list", "--json", "--status", "pending"))
        self.assertEqual([x["id"] for x in json.loads(out)["items"]], [iid])
        out = self.ok(self.cli("invitation", "list"))
        self.assertRegex(out.splitlines()[0], r"^ID\s+EMAIL\s+STATUS")
        self.assertIn(iid, out)
        self.assertEqual(json.loads(self.ok(self.cli("invitation", "list", "--json", "--status",
                                                     "accepted")))["items"], [])

        # the invitee's side: no API token
        out = self.ok(self.anon("invitation", "view", tok, "--json"))
        v = json.loads(out)
        self.assertEqual((v["email"], v["tenant_name"], v["expires_at"]),
                         (email, self.t["name"], inv["expires_at"]))
        out = self.ok(self.anon("invitation", "view", link))        # the whole link works too
        self.assertEqual(field(out, "tenant_name"), self.t["name"])

        code, out, err = self.anon("invitation", "accept", tok, "--first-name", "Ada", "--last-name",
                                   "Lovelace", "--timezone", "Europe/London", input=PASSWORD + "\n")
        self.assertEqual(code, 0, out + err)
        self.assertNotIn(PASSWORD, out + err)
        self.assertEqual(field(out, "status"), "active")
        u = self.user(inv["user_id"])
        self.assertEqual((u["status"], u["first_name"], u["last_name"], u["timezone"]),
                         ("active", "Ada", "Lovelace", "Europe/London"))
        cred = h.db_query(S, "SELECT kind, secret_hash FROM credentials WHERE user_id = ?", (u["id"],))
        self.assertEqual([c[0] for c in cred], ["password"])
        self.assertEqual(self.inv(iid)["status"], "accepted")

        # single use: the link is gone
        self.fails(self.anon("invitation", "accept", tok, "--first-name", "A", "--last-name", "B",
                             input=PASSWORD + "\n"), 6, "invitation.not_found")
        self.fails(self.anon("invitation", "view", tok), 6, "invitation.not_found")
        # accepted: no resend, no revoke (409)
        self.fails(self.cli("invitation", "resend", iid), 7, "invitation.not_pending")
        self.fails(self.cli("invitation", "revoke", iid), 7, "invitation.not_pending")

    def test_create_json_and_username_type(self):
        name = "named-" + h.uid()
        r, email = self.invite(None, "--username", name, "--type", "read_only")
        self.assertEqual(set(r), {"invitation", "link"})
        self.assertEqual(r["invitation"]["email"], email)
        u = self.user(r["invitation"]["user_id"])
        self.assertEqual((u["username"], u["type"]), (name, "read_only"))
        self.assertEqual(mailed_link(email), r["link"])

    def test_accept_password_file_and_stdin_dash(self):
        r, email = self.invite()
        link = mailed_link(email)
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(PASSWORD + "\n")
            path = f.name
        try:
            os.chmod(path, 0o600)
            out = self.ok(self.anon("invitation", "accept", link, "--first-name", "Grace",
                                    "--last-name", "Hopper", "--password-file", path, "--json"))
        finally:
            os.unlink(path)
        self.assertEqual((json.loads(out)["status"], json.loads(out)["first_name"]), ("active", "Grace"))
        # "-" is stdin, and only its first line is the password
        r, email = self.invite()
        out = self.ok(self.anon("invitation", "accept", token_of(mailed_link(email)), "--first-name",
                                "Grace", "--last-name", "Hopper", "--password-file", "-",
                                input=PASSWORD + "\nsomething else\n"))
        self.assertEqual(self.user(r["invitation"]["user_id"])["status"], "active")
        self.assertNotIn(PASSWORD, out)

    def test_accept_prompts_without_echo_on_a_terminal(self):
        r, email = self.invite()
        tok = token_of(mailed_link(email))

        def run(answers):
            """accept on a pseudo-terminal, typing answers at the prompts: (code, terminal)."""
            master, slave = pty.openpty()
            p = subprocess.Popen([h.roster_bin(), "invitation", "accept", tok, "--first-name", "Ada",
                                  "--last-name", "Lovelace", "--server", S.base_url],
                                 stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                                 env=dict(os.environ, ROSTER_TOKEN=""))
            os.close(slave)
            seen = b""
            try:
                for i, a in enumerate(answers):
                    deadline = time.monotonic() + 30
                    while seen.lower().count(b"password: ") <= i and time.monotonic() < deadline:
                        if select.select([master], [], [], 0.5)[0]:
                            seen += os.read(master, 1024)
                    self.assertGreater(seen.lower().count(b"password: "), i, seen)
                    os.write(master, a.encode() + b"\n")
                out, _ = p.communicate(timeout=60)
                while select.select([master], [], [], 0.2)[0]:
                    try:
                        chunk = os.read(master, 1024)
                    except OSError:
                        break
                    if not chunk:
                        break
                    seen += chunk
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                os.close(master)
            return p.returncode, seen.decode("utf-8", "replace"), out.decode()

        code, term, out = run([PASSWORD, PASSWORD + "x"])
        self.assertEqual(code, 2, term + out)
        self.assertIn("do not match", term)
        self.assertNotIn(PASSWORD, term)                   # echo was off
        self.assertEqual(self.user(r["invitation"]["user_id"])["status"], "invited")
        code, term, out = run([PASSWORD, PASSWORD])
        self.assertEqual(code, 0, term + out)
        self.assertNotIn(PASSWORD, term + out)
        self.assertEqual(self.user(r["invitation"]["user_id"])["status"], "active")

    def test_accept_never_takes_the_password_from_argv(self):
        r, email = self.invite()
        tok = token_of(mailed_link(email))
        for opt in (["--password", PASSWORD], ["--password=" + PASSWORD]):
            self.fails(self.anon("invitation", "accept", tok, "--first-name", "A", "--last-name",
                                 "B", *opt, input=PASSWORD + "\n"), 2, "unknown option '--password'")
        # the extra word is no password either: TOKEN is the only positional
        self.fails(self.anon("invitation", "accept", tok, PASSWORD, "--first-name", "A",
                             "--last-name", "B", input=PASSWORD + "\n"), 2, "unexpected argument")
        self.assertEqual(self.user(r["invitation"]["user_id"])["status"], "invited")
        code, out, err = roster("invitation", "accept", "--help")
        self.assertEqual(code, 0)
        self.assertIn("--password-file", out)
        self.assertNotRegex(out, r"--password\s")

    def test_accept_errors(self):
        r, email = self.invite()
        tok = token_of(mailed_link(email))
        # bad or forged tokens: the server's 404
        forged = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")    # right lookup
        for bad in ("nope", "rst_0123456789abcdef_" + "A" * 43, forged):
            self.fails(self.anon("invitation", "accept", bad, "--first-name", "A", "--last-name", "B",
                                 input=PASSWORD + "\n"), 6, "invitation.not_found")
            self.fails(self.anon("invitation", "view", bad), 6, "invitation.not_found")
        # --json: the problem document on stdout as well
        out, _ = self.fails(self.anon("invitation", "view", "nope", "--json"), 6)
        self.assertEqual(json.loads(out)["code"], "invitation.not_found")
        # the password policy is the server's: 400 -> 8, and nothing changes
        for bad in ("short", email):
            self.fails(self.anon("invitation", "accept", tok, "--first-name", "A", "--last-name", "B",
                                 input=bad + "\n"), 8, "password.policy")
        # what the client refuses itself: no request (a closed port would be exit 3)
        url = closed_url()
        cases = [
            (["--last-name", "B"], PASSWORD, "'--first-name' is required"),
            (["--first-name", "A"], PASSWORD, "'--last-name' is required"),
            (["--first-name", "A", "--last-name", "B"], "\n", "empty password"),
            (["--first-name", "A", "--last-name", "B"], "", "empty password"),
            (["--first-name", "A", "--last-name", "B"], "p" * 2000 + "\n", "longer than"),
            (["--first-name", "A", "--last-name", "B", "--password-file", "/nonexistent/pw"],
             PASSWORD, "cannot open"),
        ]
        for args, stdin, text in cases:
            self.fails(roster("invitation", "accept", tok, *args, "--server", url, input=stdin), 2, text)
        self.fails(roster("invitation", "accept", "--first-name", "A", "--last-name", "B",
                          "--server", url, input=PASSWORD), 2, "missing argument")
        self.fails(roster("invitation", "view", "--server", url), 2, "missing argument")
        self.assertEqual(self.user(r["invitation"]["user_id"])["status"], "invited")
        # and the link still works after all that
        self.ok(self.anon("invitation", "accept", tok, "--first-name", "A", "--last-name", "B",
                          input=PASSWORD + "\n"))

    def test_view_and_accept_send_no_api_token(self):
        r, email = self.invite()
        tok = token_of(mailed_link(email))
        # A token that would be refused (401) if it were sent.
        bogus = h.make_token_string()
        env = {"ROSTER_TOKEN": bogus}
        code, out, err = h.run_roster("invitation", "view", tok, "--server", S.base_url, env=env)
        self.assertEqual(code, 0, out + err)
        code, out, err = h.run_roster("invitation", "accept", tok, "--first-name", "A", "--last-name",
                                      "B", "--server", S.base_url, env=env, input=(PASSWORD + "\n").encode())
        self.assertEqual(code, 0, out + err)
        # whereas an administrator's command with it is 401 -> 4
        self.fails(self.cli("invitation", "list", token=bogus), 4)

    def test_resend(self):
        r, email = self.invite(None, "--message", "first")
        iid = r["invitation"]["id"]
        old = token_of(mailed_link(email))
        blue = self.dept("Blue team")
        out = self.ok(self.cli("invitation", "resend", iid, "--message", "second", "--department",
                               blue["id"], "--system-role", "Operations Administrator",
                               "--role", "Organization Administrator"))
        new = LINK.findall(out)
        self.assertEqual(len(new), 1, out)
        self.assertNotEqual(new[0], old)
        self.assertEqual(field(out, "message"), "second")
        self.assertNotEqual(field(out, "resent_at"), "-")
        m = mail_to(email, subject="resent")[-1]
        self.assertEqual(token_of(LINK.search(m["text"]).group(0)), new[0])
        self.assertIn("second", m["text"])
        u = self.user(r["invitation"]["user_id"])
        self.assertEqual((u["department"]["name"], u["system_role"]["name"], [x["name"] for x in u["roles"]]),
                         ("Blue team", "Operations Administrator", ["Organization Administrator"]))
        self.fails(self.anon("invitation", "view", old), 6, "invitation.not_found")
        # no options: a new link, nothing else changes
        out = json.loads(self.ok(self.cli("invitation", "resend", iid, "--json")))
        self.assertEqual(out["invitation"]["message"], "second")
        self.assertNotIn(token_of(out["link"]), (old, new[0]))
        # --no-roles clears the tenant roles
        out = json.loads(self.ok(self.cli("invitation", "resend", iid, "--no-roles", "--json")))
        self.assertEqual(self.user(r["invitation"]["user_id"])["roles"], [])
        self.fails(self.cli("invitation", "resend", iid, "--no-roles", "--role", "Standard User",
                            url=closed_url()), 2, "exclude each other")
        # the server's validation: 400 -> 8
        self.fails(self.cli("invitation", "resend", iid, "--system-role", "Nope"), 8,
                   "request.invalid_field")
        self.ok(self.anon("invitation", "accept", token_of(out["link"]), "--first-name", "A",
                          "--last-name", "B", input=PASSWORD))
        self.assertEqual(self.inv(iid)["status"], "accepted")

    def test_revoke(self):
        r, email = self.invite()
        iid, tok = r["invitation"]["id"], token_of(r["link"])
        out = self.ok(self.cli("invitation", "revoke", iid))
        self.assertEqual(out.strip(), "invitation %s revoked" % iid)
        self.assertEqual(self.inv(iid)["status"], "revoked")
        self.user(r["invitation"]["user_id"], status=404)
        self.fails(self.anon("invitation", "view", tok), 6, "invitation.not_found")
        out = self.ok(self.cli("invitation", "list", "--json", "--status", "revoked"))
        self.assertEqual([x["id"] for x in json.loads(out)["items"]], [iid])
        self.fails(self.cli("invitation", "revoke", iid), 7, "invitation.not_pending")
        self.fails(self.cli("invitation", "resend", iid), 7, "invitation.not_pending")
        self.assertEqual(self.ok(self.cli("invitation", "revoke", self.invite()[0]["invitation"]["id"],
                                          "--json")), "")

    def test_unknown_ids_are_the_servers_404(self):
        for args in (["get", UNKNOWN_ID], ["resend", UNKNOWN_ID], ["revoke", UNKNOWN_ID]):
            out, err = self.fails(self.cli("invitation", *args), 6, "invitation.not_found")
            self.assertRegex(err, r"\(request [A-Za-z0-9._-]+\)")
            out, err = self.fails(self.cli("invitation", "--json", *args), 6)
            self.assertEqual(json.loads(out)["code"], "invitation.not_found")
        # another tenant's invitation is just as unknown
        r, _ = self.invite()
        other = h.new_tenant(self.root)
        self.fails(roster("invitation", "get", r["invitation"]["id"], "--server", S.base_url,
                          "--token", S.root_token, "--tenant", other["slug"]), 6, "invitation.not_found")
        self.fails(roster("invitation", "list", "--server", S.base_url, "--token", self.admin_token,
                          "--tenant", "no-such-" + h.uid()), 6)

    def test_usage_errors_send_nothing(self):
        url = closed_url()
        before = self.admin.list_all(h.tpath(self.t, "invitations"))
        cases = [
            (["invitation", "create", "--tenant", self.t["slug"]], "'--email' is required"),
            (["invitation", "create", "--email", "x@example.com"], "needs --tenant"),
            (["invitation", "create", "--tenant", self.t["slug"], "--email", "x@example.com",
              "--first-name", "X"], "unknown option '--first-name'"),
            (["invitation", "get", "--tenant", self.t["slug"]], "missing argument"),
            (["invitation", "get", "a", "b", "--tenant", self.t["slug"]], "unexpected argument"),
            (["invitation", "revoke", "--tenant", self.t["slug"]], "missing argument"),
            (["invitation", "resend", "--tenant", self.t["slug"]], "missing argument"),
            (["invitation", "list", "--tenant", self.t["slug"], "--limit", "0"], "--limit"),
            (["invitation", "frobnicate"], "unknown command"),
            (["invitation"], "missing invitation command"),
        ]
        for args, text in cases:
            code, out, err = roster(*args, "--server", url, "--token", self.admin_token)
            self.assertEqual(code, 2, "%r: exit %d\n%s%s" % (args, code, out, err))
            self.assertIn(text, err, args)
            self.assertIn("Usage: roster invitation", err, args)
        self.assertEqual(self.admin.list_all(h.tpath(self.t, "invitations")), before)

    def test_permission_and_rank(self):
        viewer = h.make_user(self.root, self.t, "viewer-" + h.uid(), system_role="User")
        vtok = h.token_for(self.root, self.t, viewer["id"])
        self.fails(self.cli("invitation", "create", "--email", "v-%s@example.com" % h.uid(), token=vtok),
                   5, "auth.permission_denied")
        ops = h.make_user(self.root, self.t, "ops-" + h.uid(), system_role="Operations Administrator")
        otok = h.token_for(self.root, self.t, ops["id"])
        self.fails(self.cli("invitation", "create", "--email", "b-%s@example.com" % h.uid(),
                            "--system-role", "Administrator", token=otok), 5, "rank.role_above_own")
        self.fails(self.cli("invitation", "create", "--email", "not-an-address"), 8,
                   "request.invalid_field")

    def test_help(self):
        code, out, err = roster("help", "invitation")
        self.assertEqual(code, 0, err)
        for c in ("list", "get", "create", "resend", "revoke", "view", "accept"):
            self.assertRegex(out, r"(?m)^  %s\s" % c)
        code, out, err = roster("help")
        self.assertIn("invitation", out)
        self.assertIn("task", out)


class CliUserDeleteUsageTest(CliBase):
    """What user delete refuses before any request: runs today."""

    def test_delete_usage(self):
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        url = closed_url()
        for args, text in (
                (["--timeout", "5"], "only makes sense with --wait"),
                (["--wait", "--timeout", "0"], "--timeout"),
                (["--wait", "--timeout", "x"], "--timeout"),
                (["--wait", "--timeout", "86401"], "--timeout")):
            self.fails(self.cli("user", "delete", u["id"], *args, url=url), 2, text)
        self.assertEqual(self.user(u["id"])["status"], "active")
        self.fails(self.cli("task", "get", url=url, tenant=True), 2, "missing argument")


class _TaskStub(http.server.ThreadingHTTPServer):
    """Speaks the documented task API (202 + task, GET …/tasks/{id}) for user delete --wait,
    so the client's side runs before the server's lands: each GET of the task answers the next
    status of script (the last one repeats). delete_status 204 plays a server from before tasks."""

    daemon_threads = True

    def __init__(self, script, reason=None, delete_status=202):
        self.script, self.reason, self.delete_status = list(script), reason, delete_status
        self.requests = []           # (method, path, monotonic time)
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _TaskStubHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def task(self, status):
        done = status in ("COMPLETED", "FAILED")
        return {"id": "0190aaaa-0000-7000-8000-00000000000t", "kind": "user.delete", "status": status,
                "target_id": "0190aaaa-0000-7000-8000-00000000000u",
                "reason": self.reason if status == "FAILED" else None,
                "created_at": "2026-11-22T14:00:00Z", "updated_at": "2026-11-22T14:00:01Z",
                "completed_at": "2026-11-22T14:00:01Z" if done else None}

    def polls(self):
        return [r for r in self.requests if r[0] == "GET"]

    def close(self):
        self.shutdown()
        self.server_close()


class _TaskStubHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_DELETE(self):
        srv = self.server
        with srv.lock:
            srv.requests.append(("DELETE", self.path, time.monotonic()))
        if srv.delete_status == 204:
            return self.reply(204)
        t = srv.task("QUEUED")
        self.reply(202, t, [("Location", "/api/v1/tenants/acme/tasks/" + t["id"])])

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append(("GET", self.path, time.monotonic()))
            n = len(srv.polls())
        if not self.path.startswith("/api/v1/tenants/acme/tasks/"):
            return self.reply(404, {"type": "urn:roster:problem:task.not_found", "title": "Not Found",
                                    "status": 404, "code": "task.not_found", "detail": "no such task"})
        status = srv.script[min(n, len(srv.script)) - 1]
        if status == "503":
            return self.reply(503, {"type": "urn:roster:problem:store.unavailable", "title": "Unavailable",
                                    "status": 503, "code": "store.unavailable", "detail": "try again"})
        self.reply(200, srv.task(status))


class CliUserDeleteWaitStubTest(unittest.TestCase):
    """user delete and task get against _TaskStub: the polling loop of the real binary, its
    outcomes and exit codes (0, 10 FAILED, 11 timeout), and its bounds."""

    UID = "0190aaaa-0000-7000-8000-00000000000u"

    def run_stub(self, script, *args, reason=None, delete_status=202):
        stub = _TaskStub(script, reason, delete_status)
        self.addCleanup(stub.close)
        t0 = time.monotonic()
        res = roster("user", "delete", self.UID, *args, "--server", stub.url, "--token",
                     h.make_token_string(), "--tenant", "acme")
        return res, stub, time.monotonic() - t0

    def test_wait_until_completed(self):
        (code, out, err), stub, _ = self.run_stub(["QUEUED", "PROCESSING", "PROCESSING", "COMPLETED"],
                                                  "--wait", "--transfer-to", "0190bbbb")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(field(out, "status"), "COMPLETED")
        self.assertEqual(stub.requests[0][:2],
                         ("DELETE", "/api/v1/tenants/acme/users/%s?transfer_to=0190bbbb" % self.UID))
        polls = stub.polls()
        self.assertEqual(len(polls), 4)
        gaps = [b[2] - a[2] for a, b in zip(polls, polls[1:])]
        self.assertTrue(all(g >= 0.15 for g in gaps), gaps)        # every 200 ms, not a busy loop

    def test_no_wait_prints_the_task_once(self):
        (code, out, err), stub, _ = self.run_stub(["COMPLETED"])
        self.assertEqual(code, 0, out + err)
        self.assertEqual((field(out, "status"), field(out, "kind")), ("QUEUED", "user.delete"))
        self.assertEqual(stub.polls(), [])
        (code, out, err), stub, _ = self.run_stub(["COMPLETED"], "--json")
        self.assertEqual(json.loads(out)["status"], "QUEUED")

    def test_failed_prints_the_reason(self):
        (code, out, err), stub, _ = self.run_stub(["PROCESSING", "FAILED"], "--wait", "--json",
                                                  reason="user.owns_resources: job_app/7")
        self.assertEqual(code, 10, out + err)
        self.assertEqual(json.loads(out)["status"], "FAILED")         # the task as last seen
        self.assertIn("user.owns_resources: job_app/7", err)

    def test_timeout_is_bounded(self):
        (code, out, err), stub, took = self.run_stub(["PROCESSING"], "--wait", "--timeout", "1")
        self.assertEqual(code, 11, out + err)
        self.assertIn("roster task get", err)
        self.assertEqual(field(out, "status"), "PROCESSING")
        self.assertLess(took, 10)
        self.assertTrue(3 <= len(stub.polls()) <= 6, len(stub.polls()))

    def test_poll_error_ends_the_wait(self):
        (code, out, err), stub, _ = self.run_stub(["PROCESSING", "503"], "--wait", "--json")
        self.assertEqual(code, 9, out + err)
        self.assertIn("store.unavailable", err)
        self.assertEqual(json.loads(out)["code"], "store.unavailable")    # one document: the problem
        self.assertEqual(len(stub.polls()), 2)
        (code, out, err), stub, _ = self.run_stub(["PROCESSING", "503"], "--wait")
        self.assertEqual(code, 9, out + err)
        self.assertEqual(field(out, "status"), "PROCESSING")

    def test_unknown_status_is_not_waited_for(self):
        (code, out, err), stub, took = self.run_stub(["CANCELLED"], "--wait", "--timeout", "30")
        self.assertEqual(code, 1, out + err)
        self.assertIn("CANCELLED", err)
        self.assertLess(took, 10)

    def test_server_before_tasks(self):
        (code, out, err), stub, _ = self.run_stub([], delete_status=204)
        self.assertEqual((code, out), (0, "user %s deleted\n" % self.UID), err)
        (code, out, err), stub, _ = self.run_stub([], "--wait", delete_status=204)
        self.assertEqual(code, 0, out + err)

    def test_task_get(self):
        stub = _TaskStub(["PROCESSING"])
        self.addCleanup(stub.close)
        conn = ["--server", stub.url, "--token", h.make_token_string(), "--tenant", "acme"]
        code, out, err = roster("task", "get", "0190aaaa-0000-7000-8000-00000000000t", *conn)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(field(out, "status"), "PROCESSING")
        self.assertEqual(stub.polls()[0][1], "/api/v1/tenants/acme/tasks/0190aaaa-0000-7000-8000-00000000000t")
        code, out, err = roster("task", "get", "x", "--server", stub.url, "--token", h.make_token_string(),
                                "--tenant", "other")
        self.assertEqual(code, 6, out + err)
        self.assertIn("task.not_found", err)


@unittest.skipUnless(TASKS_ENABLED, "needs the asynchronous user deletion (202 + task) from main")
class CliUserDeleteTaskTest(CliBase):
    def delete(self, *args):
        return self.cli("user", "delete", *args)

    def test_delete_prints_the_task(self):
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        out = self.ok(self.delete(u["id"]))
        tid = field(out, "id")
        self.assertIn(field(out, "status"), ("QUEUED", "PROCESSING", "COMPLETED"))
        self.assertEqual(field(out, "kind"), "user.delete")
        self.assertEqual(field(out, "target_id"), u["id"])
        task = json.loads(self.ok(self.cli("task", "get", tid, "--json")))
        self.assertEqual((task["id"], task["kind"], task["target_id"]), (tid, "user.delete", u["id"]))
        out = self.ok(self.cli("task", "get", tid))
        self.assertEqual(field(out, "id"), tid)

    def test_delete_json_and_again_while_under_way(self):
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        t1 = json.loads(self.ok(self.delete(u["id"], "--json")))
        self.assertEqual((t1["kind"], t1["target_id"]), ("user.delete", u["id"]))
        self.assertIn(t1["status"], ("QUEUED", "PROCESSING", "COMPLETED"))
        # a second DELETE while the first is under way answers the same task; once done, 404
        code, out, err = self.delete(u["id"], "--json")
        if code == 0:
            self.assertEqual(json.loads(out)["id"], t1["id"])
        else:
            self.assertEqual(code, 6, out + err)

    def test_delete_wait(self):
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        out = self.ok(self.delete(u["id"], "--wait", "--timeout", "60"))
        self.assertEqual(field(out, "status"), "COMPLETED")
        self.assertNotEqual(field(out, "completed_at"), "-")
        self.user(u["id"], status=404)
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        task = json.loads(self.ok(self.delete(u["id"], "--wait", "--json")))
        self.assertEqual(task["status"], "COMPLETED")
        self.assertTrue(task["completed_at"])

    def test_delete_transfer_to(self):
        u = h.make_user(self.root, self.t, "del-" + h.uid())
        heir = h.make_user(self.root, self.t, "heir-" + h.uid())
        self.fails(self.delete(u["id"], "--transfer-to", u["id"]), 8, "transfer_to")
        self.fails(self.delete(u["id"], "--transfer-to", UNKNOWN_ID), 8, "transfer_to")
        task = json.loads(self.ok(self.delete(u["id"], "--transfer-to", heir["id"], "--wait", "--json")))
        self.assertEqual(task["status"], "COMPLETED")

    def test_errors(self):
        self.fails(self.delete(UNKNOWN_ID), 6, "user.not_found")
        self.fails(self.cli("task", "get", UNKNOWN_ID), 6)
        self.fails(self.cli("task", "get", UNKNOWN_ID, "--json"), 6)


if __name__ == "__main__":
    h.main()
