/* libFuzzer target: request path decoding and route matching (src/http/path.c, router.c),
 * plus the header checks that see client bytes (request id, content type). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h_dummy(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)resp;
	(void)app;
}

static struct http_router *router(void)
{
	static struct http_router *r;
	static const char *const pats[] = {
	    "/api/v1/tenants",
	    "/api/v1/tenants/{tenant}",
	    "/api/v1/tenants/{tenant}/users",
	    "/api/v1/tenants/{tenant}/users/{id}",
	    "/api/v1/tenants/{tenant}/users/me",
	    "/api/v1/tenants/system/users/{id}",
	    "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}",
	    "/",
	};

	if (r)
		return r;
	r = http_router_new();
	if (!r)
		abort();
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		if (http_route_add(r, "GET", pats[i], 0, h_dummy, NULL, NULL) != RS_OK ||
		    http_route_add(r, "DELETE", pats[i], 0, h_dummy, NULL, NULL) != RS_OK)
			abort();
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct http_path p;
	struct http_req req;
	struct http_match m;
	struct rs_err err;
	char *s;

	arena_init(&a, 0);
	memset(&req, 0, sizeof(req));
	if (http_path_decode(&a, (const char *)data, size, &p, &err) == RS_OK) {
		if (!p.joined || p.nsegs > RS_PATH_SEGMENTS_MAX)
			abort();
		for (int i = 0; i < p.nsegs; i++) {
			if (!p.segs[i])
				abort();
		}
		http_router_match(router(), size & 1 ? "DELETE" : "GET", &p, &req, &m);
		if (m.result == HTTP_MATCH_OK && (!m.method || req.nparams > RS_PATH_SEGMENTS_MAX))
			abort();
		for (int i = 0; i < req.nparams; i++) {
			if (!req.params[i].value[0])
				abort(); /* a parameter never matches an empty segment */
		}
	}
	s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
		(void)http_request_id_valid(s);
		(void)http_content_type_is_json(s);
		free(s);
	}
	arena_release(&a);
	return 0;
}
