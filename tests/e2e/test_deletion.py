#!/usr/bin/env python3
"""Asynchronous deletion (QRadar's model, done right): DELETE answers 202 with a task; the user
is 'deleting' and its tokens are refused from that moment; a second DELETE joins the same task;
the task transfers owned resources, drops group memberships, roles, tokens, credentials and
pending invitations, frees the seat and leaves a tombstone (id, deleted time, actor, a keyed
hash of the username), after which the user is 404 everywhere. A task that can't succeed is
FAILED with a reason, audited, and a new DELETE queues a new one."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None


def setUpModule():
    global S
    S = h.Server(extra_env={"ROSTER_JOB_POLL_MS": "50"}).start()


def tearDownModule():
    if S is not None:
        S.stop()


def tombstone(server, tenant, user_id):
    rows = h.db_query(server, "SELECT status, username, email, first_name, username_hash, "
                              "deleted_by, deleted_at, deletion_task_id FROM users "
                              "WHERE tenant_id = ? AND id = ?", (tenant["id"], user_id))
    assert len(rows) == 1, rows
    return dict(zip(("status", "username", "email", "first_name", "username_hash", "deleted_by",
                     "deleted_at", "task"), rows[0]))


class DeletionTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")

    def user(self, **fields):
        return h.make_user(self.root, self.t, "del-" + h.uid(), system_role="User", **fields)

    def test_task_lifecycle_and_tombstone(self):
        u = self.user(email="gone@example.org", first_name="Gone")
        tok = h.token_for(self.root, self.t, u["id"])
        me = S.client(tok)
        h.expect(me.get(h.API + "/me"), 200)
        g = h.expect(self.admin.post(h.tpath(self.t, "groups"), json={"name": "g-" + h.uid()}), 201).json
        h.expect(self.admin.put(h.tpath(self.t, "groups", g["id"], "members", u["id"])), 204)
        seats_before = h.expect(self.admin.get(h.tpath(self.t, "seats")), 200).json
        dept = h.expect(self.root.post(h.tpath(self.t, "departments"), json={"name": "D-" + h.uid()}), 201).json
        h.expect(self.root.put(h.tpath(self.t, "departments", dept["id"], "managers", u["id"])), 204)

        r = h.expect(self.admin.delete(h.tpath(self.t, "users", u["id"])), 202)
        task = r.json
        self.assertEqual(r.headers["Location"], "/api/v1/tenants/%s/tasks/%s" % (self.t["slug"], task["id"]))
        self.assertEqual(task["kind"], "user.delete")
        self.assertEqual(task["target_id"], u["id"])
        self.assertIn(task["status"], ("QUEUED", "PROCESSING", "COMPLETED"))
        done = h.wait_task(self.admin, self.t, task["id"])
        self.assertEqual(done["status"], "COMPLETED", done)
        self.assertIsNone(done["reason"])
        self.assertIsNotNone(done["completed_at"])

        # 404 everywhere: read, write, transitions, a second DELETE, listings, membership
        p = h.tpath(self.t, "users", u["id"])
        h.assert_problem(self.admin.get(p), 404, "user.not_found")
        h.assert_problem(self.admin.patch(p, json={"first_name": "x"}), 404, "user.not_found")
        h.assert_problem(self.admin.post(p + "/suspend", json={"reason": "r"}), 404, "user.not_found")
        h.assert_problem(self.admin.delete(p), 404, "user.not_found")
        self.assertNotIn(u["id"], [x["id"] for x in self.admin.list_all(h.tpath(self.t, "users"))])
        members = self.admin.list_all(h.tpath(self.t, "groups", g["id"], "members"))
        self.assertEqual(members, [])
        h.assert_problem(me.get(h.API + "/me"), 401, "auth.invalid_token")
        # the seat is free again
        seats = h.expect(self.admin.get(h.tpath(self.t, "seats")), 200).json
        used = {s["type"]: s["used"] for s in seats["types"]}
        used_before = {s["type"]: s["used"] for s in seats_before["types"]}
        self.assertEqual(used["standard"], used_before["standard"] - 1)
        # the task is still there to read
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "tasks", task["id"])), 200).json, done)

        # the tombstone keeps id, time, actor and a keyed hash of the username, nothing personal
        ts = tombstone(S, self.t, u["id"])
        self.assertEqual(ts["status"], "deleted")
        self.assertEqual(ts["username"], "")
        self.assertIsNone(ts["email"])
        self.assertIsNone(ts["first_name"])
        self.assertEqual(ts["deleted_by"], self.admin_user["id"])
        self.assertIsNotNone(ts["deleted_at"])
        self.assertRegex(ts["username_hash"], r"^hmac-sha256:[0-9a-f]{64}$")
        self.assertNotIn(u["username"].lower(), ts["username_hash"])
        creds = h.db_query(S, "SELECT count(*) FROM credentials WHERE tenant_id = ? AND user_id = ?",
                           (self.t["id"], u["id"]))
        self.assertEqual(creds[0][0], 0)
        for table in ("user_roles", "department_managers"):
            n = h.db_query(S, "SELECT count(*) FROM %s WHERE tenant_id = ? AND user_id = ?" % table,
                           (self.t["id"], u["id"]))
            self.assertEqual(n[0][0], 0, table)
        # the username is free for a new user, whose later tombstone hashes the same
        again = h.make_user(self.root, self.t, u["username"].upper())
        h.delete_user(self.admin, self.t, again["id"])
        self.assertEqual(tombstone(S, self.t, again["id"])["username_hash"], ts["username_hash"])

        # the audit trail (newest first) reads: request, then the task, in the requester's name
        acts = [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])]
        self.assertEqual(acts[:2], ["user.delete", "user.delete_request"])
        for e in h.audit_events(self.root, self.t, target=u["id"])[:2]:
            self.assertEqual(e["actor"]["id"], self.admin_user["id"])

    def test_refusals_change_nothing(self):
        u = self.user()
        p = h.tpath(self.t, "users", u["id"])
        before = h.expect(self.admin.get(p), 200).json
        h.assert_problem(self.admin.delete(p, headers={"If-Match": h.etag_of(before["version"] + 5)}),
                         412, "request.precondition_failed")
        h.assert_problem(self.admin.delete(p, params={"transfer_to": h.uuid7()}), 400,
                         "request.invalid_field", "transfer_to")
        h.assert_problem(self.admin.delete(h.tpath(self.t, "users", self.admin_user["id"])), 409,
                         "user.self_delete")
        _, plain = h.actor(S, self.t, "User")
        h.assert_problem(plain.delete(p), 403, "auth.permission_denied")
        h.assert_problem(self.admin.delete(h.tpath(self.t, "users", h.uuid7())), 404, "user.not_found")
        self.assertEqual(h.expect(self.admin.get(p), 200).json, before)
        # a task needs users.read to be seen; others' and unknown ids are 404
        h.assert_problem(self.admin.get(h.tpath(self.t, "tasks", h.uuid7())), 404, "task.not_found")
        h.assert_problem(self.admin.get(h.tpath(self.t, "tasks", "nope")), 404, "task.not_found")
        other = h.new_tenant(self.root)
        ou = h.make_user(self.root, other, "o-" + h.uid())
        ot = h.expect(self.root.delete(h.tpath(other, "users", ou["id"])), 202).json
        h.assert_problem(self.root.get(h.tpath(self.t, "tasks", ot["id"])), 404, "task.not_found")
        h.assert_problem(self.admin.get(h.tpath(other, "tasks", ot["id"])), 404, "tenant.not_found")
        # a job that is not a task (an outbox message) is not one
        mail = h.expect(self.root.post(h.tpath(self.t, "templates", "invitation", "test"),
                                       json={"to": "x@example.org"}), 202).json
        h.assert_problem(self.root.get(h.tpath(self.t, "tasks", mail["id"])), 404, "task.not_found")


class PendingDeletionTest(unittest.TestCase):
    """With the job runner off (jobs=off: an API-only node), the task stays QUEUED: what the
    request alone does can be seen, and what a task does when the world changed under it."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(extra_env={"ROSTER_JOBS": "off"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def restart(self, jobs):
        self.srv.stop()
        self.srv.extra_env.update({"ROSTER_JOBS": jobs, "ROSTER_JOB_POLL_MS": "50"})
        self.srv.start()
        self.root = self.srv.root()
        self.admin = self.srv.client(self.admin_tok)

    def test_pending_then_failed_then_retried(self):
        self.root = self.srv.root()
        t = h.new_tenant(self.root)
        admin_user = h.make_user(self.root, t, "adm-" + h.uid(), system_role="Administrator")
        self.admin_tok = h.token_for(self.root, t, admin_user["id"])
        self.admin = self.srv.client(self.admin_tok)
        u = h.make_user(self.root, t, "pend-" + h.uid(), system_role="User")
        heir = h.make_user(self.root, t, "heir-" + h.uid(), system_role="User")
        heir2 = h.make_user(self.root, t, "heir2-" + h.uid(), system_role="User")
        res = h.expect(self.admin.post(h.tpath(t, "resources"), json={
            "kind": "playbook", "external_id": "pb-" + h.uid(), "name": "Triage",
            "owner_id": u["id"]}), 201).json
        me = self.srv.client(h.token_for(self.root, t, u["id"]))
        h.expect(me.get(h.API + "/me"), 200)
        p = h.tpath(t, "users", u["id"])

        # without a target (and no tenant default) the request itself is refused
        j = h.assert_problem(self.admin.delete(p), 409, "user.owns_resources")
        self.assertIn("playbook", j["detail"])
        self.assertEqual(h.expect(self.admin.get(p), 200).json["status"], "active")

        first = h.expect(self.admin.delete(p, params={"transfer_to": heir["id"]}), 202).json
        self.assertEqual(first["status"], "QUEUED")
        # access ends with the request, before the task runs
        h.assert_problem(me.get(h.API + "/me"), 401, "auth.invalid_token")
        cur = h.expect(self.admin.get(p), 200).json
        self.assertEqual(cur["status"], "deleting")
        self.assertEqual(cur["deletion_task"], first["id"])
        # a second DELETE joins the same task, even with a stale If-Match
        again = h.expect(self.admin.delete(p, headers={"If-Match": h.etag_of(u["version"])}), 202).json
        self.assertEqual(again["id"], first["id"])
        # nothing else happens to a user being deleted
        h.assert_problem(self.admin.patch(p, json={"first_name": "x"}), 409, "user.deletion_pending")
        d = h.expect(self.root.post(h.tpath(t, "departments"), json={"name": "D-" + h.uid()}), 201).json
        h.assert_problem(self.root.put(h.tpath(t, "departments", d["id"], "managers", u["id"])), 409,
                         "user.deletion_pending")
        for action in ("suspend", "deactivate", "resume", "reactivate"):
            h.assert_problem(self.admin.post(p + "/" + action, json={"reason": "r"}), 409,
                             "user.invalid_transition")
        # its seat is held until the task frees it
        seats = h.expect(self.admin.get(h.tpath(t, "seats")), 200).json
        used = {s["type"]: s["used"] for s in seats["types"]}
        self.assertEqual(used["standard"], 4)

        # the target leaves before the task runs: the task fails, says why, audits it
        h.expect(self.admin.post(h.tpath(t, "users", heir["id"], "deactivate"),
                                 json={"reason": "left too", "transfer_to": heir2["id"]}), 200)
        self.restart("on")
        failed = h.wait_task(self.admin, t, first["id"])
        self.assertEqual(failed["status"], "FAILED", failed)
        self.assertIn("transfer_to", failed["reason"])
        self.assertIsNotNone(failed["completed_at"])
        cur = h.expect(self.admin.get(p), 200).json
        self.assertEqual(cur["status"], "deleting")
        owned = h.expect(self.admin.get(h.tpath(t, "resources", res["id"])), 200).json
        self.assertEqual(owned["owner_id"], u["id"])
        acts = [e["action"] for e in h.audit_events(self.root, t, target=u["id"])]
        self.assertEqual(acts[:2], ["user.delete_failed", "user.delete_request"])

        # a new DELETE after a failure queues a new task, which completes
        done = h.delete_user(self.admin, t, u["id"], transfer_to=heir2["id"])
        self.assertNotEqual(done["id"], first["id"])
        owned = h.expect(self.admin.get(h.tpath(t, "resources", res["id"])), 200).json
        self.assertEqual(owned["owner_id"], heir2["id"])
        h.assert_problem(self.admin.get(p), 404, "user.not_found")
        # the failed one stays failed
        self.assertEqual(h.expect(self.admin.get(h.tpath(t, "tasks", first["id"])), 200).json["status"],
                         "FAILED")
        self.restart("off")


if __name__ == "__main__":
    unittest.main()
