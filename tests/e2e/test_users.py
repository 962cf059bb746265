#!/usr/bin/env python3
"""Users: create/get/patch/delete, validation, preconditions, listing filters, sorting, paging."""

import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


USER_FIELDS = {"id", "tenant_id", "username", "email", "first_name", "last_name", "type", "status",
               "system_role", "roles", "groups", "department", "locale", "timezone", "description",
               "external_id", "custom_attributes", "required_actions", "locked", "idle_logout_minutes",
               "summary_mail_time", "security_profile", "created_at", "updated_at", "last_login_at",
               "last_activity_at", "version"}


def full_body(username):
    return {
        "username": username, "email": username + "@example.com", "first_name": "Alice",
        "last_name": "Anders", "type": "api", "system_role": "Super User", "roles": ["Standard User"],
        "locale": "en-GB", "timezone": "Europe/London", "description": "analyst",
        "external_id": "ext-" + username, "custom_attributes": {"badge": "42", "floor": 3},
        "required_actions": ["password_reset", "terms_of_service"], "idle_logout_minutes": 30,
        "summary_mail_time": "07:30",
    }


def raw_request(port, method, path, headers, body, timeout=20):
    """Sends a request over a raw socket, tolerating the server answering before reading it all."""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (method, path, port)
    for k, v in headers.items():
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % len(body)
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        try:
            sock.sendall(head.encode())
            for i in range(0, len(body), 65536):
                sock.sendall(body[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return data


class UserCreateTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)

    def test_create_echoes_all_fields(self):
        body = full_body("alice-" + h.uid())
        r = h.expect(self.root.post(h.tpath(self.t, "users"), json=body), 201)
        u = r.json
        self.assertTrue(USER_FIELDS <= set(u), USER_FIELDS - set(u))
        for k, v in body.items():
            if k == "system_role":
                self.assertEqual(u["system_role"]["name"], "Super User")
                self.assertEqual(u["system_role"]["rank"], 500)
                self.assertIn("id", u["system_role"])
            elif k == "roles":
                self.assertEqual([x["name"] for x in u["roles"]], ["Standard User"])
                self.assertEqual(u["roles"][0]["rank"], 300)
            elif k == "required_actions":
                self.assertEqual(sorted(u[k]), sorted(v))
            else:
                self.assertEqual(u[k], v, k)
        self.assertEqual(u["tenant_id"], self.t["id"])
        self.assertRegex(u["id"], h.UUID7_RE)
        self.assertRegex(u["created_at"], h.TIME_RE)
        self.assertRegex(u["updated_at"], h.TIME_RE)
        self.assertIs(u["locked"], False)
        self.assertEqual(u["groups"], [])
        self.assertIsInstance(u["version"], int)
        self.assertIsNone(u["last_login_at"])
        loc = r.headers.get("Location") or ""
        self.assertTrue(loc.endswith("/users/" + u["id"]), "Location: %r" % loc)
        self.assertIn("/api/v1/tenants/", loc)
        g = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200)
        self.assertEqual(g.json, u)

    def test_write_answers_equal_a_later_get(self):
        # The answer of a write is built from what was written, not read back: it must still be
        # exactly what a GET returns afterwards, groups and roles included.
        u = h.expect(self.root.post(h.tpath(self.t, "users"), json=full_body("echo-" + h.uid())), 201).json
        g = h.expect(self.root.post(h.tpath(self.t, "groups"), json={"name": "g-" + h.uid()}), 201).json
        h.expect(self.root.put(h.tpath(self.t, "groups", g["id"], "members", u["id"])), 204)
        for patch in ({"first_name": "Bea", "custom_attributes": {"floor": None, "x": {"y": 1}}},
                      {"system_role": "Accounts Administrator", "roles": ["Read Only Commenter"]},
                      {"required_actions": [], "idle_logout_minutes": None, "email": None}):
            r = h.expect(self.root.patch(h.tpath(self.t, "users", u["id"]), json=patch), 200)
            got = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200)
            self.assertEqual(r.json, got.json)
            self.assertEqual(r.headers.get("ETag"), got.headers.get("ETag"))
        self.assertEqual(got.json["groups"], [{"id": g["id"], "name": g["name"]}])
        r = h.expect(self.root.put(h.tpath(self.t, "users", u["id"], "roles"), json={"roles": []}), 200)
        self.assertEqual(r.json, h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json)

    def test_defaults_and_nulls(self):
        r = h.expect(self.root.post(h.tpath(self.t, "users"), json={"username": "min-" + h.uid()}), 201)
        u = r.json
        self.assertEqual(u["type"], "standard")
        self.assertEqual(u["system_role"]["name"], "User")
        self.assertEqual(u["roles"], [])
        self.assertEqual(u["groups"], [])
        self.assertEqual(u["custom_attributes"], {})
        self.assertEqual(u["required_actions"], [])
        self.assertIs(u["locked"], False)
        for k in ("email", "first_name", "last_name", "department", "locale", "timezone", "description",
                  "external_id", "idle_logout_minutes", "summary_mail_time", "security_profile",
                  "last_login_at"):
            self.assertIn(k, u)
            self.assertIsNone(u[k], k)

    def test_role_by_id(self):
        roles = {x["name"]: x for x in h.expect(self.root.get(h.tpath(self.t, "roles")), 200).json["items"]}
        u = h.make_user(self.root, self.t, "byid-" + h.uid(), system_role=roles["Api User"]["id"],
                        roles=[roles["Read Only Commenter"]["id"]])
        self.assertEqual(u["system_role"]["id"], roles["Api User"]["id"])
        self.assertEqual([x["id"] for x in u["roles"]], [roles["Read Only Commenter"]["id"]])

    def test_username_case_insensitive_unique(self):
        name = "Alice" + h.uid()
        h.make_user(self.root, self.t, name)
        r = self.root.post(h.tpath(self.t, "users"), json={"username": name.lower()})
        h.assert_problem(r, 409, "user.username_taken")
        r = self.root.post(h.tpath(self.t, "users"), json={"username": name.upper()})
        h.assert_problem(r, 409, "user.username_taken")
        # same name in another tenant is fine
        other = h.new_tenant(self.root)
        h.make_user(self.root, other, name.lower())
        self.assertEqual(len(self.root.list_all(h.tpath(self.t, "users"), {"username": name})), 1)

    def test_invalid_fields(self):
        p = h.tpath(self.t, "users")
        cases = [
            ({"username": "e-" + h.uid(), "email": "no-at-sign"}, "email"),
            ({"username": "e-" + h.uid(), "email": "two@@example.com"}, "email"),
            ({"username": "e-" + h.uid(), "first_name": 5}, "first_name"),
            ({"username": "e-" + h.uid(), "type": "robot"}, "type"),
            ({"username": "e-" + h.uid(), "custom_attributes": [1, 2]}, "custom_attributes"),
            ({"username": "e-" + h.uid(), "required_actions": ["dance"]}, "required_actions"),
            ({"username": "e-" + h.uid(), "summary_mail_time": "25:00"}, "summary_mail_time"),
            ({"username": "e-" + h.uid(), "idle_logout_minutes": "ten"}, "idle_logout_minutes"),
            ({"username": "has space"}, "username"),
            ({"username": "tab\tchar"}, "username"),
            ({"username": "ctl\x01char"}, "username"),
            ({"username": ""}, "username"),
            ({"username": "x" * 129}, "username"),
            ({"username": 17}, "username"),
            ({"email": "nouser@example.com"}, "username"),
            ({"username": "e-" + h.uid(), "system_role": "No Such Role"}, "system_role"),
            ({"username": "e-" + h.uid(), "system_role": "Standard User"}, "system_role"),   # tenant scope
            ({"username": "e-" + h.uid(), "roles": ["Administrator"]}, "roles"),              # system scope
        ]
        before = len(self.root.list_all(p))
        for body, field in cases:
            r = self.root.post(p, json=body)
            h.assert_problem(r, 400, "request.invalid_field", field=field)
        self.assertEqual(len(self.root.list_all(p)), before, "an invalid create changed something")
        h.expect(self.root.post(p, json={"username": "y" * 128}), 201)

    def test_malformed_json(self):
        for raw in (b'{"username": "x"', b"not json", b'{"username": "x",}', b"\xff\xfe"):
            r = self.root.post(h.tpath(self.t, "users"), raw_body=raw)
            h.assert_problem(r, 400, "request.malformed_json")

    def test_body_not_an_object(self):
        r = self.root.post(h.tpath(self.t, "users"), raw_body=b'["username"]')
        self.assertEqual(r.status, 400, r.describe())

    def test_wrong_content_type(self):
        body = json.dumps({"username": "ct-" + h.uid()}).encode()
        for ct in ("text/plain", "application/x-www-form-urlencoded"):
            r = self.root.post(h.tpath(self.t, "users"), raw_body=body, content_type=ct)
            h.assert_problem(r, 415, "request.unsupported_media_type")
        r = self.root.post(h.tpath(self.t, "users"), raw_body=body, content_type=None)
        h.assert_problem(r, 415, "request.unsupported_media_type")
        r = self.root.post(h.tpath(self.t, "users"), raw_body=body, content_type="application/json; charset=utf-8")
        h.expect(r, 201)

    def test_body_too_large(self):
        name = "big-" + h.uid()
        body = json.dumps({"username": name, "description": "x" * (1024 * 1024 + 100)}).encode()
        data = raw_request(S.port, "POST", h.tpath(self.t, "users"),
                           {"Authorization": "Bearer " + S.root_token, "Content-Type": "application/json"}, body)
        self.assertTrue(data.startswith(b"HTTP/1.1 413") or data.startswith(b"HTTP/1.0 413"), data[:300])
        self.assertIn(b"request.too_large", data)
        self.assertEqual(self.root.list_all(h.tpath(self.t, "users"), {"username": name}), [])
        # just under the limit is accepted up to the parser (description is free text)
        ok = json.dumps({"username": name, "description": "x" * 1000}).encode()
        self.assertEqual(len(self.root.list_all(h.tpath(self.t, "users"))), 0)
        h.expect(self.root.post(h.tpath(self.t, "users"), raw_body=ok), 201)


class UserUpdateTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.u = h.make_user(self.root, self.t, "bob-" + h.uid(), email="bob@example.com",
                             first_name="Bob", last_name="Builder", description="Ops",
                             custom_attributes={"a": 1, "b": 2})
        self.p = h.tpath(self.t, "users", self.u["id"])

    def test_get_has_etag(self):
        r = h.expect(self.root.get(self.p), 200)
        self.assertEqual(r.etag, h.etag_of(r.json["version"]))
        self.assertEqual(r.json, self.u)

    def test_merge_patch(self):
        r = h.expect(self.root.patch(self.p, json={"description": "SOC", "email": None, "first_name": "Robert"}), 200)
        u = r.json
        self.assertEqual(u["description"], "SOC")
        self.assertIsNone(u["email"])
        self.assertEqual(u["first_name"], "Robert")
        self.assertEqual(u["last_name"], "Builder")        # untouched
        self.assertEqual(u["username"], self.u["username"])
        self.assertEqual(u["custom_attributes"], {"a": 1, "b": 2})
        self.assertGreater(u["version"], self.u["version"])
        self.assertEqual(r.etag, h.etag_of(u["version"]))
        self.assertEqual(h.expect(self.root.get(self.p), 200).json, u)

    def test_merge_patch_nested_object(self):
        u = h.expect(self.root.patch(self.p, json={"custom_attributes": {"b": None, "c": 3}}), 200).json
        self.assertEqual(u["custom_attributes"], {"a": 1, "c": 3})

    def test_empty_patch_is_ok(self):
        u = h.expect(self.root.patch(self.p, json={}), 200).json
        self.assertEqual(u["username"], self.u["username"])

    def test_if_match(self):
        v = self.u["version"]
        for stale in (h.etag_of(v - 1 if v > 0 else v + 100), '"%d"' % (v + 100)):
            r = self.root.patch(self.p, json={"description": "stale"}, headers={"If-Match": stale})
            h.assert_problem(r, 412, "request.precondition_failed")
        self.assertEqual(h.expect(self.root.get(self.p), 200).json, self.u)
        r = h.expect(self.root.patch(self.p, json={"description": "v2"}, headers={"If-Match": h.etag_of(v)}), 200)
        v2 = r.json["version"]
        # the old version is now stale
        h.assert_problem(self.root.patch(self.p, json={"description": "v3"}, headers={"If-Match": h.etag_of(v)}),
                         412, "request.precondition_failed")
        h.assert_problem(self.root.delete(self.p, headers={"If-Match": h.etag_of(v)}),
                         412, "request.precondition_failed")
        h.assert_problem(self.root.put(self.p + "/roles", json={"system_role": "Super User", "roles": []},
                                       headers={"If-Match": h.etag_of(v)}), 412, "request.precondition_failed")
        after = h.expect(self.root.get(self.p), 200).json
        self.assertEqual(after["description"], "v2")
        self.assertEqual(after["version"], v2)
        self.assertEqual(after["system_role"]["name"], "User")
        h.expect(self.root.patch(self.p, json={"description": "v3"}, headers={"If-Match": '"%d"' % v2}), 200)
        h.expect(self.root.patch(self.p, json={"description": "v4"}, headers={"If-Match": "*"}), 200)

    def test_unknown_field(self):
        r = self.root.patch(self.p, json={"description": "X", "nickname": "bobby"})
        h.assert_problem(r, 400, "request.unknown_field", field="nickname")
        for ro in ("id", "tenant_id", "created_at"):
            r = self.root.patch(self.p, json={ro: "x"})
            self.assertEqual(r.status, 400, r.describe())
        self.assertEqual(h.expect(self.root.get(self.p), 200).json, self.u)

    def test_invalid_values(self):
        h.assert_problem(self.root.patch(self.p, json={"email": "nope"}), 400, "request.invalid_field", field="email")
        h.assert_problem(self.root.patch(self.p, json={"type": 3}), 400, "request.invalid_field", field="type")
        h.assert_problem(self.root.patch(self.p, json={"username": None}), 400, "request.invalid_field", field="username")
        h.assert_problem(self.root.patch(self.p, json={"username": "a b"}), 400, "request.invalid_field", field="username")
        h.assert_problem(self.root.patch(self.p, raw_body=b'{"email": '), 400, "request.malformed_json")
        h.assert_problem(self.root.patch(self.p, raw_body=b'{}', content_type="text/plain"),
                         415, "request.unsupported_media_type")
        self.assertEqual(h.expect(self.root.get(self.p), 200).json, self.u)

    def test_rename_collides_case_insensitively(self):
        other = h.make_user(self.root, self.t, "Carol" + h.uid())
        r = self.root.patch(self.p, json={"username": other["username"].upper()})
        h.assert_problem(r, 409, "user.username_taken")
        # renaming to a different case of one's own name is allowed
        r = h.expect(self.root.patch(self.p, json={"username": self.u["username"].upper()}), 200)
        self.assertEqual(r.json["username"], self.u["username"].upper())

    def test_delete(self):
        name = self.u["username"]
        h.delete_user(self.root, self.t, self.u["id"])
        h.assert_problem(self.root.get(self.p), 404, "user.not_found")
        h.assert_problem(self.root.patch(self.p, json={"description": "x"}), 404, "user.not_found")
        h.assert_problem(self.root.delete(self.p), 404, "user.not_found")
        self.assertNotIn(self.u["id"], [x["id"] for x in self.root.list_all(h.tpath(self.t, "users"))])
        again = h.make_user(self.root, self.t, name)
        self.assertNotEqual(again["id"], self.u["id"])

    def test_missing_user(self):
        h.assert_problem(self.root.get(h.tpath(self.t, "users", h.uuid7())), 404, "user.not_found")
        h.assert_problem(self.root.get(h.tpath(self.t, "users", "not-a-uuid")), 404, "user.not_found")


class UserListTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = S.root()
        cls.t = h.new_tenant(cls.root)
        t = cls.t
        mk = lambda n, **kw: h.make_user(cls.root, t, n, **kw)  # noqa: E731
        cls.users = {
            "alice": mk("alice", email="alice@example.com", first_name="Alice", last_name="Anders"),
            "alina": mk("alina", email="alina@corp.test", first_name="Alina", last_name="Zed"),
            "bob": mk("bob", email="bob@corp.test", first_name="Bob", last_name="Anders", type="api"),
            "carol": mk("carol", email="carol@example.com", first_name="Carol", last_name="Lin",
                        system_role="Super User"),
            "dave": mk("dave", first_name="Dave", last_name="Smith", roles=["Standard User"]),
            "erin": mk("erin", email="ERIN@Example.com", type="read_only", system_role="Read Only User"),
        }
        cls.group = h.expect(cls.root.post(h.tpath(t, "groups"), json={"name": "night-shift"}), 201).json
        for n in ("bob", "dave"):
            h.expect(cls.root.put(h.tpath(t, "groups", cls.group["id"], "members", cls.users[n]["id"])), 204)

    def names(self, **params):
        return sorted(x["username"] for x in self.root.list_all(h.tpath(self.t, "users"), params))

    def test_all(self):
        self.assertEqual(self.names(), sorted(self.users))

    def test_username_filters(self):
        self.assertEqual(self.names(username="alice"), ["alice"])
        self.assertEqual(self.names(username="ALICE"), ["alice"])
        self.assertEqual(self.names(username="ali"), [])
        self.assertEqual(self.names(username_prefix="ali"), ["alice", "alina"])
        self.assertEqual(self.names(username_prefix="AL"), ["alice", "alina"])
        self.assertEqual(self.names(username_prefix="zz"), [])

    def test_email_filters(self):
        self.assertEqual(self.names(email="bob@corp.test"), ["bob"])
        self.assertEqual(self.names(email="erin@example.com"), ["erin"])
        self.assertEqual(self.names(email="bob@corp"), [])
        self.assertEqual(self.names(email_prefix="bob@"), ["bob"])
        self.assertEqual(self.names(email_prefix="ali"), ["alice", "alina"])

    def test_name_filters(self):
        self.assertEqual(self.names(name="Anders"), ["alice", "bob"])
        self.assertEqual(self.names(name="Carol"), ["carol"])
        self.assertEqual(self.names(name="Ander"), [])
        self.assertEqual(self.names(name_prefix="Ali"), ["alice", "alina"])
        self.assertEqual(self.names(name_prefix="Sm"), ["dave"])

    def test_q_substring(self):
        self.assertEqual(self.names(q="LIN"), ["alina", "carol"])        # alina username, Carol Lin
        self.assertEqual(self.names(q="corp.te"), ["alina", "bob"])
        self.assertEqual(self.names(q="example"), ["alice", "carol", "erin"])
        self.assertEqual(self.names(q="nothing-matches"), [])

    def test_status_and_type(self):
        status = self.users["alice"]["status"]
        self.assertEqual(self.names(status=status), sorted(self.users))
        self.assertEqual(self.names(status="suspended"), [])
        self.assertEqual(self.names(type="api"), ["bob"])
        self.assertEqual(self.names(type="read_only"), ["erin"])
        self.assertEqual(self.names(type="taxii"), [])

    def test_role_filter(self):
        roles = {x["name"]: x for x in h.expect(self.root.get(h.tpath(self.t, "roles")), 200).json["items"]}
        self.assertEqual(self.names(role="Super User"), ["carol"])
        self.assertEqual(self.names(role=roles["Super User"]["id"]), ["carol"])
        self.assertEqual(self.names(role="Standard User"), ["dave"])
        self.assertEqual(self.names(role="User"), ["alice", "alina", "bob", "dave"])
        self.assertEqual(self.names(role="Administrator"), [])

    def test_group_filter(self):
        self.assertEqual(self.names(group=self.group["id"]), ["bob", "dave"])
        self.assertEqual(self.names(group="night-shift"), ["bob", "dave"])

    def test_combined_filters(self):
        self.assertEqual(self.names(q="a", type="api"), ["bob"])
        self.assertEqual(self.names(name="Anders", type="standard"), ["alice"])

    def test_sort(self):
        p = h.tpath(self.t, "users")
        asc = [x["username"] for x in h.expect(self.root.get(p, params={"sort": "username"}), 200).json["items"]]
        self.assertEqual(asc, sorted(self.users))
        desc = [x["username"] for x in h.expect(self.root.get(p, params={"sort": "-username"}), 200).json["items"]]
        self.assertEqual(desc, sorted(self.users, reverse=True))
        created = [x["id"] for x in h.expect(self.root.get(p), 200).json["items"]]
        self.assertEqual(created, [self.users[n]["id"] for n in ("alice", "alina", "bob", "carol", "dave", "erin")])
        # Ids are UUIDv7: id order is creation order, read straight from the primary key.
        by_id = [x["id"] for x in h.expect(self.root.get(p, params={"sort": "id"}), 200).json["items"]]
        self.assertEqual(by_id, created)
        by_id = [x["id"] for x in h.expect(self.root.get(p, params={"sort": "-id"}), 200).json["items"]]
        self.assertEqual(by_id, created[::-1])
        last = [x["last_name"] for x in h.expect(self.root.get(p, params={"sort": "last_name", "username_prefix": "a"}),
                                                 200).json["items"]]
        self.assertEqual(last, ["Anders", "Zed"])
        h.assert_problem(self.root.get(p, params={"sort": "password"}), 400, "request.invalid_parameter")

    def test_cursor_walk(self):
        p = h.tpath(self.t, "users")
        for sort in ("created_at", "-username", "username", "id", "-id"):
            seen = []
            params = {"limit": 2, "sort": sort}
            pages = 0
            while True:
                r = h.expect(self.root.get(p, params=params), 200)
                items = r.json["items"]
                self.assertLessEqual(len(items), 2)
                seen.extend(x["id"] for x in items)
                pages += 1
                self.assertLess(pages, 20, "paging does not terminate")
                self.assertIn("next_cursor", r.json)
                if not r.json["next_cursor"]:
                    break
                params["cursor"] = r.json["next_cursor"]
            self.assertEqual(len(seen), len(set(seen)), "an item appeared twice")
            self.assertEqual(set(seen), {u["id"] for u in self.users.values()})
            full = [x["id"] for x in h.expect(self.root.get(p, params={"sort": sort, "limit": 200}), 200).json["items"]]
            self.assertEqual(seen, full, sort)
        r = h.expect(self.root.get(p, params={"limit": 200}), 200)
        self.assertIsNone(r.json["next_cursor"])

    def test_limits(self):
        p = h.tpath(self.t, "users")
        for bad in ("0", "-1", "abc", "2.5"):
            h.assert_problem(self.root.get(p, params={"limit": bad}), 400, "request.invalid_parameter")
        r = h.expect(self.root.get(p, params={"limit": 100000}), 200)
        self.assertLessEqual(len(r.json["items"]), 200)
        self.assertEqual(len(r.json["items"]), len(self.users))
        r = h.expect(self.root.get(p, params={"limit": 1}), 200)
        self.assertEqual(len(r.json["items"]), 1)
        self.assertTrue(r.json["next_cursor"])

    def test_tampered_cursor(self):
        p = h.tpath(self.t, "users")
        r = h.expect(self.root.get(p, params={"limit": 2}), 200)
        cur = r.json["next_cursor"]
        self.assertTrue(cur)
        i = len(cur) // 2
        tampered = cur[:i] + ("B" if cur[i] != "B" else "C") + cur[i + 1:]
        h.assert_problem(self.root.get(p, params={"limit": 2, "cursor": tampered}), 400, "request.invalid_cursor")
        h.assert_problem(self.root.get(p, params={"limit": 2, "cursor": "garbage"}), 400, "request.invalid_cursor")
        h.assert_problem(self.root.get(p, params={"limit": 2, "cursor": cur[:-3]}), 400, "request.invalid_cursor")

    def test_cursor_bound_to_tenant(self):
        p = h.tpath(self.t, "users")
        cur = h.expect(self.root.get(p, params={"limit": 2}), 200).json["next_cursor"]
        other = h.new_tenant(self.root)
        for i in range(3):
            h.make_user(self.root, other, "o%d" % i)
        r = self.root.get(h.tpath(other, "users"), params={"limit": 2, "cursor": cur})
        if r.status == 200:
            self.assertFalse(set(x["id"] for x in r.json["items"]) & {u["id"] for u in self.users.values()})
        else:
            h.assert_problem(r, 400, "request.invalid_cursor")


if __name__ == "__main__":
    h.main()
