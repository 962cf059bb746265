/* The pure half of /scim/v2/Users (user_map.h): rendering and reading SCIM User resources. */
#include "api/scim/user_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/scim/scim_int.h"
#include "scim/patch.h"
#include "util/str.h"

/* Where the SCIM attributes that have no roster column live: two objects of the user's
 * custom_attributes, so that an identity provider reads back what it wrote. */
#define CA_CORE "scim"
#define CA_ENTERPRISE "scim_enterprise"

/* The object ca holds under key, taken over (ca is the caller's fresh parse, dropped next). */
static json_t *ca_member(const json_t *ca, const char *key)
{
	json_t *v = json_object_get(ca, key);

	return json_is_object(v) ? json_incref(v) : json_object();
}

/* roster's roles as SCIM roles: the system role (primary) and the tenant roles, by name. */
static void roles_render(json_t *o, const struct user *u)
{
	json_t *roles = json_array();

	if (u->system_role.name)
		json_array_append_new(
		    roles, json_pack("{s:s,s:s,s:s,s:b}", "value", u->system_role.name, "display",
				     u->system_role.name, "type", "system", "primary", true));
	for (int i = 0; i < u->nroles; i++)
		json_array_append_new(roles,
				      json_pack("{s:s,s:s,s:s}", "value", u->roles[i].name,
						"display", u->roles[i].name, "type", "tenant"));
	if (json_array_size(roles))
		json_object_set_new(o, "roles", roles);
	else
		json_decref(roles);
}

/* The index of the address roster keeps among emails: the primary one, else the first. */
static size_t email_pick(const json_t *emails)
{
	size_t i, pick = 0;
	json_t *e;

	json_array_foreach(emails, i, e)
	{
		if (json_is_true(scim_get(e, "primary")))
			return i;
	}
	return pick;
}

/* roster keeps one address (the column, which the REST API may change too); an identity
 * provider that sent more (other addresses, "display") gets its list back with that
 * address in its place. */
static void emails_render(json_t *o, const struct user *u)
{
	json_t *kept = json_object_get(o, "emails"), *e;

	if (!u->email) {
		json_object_del(o, "emails");
		return;
	}
	if (json_is_array(kept) && json_array_size(kept) > 0) {
		e = json_array_get(kept, email_pick(kept));
		if (json_is_object(e)) {
			json_object_set_new(e, "value", json_string(u->email));
			return;
		}
	}
	json_object_set_new(
	    o, "emails",
	    json_pack("[{s:s,s:s,s:b}]", "value", u->email, "type", "work", "primary", true));
}

