#!/usr/bin/env python3
"""SCIM 2.0 (/scim/v2, RFC 7643/7644): discovery, Users (filter, sort, paging, projection, ETags,
POST/PUT/PATCH/DELETE, active through the lifecycle), SCIM errors, and the request sequence of
Microsoft Entra ID's provisioning as its SCIM tutorial describes it."""

import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
BASE = "/scim/v2"
CT = "application/scim+json"
ERR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PROVISIONER_PERMS = ["users.read", "users.create", "users.update", "users.suspend", "users.delete",
                     "groups.read", "groups.manage", "scim.provision"]
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def scim_error(test, resp, status, scim_type=None):
    test.assertEqual(resp.status, status, resp.describe())
    test.assertEqual(resp.content_type, CT, resp.describe())
    j = resp.json
    test.assertEqual(j["schemas"], [ERR])
    test.assertEqual(j["status"], str(status))
    test.assertIsInstance(j.get("detail"), str)
    if scim_type is None:
        test.assertNotIn("scimType", j)
    else:
        test.assertEqual(j.get("scimType"), scim_type, resp.describe())
    return j


def new_user(client, user_name, **extra):
    name = user_name
    body = {"schemas": [USER], "userName": name, "active": True,
            "name": {"givenName": "Given", "familyName": "Family"},
            "emails": [{"value": name + "@example.com", "type": "work", "primary": True}]}
    body.update(extra)
    r = client.post(BASE + "/Users", json=body, content_type=CT)
    if r.status != 201:
        raise AssertionError(r.describe())
    return r.json


class ScimBase(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "SCIM Provisioner", "scope": "system", "rank": 650,
            "permissions": PROVISIONER_PERMS}), 201)
        self.prov_user = h.make_user(self.root, self.t, "scim-" + h.uid(),
                                     system_role="SCIM Provisioner")
        self.c = S.client(h.token_for(self.root, self.t, self.prov_user["id"]))

    def get_user(self, uid, **kw):
        return self.c.get(BASE + "/Users/" + uid, **kw)

    def list_users(self, **params):
        return self.c.get(BASE + "/Users", params=params)


class DiscoveryTest(ScimBase):
    def test_service_provider_config(self):
        r = h.expect(self.c.get(BASE + "/ServiceProviderConfig"), 200)
        self.assertEqual(r.content_type, CT)
        j = r.json
        self.assertTrue(j["patch"]["supported"])
        self.assertTrue(j["bulk"]["supported"])  # test_scim_bulk.py has the rest
        self.assertTrue(j["filter"]["supported"])
        self.assertEqual(j["filter"]["maxResults"], 1000)
        self.assertTrue(j["changePassword"]["supported"])  # where the tenant takes passwords
        self.assertTrue(j["sort"]["supported"])
        self.assertTrue(j["etag"]["supported"])
        self.assertEqual(j["authenticationSchemes"][0]["type"], "oauthbearertoken")

    def test_resource_types_and_schemas(self):
        r = h.expect(self.c.get(BASE + "/ResourceTypes"), 200).json
        self.assertEqual(r["schemas"], [LIST])
        user = [x for x in r["Resources"] if x["id"] == "User"][0]
        self.assertEqual([x["endpoint"] for x in r["Resources"] if x["id"] == "Group"], ["/Groups"])
        self.assertEqual(user["endpoint"], "/Users")
        self.assertEqual(user["schemaExtensions"][0]["schema"], ENT)
        h.expect(self.c.get(BASE + "/ResourceTypes/User"), 200)
        scim_error(self, self.c.get(BASE + "/ResourceTypes/Nope"), 404)
        s = h.expect(self.c.get(BASE + "/Schemas"), 200).json
        ids = {x["id"] for x in s["Resources"]}
        self.assertIn(USER, ids)
        self.assertIn(ENT, ids)
        u = h.expect(self.c.get(BASE + "/Schemas/" + USER), 200).json
        attrs = {a["name"]: a for a in u["attributes"]}
        self.assertEqual(attrs["userName"]["uniqueness"], "server")
        self.assertTrue(attrs["userName"]["required"])
        self.assertEqual(attrs["groups"]["mutability"], "readOnly")
        self.assertEqual(attrs["password"]["returned"], "never")
        self.assertIn("subAttributes", attrs["name"])
        self.assertEqual(attrs["userName"]["caseExact"], False)
        self.assertIn("case-insensitive", attrs["userName"]["description"])
        self.assertEqual(attrs["password"]["mutability"], "writeOnly")
        self.assertEqual(attrs["emails"]["uniqueness"], "none")
        g = h.expect(self.c.get(BASE + "/Schemas/" + GROUP), 200).json
        gattrs = {a["name"]: a for a in g["attributes"]}
        self.assertEqual(gattrs["displayName"]["uniqueness"], "server")
        self.assertFalse(gattrs["displayName"]["required"])
        scim_error(self, self.c.get(BASE + "/Schemas/urn:nope"), 404)


