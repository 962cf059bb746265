/* Internals shared by the delivery adapters. */
#ifndef ROSTER_DELIVERY_DELIVERY_INT_H
#define ROSTER_DELIVERY_DELIVERY_INT_H

#include "delivery/delivery.h"

struct delivery {
	struct core *c;
	char smtp_url[512], smtp_from[320], smtp_from_addr[256], smtp_user[256], smtp_password[256];
	enum smtp_tls smtp_tls;
	int64_t timeout_ms;
};

enum rs_status smtp_run(const struct job *job, void *ctx, char *err_msg, size_t cap);
enum rs_status webhook_run(const struct job *job, void *ctx, char *err_msg, size_t cap);

#endif
