/* libFuzzer target: the cursor decoder (cursor_decode in core/core.c). Any input must end in
 * RS_OK or RS_E_INVALID "request.invalid_cursor"; a cursor that is accepted must be exactly
 * the one cursor_encode makes for what it decoded to (no second spelling of a position), and
 * encode/decode must round-trip any sort value. The core has no store: cursors need only the
 * key. Seeds in fuzz/corpus/cursor/ were made with the key below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was encoded with this key; change both together. */
static const unsigned char fuzz_key[CORE_KEY_LEN] = "roster-fuzz-cursor-key-000000000";

static struct core *fuzz_core(void)
{
	static struct core *c;

	if (!c) {
		struct core_config cfg = {.store = NULL};
		struct rs_err err;

		memcpy(cfg.key, fuzz_key, CORE_KEY_LEN);
		if (core_new(&cfg, &c, &err) != RS_OK)
			abort();
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct core *c = fuzz_core();
	struct arena a;
	struct rs_err err;
	const char *sv = NULL, *id = NULL;
	char *s;
	enum rs_status st;

	if (size > 8192)
		return 0;
	arena_init(&a, 0);
	s = arena_strndup(&a, (const char *)data, size);
	if (!s)
		abort();
	st = cursor_decode(c, &a, s, &sv, &id, &err);
	if (st == RS_OK) {
		const char *again = cursor_encode(c, &a, sv, id);

		if (!again || strcmp(again, s) != 0 || strchr(id, '\n'))
			abort();
	} else if (st != RS_E_INVALID || strcmp(err.code, "request.invalid_cursor") != 0) {
		abort();
	}
	/* The input as a sort value (up to its first NUL) must come back unchanged. */
	if (strlen(s) < 1500) {
		const char *cur = cursor_encode(c, &a, s, "01936a4e-8c2b-7a3d-9f10-1234567890ab");

		if (!cur || cursor_decode(c, &a, cur, &sv, &id, &err) != RS_OK ||
		    strcmp(sv, s) != 0 || strcmp(id, "01936a4e-8c2b-7a3d-9f10-1234567890ab") != 0)
			abort();
	}
	arena_release(&a);
	return 0;
}