json_t *scim_user_render(struct arena *a, const struct user *u)
{
	/* Most users have none: no parse for them (a page renders a thousand users). */
	bool none = !u->custom_attributes || strcmp(u->custom_attributes, "{}") == 0;
	json_t *ca = none ? NULL : json_loads(u->custom_attributes, 0, NULL);
	json_t *o = ca_member(ca, CA_CORE), *ent = ca_member(ca, CA_ENTERPRISE);
	json_t *schemas = json_pack("[s]", SCIM_URN_USER), *name, *groups = json_array();

	json_decref(ca);
	json_object_set_new(o, "schemas", schemas);
	json_object_set_new(o, "id", json_string(u->id));
	if (u->external_id)
		json_object_set_new(o, "externalId", json_string(u->external_id));
	json_object_set_new(o, "userName", json_string(u->username));
	name = json_object_get(o, "name");
	if (!json_is_object(name)) {
		name = json_object();
		json_object_set_new(o, "name", name);
	}
	if (u->first_name)
		json_object_set_new(name, "givenName", json_string(u->first_name));
	if (u->last_name)
		json_object_set_new(name, "familyName", json_string(u->last_name));
	if (!json_object_get(name, "formatted") && (u->first_name || u->last_name))
		json_object_set_new(
		    name, "formatted",
		    json_string(scim_formatted_name(a, u->first_name, u->last_name)));
	if (json_object_size(name) == 0)
		json_object_del(o, "name");
	if (!json_object_get(o, "displayName")) {
		json_t *f = json_object_get(json_object_get(o, "name"), "formatted");

		json_object_set_new(o, "displayName", f ? json_copy(f) : json_string(u->username));
	}
	emails_render(o, u);
	json_object_set_new(o, "active", json_boolean(strcmp(u->status, "active") == 0));
	if (u->locale)
		json_object_set_new(o, "locale", json_string(u->locale));
	if (u->timezone)
		json_object_set_new(o, "timezone", json_string(u->timezone));
	for (int i = 0; i < u->ngroups; i++)
		json_array_append_new(groups,
				      json_pack("{s:s,s:s,s:s}", "value", u->groups[i].id,
						"display", u->groups[i].name, "type", "direct"));
	if (json_array_size(groups))
		json_object_set_new(o, "groups", groups);
	else
		json_decref(groups);
	roles_render(o, u);
	if (u->department_name)
		json_object_set_new(ent, "department", json_string(u->department_name));
	if (u->manager_id)
		json_object_set_new(ent, "manager",
				    json_pack("{s:s,s:s,s:s?}", "value", u->manager_id, "$ref",
					      scim_user_location(a, u->manager_id), "displayName",
					      u->manager_name));
	if (json_object_size(ent)) {
		json_array_append_new(schemas, json_string(SCIM_URN_ENTERPRISE));
		json_object_set_new(o, SCIM_URN_ENTERPRISE, ent);
	} else {
		json_decref(ent);
	}
	json_object_set_new(o, "meta",
			    json_pack("{s:s,s:s,s:s,s:s,s:s}", "resourceType", "User", "created",
				      scim_time(a, u->created_at), "lastModified",
				      scim_time(a, u->updated_at), "location",
				      scim_user_location(a, u->id), "version",
				      str_weak_etag(a, u->version)));
	return o;
}

/* ---- SCIM resource -> user_fields ------------------------------------------------------- */

/* The smallest RFC 7396 merge patch turning old into new (both objects). */
static json_t *merge_diff(const json_t *old, const json_t *new)
{
	json_t *p = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)old, k, v)
	{
		if (!json_object_get(new, k))
			json_object_set_new(p, k, json_null());
	}
	json_object_foreach((json_t *)new, k, v)
	{
		json_t *ov = json_object_get(old, k);

		if (ov && json_equal(ov, v))
			continue;
		if (json_is_object(ov) && json_is_object(v))
			json_object_set_new(p, k, merge_diff(ov, v));
		else
			json_object_set(p, k, v);
	}
	return p;
}

static bool differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Sets *out to want when it differs from have (or always on create). */
static void put_str(struct opt_str *out, const char *want, const struct user *cur, const char *have)
{
	if (cur ? differs(want, have) : want != NULL) {
		out->set = true;
		out->v = want;
	}
}

/* *out is copied into a: the JSON it came from dies before the core is called. */
static bool str_of(struct arena *a, const json_t *v, const char *name, const char **out, char *why,
		   size_t cap)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		snprintf(why, cap, "'%s' must be a string", name);
		return false;
	}
	*out = arena_strdup(a, json_string_value(v));
	return *out != NULL;
}

/* Attributes mapped to roster's columns (or computed), never kept in custom_attributes. */
static const char *const mapped_attrs[] = {
    "schemas", "id",	   "meta",   "externalId", "userName", "emails", "active",
    "locale",  "timezone", "groups", "password",   "roles",    NULL,
};

static bool is_mapped(const char *k)
{
	for (int i = 0; mapped_attrs[i]; i++) {
		if (strcasecmp(mapped_attrs[i], k) == 0)
			return true;
	}
	return false;
}

/* The enterprise manager's id: a string (Entra ID), an object with "value" (RFC 7643), or
 * a list of one such object (Entra ID's path-less reference form); null or "" for none. */
static bool manager_of(struct arena *a, const json_t *v, const char **id, char *why, size_t cap)
{
	*id = NULL;
	if (json_is_array(v)) {
		if (json_array_size(v) > 1) {
			snprintf(why, cap, "a user has one manager");
			return false;
		}
		v = json_array_get(v, 0);
	}
	if (json_is_object(v))
		v = scim_get(v, "value");
	if (!v || json_is_null(v))
		return true;
	if (!str_of(a, v, "manager.value", id, why, cap))
		return false;
	if (!**id)
		*id = NULL;
	return true;
}

