#!/usr/bin/env python3
"""Audit trail: every change recorded with actor, target, before/after, request id and source ip;
no secret in the audit or the logs; filters and paging; hash chain verified by `roster audit verify`,
which must catch an edited, a deleted and a reordered event edited straight in the database (the SQLite
file, or the PostgreSQL database through psql, by someone who bypasses any guard trigger)."""

import json
import os
import re
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
BOOKKEEPING = {"updated_at", "version"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def rid():
    return "aud-" + h.uid(8)


def find_by_request_id(client, tenant, request_id):
    return [e for e in h.audit_events(client, tenant) if e.get("request_id") == request_id]


class AuditRecordingTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user = h.make_user(self.root, self.t, "auditor-admin-" + h.uid(), system_role="Administrator")
        tok = h.create_token(self.root, self.t, user_id=self.admin_user["id"])
        self.admin = S.client(tok["secret"])
        self.admin_token = tok["token"]

    def one_event(self, resp, action, target_type, target_id):
        self.assertEqual(resp.request_id, resp._sent_rid, "X-Request-Id not echoed")
        evs = find_by_request_id(self.root, self.t, resp._sent_rid)
        self.assertEqual(len(evs), 1, "events for request %s: %s" % (resp._sent_rid, evs))
        e = evs[0]
        self.assertEqual(e["action"], action)
        self.assertEqual(e["tenant_id"], self.t["id"])
        if isinstance(target_type, (set, tuple)):
            self.assertIn(e["target"]["type"], target_type)
        else:
            self.assertEqual(e["target"]["type"], target_type)
        if isinstance(target_id, (set, tuple)):
            self.assertIn(e["target"]["id"], target_id)
        else:
            self.assertEqual(e["target"]["id"], target_id)
        self.assertEqual(e["source_ip"], "127.0.0.1")
        self.assertIn(e["actor"]["type"], ("user", "token"))
        if e["actor"]["type"] == "user":
            self.assertEqual(e["actor"]["id"], self.admin_user["id"])
        else:
            self.assertEqual(e["actor"]["id"], self.admin_token["id"])
        self.assertIn("name", e["actor"])
        self.assertRegex(e["at"], h.TIME_RE)
        self.assertRegex(e["id"], h.UUID7_RE)
        self.assertIsInstance(e["seq"], int)
        self.assertTrue(e["hash"])
        self.assertIn("prev_hash", e)
        self.assertIsInstance(e["changes"], dict)
        return e

    def do(self, method, path, json=None):
        r_id = rid()
        r = self.admin.request(method, path, json=json, headers={"X-Request-Id": r_id})
        r._sent_rid = r_id
        return r

    def test_user_lifecycle(self):
        name = "rec-" + h.uid()
        r = h.expect(self.do("POST", h.tpath(self.t, "users"), {"username": name, "first_name": "Ann",
                                                                 "last_name": "Lee"}), 201)
        u = r.json
        e = self.one_event(r, "user.create", "user", u["id"])
        self.assertEqual(e["changes"].get("username"), {"before": None, "after": name}, e["changes"])

        r = h.expect(self.do("PATCH", h.tpath(self.t, "users", u["id"]),
                             {"first_name": "Anne", "description": "SOC", "last_name": "Lee"}), 200)
        e = self.one_event(r, "user.update", "user", u["id"])
        changed = set(e["changes"]) - BOOKKEEPING
        self.assertEqual(changed, {"first_name", "description"}, e["changes"])
        self.assertEqual(e["changes"]["first_name"], {"before": "Ann", "after": "Anne"})
        self.assertEqual(e["changes"]["description"], {"before": None, "after": "SOC"})

        r = h.expect(self.do("PUT", h.tpath(self.t, "users", u["id"], "roles"),
                             {"system_role": "Super User", "roles": ["Standard User"]}), 200)
        e = self.one_event(r, "user.roles_assign", "user", u["id"])
        self.assertTrue(e["changes"], "roles_assign without changes")

        r = h.expect(self.do("DELETE", h.tpath(self.t, "users", u["id"])), 202)
        h.wait_task(self.admin, self.t, r.json["id"])
        # the request and the task that carried it out: both under the request's id and the
        # requester's name, so the trail reads as one step
        evs = find_by_request_id(self.root, self.t, r._sent_rid)
        self.assertEqual(sorted(e["action"] for e in evs), ["user.delete", "user.delete_request"])
        for e in evs:
            self.assertEqual(e["target"]["id"], u["id"])
            self.assertEqual(e["actor"]["id"], self.admin_user["id"], e)
        # the tombstone's history is still there
        acts = [x["action"] for x in h.audit_events(self.root, self.t, target=u["id"])]
        self.assertEqual(sorted(acts), sorted(["user.create", "user.update", "user.roles_assign",
                                               "user.delete_request", "user.delete"]))

    def test_role_group_token_events(self):
        r = h.expect(self.do("POST", h.tpath(self.t, "roles"), {"name": "R " + h.uid(), "rank": 100,
                                                                 "permissions": ["users.read"]}), 201)
        e = self.one_event(r, "role.create", "role", r.json["id"])
        self.assertEqual(e["changes"].get("rank", {}).get("after"), 100, e["changes"])

        g = h.expect(self.do("POST", h.tpath(self.t, "groups"), {"name": "G " + h.uid()}), 201)
        self.one_event(g, "group.create", "group", g.json["id"])
        u = h.make_user(self.root, self.t, "gm-" + h.uid())
        r = h.expect(self.do("PUT", h.tpath(self.t, "groups", g.json["id"], "members", u["id"])), 204)
        # the target of a membership change may be the group or the user: either is accepted
        self.one_event(r, "group.member_add", {"group", "user"}, {g.json["id"], u["id"]})
        # idempotent re-add records nothing new
        r2 = self.do("PUT", h.tpath(self.t, "groups", g.json["id"], "members", u["id"]))
        h.expect(r2, 204)
        self.assertEqual(find_by_request_id(self.root, self.t, r2._sent_rid), [])
        r = h.expect(self.do("DELETE", h.tpath(self.t, "groups", g.json["id"], "members", u["id"])), 204)
        e = find_by_request_id(self.root, self.t, r._sent_rid)
        self.assertEqual([x["action"] for x in e], ["group.member_remove"])

        r = h.expect(self.do("POST", h.tpath(self.t, "tokens"), {"name": "audited"}), 201)
        tok_id = r.json["token"]["id"]
        secret = r.json["secret"]
        e = self.one_event(r, "token.create", "token", tok_id)
        self.assertNotIn(h.secret_part(secret), json.dumps(e))
        r = h.expect(self.do("DELETE", h.tpath(self.t, "tokens", tok_id)), 204)
        self.one_event(r, "token.revoke", "token", tok_id)

    def test_failed_requests_record_nothing(self):
        before = [e["id"] for e in h.audit_events(self.root, self.t)]
        for method, path, body in (
                ("POST", h.tpath(self.t, "users"), {"username": "bad name"}),
                ("PATCH", h.tpath(self.t, "users", h.uuid7()), {"description": "x"}),
                ("POST", h.tpath(self.t, "roles"), {"name": "x", "rank": 5000, "permissions": []}),
                ("POST", h.tpath(self.t, "tokens"), {"name": "x", "expires_in_days": 0})):
            r = self.do(method, path, body)
            self.assertGreaterEqual(r.status, 400, r.describe())
        self.assertEqual([e["id"] for e in h.audit_events(self.root, self.t)], before)

    def test_chain_fields_link(self):
        for i in range(3):
            h.make_user(self.admin, self.t, "chain-%d-%s" % (i, h.uid()))
        evs = sorted(h.audit_events(self.root, self.t), key=lambda e: e["seq"])
        self.assertGreaterEqual(len(evs), 3)
        seqs = [e["seq"] for e in evs]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "gaps in seq")
        for prev, cur in zip(evs, evs[1:]):
            self.assertEqual(cur["prev_hash"], prev["hash"], "chain broken at seq %d" % cur["seq"])
        self.assertEqual(len({e["hash"] for e in evs}), len(evs))

    def test_tenant_events_in_system_chain(self):
        evs = h.audit_events(self.root, "system", target=self.t["id"])
        self.assertIn("tenant.create", [e["action"] for e in evs])
        h.expect(self.root.patch(h.tpath(self.t), json={"name": "renamed"}), 200)
        evs = h.audit_events(self.root, "system", target=self.t["id"], action="tenant.update")
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["changes"]["name"]["after"], "renamed")
        self.assertEqual(h.audit_events(self.root, self.t, action="tenant."), [])

    def test_audit_read_permission(self):
        _, user = h.actor(S, self.t, "User")
        h.assert_problem(user.get(h.tpath(self.t, "audit")), 403, "auth.permission_denied")


class AuditQueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        root = S.root()
        cls.root = root
        cls.t = h.new_tenant(root)
        cls.a1u, cls.a1 = h.actor(S, cls.t, "Administrator", username="one")
        cls.a2u, cls.a2 = h.actor(S, cls.t, "Administrator", username="two")
        cls.u = h.make_user(cls.a1, cls.t, "first-" + h.uid())
        h.expect(cls.a1.patch(h.tpath(cls.t, "users", cls.u["id"]), json={"description": "A"}), 200)
        time.sleep(1.2)                                             # a second boundary for since/until
        cls.g = h.expect(cls.a2.post(h.tpath(cls.t, "groups"), json={"name": "g"}), 201).json
        cls.v = h.make_user(cls.a2, cls.t, "second-" + h.uid())
        h.expect(cls.a2.put(h.tpath(cls.t, "groups", cls.g["id"], "members", cls.v["id"])), 204)
        cls.all = h.audit_events(root, cls.t)

    def q(self, **params):
        return h.audit_events(self.root, self.t, **params)

    def actor_id(self, user):
        ids = {e["actor"]["id"] for e in self.all if e["actor"]["id"] is not None}
        # the id recorded for this user's requests: its user id or its token id
        tokens = [x["id"] for x in self.root.list_all(h.tpath(self.t, "tokens"), {"user_id": user["id"]})]
        return [i for i in ids if i == user["id"] or i in tokens][0]

    def test_newest_first(self):
        seqs = [e["seq"] for e in self.all]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        self.assertGreaterEqual(len(self.all), 5)

    def test_actor_filter(self):
        a1 = self.actor_id(self.a1u)
        evs = self.q(actor=a1)
        self.assertTrue(evs)
        self.assertTrue(all(e["actor"]["id"] == a1 for e in evs))
        self.assertEqual({e["target"]["id"] for e in evs if e["action"].startswith("user.")}, {self.u["id"]})
        a2 = self.actor_id(self.a2u)
        self.assertIn(self.g["id"], [e["target"]["id"] for e in self.q(actor=a2)])
        self.assertEqual(self.q(actor=h.uuid7()), [])

    def test_target_filter(self):
        evs = self.q(target=self.u["id"])
        self.assertEqual(sorted(e["action"] for e in evs), ["user.create", "user.update"])
        self.assertTrue(all(e["target"]["id"] == self.u["id"] for e in evs))
        self.assertEqual(self.q(target=h.uuid7()), [])

    def test_action_filter(self):
        evs = self.q(action="user.create")
        self.assertTrue(evs)
        self.assertTrue(all(e["action"] == "user.create" for e in evs))
        self.assertEqual(len(evs), len([e for e in self.all if e["action"] == "user.create"]))
        pre = self.q(action="user.")
        self.assertEqual({e["action"] for e in pre}, {e["action"] for e in self.all if e["action"].startswith("user.")})
        self.assertIn("user.update", {e["action"] for e in pre})
        grp = self.q(action="group.")
        self.assertEqual({e["action"] for e in grp}, {"group.create", "group.member_add"})
        self.assertEqual(self.q(action="user"), [])          # not a prefix without the dot, not an action

    def test_since_until(self):
        times = sorted({e["at"] for e in self.all})
        self.assertGreaterEqual(len(times), 2, "events did not span two seconds")
        pivot = times[-1]
        since = self.q(since=pivot)
        self.assertTrue(all(e["at"] >= pivot for e in since))
        self.assertEqual({e["id"] for e in since} - {e["id"] for e in self.all if e["at"] >= pivot}, set())
        self.assertTrue({e["id"] for e in self.all if e["at"] > pivot} <= {e["id"] for e in since})
        self.assertLess(len(since), len(self.all))
        first = times[0]
        until = self.q(until=first)
        self.assertTrue(all(e["at"] <= first for e in until))
        self.assertLess(len(until), len(self.all))
        self.assertEqual(len(self.q(since="2000-01-01T00:00:00Z")), len(self.all))
        self.assertEqual(self.q(since="2999-01-01T00:00:00Z"), [])
        self.assertEqual(self.q(until="2000-01-01T00:00:00Z"), [])
        both = self.q(since="2000-01-01T00:00:00Z", until="2999-01-01T00:00:00Z")
        self.assertEqual([e["id"] for e in both], [e["id"] for e in self.all])
        for bad in ("yesterday", "2026-13-01T00:00:00Z"):
            h.assert_problem(self.root.get(h.tpath(self.t, "audit"), params={"since": bad}), 400,
                             "request.invalid_parameter")

    def test_paging(self):
        walked = []
        params = {"limit": 2}
        for _ in range(100):
            r = h.expect(self.root.get(h.tpath(self.t, "audit"), params=params), 200)
            self.assertLessEqual(len(r.json["items"]), 2)
            walked.extend(e["id"] for e in r.json["items"])
            if not r.json["next_cursor"]:
                break
            params["cursor"] = r.json["next_cursor"]
        self.assertEqual(walked, [e["id"] for e in self.all])
        r = h.expect(self.root.get(h.tpath(self.t, "audit"), params={"limit": 2}), 200)
        bad = r.json["next_cursor"]
        bad = bad[:len(bad) // 2] + ("Z" if bad[len(bad) // 2] != "Z" else "Y") + bad[len(bad) // 2 + 1:]
        h.assert_problem(self.root.get(h.tpath(self.t, "audit"), params={"cursor": bad}), 400, "request.invalid_cursor")
        h.assert_problem(self.root.get(h.tpath(self.t, "audit"), params={"limit": 0}), 400, "request.invalid_parameter")


class SecretsTest(unittest.TestCase):
    def test_no_secret_in_audit_or_logs(self):
        root = S.root()
        t = h.new_tenant(root)
        u, admin = h.actor(S, t, "Administrator")
        made = [h.create_token(admin, t, name="s%d" % i)["secret"] for i in range(3)]
        made.append(h.create_token(root, t, user_id=u["id"])["secret"])
        for s in made:
            h.expect(S.client(s).get(h.tpath(t, "users")), 200)
        h.expect(root.delete(h.tpath(t, "tokens", h.expect(S.client(made[0]).get(h.API + "/me"), 200).json["token"]["id"])), 204)
        h.expect(S.client(made[0] + "x").get(h.API + "/me"), 401)   # a failed attempt must not log the secret either
        made.append(S.root_token)
        audit_text = json.dumps(h.audit_events(root, t)) + json.dumps(h.audit_events(root, "system"))
        logs = S.read_stdout() + "\n" + S.read_stderr()
        for s in made:
            for needle in (s, h.secret_part(s)):
                self.assertNotIn(needle, audit_text, "secret in the audit trail")
                self.assertNotIn(needle, logs, "secret in the server log")

    def test_generated_bootstrap_token_only_on_first_start_stdout(self):
        srv = h.Server(extra_env={"ROSTER_BOOTSTRAP_TOKEN": None}).start()
        try:
            out1 = srv.read_stdout()
            err1 = srv.read_stderr()
            found = h.TOKEN_RE.findall(out1)
            for tok in found:
                self.assertNotIn(h.secret_part(tok), err1, "generated token in the log (stderr)")
                h.expect(srv.client(tok).get(h.API + "/me"), 200)
            self.assertLessEqual(len(set(found)), 1)
            srv.stop()
            n_out = len(out1)
            n_err = len(srv.read_stderr())
            srv.start()
            h.expect(srv.client().get("/healthz"), 200)
            out2 = srv.read_stdout()[n_out:]
            err2 = srv.read_stderr()[n_err:]
            self.assertEqual(h.TOKEN_RE.findall(out2 + err2), [], "a secret was printed on the second start")
            for tok in found:
                h.expect(srv.client(tok).get(h.API + "/me"), 200)
                self.assertNotIn(h.secret_part(tok), out2 + err2)
            srv.stop()
        finally:
            srv.kill()


# --------------------------------------------------------------------------- tampering

def norm_id(v):
    if isinstance(v, (bytes, bytearray)) and len(v) == 16:
        return str(uuid.UUID(bytes=bytes(v)))
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if isinstance(v, str) and v.startswith("\\x") and len(v) == 34:     # bytea, as PostgreSQL prints it
        return str(uuid.UUID(hex=v[2:]))
    return str(v)


def db_key(srv, event):
    """(tenant_id as stored, seq) of the API event."""
    for tenant_id, seq, eid in h.db_query(srv, "SELECT tenant_id, seq, id FROM audit_events"):
        if norm_id(eid) == event["id"]:
            return tenant_id, int(seq)
    raise AssertionError("event %s not found in audit_events" % event["id"])


def verify(db):
    return h.run_roster("audit", "verify", "--db", db)


def seq_line(out, slug, seqs, ids=None):
    """The output line naming tenant <slug> and one of seqs (and one of ids, if given)."""
    for line in out.splitlines():
        if ("tenant " + slug) not in line:
            continue
        for s in seqs:
            if re.search(r"\bseq[\s=:#]*%d\b" % s, line):
                if ids is None or any(i in line for i in ids):
                    return line
    return None


class VerifyTest(unittest.TestCase):
    def populated(self):
        srv = h.Server().start()
        self.addCleanup(srv.kill)
        root = srv.root()
        t = h.new_tenant(root)
        for i in range(6):
            u = h.make_user(root, t, "v%d-%s" % (i, h.uid()))
            h.expect(root.patch(h.tpath(t, "users", u["id"]), json={"description": "d%d" % i}), 200)
        evs = sorted(h.audit_events(root, t), key=lambda e: e["seq"])
        self.assertGreaterEqual(len(evs), 8)
        return srv, t, evs

    def test_verify_ok(self):
        code, out, err = verify(S.db_path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("ok", out)

    def test_edited_changes_detected(self):
        srv, t, evs = self.populated()
        code, out, err = verify(srv.db_path)
        self.assertEqual(code, 0, out + err)
        victim = evs[len(evs) // 2]
        tid, seq = db_key(srv, victim)
        ((changes,),) = h.db_query(srv, "SELECT changes FROM audit_events WHERE tenant_id=? AND seq=?", (tid, seq))
        if isinstance(changes, (dict, list)):                  # a json/jsonb column on PostgreSQL
            obj = changes
        else:
            text = changes.decode() if isinstance(changes, bytes) else changes
            obj = json.loads(text) if text else {}
        obj["description"] = {"before": None, "after": "forged"}
        new = json.dumps(obj)
        n = h.db_exec(srv, "UPDATE audit_events SET changes=? WHERE tenant_id=? AND seq=?",
                      (new.encode() if isinstance(changes, bytes) else new, tid, seq), tamper=True)
        self.assertEqual(n, 1)
        code, out, err = verify(srv.db_path)
        self.assertEqual(code, 1, out + err)
        line = seq_line(out + err, t["slug"], [victim["seq"]], [victim["id"]])
        self.assertIsNotNone(line, "verify did not name tenant %s seq %d id %s:\n%s"
                             % (t["slug"], victim["seq"], victim["id"], out + err))
        srv.stop()

    def test_deleted_event_detected(self):
        srv, t, evs = self.populated()
        srv.stop()
        victim, nxt = evs[len(evs) // 2], evs[len(evs) // 2 + 1]
        tid, seq = db_key(srv, victim)
        self.assertEqual(h.db_exec(srv, "DELETE FROM audit_events WHERE tenant_id=? AND seq=?", (tid, seq),
                                   tamper=True), 1)
        code, out, err = verify(srv.db_path)
        self.assertEqual(code, 1, out + err)
        line = seq_line(out + err, t["slug"], [victim["seq"], nxt["seq"]], [victim["id"], nxt["id"]])
        self.assertIsNotNone(line, "verify did not name the gap at seq %d/%d:\n%s" % (victim["seq"], nxt["seq"], out + err))

    def test_swapped_events_detected(self):
        srv, t, evs = self.populated()
        srv.stop()
        e1, e2 = evs[len(evs) // 2], evs[len(evs) // 2 + 1]
        tid, s1 = db_key(srv, e1)
        _, s2 = db_key(srv, e2)
        ((tmp,),) = h.db_query(srv, "SELECT MAX(seq) + 1000 FROM audit_events")
        tmp = int(tmp)
        counts = h.db_exec(srv, [
            ("UPDATE audit_events SET seq=? WHERE tenant_id=? AND seq=?", (tmp, tid, s1)),
            ("UPDATE audit_events SET seq=? WHERE tenant_id=? AND seq=?", (s1, tid, s2)),
            ("UPDATE audit_events SET seq=? WHERE tenant_id=? AND seq=?", (s2, tid, tmp))], tamper=True)
        self.assertEqual(counts, [1, 1, 1])
        code, out, err = verify(srv.db_path)
        self.assertEqual(code, 1, out + err)
        line = seq_line(out + err, t["slug"], [e1["seq"], e2["seq"]], [e1["id"], e2["id"]])
        self.assertIsNotNone(line, "verify did not name the reordered events:\n%s" % (out + err))


if __name__ == "__main__":
    h.main()
