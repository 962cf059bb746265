#!/usr/bin/env python3
"""The roster CLI's account-security commands against a running server: an administrator's
user unlock, user sessions [revoke [--session ID]], user login-failures and user password
[--temporary]; the caller's me sessions [revoke [--session ID]] and me password. Sessions come
from logins made here over the REST API; the caller's own commands run with a login's access
token (a JWT) as the CLI's token. Passwords never travel on argv: a pipe, a file, or a
terminal with echo off. Error paths: the server's problem and the CLI's exit code (404 -> 6,
400 password.policy -> 8, 403 -> 5), and what the client refuses itself (exit 2) without a
request: every such case runs against a closed port, where a request would be exit 3."""

import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
PW = "correct horse battery staple"
NEW = "a different long passphrase"
UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"


def setUpModule():
    global S
    S = h.Server(extra_env={"ROSTER_LOGIN_ATTEMPTS_PER_MINUTE": "0"}).start()


def tearDownModule():
    if S is not None:
        S.stop()


def roster(*args, input=None):
    # ROSTER_TOKEN etc. from the caller's environment must not leak into these runs.
    e = {"ROSTER_TOKEN": "", "ROSTER_TENANT": "", "ROSTER_URL": ""}
    return h.run_roster(*args, env=e, timeout=60,
                        input=input.encode() if isinstance(input, str) else input)


def closed_url():
    return "http://127.0.0.1:%d" % h.free_port()


def field(out, key):
    m = re.search(r"^%s:\s+(.*)$" % re.escape(key), out, re.M)
    assert m, "no %r in %r" % (key, out)
    return m.group(1)


def secret_file(text):
    f = tempfile.NamedTemporaryFile("w", delete=False)
    f.write(text)
    f.close()
    os.chmod(f.name, 0o600)
    return f.name


