/* /api/v1/tenants/{tenant}/templates/{name}: the tenant's e-mail templates (the built-in text
 * or the tenant's override), and a test send through the outbox. */
#include "api/rest/rest_int.h"

static json_t *render_email_template(const struct email_template *t)
{
	json_t *vars = json_array();

	for (int i = 0; i < t->nvars; i++)
		json_array_append_new(vars, json_string(t->vars[i]));
	return json_pack("{s:s?,s:s?,s:s?,s:s?,s:b,s:o,s:o}", "name", t->name, "subject",
			 t->subject, "text", t->text, "html", t->html, "overridden", t->overridden,
			 "variables", vars, "updated_at", js_time(t->updated_at));
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct email_template t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (email_templates_get(c, &who, http_param(req, "tenant"), http_param(req, "name"),
				req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_email_template(&t), 0);
}

static void put(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"subject", "text", "html", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str subject, text, html;
	struct email_template_req tr;
	struct email_template t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "subject", &subject);
	jin_str_required(&j, "text", &text);
	jin_str_required(&j, "html", &html);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	tr = (struct email_template_req){subject.v, text.v, html.v};
	if (email_templates_put(c, &who, http_param(req, "tenant"), http_param(req, "name"), &tr,
				req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_email_template(&t), 0);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (email_templates_delete(c, &who, http_param(req, "tenant"), http_param(req, "name"),
				   &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void test_send(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"to", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str to;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "to", &to);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (email_templates_test(c, &who, http_param(req, "tenant"), http_param(req, "name"), to.v,
				 req->arena, &job, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/outbox/%s", job.tenant_id, job.id));
	rest_reply(req, resp, 202, render_job(&job), 0);
}

enum rs_status rest_email_templates_register(struct http_router *r, struct core *c,
					     struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/templates/{name}", get},
	    {"PUT", "/api/v1/tenants/{tenant}/templates/{name}", put},
	    {"DELETE", "/api/v1/tenants/{tenant}/templates/{name}", del},
	    {"POST", "/api/v1/tenants/{tenant}/templates/{name}/test", test_send},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