class AuthTest(ScimBase):
    def test_missing_and_bad_token(self):
        r = self.c.get(BASE + "/Users", auth=False)
        scim_error(self, r, 401)
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        scim_error(self, S.client("rst_0000000000000000_" + "A" * 43).get(BASE + "/Users"), 401)

    def test_needs_scim_provision(self):
        _, plain = h.actor(S, self.t, "Administrator")
        # Administrator holds scim.provision in the threatconnect template; a User does not.
        _, user = h.actor(S, self.t, "User")
        scim_error(self, user.get(BASE + "/Users"), 403)
        scim_error(self, user.get(BASE + "/Me"), 403)

    def test_tenant_bound(self):
        other = h.new_tenant(self.root)
        h.expect(self.root.post(h.tpath(other, "roles"), json={
            "name": "SCIM Provisioner", "scope": "system", "rank": 650,
            "permissions": PROVISIONER_PERMS}), 201)
        ou = h.make_user(self.root, other, "scim-" + h.uid(), system_role="SCIM Provisioner")
        oc = S.client(h.token_for(self.root, other, ou["id"]))
        mine = new_user(self.c, "mine-" + h.uid())
        # A foreign id is answered exactly like a missing one (DESIGN rule 3).
        a = oc.get(BASE + "/Users/" + mine["id"])
        b = oc.get(BASE + "/Users/" + h.uuid7())
        scim_error(self, a, 404)
        self.assertEqual((a.status, a.json["detail"]), (b.status, b.json["detail"]))
        r = h.expect(oc.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % mine["userName"]}), 200)
        self.assertEqual(r.json["totalResults"], 0)


