/* The server secret: 32 random bytes in a file readable by the owner only. It keys the token
 * hashes and cursors; nodes sharing a database must share it. */
#ifndef ROSTER_APP_KEYFILE_H
#define ROSTER_APP_KEYFILE_H

#include <stdbool.h>

#include "core/core.h"
#include "util/err.h"

/* Loads the key at path, creating it (mode 0600, O_EXCL) when absent and create is true. */
enum rs_status keyfile_load(const char *path, bool create, unsigned char key[CORE_KEY_LEN],
			    struct rs_err *err);
/* mkdir -p of the directory that holds path. */
enum rs_status dir_ensure_for(const char *path, struct rs_err *err);

#endif
