#!/usr/bin/env python3
"""The user lifecycle: suspend (with or without an end), resume, deactivate, reactivate —
allowed and refused by state and by rank, what each does to the user's tokens, and the audit."""

import datetime
import json
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


def rfc3339(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")

    def path(self, u, action=None):
        return h.tpath(self.t, "users", u["id"], action) if action else h.tpath(self.t, "users", u["id"])

    def user_with_token(self, role="User"):
        u = h.make_user(self.root, self.t, "lc-" + h.uid(), system_role=role)
        return u, S.client(h.token_for(self.root, self.t, u["id"]))

    def test_required_actions(self):
        """Seed 001's required actions: admin-settable, stored, audited, returned; a bad name
        changes nothing. (Login enforces them with the authentication issue.)"""
        u, _ = self.user_with_token()
        p = self.path(u)
        r = h.expect(self.admin.patch(p, json={"required_actions": ["terms_of_service", "password_reset"]}), 200)
        self.assertEqual(sorted(r.json["required_actions"]), ["password_reset", "terms_of_service"])
        self.assertEqual(sorted(h.expect(self.admin.get(p), 200).json["required_actions"]),
                         ["password_reset", "terms_of_service"])
        ev = h.audit_events(self.root, self.t, target=u["id"], action="user.update")[0]
        self.assertIn("required_actions", ev["changes"])
        self.assertIn("terms_of_service", str(ev["changes"]["required_actions"]["after"]))
        before = h.expect(self.admin.get(p), 200).json
        h.assert_problem(self.admin.patch(p, json={"required_actions": ["mfa_reset", "dance"]}), 400,
                         "request.invalid_field", "required_actions")
        self.assertEqual(h.expect(self.admin.get(p), 200).json, before)
        r = h.expect(self.admin.patch(p, json={"required_actions": ["mfa_reset"]}), 200)
        self.assertEqual(r.json["required_actions"], ["mfa_reset"])
        # the rank rule holds: a plain user can't set them on anyone
        _, plain = self.user_with_token()
        h.assert_problem(plain.patch(p, json={"required_actions": []}), 403, "auth.permission_denied")

    def test_suspend_and_resume(self):
        u, uc = self.user_with_token()
        h.expect(uc.get(h.API + "/me"), 200)
        r = h.expect(self.admin.post(self.path(u, "suspend"), json={"reason": "security review"}), 200)
        self.assertEqual(r.json["status"], "suspended")
        self.assertEqual(r.json["status_reason"], "security review")
        self.assertIsNone(r.json["suspended_until"])
        self.assertEqual(r.json["version"], u["version"] + 1)
        self.assertIn("ETag", r.headers)
        # the very next request with the user's token is refused
        h.assert_problem(uc.get(h.API + "/me"), 401, "auth.invalid_token")
        self.assertEqual(h.expect(self.admin.get(self.path(u)), 200).json, r.json)
        r = h.expect(self.admin.post(self.path(u, "resume")), 200)
        self.assertEqual(r.json["status"], "active")
        self.assertIsNone(r.json["status_reason"])
        # a suspension only refused the token: it works again
        h.expect(uc.get(h.API + "/me"), 200)
        actions = [e["action"] for e in h.audit_events(self.root, self.t, target=u["id"])]
        self.assertEqual(actions[:2], ["user.resume", "user.suspend"])
        ev = h.audit_events(self.root, self.t, target=u["id"], action="user.suspend")[0]
        self.assertEqual(ev["changes"]["status"], {"before": "active", "after": "suspended"})
        self.assertEqual(ev["changes"]["status_reason"]["after"], "security review")
        self.assertEqual(ev["actor"]["id"], self.admin_user["id"])

    def test_deactivate_revokes_tokens_for_good(self):
        u, uc = self.user_with_token()
        r = h.expect(self.admin.post(self.path(u, "deactivate"), json={"reason": "left the company"}),
                     200)
        self.assertEqual(r.json["status"], "deactivated")
        h.assert_problem(uc.get(h.API + "/me"), 401, "auth.invalid_token")
        toks = h.expect(self.root.get(h.tpath(self.t, "tokens"), params={"user_id": u["id"]}), 200)
        self.assertTrue(all(x["revoked_at"] for x in toks.json["items"]))
        r = h.expect(self.admin.post(self.path(u, "reactivate")), 200)
        self.assertEqual(r.json["status"], "active")
        # deactivation revoked the token: it stays dead after reactivation
        h.assert_problem(uc.get(h.API + "/me"), 401, "auth.invalid_token")
        # a suspended user can be deactivated too
        v, _ = self.user_with_token()
        h.expect(self.admin.post(self.path(v, "suspend"), json={"reason": "x"}), 200)
        h.expect(self.admin.post(self.path(v, "deactivate"), json={"reason": "y"}), 200)

    def test_transitions_that_make_no_sense(self):
        u, _ = self.user_with_token()
        before = h.expect(self.admin.get(self.path(u)), 200).json
        for action in ("resume", "reactivate"):
            h.assert_problem(self.admin.post(self.path(u, action)), 409, "user.invalid_transition")
        h.expect(self.admin.post(self.path(u, "suspend"), json={"reason": "r"}), 200)
        h.assert_problem(self.admin.post(self.path(u, "suspend"), json={"reason": "again"}), 409,
                         "user.invalid_transition")
        h.assert_problem(self.admin.post(self.path(u, "reactivate")), 409, "user.invalid_transition")
        h.expect(self.admin.post(self.path(u, "deactivate"), json={"reason": "r"}), 200)
        for action in ("suspend", "resume", "deactivate"):
            h.assert_problem(self.admin.post(self.path(u, action), json={"reason": "r"}), 409,
                             "user.invalid_transition")
        # a deleted user is gone: 404, not 409
        h.expect(self.admin.post(self.path(u, "reactivate")), 200)
        h.delete_user(self.admin, self.t, u["id"])
        h.assert_problem(self.admin.post(self.path(u, "suspend"), json={"reason": "r"}), 404,
                         "user.not_found")
        # a refused transition changes nothing and writes no audit event
        w, _ = self.user_with_token()
        n_before = len(h.audit_events(self.root, self.t, target=w["id"]))
        h.assert_problem(self.admin.post(self.path(w, "resume")), 409, "user.invalid_transition")
        self.assertEqual(len(h.audit_events(self.root, self.t, target=w["id"])), n_before)
        self.assertEqual(before["status"], "active")

    def test_bad_input(self):
        u, _ = self.user_with_token()
        p = self.path(u, "suspend")
        h.assert_problem(self.admin.post(p), 400, "request.invalid_field", field="reason")
        h.assert_problem(self.admin.post(p, json={"reason": ""}), 400, "request.invalid_field",
                         field="reason")
        h.assert_problem(self.admin.post(p, json={"reason": "x" * 501}), 400,
                         "request.invalid_field", field="reason")
        h.assert_problem(self.admin.post(p, json={"reason": "r", "until": "tomorrow"}), 400,
                         "request.invalid_field", field="until")
        h.assert_problem(self.admin.post(p, json={"reason": "r", "until": rfc3339(-60)}), 400,
                         "request.invalid_field", field="until")
        h.assert_problem(self.admin.post(p, json={"reason": "r", "extra": 1}), 400,
                         "request.unknown_field", field="extra")
        h.assert_problem(self.admin.post(p, raw_body=b"{", content_type="application/json"), 400,
                         "request.malformed_json")
        h.assert_problem(self.admin.post(self.path(u, "deactivate"),
                                         json={"reason": "r", "until": rfc3339(60)}),
                         400, "request.invalid_field", field="until")
        h.assert_problem(self.admin.post(p, json={"reason": "r"}, headers={"If-Match": 'W/"999"'}),
                         412, "request.precondition_failed")
        self.assertEqual(h.expect(self.admin.get(self.path(u)), 200).json["status"], "active")

    def test_rank_permission_self_and_isolation(self):
        admin = h.make_user(self.root, self.t, "adm-" + h.uid(), system_role="Administrator")
        _, ops = h.actor(S, self.t, "Operations Administrator")
        h.assert_problem(ops.post(self.path(admin, "suspend"), json={"reason": "r"}), 403,
                         "rank.outranked")
        _, plain = h.actor(S, self.t, "User")
        v, _ = self.user_with_token()
        h.assert_problem(plain.post(self.path(v, "suspend"), json={"reason": "r"}), 403,
                         "auth.permission_denied")
        h.assert_problem(self.admin.post(self.path(self.admin_user, "suspend"), json={"reason": "r"}),
                         409, "user.self_transition")
        other = h.new_tenant(self.root)
        _, foreign = h.actor(S, other, "Administrator")
        r = foreign.post(h.tpath(other, "users", v["id"], "suspend"), json={"reason": "r"})
        h.assert_problem(r, 404, "user.not_found")
        r = foreign.post(self.path(v, "suspend"), json={"reason": "r"})
        h.assert_problem(r, 404, "tenant.not_found")
        self.assertEqual(h.expect(self.admin.get(self.path(v)), 200).json["status"], "active")

    def test_cli(self):
        u, uc = self.user_with_token()
        base = ["--server", S.base_url, "--token", S.root_token, "--tenant", self.t["slug"], "--json"]
        rc, out, err = h.run_roster("user", "suspend", u["id"], "--reason", "cli", *base)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["status"], "suspended")
        rc, out, err = h.run_roster("user", "suspend", u["id"], "--reason", "again", *base)
        self.assertEqual(rc, 7, err)  # 409
        self.assertIn("user.invalid_transition", out + err)
        rc, out, err = h.run_roster("user", "resume", u["id"], *base)
        self.assertEqual(rc, 0, err)
        rc, out, err = h.run_roster("user", "deactivate", u["id"], *base)
        self.assertEqual(rc, 8, err)  # 400: reason required
        rc, out, err = h.run_roster("user", "deactivate", u["id"], "--reason", "gone", *base)
        self.assertEqual(rc, 0, err)
        h.assert_problem(uc.get(h.API + "/me"), 401, "auth.invalid_token")
        rc, out, err = h.run_roster("user", "reactivate", u["id"], *base)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["status"], "active")

    def test_timed_suspension_ends_by_itself(self):
        u, uc = self.user_with_token()
        until = rfc3339(2)
        r = h.expect(self.admin.post(self.path(u, "suspend"),
                                     json={"reason": "cool-off", "until": until}), 200)
        self.assertEqual(r.json["suspended_until"], until)
        h.assert_problem(uc.get(h.API + "/me"), 401, "auth.invalid_token")
        deadline = time.monotonic() + 15
        status = "suspended"
        while time.monotonic() < deadline:
            status = h.expect(self.admin.get(self.path(u)), 200).json["status"]
            if status == "active":
                break
            time.sleep(0.1)
        self.assertEqual(status, "active", "the suspension did not end by itself")
        h.expect(uc.get(h.API + "/me"), 200)
        ev = h.audit_events(self.root, self.t, target=u["id"], action="user.resume")[0]
        self.assertEqual(ev["actor"]["type"], "system")

    def test_early_resume_wins_over_the_timer(self):
        u, _ = self.user_with_token()
        h.expect(self.admin.post(self.path(u, "suspend"), json={"reason": "r", "until": rfc3339(2)}),
                 200)
        h.expect(self.admin.post(self.path(u, "resume")), 200)
        # suspended again, without an end: the first suspension's timer must not end this one
        h.expect(self.admin.post(self.path(u, "suspend"), json={"reason": "second"}), 200)
        time.sleep(3.5)
        cur = h.expect(self.admin.get(self.path(u)), 200).json
        self.assertEqual(cur["status"], "suspended")
        self.assertEqual(cur["status_reason"], "second")
        resumes = h.audit_events(self.root, self.t, target=u["id"], action="user.resume")
        self.assertEqual(len(resumes), 1, "only the early, manual resume")


if __name__ == "__main__":
    h.main()