class UserCrudTest(ScimBase):
    def test_create_get_roundtrip(self):
        name = "Alice-" + h.uid()
        body = {"schemas": [USER, ENT], "userName": name, "externalId": "ext-" + name,
                "name": {"givenName": "Alice", "familyName": "Anders", "middleName": "B"},
                "displayName": "Alice A.", "title": "Analyst", "userType": "Employee",
                "locale": "en-GB", "timezone": "Europe/London", "active": True,
                "emails": [{"value": "other@example.com", "type": "home"},
                           {"value": name + "@example.com", "type": "work", "primary": True}],
                "phoneNumbers": [{"value": "+1 555", "type": "work"}],
                "password": "never-stored-Secret1",
                ENT: {"employeeNumber": "42", "costCenter": "cc"}}
        r = self.c.post(BASE + "/Users", json=body, content_type=CT)
        h.expect(r, 201)
        self.assertEqual(r.content_type, CT)
        u = r.json
        self.assertEqual(r.headers["Location"], BASE + "/Users/" + u["id"])
        self.assertEqual(r.etag, u["meta"]["version"])
        self.assertTrue(r.etag.startswith('W/"'))
        self.assertEqual(u["userName"], name)
        self.assertEqual(u["externalId"], "ext-" + name)
        self.assertEqual(u["name"]["givenName"], "Alice")
        self.assertEqual(u["name"]["middleName"], "B")
        self.assertEqual(u["displayName"], "Alice A.")
        self.assertEqual(u["title"], "Analyst")
        self.assertEqual(u["userType"], "Employee")
        # roster keeps the primary address; the list comes back as sent.
        self.assertEqual(u["emails"], [{"type": "home", "value": "other@example.com"},
                                       {"value": name + "@example.com", "type": "work", "primary": True}])
        rest = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(rest["email"], name + "@example.com")
        self.assertEqual(u["phoneNumbers"], [{"value": "+1 555", "type": "work"}])
        self.assertIs(u["active"], True)
        self.assertNotIn("password", u)
        self.assertEqual(u[ENT], {"employeeNumber": "42", "costCenter": "cc"})
        self.assertIn(ENT, u["schemas"])
        self.assertEqual(u["meta"]["resourceType"], "User")
        self.assertRegex(u["meta"]["created"], h.TIME_RE)
        g = h.expect(self.get_user(u["id"]), 200)
        self.assertEqual(g.json, u)
        # The core's own view: the same user, audited with the token as actor.
        ru = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(ru["username"], name)
        self.assertEqual(ru["email"], name + "@example.com")
        self.assertNotIn("never-stored", str(ru))
        ev = h.audit_events(self.root, self.t, target=u["id"], action="user.create")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["actor"]["id"], self.prov_user["id"])

    def test_errors(self):
        scim_error(self, self.get_user(h.uuid7()), 404)
        scim_error(self, self.get_user("not-a-uuid"), 404)
        r = self.c.post(BASE + "/Users", raw_body="{nope", content_type=CT)
        scim_error(self, r, 400, "invalidSyntax")
        scim_error(self, self.c.post(BASE + "/Users", json={"schemas": [USER]}), 400, "invalidValue")
        scim_error(self, self.c.post(BASE + "/Users", json={"userName": 5}), 400, "invalidValue")
        scim_error(self, self.c.post(BASE + "/Users", raw_body="<x/>", content_type="text/xml"), 415)

    def test_username_uniqueness(self):
        u = new_user(self.c, "dup-" + h.uid())
        r = self.c.post(BASE + "/Users", json={"userName": u["userName"].upper()}, content_type=CT)
        scim_error(self, r, 409, "uniqueness")

    def test_put_replaces(self):
        u = new_user(self.c, "put-" + h.uid(), title="Old", externalId="x1")
        body = {"schemas": [USER], "userName": u["userName"], "name": {"givenName": "New"},
                "active": True, "nickName": "nick"}
        r = h.expect(self.c.put(BASE + "/Users/" + u["id"], json=body, content_type=CT,
                                headers={"If-Match": u["meta"]["version"]}), 200)
        j = r.json
        self.assertEqual(j["name"]["givenName"], "New")
        self.assertNotIn("familyName", j["name"])
        self.assertNotIn("title", j)
        self.assertNotIn("externalId", j)
        self.assertNotIn("emails", j)
        self.assertEqual(j["nickName"], "nick")
        # The old version no longer matches.
        r = self.c.put(BASE + "/Users/" + u["id"], json=body, headers={"If-Match": u["meta"]["version"]})
        scim_error(self, r, 412)

    def test_delete_is_204_then_404(self):
        u = new_user(self.c, "del-" + h.uid())
        scim_error(self, self.c.delete(BASE + "/Users/" + u["id"], headers={"If-Match": 'W/"999"'}), 412)
        r = self.c.delete(BASE + "/Users/" + u["id"])
        self.assertEqual(r.status, 204, r.describe())
        scim_error(self, self.get_user(u["id"]), 404)
        scim_error(self, self.c.delete(BASE + "/Users/" + u["id"]), 404)
        r = h.expect(self.list_users(filter='userName eq "%s"' % u["userName"]), 200)
        self.assertEqual(r.json["totalResults"], 0)

    def test_me(self):
        r = h.expect(self.c.get(BASE + "/Me"), 200)
        self.assertEqual(r.json["id"], self.prov_user["id"])

    def test_seat_limit(self):
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"standard": 0}}), 200)
        r = self.c.post(BASE + "/Users", json={"userName": "seat-" + h.uid()}, content_type=CT)
        scim_error(self, r, 409)

    def test_rank_rule(self):
        boss = h.make_user(self.root, self.t, "boss-" + h.uid(), system_role="Administrator")
        r = self.c.patch(BASE + "/Users/" + boss["id"], json={
            "schemas": [PATCHOP], "Operations": [{"op": "replace", "path": "title", "value": "x"}]})
        scim_error(self, r, 403)
        r = self.c.delete(BASE + "/Users/" + boss["id"])
        scim_error(self, r, 403)

    def test_department(self):
        d = h.expect(self.root.post(h.tpath(self.t, "departments"), json={"name": "Research"}), 201).json
        u = new_user(self.c, "dep-" + h.uid(), **{"schemas": [USER, ENT], ENT: {"department": "research"}})
        self.assertEqual(u[ENT]["department"], "Research")
        ru = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(ru["department"]["id"], d["id"])
        r = self.c.post(BASE + "/Users", json={"userName": "dep2-" + h.uid(), ENT: {"department": "Nowhere"}})
        self.assertIn("no department is named", scim_error(self, r, 400, "invalidValue")["detail"])
        # Names are unique among siblings only: a name two departments share is refused.
        for parent in ("Lab A", "Lab B"):
            p = h.expect(self.root.post(h.tpath(self.t, "departments"), json={"name": parent}), 201).json
            h.expect(self.root.post(h.tpath(self.t, "departments"),
                                    json={"name": "Bench", "parent_id": p["id"]}), 201)
        name = "dep3-" + h.uid()
        r = self.c.post(BASE + "/Users", json={"userName": name, ENT: {"department": "bench"}})
        self.assertIn("several departments", scim_error(self, r, 400, "invalidValue")["detail"])
        self.assertEqual(self.list_users(filter='userName eq "%s"' % name).json["totalResults"], 0)


