/* Registration of the delivery job kinds (see delivery.h). */
#include "delivery/delivery_int.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/str.h"

#define TIMEOUT_DEFAULT_MS 10000

/* The address inside "Name <addr>", or the whole text. */
static void from_address(const char *from, char *out, size_t cap)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt && gt > lt + 1 && (size_t)(gt - lt - 1) < cap) {
		memcpy(out, lt + 1, (size_t)(gt - lt - 1));
		out[gt - lt - 1] = '\0';
	} else {
		str_copy(out, cap, from);
	}
}

enum rs_status delivery_start(struct core *c, const struct delivery_config *cfg,
			      struct delivery **out, struct rs_err *err)
{
	struct delivery *d = calloc(1, sizeof(*d));
	struct job_kind_opts opts = {cfg->max_attempts, cfg->backoff_ms, 0};
	enum rs_status st;

	*out = NULL;
	if (!d)
		return rs_fail(err, RS_E_INTERNAL, "internal.out_of_memory", NULL, "out of memory");
	d->c = c;
	d->smtp_tls = cfg->smtp_tls;
	d->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : TIMEOUT_DEFAULT_MS;
	if (!str_copy(d->smtp_url, sizeof(d->smtp_url), cfg->smtp_url ? cfg->smtp_url : "") ||
	    !str_copy(d->smtp_from, sizeof(d->smtp_from),
		      cfg->smtp_from && *cfg->smtp_from ? cfg->smtp_from : "roster@localhost") ||
	    !str_copy(d->smtp_user, sizeof(d->smtp_user), cfg->smtp_user ? cfg->smtp_user : "") ||
	    !str_copy(d->smtp_password, sizeof(d->smtp_password),
		      cfg->smtp_password ? cfg->smtp_password : "")) {
		delivery_free(d);
		return rs_fail(err, RS_E_INVALID, "delivery.config", NULL,
			       "an SMTP setting is too long");
	}
	from_address(d->smtp_from, d->smtp_from_addr, sizeof(d->smtp_from_addr));
	/* The lease must outlast a whole attempt, connection set-up included. */
	opts.timeout_ms = d->timeout_ms * 2;
	st = jobs_register(c, "email", smtp_run, d, &opts, err);
	if (st == RS_OK)
		st = jobs_register(c, "webhook", webhook_run, d, &opts, err);
	if (st != RS_OK) {
		delivery_free(d);
		return st;
	}
	*out = d;
	return RS_OK;
}

void delivery_free(struct delivery *d)
{
	if (!d)
		return;
	crypto_wipe(d->smtp_password, sizeof(d->smtp_password));
	free(d);
}
