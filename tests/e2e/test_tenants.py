#!/usr/bin/env python3
"""Tenants: CRUD, slug validation, templates, system tenant, authorisation, ETag/If-Match."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
T = h.API + "/tenants"


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


TENANT_FIELDS = {"id", "slug", "name", "template", "status", "created_at", "updated_at", "version"}


class TenantCrudTest(unittest.TestCase):
    def test_create_get_list_patch_delete(self):
        root = S.root()
        slug = "acme-" + h.uid()
        r = h.expect(root.post(T, json={"slug": slug, "name": "Acme Corp", "template": "threatconnect"}), 201)
        t = r.json
        self.assertTrue(TENANT_FIELDS <= set(t), t)
        self.assertEqual(t["slug"], slug)
        self.assertEqual(t["name"], "Acme Corp")
        self.assertEqual(t["template"], "threatconnect")
        self.assertEqual(t["status"], "active")
        self.assertRegex(t["id"], h.UUID7_RE)
        self.assertRegex(t["created_at"], h.TIME_RE)
        self.assertRegex(t["updated_at"], h.TIME_RE)
        self.assertIsInstance(t["version"], int)
        loc = r.headers.get("Location")
        self.assertTrue(loc and (loc.endswith("/api/v1/tenants/" + t["id"]) or loc.endswith("/api/v1/tenants/" + slug)),
                        "Location: %r" % loc)

        by_id = h.expect(root.get(T + "/" + t["id"]), 200)
        by_slug = h.expect(root.get(T + "/" + slug), 200)
        self.assertEqual(by_id.json, t)
        self.assertEqual(by_slug.json, t)
        self.assertEqual(by_id.etag, h.etag_of(t["version"]))

        listed = root.list_all(T)
        self.assertIn(t["id"], [x["id"] for x in listed])
        self.assertIn("system", [x["slug"] for x in listed])

        p = h.expect(root.patch(T + "/" + slug, json={"name": "Acme Corporation"}), 200)
        self.assertEqual(p.json["name"], "Acme Corporation")
        self.assertEqual(p.json["slug"], slug)
        self.assertGreater(p.json["version"], t["version"])
        self.assertEqual(p.etag, h.etag_of(p.json["version"]))
        self.assertEqual(h.expect(root.get(T + "/" + t["id"]), 200).json["name"], "Acme Corporation")

        h.expect(root.delete(T + "/" + t["id"]), 204)
        h.assert_problem(root.get(T + "/" + t["id"]), 404, "tenant.not_found")
        h.assert_problem(root.get(T + "/" + slug), 404, "tenant.not_found")
        h.assert_problem(root.delete(T + "/" + t["id"]), 404, "tenant.not_found")
        self.assertNotIn(t["id"], [x["id"] for x in root.list_all(T)])
        h.assert_problem(root.get(h.tpath(slug, "users")), 404, "tenant.not_found")

    def test_default_template(self):
        t = h.expect(S.root().post(T, json={"slug": "dflt-" + h.uid(), "name": "D"}), 201).json
        self.assertEqual(t["template"], "default")
        roles = {r["name"]: r["rank"] for r in h.expect(S.root().get(h.tpath(t, "roles")), 200).json["items"]}
        for name, rank in h.TEMPLATE_ROLES["default"].items():
            self.assertEqual(roles.get(name), rank, roles)

    def test_templates_endpoint(self):
        r = h.expect(S.root().get(h.API + "/templates"), 200)
        by_name = {t["name"]: t for t in r.json["items"]}
        self.assertEqual(set(by_name), set(h.TEMPLATE_ROLES), list(by_name))
        for tname, expected in h.TEMPLATE_ROLES.items():
            roles = {x["name"]: x for x in by_name[tname]["roles"]}
            for rname, rank in expected.items():
                self.assertIn(rname, roles, "%s lacks %s" % (tname, rname))
                self.assertEqual(roles[rname]["rank"], rank, "%s/%s" % (tname, rname))
                self.assertIn(roles[rname]["scope"], ("system", "tenant"))
                self.assertIsInstance(roles[rname]["permissions"], list)
        tc = {x["name"]: x for x in by_name["threatconnect"]["roles"]}
        for rname, (scope, _rank) in h.TC_ROLES.items():
            self.assertEqual(tc[rname]["scope"], scope, rname)

    def test_every_template_creates_its_roles(self):
        for tname, expected in h.TEMPLATE_ROLES.items():
            t = h.new_tenant(S.root(), template=tname)
            roles = {x["name"]: x["rank"] for x in h.expect(S.root().get(h.tpath(t, "roles")), 200).json["items"]}
            for rname, rank in expected.items():
                self.assertEqual(roles.get(rname), rank, "%s: %s" % (tname, roles))


class TenantValidationTest(unittest.TestCase):
    def test_slug_validation(self):
        root = S.root()
        for bad in ("a", "A" + h.uid(), "-ab" + h.uid(), "ab" + h.uid() + "-", "ab_" + h.uid(),
                    "ab." + h.uid(), "a b" + h.uid(), "x" * 64, "", "ab/" + h.uid(), "ÿab"):
            r = root.post(T, json={"slug": bad, "name": "Bad"})
            h.assert_problem(r, 400, "request.invalid_field", field="slug")
        h.assert_problem(root.post(T, json={"slug": 12, "name": "Bad"}), 400, "request.invalid_field", field="slug")
        h.assert_problem(root.post(T, json={"name": "No slug"}), 400, "request.invalid_field", field="slug")

    def test_slug_edges_valid(self):
        root = S.root()
        for good in (h.uid(1), "z" * 63, "a-" + h.uid(), "0-9-" + h.uid()):
            h.expect(root.post(T, json={"slug": good, "name": "Good"}), 201)

    def test_name_validation(self):
        root = S.root()
        h.assert_problem(root.post(T, json={"slug": "n-" + h.uid(), "name": ""}), 400,
                         "request.invalid_field", field="name")
        h.assert_problem(root.post(T, json={"slug": "n-" + h.uid(), "name": "x" * 201}), 400,
                         "request.invalid_field", field="name")
        h.expect(root.post(T, json={"slug": "n-" + h.uid(), "name": "x" * 200}), 201)

    def test_duplicate_slug(self):
        root = S.root()
        t = h.new_tenant(root)
        h.assert_problem(root.post(T, json={"slug": t["slug"], "name": "Again"}), 409, "tenant.slug_taken")
        h.assert_problem(root.post(T, json={"slug": "system", "name": "Again"}), 409, "tenant.slug_taken")

    def test_unknown_template(self):
        r = S.root().post(T, json={"slug": "tpl-" + h.uid(), "name": "X", "template": "nope"})
        h.assert_problem(r, 400, "request.invalid_field", field="template")

    def test_password_policy_settings(self):
        """The password_* settings: defaults, bad values are 400 naming the field and change
        nothing, good ones are returned, null restores the default (docs/passwords.md)."""
        root = S.root()
        t = h.new_tenant(root)
        p = T + "/" + t["id"]
        self.assertEqual((t["password_min_length"], t["password_max_length"], t["password_require_classes"],
                          t["password_max_age_days"], t["password_history"]), (12, 128, 0, 0, 0))
        self.assertEqual(t["password_hash"], {"m_kib": 19456, "t": 2, "p": 1})
        for field, bad in (("password_min_length", 7), ("password_min_length", 65), ("password_min_length", "12"),
                           ("password_max_length", 63), ("password_max_length", 1025),
                           ("password_require_classes", 5), ("password_require_classes", -1),
                           ("password_max_age_days", -1), ("password_max_age_days", 3651),
                           ("password_history", 25), ("password_hash", {"m_kib": 1024}),
                           ("password_hash", {"t": 0}), ("password_hash", {"p": 9}),
                           ("password_hash", {"m_kib": 19456, "x": 1}), ("password_hash", 5),
                           ("password_hash", {"t": "2"})):
            h.assert_problem(root.patch(p, json={field: bad}), 400, "request.invalid_field", field=field)
        self.assertEqual(h.expect(root.get(p), 200).json["version"], t["version"])
        r = h.expect(root.patch(p, json={"password_min_length": 16, "password_max_length": 64,
                                         "password_require_classes": 2, "password_max_age_days": 90,
                                         "password_history": 4, "password_hash": {"m_kib": 65536, "p": 2}}), 200).json
        self.assertEqual((r["password_min_length"], r["password_max_length"], r["password_require_classes"],
                          r["password_max_age_days"], r["password_history"]), (16, 64, 2, 90, 4))
        self.assertEqual(r["password_hash"], {"m_kib": 65536, "t": 2, "p": 2})
        r = h.expect(root.patch(p, json={"password_min_length": None, "password_hash": None}), 200).json
        self.assertEqual((r["password_min_length"], r["password_history"]), (12, 4))
        self.assertEqual(r["password_hash"], {"m_kib": 19456, "t": 2, "p": 1})

    def test_patch_unknown_field(self):
        t = h.new_tenant(S.root())
        r = S.root().patch(h.tpath(t), json={"colour": "red"})
        h.assert_problem(r, 400, "request.unknown_field", field="colour")


class SystemTenantTest(unittest.TestCase):
    def test_system_tenant_cannot_be_deleted(self):
        root = S.root()
        sysj = h.expect(root.get(T + "/system"), 200).json
        h.assert_problem(root.delete(T + "/system"), 409, "tenant.system")
        h.assert_problem(root.delete(T + "/" + sysj["id"]), 409, "tenant.system")
        self.assertEqual(h.expect(root.get(T + "/system"), 200).json, sysj)
        h.expect(root.get(h.API + "/me"), 200)


class TenantAuthorisationTest(unittest.TestCase):
    def test_tenant_admin_cannot_manage_tenants(self):
        root = S.root()
        t = h.new_tenant(root)
        other = h.new_tenant(root)
        _, admin = h.actor(S, t, "Administrator")
        slug = "nope-" + h.uid()
        h.assert_problem(admin.post(T, json={"slug": slug, "name": "X"}), 403, "auth.permission_denied")
        h.assert_problem(root.get(T + "/" + slug), 404, "tenant.not_found")
        h.assert_problem(admin.delete(h.tpath(t)), 403, "auth.permission_denied")
        h.expect(root.get(h.tpath(t)), 200)

        # sees only its own tenant
        listed = admin.list_all(T)
        self.assertEqual([x["id"] for x in listed], [t["id"]])
        self.assertNotIn(other["id"], [x["id"] for x in listed])
        h.expect(admin.get(h.tpath(t)), 200)

        # Administrator holds tenant.settings
        p = h.expect(admin.patch(h.tpath(t), json={"name": "Renamed by admin"}), 200)
        self.assertEqual(p.json["name"], "Renamed by admin")

    def test_plain_user_cannot_patch_tenant(self):
        root = S.root()
        t = h.new_tenant(root)
        _, user = h.actor(S, t, "User")
        before = h.expect(root.get(h.tpath(t)), 200).json
        h.expect(user.get(h.tpath(t)), 200)
        h.assert_problem(user.patch(h.tpath(t), json={"name": "hijack"}), 403, "auth.permission_denied")
        self.assertEqual(h.expect(root.get(h.tpath(t)), 200).json, before)


class TenantPreconditionTest(unittest.TestCase):
    def test_if_match(self):
        root = S.root()
        t = h.new_tenant(root)
        r = h.expect(root.get(h.tpath(t)), 200)
        v = r.json["version"]
        p = h.expect(root.patch(h.tpath(t), json={"name": "v2"}, headers={"If-Match": h.etag_of(v)}), 200)
        v2 = p.json["version"]
        self.assertGreater(v2, v)
        # stale version
        h.assert_problem(root.patch(h.tpath(t), json={"name": "stale"}, headers={"If-Match": h.etag_of(v)}),
                         412, "request.precondition_failed")
        h.assert_problem(root.patch(h.tpath(t), json={"name": "stale"}, headers={"If-Match": '"%d"' % v}),
                         412, "request.precondition_failed")
        h.assert_problem(root.delete(h.tpath(t), headers={"If-Match": h.etag_of(v)}),
                         412, "request.precondition_failed")
        after = h.expect(root.get(h.tpath(t)), 200).json
        self.assertEqual(after["name"], "v2")
        self.assertEqual(after["version"], v2)
        # strong form, and *
        p = h.expect(root.patch(h.tpath(t), json={"name": "v3"}, headers={"If-Match": '"%d"' % v2}), 200)
        h.expect(root.patch(h.tpath(t), json={"name": "v4"}, headers={"If-Match": "*"}), 200)
        cur = h.expect(root.get(h.tpath(t)), 200).json["version"]
        h.expect(root.delete(h.tpath(t), headers={"If-Match": h.etag_of(cur)}), 204)


if __name__ == "__main__":
    h.main()
