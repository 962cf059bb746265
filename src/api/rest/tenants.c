/* /api/v1/tenants */
#include "api/rest/rest_int.h"

#include <string.h>

#include "util/str.h"

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"slug", "name", "template", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str slug, name, tpl;
	struct tenant_create_req q;
	struct tenant t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "slug", &slug);
	jin_str_required(&j, "name", &name);
	jin_str(&j, "template", &tpl);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q = (struct tenant_create_req){slug.v, name.v, tpl.v};
	if (tenants_create(c, &who, &q, req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(req, resp, "Location",
			 arena_printf(req->arena, "/api/v1/tenants/%s", t.id));
	rest_reply(req, resp, 201, render_tenant(&t), t.version);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct tenant_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (tenants_list(c, &who, &pg, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_tenant(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct tenant t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tenants_get(c, &who, http_param(req, "tenant"), req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_tenant(&t), t.version);
}

/* "password_hash": null, or {"m_kib", "t", "p"} (each optional, integers); false otherwise. */
static bool password_hash_in(json_t *root, struct tenant_patch *p)
{
	json_t *h = json_object_get(root, "password_hash"), *v;
	const char *key;

	if (!h)
		return true;
	p->password_hash.set = true;
	if (json_is_null(h)) {
		p->password_hash.null = true;
		return true;
	}
	if (!json_is_object(h))
		return false;
	json_object_foreach(h, key, v)
	{
		struct opt_int *o = strcmp(key, "m_kib") == 0 ? &p->password_hash.m_kib
				    : strcmp(key, "t") == 0   ? &p->password_hash.t
				    : strcmp(key, "p") == 0   ? &p->password_hash.p
							      : NULL;

		if (!o || !json_is_integer(v))
			return false;
		*o = (struct opt_int){.set = true, .v = json_integer_value(v)};
	}
	return true;
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const password_members[] = {
	    "password_min_length",   "password_max_length", "password_require_classes",
	    "password_max_age_days", "password_history",    "password_hash"};
	const char *allowed[4 + TS__COUNT + 6] = {"name", "seat_limits",
						  "default_transfer_user_id"};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct tenant_patch p = {0};
	struct tenant t;
	struct rs_err err = {0};
	json_t *limits;

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	for (int i = 0; i < TS__COUNT; i++)
		allowed[3 + i] = tenant_settings[i].name;
	for (int i = 0; i < 6; i++)
		allowed[3 + TS__COUNT + i] = password_members[i];
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &p.name);
	for (int i = 0; i < TS__COUNT; i++) {
		if (tenant_settings[i].names)
			jin_str(&j, tenant_settings[i].name, &p.settings_name[i]);
		else
			jin_int(&j, tenant_settings[i].name, &p.settings[i]);
	}
	jin_str(&j, "default_transfer_user_id", &p.default_transfer_user_id);
	jin_int(&j, "password_min_length", &p.password_min_length);
	jin_int(&j, "password_max_length", &p.password_max_length);
	jin_int(&j, "password_require_classes", &p.password_require_classes);
	jin_int(&j, "password_max_age_days", &p.password_max_age_days);
	jin_int(&j, "password_history", &p.password_history);
	if (!j.failed && !password_hash_in(j.root, &p)) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_field", "password_hash",
				 "'password_hash' must be an object with integer members m_kib, t "
				 "and p, or null");
		jin_release(&j);
		return;
	}
	limits = json_object_get(j.root, "seat_limits");
	if (limits && !j.failed) {
		const char *type;
		json_t *v;

		if (!json_is_object(limits)) {
			rest_fail_status(
			    req, resp, RS_E_INVALID, "request.invalid_field", "seat_limits",
			    "'seat_limits' must be an object of user type to number or null");
			jin_release(&j);
			return;
		}
		json_object_foreach(limits, type, v)
		{
			int i = -1;

			for (int k = 0; k < USER_TYPES; k++)
				i = strcmp(type, user_type_names[k]) == 0 ? k : i;
			if (i < 0 || !(json_is_integer(v) || json_is_null(v))) {
				rest_fail_status(
				    req, resp, RS_E_INVALID, "request.invalid_field", "seat_limits",
				    "'seat_limits' keys are standard, api, taxii, read_only; "
				    "values a number or null");
				jin_release(&j);
				return;
			}
			p.seat_limits[i].set = true;
			p.seat_limits[i].clear = json_is_null(v);
			p.seat_limits[i].max = json_is_integer(v) ? json_integer_value(v) : 0;
		}
	}
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	p.if_match = http_if_match(req);
	if (tenants_update(c, &who, http_param(req, "tenant"), &p, req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_tenant(&t), t.version);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tenants_delete(c, &who, http_param(req, "tenant"), http_if_match(req), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void seats(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct seats_report rep;
	struct rs_err err = {0};
	const char *d = http_query(req, "inactive_days");
	long long days = 30;
	json_t *types, *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (d && !str_to_ll(d, -1000000, 1000000, &days)) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_parameter",
				 "inactive_days", "'inactive_days' must be a whole number of days");
		return;
	}
	if (seats_report(c, &who, http_param(req, "tenant"), days, &pg, req->arena, &rep, &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	types = json_array();
	for (int i = 0; i < USER_TYPES; i++) {
		const struct seat_use *u = &rep.types[i];
		json_t *free_seats =
		    u->limit.set ? json_integer(u->limit.max > u->used ? u->limit.max - u->used : 0)
				 : json_null();

		json_array_append_new(
		    types,
		    json_pack("{s:s,s:I,s:o,s:o}", "type", u->type, "used", (json_int_t)u->used,
			      "limit", u->limit.set ? json_integer(u->limit.max) : json_null(),
			      "available", free_seats));
	}
	items = json_array();
	for (int i = 0; i < rep.nunused; i++)
		json_array_append_new(items, render_user(&rep.unused[i]));
	rest_reply(req, resp, 200,
		   json_pack("{s:o,s:I,s:o}", "types", types, "inactive_days",
			     (json_int_t)rep.inactive_days, "unused",
			     render_list(items, rep.next_cursor)),
		   0);
}

enum rs_status rest_tenants_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants", create},
	    {"GET", "/api/v1/tenants", list},
	    {"GET", "/api/v1/tenants/{tenant}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}", del},
	    {"GET", "/api/v1/tenants/{tenant}/seats", seats},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