static bool role_held(const struct user *u, const char *ref)
{
	if (u->system_role.name && (strcasecmp(u->system_role.name, ref) == 0 ||
				    (u->system_role.id && strcmp(u->system_role.id, ref) == 0)))
		return true;
	for (int i = 0; i < u->nroles; i++) {
		if (strcasecmp(u->roles[i].name, ref) == 0 || strcmp(u->roles[i].id, ref) == 0)
			return true;
	}
	return false;
}

/* SCIM roles are roster roles named by name (or id), the system role among them: a list that
 * names exactly the roles cur holds changes nothing; an absent "roles" leaves them as they
 * are (an identity provider that does not manage roles must not strip them). */
static bool roles_map(struct arena *a, const json_t *roles, const struct user *cur,
		      struct scim_user_change *m, char *why, size_t cap)
{
	const char **refs;
	size_t i, n;
	json_t *e;
	bool same;

	if (!roles)
		return true;
	if (!json_is_array(roles) && !json_is_null(roles)) {
		snprintf(why, cap, "'roles' must be an array");
		return false;
	}
	n = json_is_array(roles) ? json_array_size(roles) : 0;
	if (!(refs = arena_alloc(a, sizeof(char *) * (n + 1))))
		return false;
	n = 0;
	json_array_foreach(roles, i, e)
	{
		const json_t *v = json_is_object(e) ? scim_get(e, "value") : e;
		bool dup = false;

		if (!json_is_string(v) || !*json_string_value(v)) {
			snprintf(why, cap, "each of 'roles' needs a role's name as its value");
			return false;
		}
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcasecmp(refs[j], json_string_value(v)) == 0;
		if (!dup && !(refs[n++] = arena_strdup(a, json_string_value(v))))
			return false;
	}
	same = cur != NULL && (size_t)cur->nroles + (cur->system_role.name ? 1 : 0) == n;
	for (i = 0; same && i < n; i++)
		same = role_held(cur, refs[i]);
	if (same || (!cur && n == 0))
		return true;
	m->f.roles_set = true;
	m->f.roles_any_scope = true;
	m->f.roles = refs;
	m->f.nroles = (int)n;
	return true;
}

bool scim_user_map(struct arena *a, const json_t *res, const struct user *cur,
		   struct scim_user_change *m, char *why, size_t cap)
{
	const struct scim_schema *core = scim_user_type()->core;
	const char *s, *k, *given, *family, *formatted, *username;
	json_t *v, *name = scim_get(res, "name"), *emails = scim_get(res, "emails");
	json_t *ent = scim_get(res, SCIM_URN_ENTERPRISE), *extra = json_object(),
	       *eextra = json_object();
	json_t *old_ca = NULL, *new_ca = NULL;
	const char *manager = NULL;
	bool ok = false;

