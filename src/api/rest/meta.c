/* /api/v1/me, /api/v1/templates and /api/v1/openapi.json */
#include "api/rest/rest_int.h"

#include <string.h>

extern const char rest_openapi_json[];

static void me(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct me m;
	struct rs_err err = {0};
	json_t *perms;

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (me_get(c, &who, req->arena, &m, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	perms = json_array();
	for (int i = 0; i < PERM__COUNT; i++) {
		if (who.perms & PERM_BIT(i))
			json_array_append_new(perms, json_string(perm_name((enum perm)i)));
	}
	rest_reply(req, resp, 200,
		   json_pack("{s:o,s:o,s:o,s:o,s:i,s:b}", "tenant", render_tenant(&m.tenant),
			     "user", render_user(&m.user), "token",
			     m.has_token ? render_token(&m.token) : json_null(), "permissions",
			     perms, "rank", who.rank, "platform", who.platform),
		   0);
}

static void templates(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	const struct role_template *t;
	json_t *items;
	int n;

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	t = templates_all(&n);
	items = json_array();
	for (int i = 0; i < n; i++) {
		json_t *roles = json_array();

		for (int k = 0; k < t[i].nroles; k++) {
			const struct template_role *r = &t[i].roles[k];
			json_t *perms = json_array();

			for (const enum perm *p = r->perms; *p != PERM__COUNT; p++)
				json_array_append_new(perms, json_string(perm_name(*p)));
			json_array_append_new(roles, json_pack("{s:s,s:s,s:i,s:o,s:b}", "name",
							       r->name, "scope", r->scope, "rank",
							       r->rank, "permissions", perms,
							       "default", r->is_default));
		}
		json_array_append_new(items,
				      json_pack("{s:s,s:s,s:o}", "name", t[i].name, "description",
						t[i].description, "roles", roles));
	}
	rest_reply(req, resp, 200, render_list(items, NULL), 0);
}

static void openapi(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)app;
	http_resp_json(resp, 200, rest_openapi_json, strlen(rest_openapi_json));
}

enum rs_status rest_meta_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/me", me},
	    {"GET", "/api/v1/templates", templates},
	    {"GET", "/api/v1/openapi.json", openapi},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