class Base(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user = h.make_user(self.root, self.t, "adm-" + h.uid(), system_role="Administrator")
        self.admin_token = h.token_for(self.root, self.t, self.admin_user["id"])
        self.admin = S.client(self.admin_token)

    def cli(self, *args, token=None, url=None, tenant=True, **kw):
        """roster ARGS as the administrator (or token), in the test's tenant."""
        a = list(args) + ["--server", url or S.base_url, "--token", token or self.admin_token]
        if tenant:
            a += ["--tenant", self.t["slug"]]
        return roster(*a, **kw)

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

    def user(self, role="User", password=PW):
        u = h.make_user(self.root, self.t, "au-" + h.uid(), system_role=role)
        h.expect(self.root.post(h.tpath(self.t, "users", u["id"], "password"), json={"password": password}), 204)
        return u

    def login(self, u, password=PW):
        return S.client().post(h.API + "/auth/login", json={
            "tenant": self.t["slug"], "username": u["username"], "password": password},
            headers={"User-Agent": "cli-test/1"})

    def session(self, u, password=PW):
        """A login over REST: (session id, access token)."""
        r = h.expect(self.login(u, password), 201).json
        return r["session"]["id"], r["access_token"]

    def live(self, access_token):
        return S.client(access_token).get(h.API + "/me").status == 200

    def uget(self, u):
        return h.expect(self.admin.get(h.tpath(self.t, "users", u["id"])), 200).json


class CliUserAccountTest(Base):
    def test_sessions_list_and_revoke(self):
        u = self.user()
        (s1, t1), (s2, t2), (s3, t3) = self.session(u), self.session(u), self.session(u)
        listed = json.loads(self.ok(self.cli("user", "sessions", u["id"], "--json")))["items"]
        self.assertEqual({x["id"] for x in listed}, {s1, s2, s3})
        out = self.ok(self.cli("user", "sessions", u["id"]))
        self.assertRegex(out.splitlines()[0], r"^ID\s+CURRENT\s+SOURCE IP\s+USER AGENT\s+CREATED\s+LAST SEEN\s+EXPIRES$")
        self.assertIn("cli-test/1", out)
        self.assertEqual(len(out.splitlines()), 4)
        # one session
        out = self.ok(self.cli("user", "sessions", "revoke", u["id"], "--session", s1))
        self.assertEqual(out.strip(), "session %s of user %s ended" % (s1, u["id"]))
        self.assertEqual((self.live(t1), self.live(t2), self.live(t3)), (False, True, True))
        self.fails(self.cli("user", "sessions", "revoke", u["id"], "--session", s1), 6, "session.not_found")
        # all of them
        out = self.ok(self.cli("user", "sessions", "revoke", u["id"]))
        self.assertEqual(out.strip(), "every session of user %s ended" % u["id"])
        self.assertEqual((self.live(t2), self.live(t3)), (False, False))
        self.assertEqual(json.loads(self.ok(self.cli("user", "sessions", u["id"], "--json")))["items"], [])
        self.assertEqual(self.ok(self.cli("user", "sessions", "revoke", u["id"], "--json")), "")
        acts = [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])]
        self.assertIn("session.revoke", acts)

    def test_lockout_failures_and_unlock(self):
        h.expect(self.root.patch(h.tpath(self.t), json={"lockout_threshold": 3, "lockout_minutes": 0}), 200)
        u = self.user()
        for _ in range(3):
            h.assert_problem(self.login(u, "wrong password here"), 401, "auth.invalid_credentials")
        self.assertTrue(self.uget(u)["locked"])
        failures = json.loads(self.ok(self.cli("user", "login-failures", u["id"], "--json")))["items"]
        self.assertEqual([f["reason"] for f in failures], ["bad_password"] * 3)
        out = self.ok(self.cli("user", "login-failures", u["id"]))
        self.assertRegex(out.splitlines()[0], r"^AT\s+REASON\s+SOURCE IP\s+USER AGENT$")
        self.assertEqual(len(out.splitlines()), 4)
        self.assertIn("cli-test/1", out)
        # paging: newest first, a page of one, then --all
        code, out, err = self.cli("user", "login-failures", u["id"], "--limit", "1")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(out.splitlines()), 2)
        self.assertIn("--cursor", err)
        m = re.search(r"add --cursor (\S+), or --all", err)
        page2 = json.loads(self.ok(self.cli("user", "login-failures", u["id"], "--limit", "1", "--cursor",
                                            m.group(1), "--json")))
        self.assertEqual([f["id"] for f in page2["items"]], [failures[1]["id"]])
        everything = json.loads(self.ok(self.cli("user", "login-failures", u["id"], "--limit", "1",
                                                 "--all", "--json")))
        self.assertEqual([f["id"] for f in everything["items"]], [f["id"] for f in failures])

        out = self.ok(self.cli("user", "unlock", u["id"]))
        self.assertEqual((field(out, "locked"), field(out, "failed_logins")), ("false", "0"))
        self.assertFalse(self.uget(u)["locked"])
        h.expect(self.login(u), 201)
        self.assertIn("user.unlock", [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])])
        # unlocking needs users.update and the rank rule: 403 -> 5
        plain = self.user()
        ptok = h.token_for(self.root, self.t, plain["id"])
        self.fails(self.cli("user", "unlock", u["id"], token=ptok), 5, "auth.permission_denied")
        self.fails(self.cli("user", "sessions", self.admin_user["id"], token=ptok), 5)

    def test_password_from_stdin_file_and_temporary(self):
        u = self.user()
        sid, tok = self.session(u)
        out = self.ok(self.cli("user", "password", u["id"], input=NEW + "\n"))
        self.assertEqual(out.strip(), "password of user %s set; the user's sessions have ended" % u["id"])
        self.assertNotIn(NEW, out)
        self.assertFalse(self.live(tok))                       # it ends the user's sessions
        h.assert_problem(self.login(u), 401, "auth.invalid_credentials")
        h.expect(self.login(u, NEW), 201)
        self.assertIn("user.password_set", [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])])
        # --password-file, and --temporary: a password_reset at the next login
        temp = "temporary but long enough"
        path = secret_file(temp + "\nignored\n")
        try:
            out = self.ok(self.cli("user", "password", u["id"], "--temporary", "--password-file", path))
        finally:
            os.unlink(path)
        self.assertIn("temporary", out)
        r = h.expect(self.login(u, temp), 201).json
        self.assertEqual((r["restricted"], r["required_actions"]), (True, ["password_reset"]))
        self.assertEqual(self.uget(u)["required_actions"], ["password_reset"])
        # "-" is stdin
        self.ok(self.cli("user", "password", u["id"], "--password-file", "-", input=PW + "\nmore\n"))
        h.expect(self.login(u), 201)
        self.assertEqual(self.uget(u)["required_actions"], [])

    def test_password_prompts_without_echo_on_a_terminal(self):
        u = self.user()

        def run(answers):
            master, slave = pty.openpty()
            p = subprocess.Popen([h.roster_bin(), "user", "password", u["id"], "--server", S.base_url,
                                  "--tenant", self.t["slug"]],
                                 stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                                 env=dict(os.environ, ROSTER_TOKEN=self.admin_token))
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

        code, term, out = run([NEW, NEW + "x"])
        self.assertEqual(code, 2, term + out)
        self.assertIn("do not match", term)
        self.assertNotIn(NEW, term)
        h.expect(self.login(u), 201)                           # unchanged
        code, term, out = run([NEW, NEW])
        self.assertEqual(code, 0, term + out)
        self.assertNotIn(NEW, term + out)
        h.expect(self.login(u, NEW), 201)

    def test_password_policy_and_errors(self):
        u = self.user()
        # the server's policy: 400 password.policy -> 8, and nothing changes
        for bad in ("short", u["username"]):
            self.fails(self.cli("user", "password", u["id"], input=bad + "\n"), 8, "password.policy")
        out, _ = self.fails(self.cli("user", "password", u["id"], "--json", input="short\n"), 8)
        self.assertEqual(json.loads(out)["code"], "password.policy")
        h.expect(self.login(u), 201)
        self.fails(self.cli("user", "password", UNKNOWN_ID, input=NEW + "\n"), 6, "user.not_found")
        # the rank rule: a User can't set an Administrator's password
        plain = self.user()
        self.fails(self.cli("user", "password", self.admin_user["id"], token=h.token_for(self.root, self.t, plain["id"]),
                            input=NEW + "\n"), 5)

    def test_unknown_ids_are_the_servers_404(self):
        for args in (["unlock", UNKNOWN_ID], ["sessions", UNKNOWN_ID], ["sessions", "revoke", UNKNOWN_ID],
                     ["login-failures", UNKNOWN_ID]):
            out, err = self.fails(self.cli("user", *args), 6, "user.not_found")
            self.assertRegex(err, r"\(request [A-Za-z0-9._-]+\)")
            out, _ = self.fails(self.cli("user", "--json", *args), 6)
            self.assertEqual(json.loads(out)["code"], "user.not_found")
        u = self.user()
        self.fails(self.cli("user", "sessions", "revoke", u["id"], "--session", UNKNOWN_ID), 6,
                   "session.not_found")