	memset(m, 0, sizeof(*m));
	m->active = -1;
	if (!str_of(a, scim_get(res, "userName"), "userName", &s, why, cap))
		goto out;
	if (!s || !*s) {
		snprintf(why, cap, "'userName' is required");
		goto out;
	}
	put_str(&m->f.username, s, cur, cur ? cur->username : NULL);
	username = s;
	if (!str_of(a, scim_get(res, "externalId"), "externalId", &s, why, cap))
		goto out;
	put_str(&m->f.external_id, s, cur, cur ? cur->external_id : NULL);
	if (!str_of(a, scim_get(res, "locale"), "locale", &s, why, cap))
		goto out;
	put_str(&m->f.locale, s, cur, cur ? cur->locale : NULL);
	if (!str_of(a, scim_get(res, "timezone"), "timezone", &s, why, cap))
		goto out;
	put_str(&m->f.timezone, s, cur, cur ? cur->timezone : NULL);
	if (name && !json_is_null(name) && !json_is_object(name)) {
		snprintf(why, cap, "'name' must be an object");
		goto out;
	}
	if (!str_of(a, scim_get(name, "givenName"), "name.givenName", &given, why, cap))
		goto out;
	put_str(&m->f.first_name, given, cur, cur ? cur->first_name : NULL);
	if (!str_of(a, scim_get(name, "familyName"), "name.familyName", &family, why, cap))
		goto out;
	put_str(&m->f.last_name, family, cur, cur ? cur->last_name : NULL);
	formatted = scim_formatted_name(a, given, family);
	if (json_is_object(name)) {
		json_t *rest = json_object();

		json_object_foreach(name, k, v)
		{
			/* A formatted name that is what roster computes is not kept: it follows
			 * the names when they change (Entra ID replaces familyName alone). */
			if (strcasecmp(k, "formatted") == 0 && json_is_string(v) && formatted &&
			    strcmp(json_string_value(v), formatted) == 0)
				continue;
			if (strcasecmp(k, "formatted") == 0 && json_is_string(v))
				formatted = json_string_value(v);
			if (strcasecmp(k, "givenName") != 0 && strcasecmp(k, "familyName") != 0 &&
			    !json_is_null(v))
				json_object_set(rest, k, v);
		}
		if (json_object_size(rest))
			json_object_set(extra, "name", rest);
		json_decref(rest);
	}
	/* roster keeps one address: the primary one, else the first (docs/scim.md). */
	s = NULL;
	if (emails && !json_is_null(emails)) {
		size_t i;
		json_t *e, *pick, *plain = NULL;

		if (!json_is_array(emails)) {
			snprintf(why, cap, "'emails' must be an array");
			goto out;
		}
		json_array_foreach(emails, i, e)
		{
			if (!json_is_object(e)) {
				snprintf(why, cap, "each of 'emails' must be an object");
				goto out;
			}
		}
		pick = json_array_get(emails, email_pick(emails));
		if (pick && !str_of(a, scim_get(pick, "value"), "emails.value", &s, why, cap))
			goto out;
		/* Kept as sent unless it is just what roster renders for the one address. */
		if (s && !json_equal(emails, plain = json_pack("[{s:s,s:s,s:b}]", "value", s,
							       "type", "work", "primary", true)))
			json_object_set(extra, "emails", emails);
		json_decref(plain);
	}
	put_str(&m->f.email, s, cur, cur ? cur->email : NULL);
	v = scim_get(res, "active");
	if (json_is_boolean(v))
		m->active = json_is_true(v);
	else if (json_is_string(v) && (strcasecmp(json_string_value(v), "true") == 0 ||
				       strcasecmp(json_string_value(v), "false") == 0))
		m->active = strcasecmp(json_string_value(v), "true") == 0;
	else if (v && !json_is_null(v)) {
		snprintf(why, cap, "'active' must be a boolean");
		goto out;
	}
	json_object_foreach((json_t *)res, k, v)
	{
		const struct scim_attr *at;

		if (is_mapped(k) || strcasecmp(k, "name") == 0 || json_is_null(v) ||
		    strncasecmp(k, "urn:", 4) == 0)
			continue;
		/* Unknown attributes are ignored (RFC 7644 section 3.3 lets a provider drop
		 * what it does not support); readOnly ones are the server's. */
		at = scim_attr_find(core->attrs, core->nattrs, k);
		/* Likewise a displayName that is the default roster shows. */
		if (at && strcmp(at->name, "displayName") == 0 && json_is_string(v) &&
		    strcmp(json_string_value(v), formatted ? formatted : username) == 0)
			continue;
		if (at && at->mutability != SCIM_M_READ_ONLY)
			json_object_set(extra, at->name, v);
	}
	if (!roles_map(a, scim_get(res, "roles"), cur, m, why, cap))
		goto out;
	v = scim_get(res, "password");
	if (v && !json_is_null(v) && !str_of(a, v, "password", &m->password, why, cap))
		goto out;
	if (ent && !json_is_null(ent)) {
		const struct scim_schema *es = scim_ext_find(scim_user_type(), SCIM_URN_ENTERPRISE);

		if (!json_is_object(ent)) {
			snprintf(why, cap, "'%s' must be an object", SCIM_URN_ENTERPRISE);
			goto out;
		}
		json_object_foreach(ent, k, v)
		{
			const struct scim_attr *at = scim_attr_find(es->attrs, es->nattrs, k);

			if (!at || json_is_null(v))
				continue;
			if (strcmp(at->name, "department") == 0) {
				if (!str_of(a, v, "department", &m->department, why, cap))
					goto out;
				continue;
			}
			if (strcmp(at->name, "manager") == 0) {
				if (!manager_of(a, v, &manager, why, cap))
					goto out;
				continue;
			}
			json_object_set(eextra, at->name, v);
		}
	}
	put_str(&m->f.manager_id, manager, cur, cur ? cur->manager_id : NULL);
	if (cur ? differs(m->department, cur->department_name) : m->department != NULL) {
		/* Resolved to an id by the caller. */
		m->f.department_id.set = true;
	}
	old_ca = json_loads(cur && cur->custom_attributes ? cur->custom_attributes : "{}", 0, NULL);
	if (!json_is_object(old_ca)) {
		json_decref(old_ca);
		old_ca = json_object();
	}
	new_ca = json_deep_copy(old_ca);
	json_object_del(new_ca, CA_CORE);
	json_object_del(new_ca, CA_ENTERPRISE);
	if (json_object_size(extra))
		json_object_set(new_ca, CA_CORE, extra);
	if (json_object_size(eextra))
		json_object_set(new_ca, CA_ENTERPRISE, eextra);
	if (!json_equal(old_ca, new_ca)) {
		json_t *p = merge_diff(old_ca, new_ca);
		char *t = json_dumps(p, JSON_COMPACT);

		json_decref(p);
		m->f.custom_attributes.set = true;
		m->f.custom_attributes.v = t ? arena_strdup(a, t) : "{}";
		free(t);
	}
	ok = true;
out:
	json_decref(extra);
	json_decref(eextra);
	json_decref(old_ca);
	json_decref(new_ca);
	return ok;
}