class PatchTest(ScimBase):
    def patch(self, uid, ops, **kw):
        return self.c.patch(BASE + "/Users/" + uid, json={"schemas": [PATCHOP], "Operations": ops},
                            content_type=CT, **kw)

    def test_replace_add_remove(self):
        u = new_user(self.c, "p-" + h.uid())
        r = h.expect(self.patch(u["id"], [
            {"op": "replace", "path": "name.familyName", "value": "Changed"},
            {"op": "add", "path": "title", "value": "Boss"},
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        ]), 200).json
        self.assertEqual(r["name"]["familyName"], "Changed")
        self.assertEqual(r["title"], "Boss")
        self.assertEqual(r["emails"][0]["value"], "new@example.com")
        r = h.expect(self.patch(u["id"], [{"op": "remove", "path": "title"}]), 200).json
        self.assertNotIn("title", r)
        ru = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(ru["last_name"], "Changed")
        self.assertEqual(ru["email"], "new@example.com")

    def test_errors(self):
        u = new_user(self.c, "pe-" + h.uid())
        scim_error(self, self.patch(u["id"], [{"op": "replace", "path": "id", "value": "x"}]), 400, "mutability")
        scim_error(self, self.patch(u["id"], [{"op": "add", "path": "groups", "value": [{"value": "x"}]}]), 400, "mutability")
        scim_error(self, self.patch(u["id"], [{"op": "remove"}]), 400, "noTarget")
        scim_error(self, self.patch(u["id"], [{"op": "jump", "path": "title"}]), 400, "invalidSyntax")
        scim_error(self, self.patch(u["id"], [{"op": "replace", "path": "title[", "value": "x"}]), 400, "invalidPath")
        scim_error(self, self.c.patch(BASE + "/Users/" + u["id"], json={"schemas": [PATCHOP]}), 400, "invalidSyntax")
        scim_error(self, self.patch(h.uuid7(), [{"op": "remove", "path": "title"}]), 404)
        r = self.patch(u["id"], [{"op": "replace", "path": "title", "value": "x"}], headers={"If-Match": 'W/"12345"'})
        scim_error(self, r, 412)
        r = self.patch(u["id"], [{"op": "replace", "path": "title", "value": "x"}], headers={"If-Match": u["meta"]["version"]})
        h.expect(r, 200)

    def test_active_through_lifecycle(self):
        u = new_user(self.c, "act-" + h.uid())
        r = h.expect(self.patch(u["id"], [{"op": "replace", "path": "active", "value": False}]), 200).json
        self.assertIs(r["active"], False)
        ru = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(ru["status"], "deactivated")
        ev = [e for e in h.audit_events(self.root, self.t, target=u["id"]) if "deactivate" in e["action"]]
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual(ev[0]["actor"]["id"], self.prov_user["id"])
        self.assertIn("SCIM", str(ev[0]))
        r = h.expect(self.patch(u["id"], [{"op": "replace", "value": {"active": True}}]), 200).json
        self.assertIs(r["active"], True)
        ru = h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json
        self.assertEqual(ru["status"], "active")

    def test_deactivation_revokes_tokens(self):
        u = new_user(self.c, "tok-" + h.uid())
        h.expect(self.root.patch(h.tpath(self.t, "users", u["id"]), json={"system_role": "User"}), 200)
        tok = S.client(h.token_for(self.root, self.t, u["id"]))
        h.expect(tok.get(h.tpath(self.t, "users", u["id"])), 200)
        h.expect(self.patch(u["id"], [{"op": "Replace", "path": "active", "value": "False"}]), 200)
        h.assert_problem(tok.get(h.tpath(self.t, "users", u["id"])), 401, "auth.invalid_token")


