/* GET /.well-known/jwks.json: the public keys that verify roster's access tokens (the current
 * and the previous signing key), for the platforms that verify tokens themselves. Public: no
 * credential, nothing secret; cacheable for as long as a token lives, which is what makes two
 * keys enough (docs/tokens.md). */
#include "api/rest/rest_int.h"

#include <string.h>

static void jwks(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct rs_err err = {0};
	const char *json = NULL;

	if (keys_jwks(c, req->arena, &json, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	if (!http_resp_header(req, resp, "Cache-Control", "public, max-age=300")) {
		rs_fail(&err, RS_E_INTERNAL, "internal.out_of_memory", NULL, "out of memory");
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_json(resp, 200, json, strlen(json));
}

enum rs_status rest_jwks_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/.well-known/jwks.json", jwks},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