class CliMeAccountTest(Base):
    def test_me_sessions_and_revoke(self):
        u = self.user()
        (s1, t1), (s2, t2), (s3, t3) = self.session(u), self.session(u), self.session(u)
        # "roster me" still shows the caller; its token here is a login's access token
        out = self.ok(self.cli("me", token=t1, tenant=False))
        self.assertIn(u["username"], field(out, "user"))
        listed = json.loads(self.ok(self.cli("me", "sessions", "--json", token=t1, tenant=False)))["items"]
        self.assertEqual({x["id"] for x in listed}, {s1, s2, s3})
        self.assertEqual([x["id"] for x in listed if x["current"]], [s1])
        out = self.ok(self.cli("me", "sessions", token=t1, tenant=False))
        self.assertRegex(out, r"(?m)^%s\s+true\s" % s1)
        self.assertRegex(out, r"(?m)^%s\s+false\s" % s2)
        out = self.ok(self.cli("me", "sessions", "revoke", "--session", s2, token=t1, tenant=False))
        self.assertEqual(out.strip(), "session %s ended" % s2)
        self.assertEqual((self.live(t1), self.live(t2), self.live(t3)), (True, False, True))
        self.fails(self.cli("me", "sessions", "revoke", "--session", s2, token=t1, tenant=False), 6,
                   "session.not_found")
        # another user's session is not one of mine
        other = self.user()
        so, to = self.session(other)
        self.fails(self.cli("me", "sessions", "revoke", "--session", so, token=t1, tenant=False), 6,
                   "session.not_found")
        self.assertTrue(self.live(to))
        # all of them, the caller's own included
        out = self.ok(self.cli("me", "sessions", "revoke", token=t3, tenant=False))
        self.assertEqual(out.strip(), "every session of yours ended")
        self.assertEqual((self.live(t1), self.live(t3), self.live(to)), (False, False, True))
        self.fails(self.cli("me", "sessions", token=t1, tenant=False), 4, "auth.invalid_session")
        # an API token has no session of its own but lists its owner's
        self.assertEqual(json.loads(self.ok(self.cli("me", "sessions", "--json", tenant=False)))["items"], [])

    def test_me_password_from_a_pipe_and_files(self):
        u = self.user()
        (s1, t1), (s2, t2) = self.session(u), self.session(u)
        # on a pipe: the current password is the first line, the new one the second
        out = self.ok(self.cli("me", "password", token=t1, tenant=False, input=PW + "\n" + NEW + "\n"))
        self.assertEqual(out.strip(), "password changed; your other sessions have ended")
        self.assertNotIn(NEW, out)
        self.assertEqual((self.live(t1), self.live(t2)), (True, False))
        h.assert_problem(self.login(u), 401, "auth.invalid_credentials")
        _, t3 = self.session(u, NEW)
        self.assertIn("user.password_change", [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])])
        # from files
        cur, new = secret_file(NEW + "\n"), secret_file(PW + "\n")
        try:
            self.ok(self.cli("me", "password", "--current-password-file", cur, "--password-file", new,
                             token=t3, tenant=False))
        finally:
            os.unlink(cur)
            os.unlink(new)
        _, t4 = self.session(u, PW)
        # one from a file, the other from stdin ("-" or nothing at all)
        cur = secret_file(PW + "\n")
        try:
            self.ok(self.cli("me", "password", "--current-password-file", cur, token=t4, tenant=False,
                             input=NEW + "\n"))
        finally:
            os.unlink(cur)
        h.expect(self.login(u, NEW), 201)
        new = secret_file(PW + "\n")
        try:
            self.ok(self.cli("me", "password", "--current-password-file", "-", "--password-file", new,
                             token=t4, tenant=False, input=NEW + "\n"))
        finally:
            os.unlink(new)
        h.expect(self.login(u, PW), 201)

    def test_me_password_prompts_without_echo_on_a_terminal(self):
        u = self.user()
        _, tok = self.session(u)
        master, slave = pty.openpty()
        p = subprocess.Popen([h.roster_bin(), "me", "password", "--server", S.base_url],
                             stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                             env=dict(os.environ, ROSTER_TOKEN=tok, ROSTER_TENANT=""))
        os.close(slave)
        seen = b""
        try:
            for i, (prompt, answer) in enumerate((("current password: ", PW), ("new password: ", NEW),
                                                  ("repeat the password: ", NEW))):
                deadline = time.monotonic() + 30
                while prompt.encode() not in seen.lower() and time.monotonic() < deadline:
                    if select.select([master], [], [], 0.5)[0]:
                        seen += os.read(master, 1024)
                self.assertIn(prompt.encode(), seen.lower())
                seen = seen[seen.lower().index(prompt.encode()) + len(prompt):]
                os.write(master, answer.encode() + b"\n")
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
        term = seen.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, term + out.decode())
        self.assertNotIn(PW, term)
        self.assertNotIn(NEW, term + out.decode())
        h.expect(self.login(u, NEW), 201)

    def test_me_password_errors(self):
        u = self.user()
        _, tok = self.session(u)
        # wrong current password: 403 -> 5; the policy: 400 -> 8; nothing changes
        self.fails(self.cli("me", "password", token=tok, tenant=False, input="nope\n" + NEW + "\n"), 5,
                   "password.wrong_current")
        self.fails(self.cli("me", "password", token=tok, tenant=False, input=PW + "\nshort\n"), 8,
                   "password.policy")
        out, _ = self.fails(self.cli("me", "password", "--json", token=tok, tenant=False,
                                     input=PW + "\nshort\n"), 8)
        self.assertEqual(json.loads(out)["code"], "password.policy")
        h.expect(self.login(u), 201)
        self.assertTrue(self.live(tok))


