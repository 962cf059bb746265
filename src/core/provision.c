/* A user written as a whole, the way an identity provider writes one (SCIM POST, PUT, PATCH):
 * its fields, the lifecycle state "active" asks for and a synchronised password, in one
 * transaction. Either all of it happens, audited as the separate events it is made of, or
 * nothing does: a reactivation refused for want of a seat leaves the profile change undone
 * too. The password is hashed before the transaction, so the writer never waits on argon2. */
#include "core/core_int.h"

#include <string.h>

struct prov_ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	const struct user_provision *p;
	const char *hash; /* the new password's, NULL: unchanged */
	struct arena *a;
	struct user *out;
};

/* The transition that takes a user in status to the state active asks for, if any. A user
 * who is invited stays invited: only accepting the invitation activates. */
static bool transition_for(int active, const char *status, enum user_transition *t)
{
	if (active == 0 && (strcmp(status, "active") == 0 || strcmp(status, "suspended") == 0))
		*t = USER_DEACTIVATE;
	else if (active == 1 && strcmp(status, "deactivated") == 0)
		*t = USER_REACTIVATE;
	else if (active == 1 && strcmp(status, "suspended") == 0)
		*t = USER_RESUME;
	else
		return false;
	return true;
}

static enum rs_status current(struct store_tx *tx, struct prov_ctx *x, struct rs_err *err)
{
	struct tenant t;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_READ, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->p->id, x->a, x->out, NULL, err);
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, x->out, PERM_USERS_READ, err);
	if (st == RS_OK && x->p->if_match && x->p->if_match != x->out->version)
		st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			     "the user changed since version %lld", (long long)x->p->if_match);
	return st;
}

static enum rs_status provision_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct prov_ctx *x = arg;
	const struct user_provision *p = x->p;
	struct user_transition_req tr = {.reason = p->reason};
	enum rs_status st;

	if (!p->id)
		st = user_write_new(tx, x->c, x->who, x->tenant, p->f, x->a, x->out, err);
	else if (user_fields_any(p->f))
		st = user_write_update(tx, x->c, x->who, x->tenant, p->id, p->f, p->if_match, x->a,
				       x->out, err);
	else
		st = current(tx, x, err);
	if (st != RS_OK)
		return st;
	if (transition_for(p->active, x->out->status, &tr.what)) {
		if (tr.what != USER_DEACTIVATE)
			tr.reason = NULL;
		tr.if_match = x->out->version;
		st = user_transition_in(tx, x->c, x->who, x->tenant, x->out->id, &tr, x->a, x->out,
					err);
		if (st != RS_OK)
			return st;
	}
	if (!x->hash)
		return RS_OK;
	st = password_store_in(tx, x->c, x->who, x->out->tenant_id, x->out->id, x->hash, x->a, err);
	if (st == RS_OK)
		st = user_load(tx, x->out->tenant_id, x->out->id, x->a, x->out, NULL, err);
	return st;
}

enum rs_status users_provision(struct core *c, const struct actor *who, const char *tenant,
			       const struct user_provision *p, struct arena *a, struct user *out,
			       struct rs_err *err)
{
	struct prov_ctx x = {.c = c, .who = who, .tenant = tenant, .p = p, .a = a, .out = out};
	enum rs_status st;

	if (p->active < -1 || p->active > 1)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "active",
			       "'active' is true, false or absent");
	if (p->password) {
		st = password_prepare(c, who, tenant, p->id, p->f, p->password,
				      p->password_explicit, a, &x.hash, err);
		if (st != RS_OK)
			return st;
	}
	return core_write(c, provision_tx, &x, err);
}
