/* The roster command-line client: every subcommand that talks to a running server over the
 * REST API (docs/api.md). It never opens the store; src/main.c keeps serve, init, migrate and
 * audit verify for itself and hands everything else to cli_main(). */
#ifndef ROSTER_CLI_CLI_H
#define ROSTER_CLI_CLI_H

#include <stdio.h>

/* Runs a client subcommand (argv[0] is the subcommand name, e.g. "user", or a global option
 * such as "--tenant"). Prints results to stdout and errors to stderr. Returns the process exit
 * code (see cli/exit.h). Calls curl_global_init() itself; not thread-safe for that reason. */
int cli_main(int argc, char **argv);

/* Prints the top-level help (all commands, including the server-side ones: init, serve,
 * migrate, audit verify). Cannot fail (write errors on out are ignored). */
void cli_usage(FILE *out);

#endif
