/*
 * Error codes with a thread-local message, so a failing action can say why without
 * every caller threading a message buffer through.
 */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024];

int np_error_set(int code, const char *fmt, ...)
{
    /* Format into a scratch buffer first: callers often wrap np_error_message() itself. */
    char scratch[sizeof(last_message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(scratch, sizeof(scratch), fmt, ap);
    va_end(ap);
    memcpy(last_message, scratch, sizeof(last_message));
    return code;
}

const char *np_error_message(void)
{
    return last_message;
}

void np_error_clear(void)
{
    last_message[0] = '\0';
}

const char *np_error_name(int code)
{
    switch (code) {
    case NP_OK: return "OK";
    case NP_EINVAL: return "EINVAL";
    case NP_ENOMEM: return "ENOMEM";
    case NP_EIO: return "EIO";
    case NP_ENOTFOUND: return "ENOTFOUND";
    case NP_ECONFLICT: return "ECONFLICT";
    case NP_ETHROTTLED: return "ETHROTTLED";
    case NP_EAUTH: return "EAUTH";
    case NP_EPARSE: return "EPARSE";
    case NP_ETIMEOUT: return "ETIMEOUT";
    case NP_EGONE: return "EGONE";
    case NP_EAGAIN: return "EAGAIN";
    case NP_EEXIST: return "EEXIST";
    case NP_EDEPENDENCY: return "EDEPENDENCY";
    case NP_EDENIED: return "EDENIED";
    case NP_ECANCELED: return "ECANCELED";
    case NP_ENOTSUP: return "ENOTSUP";
    default: return "EUNKNOWN";
    }
}