class CliAccountUsageTest(Base):
    def test_passwords_never_from_argv(self):
        u = self.user()
        url = closed_url()
        for args in (["user", "password", u["id"], "--password", NEW],
                     ["user", "password", u["id"], "--password=" + NEW],
                     ["me", "password", "--current-password", PW],
                     ["me", "password", "--new-password", NEW]):
            self.fails(self.cli(*args, url=url, input=PW + "\n" + NEW + "\n"), 2, "unknown option")
        # an extra word is no password either
        self.fails(self.cli("user", "password", u["id"], NEW, url=url, input=NEW + "\n"), 2, "unexpected argument")
        self.fails(self.cli("me", "password", NEW, url=url, tenant=False, input=PW + "\n" + NEW + "\n"), 2,
                   "unexpected argument")
        h.expect(self.login(u), 201)
        for args in (["user", "password", "--help"], ["me", "password", "--help"]):
            code, out, err = roster(*args)
            self.assertEqual(code, 0, err)
            self.assertIn("--password-file", out)
            self.assertNotRegex(out, r"--(current-|new-)?password\s")

    def test_usage_errors_send_nothing(self):
        u = self.user()
        url = closed_url()
        slug = ["--tenant", self.t["slug"]]
        cases = [
            (["user", "unlock", *slug], "", "missing argument"),
            (["user", "unlock", u["id"]], "", "needs --tenant"),
            (["user", "sessions", *slug], "", "missing argument"),
            (["user", "sessions", "revoke", *slug], "", "missing argument"),
            (["user", "sessions", "revoke", u["id"], "--session", "", *slug], "", "invalid id or slug ''"),
            (["user", "sessions", "revoke", u["id"], "--session", "..", *slug], "", None),
            (["user", "sessions", u["id"], "--limit", "5", *slug], "", "unknown option '--limit'"),
            (["user", "login-failures", *slug], "", "missing argument"),
            (["user", "login-failures", u["id"], "--limit", "0", *slug], "", "--limit"),
            (["user", "password", *slug], NEW + "\n", "missing argument"),
            (["user", "password", u["id"], *slug], "", "empty password"),
            (["user", "password", u["id"], *slug], "\n", "empty password"),
            (["user", "password", u["id"], *slug], "p" * 2000 + "\n", "longer than"),
            (["user", "password", u["id"], "--password-file", "/nonexistent/pw", *slug], NEW, "cannot open"),
            (["me", "password"], "", "empty password"),
            (["me", "password"], PW + "\n", "empty password"),
            (["me", "password", "--current-password-file", "/nonexistent/pw"], PW, "cannot open"),
            (["me", "password", "--password-file", "/nonexistent/pw"], PW + "\n", "cannot open"),
            (["me", "sessions", "revoke", "--session", ""], "", "invalid id or slug ''"),
            (["me", "sessions", "extra"], "", "unexpected argument"),
            (["me", "frobnicate"], "", "unknown command 'me frobnicate'"),
            (["user", "sessions", "frob"], "", None),   # "frob" is a user id: needs --tenant
        ]
        for args, stdin, text in cases:
            code, out, err = roster(*args, "--server", url, "--token", self.admin_token, input=stdin)
            self.assertEqual(code, 2, "%r: exit %d\n%s%s" % (args, code, out, err))
            if text is not None:
                self.assertIn(text, err, args)
            self.assertIn("Usage: roster %s" % args[0], err, args)
        h.expect(self.login(u), 201)

    def test_help(self):
        code, out, err = roster("help", "user")
        self.assertEqual(code, 0, err)
        for c in ("unlock", "sessions", "sessions revoke", "login-failures", "password"):
            self.assertRegex(out, r"(?m)^  %s\s" % c)
        code, out, err = roster("help", "me")
        self.assertEqual(code, 0, err)
        for c in (r"\(none\)", "sessions", "sessions revoke", "password"):
            self.assertRegex(out, r"(?m)^  %s\s" % c)
        code, out, err = roster("help", "me", "sessions", "revoke")
        self.assertEqual(code, 0, err)
        self.assertIn("Usage: roster me sessions revoke [--session SESSION_ID]", out)
        code, out, err = roster("user", "sessions", "revoke", "--help")
        self.assertEqual(code, 0, err)
        self.assertIn("Usage: roster user sessions revoke ID [--session SESSION_ID]", out)


if __name__ == "__main__":
    h.main()
