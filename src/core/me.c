/* The caller's own view: no permission is needed to see who you are. */
#include "core/core_int.h"

struct ctx {
	const struct actor *who;
	struct arena *a;
	struct me *out;
};

static enum rs_status me_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	enum rs_status st = tenant_load(tx, x->who->tenant_id, x->a, &x->out->tenant, err);

	if (st == RS_OK)
		st = user_load(tx, x->who->tenant_id, x->who->user_id, x->a, &x->out->user, NULL,
			       err);
	/* The caller's own user or tenant gone means its credential is dead: say so, as the
	 * next request (once every node's cache has heard of the deletion) will. */
	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
			       "the token is invalid, expired or revoked");
	if (st == RS_OK && x->who->token_id[0]) {
		st = token_find(tx, x->who->tenant_id, x->who->token_id, x->a, &x->out->token, err);
		x->out->has_token = st == RS_OK;
	}
	return st;
}

enum rs_status me_get(struct core *c, const struct actor *who, struct arena *a, struct me *out,
		      struct rs_err *err)
{
	struct ctx x = {who, a, out};

	memset(out, 0, sizeof(*out));
	return core_read(c, me_tx, &x, err);
}
