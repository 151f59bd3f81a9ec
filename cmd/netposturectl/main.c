/*
 * netposturectl (also installed as the kubectl plugin kubectl-netposture): the command-line
 * companion for CI and humans. Only wiring: the commands live in pkg/cli.
 */
#include "cli/cli.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The libraries' logs (an AWS credential refresh that failed, an API retry, an exec plugin's
 * credential) belong in the controller's log stream; a netposturectl user gets the command's own
 * error line and nothing else. NETPOSTURECTL_LOG_LEVEL (debug, info, warn, error) shows them
 * again, as text lines on stderr.
 */
static void configure_logs(void)
{
    const char *s = getenv("NETPOSTURECTL_LOG_LEVEL");
    enum np_log_level level = NP_LOG_OFF;
    if (s && *s && np_log_level_parse(s, &level) != 0) {
        fprintf(stderr, "netposturectl: NETPOSTURECTL_LOG_LEVEL: %s\n", np_error_message());
        level = NP_LOG_OFF;
    }
    np_log_configure(level, NP_LOG_TEXT);
}

int main(int argc, char **argv)
{
    configure_logs();
    return np_cli_main(argc, argv);
}