/* A computed value (name.formatted, displayName) that the operations left as rendered was
 * roster's, not the provider's: dropped, so that it follows the names it came from. */
static void drop_computed(const json_t *res, json_t *patched, const struct user *cur)
{
	json_t *ca = json_loads(cur->custom_attributes ? cur->custom_attributes : "{}", 0, NULL);
	json_t *kept = json_object_get(ca, CA_CORE);
	json_t *rn = scim_get(res, "name"), *pn = scim_get(patched, "name");
	json_t *rf = scim_get(rn, "formatted"), *pf = scim_get(pn, "formatted");
	json_t *rd = scim_get(res, "displayName"), *pd = scim_get(patched, "displayName");

	if (rf && pf && json_equal(rf, pf) && !scim_get(scim_get(kept, "name"), "formatted"))
		scim_del(pn, "formatted");
	if (rd && pd && json_equal(rd, pd) && !scim_get(kept, "displayName"))
		scim_del(patched, "displayName");
	json_decref(ca);
}

enum rs_status scim_user_patch_map(struct arena *a, const struct user *cur, const json_t *body,
				   struct scim_user_change *m, struct scim_err *err)
{
	const json_t *ops = scim_get(body, "Operations");
	json_t *res, *patched = NULL;
	char why[256];
	enum rs_status st;

	if (!ops)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "a PatchOp request needs \"Operations\"");
	if (!(res = scim_user_render(a, cur)))
		return scim_fail(err, RS_E_INTERNAL, SCIM_INVALID_VALUE, 0, "out of memory");
	st = scim_patch_apply(res, ops, scim_user_type(), a, &patched, err);
	if (st == RS_OK)
		drop_computed(res, patched, cur);
	/* Only what the operations changed reaches the core: scim_user_map diffs against cur. */
	if (st == RS_OK && !scim_user_map(a, patched, cur, m, why, sizeof(why)))
		st = scim_fail(err, RS_E_INVALID, SCIM_INVALID_VALUE, 0, "%s", why);
	m->password_explicit = m->password != NULL;
	/* A PATCH that leaves active as it was must not trigger a lifecycle transition. */
	if (st == RS_OK && m->active >= 0 &&
	    json_equal(scim_get(res, "active"), scim_get(patched, "active")))
		m->active = -1;
	json_decref(res);
	json_decref(patched);
	return st;
}