class ListTest(ScimBase):
    def setUp(self):
        super().setUp()
        self.tag = h.uid(6)
        self.users = [new_user(self.c, "%s-%d" % (self.tag, i), externalId="e-%s-%d" % (self.tag, i),
                               name={"givenName": "G%d" % i, "familyName": "F%d" % (9 - i)})
                      for i in range(5)]

    def names(self, r):
        return [x["userName"] for x in r.json["Resources"]]

    def test_filters(self):
        tag = self.tag
        r = h.expect(self.list_users(filter='userName eq "%s-2"' % tag.upper()), 200)
        self.assertEqual(r.content_type, CT)
        self.assertEqual(r.json["schemas"], [LIST])
        self.assertEqual(self.names(r), [tag + "-2"])
        self.assertEqual(r.json["totalResults"], 1)
        r = h.expect(self.list_users(filter='userName sw "%s-" and not (userName eq "%s-0")' % (tag, tag)), 200)
        self.assertEqual(sorted(self.names(r)), ["%s-%d" % (tag, i) for i in range(1, 5)])
        r = h.expect(self.list_users(filter='externalId eq "e-%s-3" or emails.value eq "%s-4@example.com"' % (tag, tag)), 200)
        self.assertEqual(sorted(self.names(r)), [tag + "-3", tag + "-4"])
        r = h.expect(self.list_users(filter='emails[type eq "work" and value co "%s-1@"]' % tag), 200)
        self.assertEqual(self.names(r), [tag + "-1"])
        r = h.expect(self.list_users(filter='name.givenName eq "G2" and userName sw "%s"' % tag), 200)
        self.assertEqual(self.names(r), [tag + "-2"])
        r = h.expect(self.list_users(filter='id eq "%s"' % self.users[0]["id"]), 200)
        self.assertEqual(self.names(r), [tag + "-0"])
        r = h.expect(self.list_users(filter='userName sw "%s" and meta.created gt "2000-01-01T00:00:00Z"' % tag), 200)
        self.assertEqual(r.json["totalResults"], 5)
        r = h.expect(self.list_users(filter='userName eq "nobody-%s"' % tag), 200)
        self.assertEqual(r.json, {"schemas": [LIST], "totalResults": 0, "startIndex": 1,
                                  "itemsPerPage": 0, "Resources": []})
        h.expect(self.patch_active(self.users[1]["id"], False), 200)
        r = h.expect(self.list_users(filter='userName sw "%s" and active eq false' % tag), 200)
        self.assertEqual(self.names(r), [tag + "-1"])
        r = h.expect(self.list_users(filter='userName sw "%s" and active eq true' % tag), 200)
        self.assertEqual(r.json["totalResults"], 4)

    def patch_active(self, uid, v):
        return self.c.patch(BASE + "/Users/" + uid, json={"schemas": [PATCHOP], "Operations": [
            {"op": "replace", "path": "active", "value": v}]})

    def test_filter_errors(self):
        j = scim_error(self, self.list_users(filter='title eq "x"'), 400, "invalidFilter")
        self.assertIn("title", j["detail"])
        scim_error(self, self.list_users(filter='userName eq'), 400, "invalidFilter")
        scim_error(self, self.list_users(filter='userName eq "x" and'), 400, "invalidFilter")
        scim_error(self, self.list_users(filter='%s:department eq "x"' % ENT), 400, "invalidFilter")
        scim_error(self, self.list_users(filter='active eq "yes"'), 400, "invalidFilter")
        scim_error(self, self.list_users(filter='meta.created gt "yesterday"'), 400, "invalidFilter")
        scim_error(self, self.list_users(sortBy="title"), 400, "invalidValue")
        scim_error(self, self.list_users(count="many"), 400, "invalidValue")

    def test_sort_page_project(self):
        tag = self.tag
        f = 'userName sw "%s-"' % tag
        r = h.expect(self.list_users(filter=f, sortBy="userName", sortOrder="descending"), 200)
        self.assertEqual(self.names(r), ["%s-%d" % (tag, i) for i in range(4, -1, -1)])
        r = h.expect(self.list_users(filter=f, sortBy="name.familyName"), 200)
        self.assertEqual(self.names(r), ["%s-%d" % (tag, i) for i in range(4, -1, -1)])
        r = h.expect(self.list_users(filter=f, sortBy="userName", startIndex=2, count=2), 200).json
        self.assertEqual(r["totalResults"], 5)
        self.assertEqual(r["startIndex"], 2)
        self.assertEqual(r["itemsPerPage"], 2)
        self.assertEqual([x["userName"] for x in r["Resources"]], [tag + "-1", tag + "-2"])
        r = h.expect(self.list_users(filter=f, count=0), 200).json
        self.assertEqual((r["totalResults"], r["Resources"]), (5, []))
        r = h.expect(self.list_users(filter=f, count=100000), 200).json
        self.assertEqual(r["itemsPerPage"], 5)
        r = h.expect(self.list_users(filter=f, attributes="userName,name.givenName"), 200).json
        self.assertEqual(set(r["Resources"][0]), {"id", "schemas", "userName", "name"})
        self.assertEqual(set(r["Resources"][0]["name"]), {"givenName"})
        r = h.expect(self.list_users(filter=f, excludedAttributes="emails,meta,id"), 200).json
        self.assertNotIn("emails", r["Resources"][0])
        self.assertNotIn("meta", r["Resources"][0])
        self.assertIn("id", r["Resources"][0])
        g = h.expect(self.get_user(self.users[0]["id"], params={"attributes": "externalId"}), 200).json
        self.assertEqual(set(g), {"id", "schemas", "externalId"})

    def test_search(self):
        tag = self.tag
        r = self.c.post(BASE + "/Users/.search", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName sw "%s-"' % tag, "sortBy": "userName", "startIndex": 4, "count": 10,
            "attributes": ["userName"]}, content_type=CT)
        h.expect(r, 200)
        self.assertEqual(self.names(r), [tag + "-3", tag + "-4"])
        self.assertEqual(r.json["totalResults"], 5)
        scim_error(self, self.c.post(BASE + "/Users/.search", json={"filter": "title pr"}), 400, "invalidFilter")


