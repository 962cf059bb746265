#!/usr/bin/env python3
"""SCIM 2.0 (/scim/v2, RFC 7643/7644): discovery, Users (filter, sort, paging, projection, ETags,
POST/PUT/PATCH/DELETE, active through the lifecycle), SCIM errors, and the request sequence of
Microsoft Entra ID's provisioning as its SCIM tutorial describes it."""

import os
import sys
import time
import unittest

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
        self.assertFalse(j["bulk"]["supported"])
        self.assertTrue(j["filter"]["supported"])
        self.assertEqual(j["filter"]["maxResults"], 200)
        self.assertFalse(j["changePassword"]["supported"])
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
        self.assertEqual(u["emails"], [{"value": name + "@example.com", "type": "work", "primary": True}])
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
        scim_error(self, r, 400, "invalidValue")


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
        r = h.expect(self.patch(g["id"], [
            {"op": "Add", "path": "members", "value": [{"value": b}, {"value": c}]}]), 200).json
        self.assertEqual(self.member_ids(r), sorted([a, b, c]))
        r = h.expect(self.patch(g["id"], [
            {"op": "Remove", "path": 'members[value eq "%s"]' % a}]), 200).json
        self.assertEqual(self.member_ids(r), sorted([b, c]))
        r = h.expect(self.patch(g["id"], [
            {"op": "Replace", "path": "displayName", "value": "Renamed-" + g["id"][-6:]}]), 200).json
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
    """Microsoft Entra ID's provisioning sequence (learn.microsoft.com, "Tutorial: Develop and
    plan provisioning for a SCIM endpoint"): look the user up by userName, create it, read it,
    update it with PATCH "Replace", disable it with active "False", delete it."""

    def test_sequence(self):
        name = "Test_User_%s@testuser.com" % h.uid()
        r = h.expect(self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name}), 200)
        self.assertEqual(r.json["totalResults"], 0)
        self.assertEqual(r.json["Resources"], [])
        r = self.c.post(BASE + "/Users", content_type=CT, json={
            "schemas": [USER, ENT], "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": name, "active": True,
            "emails": [{"primary": True, "type": "work", "value": name}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []})
        h.expect(r, 201)
        uid = r.json["id"]
        r = h.expect(self.get_user(uid), 200).json
        self.assertEqual(r["userName"], name)
        r = h.expect(self.c.get(BASE + "/Users", params={
            "filter": 'userName eq "%s"' % name, "attributes": "userName"}), 200).json
        self.assertEqual(r["totalResults"], 1)
        r = h.expect(self.c.get(BASE + "/Users", params={
            "filter": 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'}), 200).json
        self.assertEqual(r["Resources"][0]["id"], uid)
        r = self.c.patch(BASE + "/Users/" + uid, content_type=CT, json={
            "schemas": [PATCHOP], "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]})
        h.expect(r, 200)
        self.assertEqual(r.json["emails"][0]["value"], "updatedEmail@microsoft.com")
        self.assertEqual(r.json["name"]["familyName"], "updatedFamilyName")
        r = self.c.patch(BASE + "/Users/" + uid, content_type=CT, json={
            "schemas": [PATCHOP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
        h.expect(r, 200)
        self.assertIs(r.json["active"], False)
        r = self.c.delete(BASE + "/Users/" + uid)
        self.assertEqual(r.status, 204, r.describe())
        scim_error(self, self.get_user(uid), 404)


if __name__ == "__main__":
    h.main()
