/* libFuzzer target: the config file parser (config_parse_file_text) and the size parser.
 * Any input must end in RS_OK or a clean error; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct rs_err err;
	char *s;
	size_t v;

	config_defaults(&cfg);
	/* The parser takes a length: no NUL terminator, so overreads show up. */
	if (config_parse_file_text(&cfg, (const char *)data, size, &err) == RS_OK) {
		if (cfg.threads < 1 || cfg.threads > CONFIG_THREADS_MAX || cfg.body_max < 1 ||
		    cfg.body_max > CONFIG_BODY_MAX_LIMIT || cfg.sync < 0 || cfg.sync > 2 ||
		    !config_listen_valid(cfg.listen))
			abort();
	}
	if (size < 64) {
		s = malloc(size + 1);
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		if (config_parse_size(s, &v) && (v < 1 || v > CONFIG_BODY_MAX_LIMIT))
			abort();
		(void)config_listen_valid(s);
		free(s);
	}
	return 0;
}