class GroupTest(ScimBase):
    def new_group(self, name, members=()):
        r = self.c.post(BASE + "/Groups", content_type=CT, json={
            "schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]})
        h.expect(r, 201)
        self.assertEqual(r.headers["Location"], BASE + "/Groups/" + r.json["id"])
        self.assertEqual(r.etag, r.json["meta"]["version"])
        return r.json

    def patch(self, gid, ops, **kw):
        return self.c.patch(BASE + "/Groups/" + gid, json={"schemas": [PATCHOP], "Operations": ops},
                            content_type=CT, **kw)

    def patched(self, gid, ops, **kw):
        """A group PATCH answers 204 with the new ETag (RFC 7644 3.5.2; Entra ID's tutorial):
        the group as it now is, read back."""
        r = self.patch(gid, ops, **kw)
        h.expect(r, 204)
        self.assertEqual(r.body, b"")
        g = h.expect(self.c.get(BASE + "/Groups/" + gid), 200)
        self.assertEqual(r.etag, g.etag)
        return g

    def member_ids(self, g):
        return sorted(m["value"] for m in g.get("members", []))

    def test_crud_and_members(self):
        a, b, c = (new_user(self.c, "gm%d-%s" % (i, h.uid()))["id"] for i in range(3))
        g = self.new_group("Analysts-" + h.uid(), [a])
        self.assertEqual(self.member_ids(g), [a])
        got = h.expect(self.c.get(BASE + "/Groups/" + g["id"]), 200).json
        self.assertEqual(got["displayName"], g["displayName"])
        # The user side shows the group (read-only).
        u = h.expect(self.c.get(BASE + "/Users/" + a), 200).json
        self.assertEqual([x["value"] for x in u["groups"]], [g["id"]])
        r = self.patched(g["id"], [
            {"op": "Add", "path": "members", "value": [{"value": b}, {"value": c}]}]).json
        self.assertEqual(self.member_ids(r), sorted([a, b, c]))
        r = self.patched(g["id"], [
            {"op": "Remove", "path": 'members[value eq "%s"]' % a}]).json
        self.assertEqual(self.member_ids(r), sorted([b, c]))
        r = self.patched(g["id"], [
            {"op": "Replace", "path": "displayName", "value": "Renamed-" + g["id"][-6:]}]).json
        self.assertEqual(r["displayName"], "Renamed-" + g["id"][-6:])
        scim_error(self, self.patch(g["id"], [{"op": "add", "path": "members", "value": [{"value": h.uuid7()}]}]),
                   400, "invalidValue")
        scim_error(self, self.patch(g["id"], [{"op": "replace", "path": "id", "value": "x"}]), 400, "mutability")
        scim_error(self, self.patch(g["id"], [{"op": "add", "path": "x y", "value": 1}]), 400, "invalidPath")
        r = h.expect(self.c.put(BASE + "/Groups/" + g["id"], json={
            "schemas": [GROUP], "displayName": "Put-" + g["id"][-6:], "members": [{"value": a}]},
            headers={"If-Match": r["meta"]["version"]}), 200).json
        self.assertEqual(self.member_ids(r), [a])
        scim_error(self, self.patch(g["id"], [{"op": "remove", "path": "members"}],
                                    headers={"If-Match": g["meta"]["version"]}), 412)
        ru = h.expect(self.root.get(h.tpath(self.t, "groups", g["id"], "members")), 200).json
        self.assertEqual([m["id"] for m in ru["items"]], [a])
        r = self.c.delete(BASE + "/Groups/" + g["id"])
        self.assertEqual(r.status, 204, r.describe())
        scim_error(self, self.c.get(BASE + "/Groups/" + g["id"]), 404)
        scim_error(self, self.c.get(BASE + "/Groups/not-an-id"), 404)

    def test_list_and_filter(self):
        names = ["G%d-%s" % (i, h.uid()) for i in range(3)]
        gs = [self.new_group(n) for n in names]
        r = h.expect(self.c.get(BASE + "/Groups", params={
            "filter": 'displayName eq "%s"' % names[1].upper(), "excludedAttributes": "members"}), 200).json
        self.assertEqual(r["totalResults"], 1)
        self.assertEqual(r["Resources"][0]["id"], gs[1]["id"])
        self.assertNotIn("members", r["Resources"][0])
        r = h.expect(self.c.get(BASE + "/Groups", params={"filter": 'displayName eq "none-x"'}), 200).json
        self.assertEqual((r["totalResults"], r["Resources"]), (0, []))
        r = h.expect(self.c.get(BASE + "/Groups", params={"filter": 'id eq "%s"' % gs[2]["id"]}), 200).json
        self.assertEqual(r["Resources"][0]["displayName"], names[2])
        r = h.expect(self.c.get(BASE + "/Groups", params={"startIndex": 2, "count": 1}), 200).json
        self.assertEqual(r["totalResults"], 3)
        self.assertEqual(r["itemsPerPage"], 1)
        self.assertEqual(r["Resources"][0]["id"], gs[1]["id"])
        scim_error(self, self.c.get(BASE + "/Groups", params={"filter": 'members.display eq "G"'}), 400, "invalidFilter")
        scim_error(self, self.c.post(BASE + "/Groups", json={"schemas": [GROUP]}), 400, "invalidValue")
        scim_error(self, self.c.post(BASE + "/Groups", json={"displayName": names[0]}), 409, "uniqueness")
        # A failing member leaves no group behind.
        scim_error(self, self.c.post(BASE + "/Groups", json={
            "displayName": "Half-" + h.uid(), "members": [{"value": h.uuid7()}]}), 400, "invalidValue")
        r = h.expect(self.c.get(BASE + "/Groups"), 200).json
        self.assertEqual(r["totalResults"], 3)


class EntraSequenceTest(ScimBase):
    """The "User Operations" of Microsoft's "Tutorial: Develop and plan provisioning for a SCIM
    endpoint in Microsoft Entra ID" (learn.microsoft.com/entra/identity/app-provisioning/
    use-scim-to-provision-users-and-groups, section "SCIM protocol requests and responses"),
    replayed in the order the tutorial lists them, each body as the tutorial shows it (ids and
    names substituted), preceded by the Test Connection lookup of a random GUID ("Integrate your
    SCIM endpoint", step "Test Connection"). Content-Type is application/scim+json, as in the
    tutorial's Examples 2 and 5. Each answer is checked against the tutorial's Response, then
    roster's own state through REST. test_scim_clients.py holds the tutorial's Group Operations,
    its Examples 1 to 6, and what roster still answers differently (ClientMismatchTest)."""

    def scim(self, method, path, body=None):
        return self.c.request(method, BASE + path, json=body, content_type=CT)

    def rest_user(self, uid):
        return h.expect(self.root.get(h.tpath(self.t, "users", uid)), 200).json

    def assert_user(self, r, status, uid=None):
        h.expect(r, status)
        self.assertEqual(r.content_type, CT)  # "The header for all the responses should be ... scim+json"
        j = r.json
        self.assertIn(USER, j["schemas"])
        self.assertIsInstance(j["id"], str)
        if uid is not None:
            self.assertEqual(j["id"], uid)
        self.assertEqual(j["meta"]["resourceType"], "User")
        self.assertRegex(j["meta"]["created"], h.TIME_RE)
        self.assertRegex(j["meta"]["lastModified"], h.TIME_RE)
        return j

    def test_sequence(self):
        tag = h.uuid7()
        name = "Test_User_%s" % tag
        mail = "Test_User_%s@testuser.com" % h.uuid7()
        ext = "0a21f0f2-" + h.uid()
        # Test Connection: a user that does not exist, by a random GUID: 200 and an empty
        # ListResponse.
        r = h.expect(self.scim("GET", "/Users?filter=" + urllib.parse.quote('userName eq "%s"' % h.uuid7())), 200)
        self.assertEqual(r.content_type, CT)
        self.assertEqual(r.json, {"schemas": [LIST], "totalResults": 0, "startIndex": 1,
                                  "itemsPerPage": 0, "Resources": []})
        # Create User: POST /Users -> 201 Created with id, externalId, meta, userName, name,
        # active, emails.
        r = self.scim("POST", "/Users", {
            "schemas": [USER, ENT],
            "externalId": ext,
            "userName": name,
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": mail}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []})
        u = self.assert_user(r, 201)
        uid = u["id"]
        self.assertEqual(r.headers["Location"], BASE + "/Users/" + uid)
        self.assertEqual(u["externalId"], ext)
        self.assertEqual(u["userName"], name)
        self.assertEqual(u["name"], {"formatted": "givenName familyName", "familyName": "familyName",
                                     "givenName": "givenName"})
        self.assertIs(u["active"], True)
        self.assertEqual(u["emails"], [{"value": mail, "type": "work", "primary": True}])
        ru = self.rest_user(uid)
        self.assertEqual((ru["username"], ru["email"], ru["first_name"], ru["last_name"], ru["status"]),
                         (name, mail, "givenName", "familyName", "active"))
        # Get User: GET /Users/{id} -> 200 with the same resource.
        g = self.assert_user(self.scim("GET", "/Users/" + uid), 200, uid)
        self.assertEqual(g, u)
        # Get User, not found -> 404 ("The detail isn't required, only status").
        scim_error(self, self.scim("GET", "/Users/5171a35d82074e068ce2"), 404)
        # Get User by query: GET /Users?filter=userName eq "..." -> a ListResponse of one.
        r = h.expect(self.scim("GET", "/Users?filter=" + urllib.parse.quote('userName eq "%s"' % name)), 200)
        self.assertEqual(r.content_type, CT)
        j = r.json
        self.assertEqual((j["schemas"], j["totalResults"], j["startIndex"]), ([LIST], 1, 1))
        self.assertEqual(j["itemsPerPage"], 1)
        self.assertEqual(j["Resources"], [g])
        # Get User by query - Zero results.
        r = h.expect(self.scim("GET", "/Users?filter=" + urllib.parse.quote('userName eq "non-existent user"')), 200)
        self.assertEqual(r.json, {"schemas": [LIST], "totalResults": 0, "startIndex": 1,
                                  "itemsPerPage": 0, "Resources": []})
        # Update User [Multi-valued properties] -> 200 with the user.
        r = self.scim("PATCH", "/Users/" + uid, {
            "schemas": [PATCHOP],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail-%s@microsoft.com" % tag},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]})
        p = self.assert_user(r, 200, uid)
        self.assertEqual(p["emails"], [{"value": "updatedEmail-%s@microsoft.com" % tag, "type": "work", "primary": True}])
        self.assertEqual((p["name"]["givenName"], p["name"]["familyName"]), ("givenName", "updatedFamilyName"))
        self.assertEqual((p["externalId"], p["userName"], p["active"]), (ext, name, True))
        ru = self.rest_user(uid)
        self.assertEqual((ru["email"], ru["last_name"]), ("updatedEmail-%s@microsoft.com" % tag, "updatedFamilyName"))
        # Update User [Single-valued properties]: userName -> 200 with the new userName.
        new_name = "5b50642d-%s@testuser.com" % tag
        r = self.scim("PATCH", "/Users/" + uid, {
            "schemas": [PATCHOP],
            "Operations": [{"op": "Replace", "path": "userName", "value": new_name}]})
        p = self.assert_user(r, 200, uid)
        self.assertEqual(p["userName"], new_name)
        self.assertEqual(self.rest_user(uid)["username"], new_name)
        # Disable User: "active" as the boolean false, Operations before schemas -> the user,
        # active false.
        r = self.scim("PATCH", "/Users/" + uid, {
            "Operations": [{"op": "Replace", "path": "active", "value": False}],
            "schemas": [PATCHOP]})
        p = self.assert_user(r, 200, uid)
        self.assertIs(p["active"], False)
        self.assertEqual(self.rest_user(uid)["status"], "deactivated")
        # "The user object should be returned in a request whether or not the user is active."
        self.assertIs(self.assert_user(self.scim("GET", "/Users/" + uid), 200, uid)["active"], False)
        r = h.expect(self.scim("GET", "/Users?filter=" + urllib.parse.quote('userName eq "%s"' % new_name)), 200)
        self.assertEqual([x["id"] for x in r.json["Resources"]], [uid])
        # Delete User -> 204 No Content; then 404 and absent from lookups.
        r = self.scim("DELETE", "/Users/" + uid)
        self.assertEqual(r.status, 204, r.describe())
        self.assertEqual(r.body, b"")
        scim_error(self, self.scim("GET", "/Users/" + uid), 404)
        r = h.expect(self.scim("GET", "/Users?filter=" + urllib.parse.quote('userName eq "%s"' % new_name)), 200)
        self.assertEqual(r.json["totalResults"], 0)
        seen = [e["action"] for e in h.audit_events(self.root, self.t, target=uid)]
        for a in ("user.create", "user.update", "user.deactivate"):
            self.assertIn(a, seen)
        for e in h.audit_events(self.root, self.t, target=uid):
            self.assertEqual(e["actor"]["id"], self.prov_user["id"], e)


if __name__ == "__main__":
    h.main()
