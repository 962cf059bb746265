/* The PostgreSQL engine's constructor, for store.c (which must not see libpq). The contract is
 * store_open()'s; cfg->path is a postgres:// or postgresql:// URI as libpq takes it, plus the
 * optional query parameter pool=N (connections per store, default 16). */
#ifndef ROSTER_STORE_PG_PG_H
#define ROSTER_STORE_PG_PG_H

#include "store/store_int.h"

enum rs_status pg_store_open(const struct store_config *cfg, struct store **out,
			     struct rs_err *err);

#endif
