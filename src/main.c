/* roster: `roster serve` and the other server-side commands run here; every other command is
 * the HTTP client in cli/. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "cli/cli.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return app_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "init") == 0)
		return app_init(argc - 2, argv + 2);
	if (strcmp(argv[1], "migrate") == 0)
		return app_migrate(argc - 2, argv + 2);
	if (strcmp(argv[1], "backup") == 0)
		return app_backup(argc - 2, argv + 2);
	if (strcmp(argv[1], "export") == 0)
		return app_export(argc - 2, argv + 2);
	if (strcmp(argv[1], "import") == 0)
		return app_import(argc - 2, argv + 2);
	if (strcmp(argv[1], "keys") == 0)
		return app_keys(argc - 2, argv + 2);
	if (strcmp(argv[1], "audit") == 0 && argc > 2 && strcmp(argv[2], "verify") == 0)
		return app_audit_verify(argc - 3, argv + 3);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("roster %s\n", ROSTER_VERSION);
		return 0;
	}
	return cli_main(argc - 1, argv + 1);
}
