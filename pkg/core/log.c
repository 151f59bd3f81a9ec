/*
 * Logging: one JSON object per line on stderr (or a readable text line), with a level
 * filter. Lines are written with a single write under a lock so threads never interleave.
 */
#include "core/core.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum np_log_level min_level = NP_LOG_INFO;
static enum np_log_format log_format = NP_LOG_JSON;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void np_log_configure(enum np_log_level level, enum np_log_format format)
{
    min_level = level;
    log_format = format;
}

int np_log_level_parse(const char *s, enum np_log_level *out)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(level_names); i++) {
        if (np_str_eq(s, level_names[i])) {
            *out = (enum np_log_level)i;
            return 0;
        }
    }
    return np_error_set(NP_EINVAL, "unknown log level \"%.32s\" (debug, info, warn, error)",
                        s ? s : "");
}

bool np_log_enabled(enum np_log_level level)
{
    return level >= min_level;
}

/* Appends s as a JSON string literal (with quotes). */
static void put_json_string(struct np_buf *b, const char *s)
{
    json_object *o = json_object_new_string(s);
    np_buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

void np_log(enum np_log_level level, const char *msg, ...)
{
    if (!np_log_enabled(level))
        return;
    char ts[40];
    np_time_format_micro(ts, sizeof(ts), np_time_now_ms());
    struct np_buf b = NP_BUF_INIT;
    va_list ap;
    va_start(ap, msg);
    if (log_format == NP_LOG_JSON) {
        np_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
        put_json_string(&b, msg);
        for (;;) {
            const char *k = va_arg(ap, const char *);
            if (!k)
                break;
            const char *v = va_arg(ap, const char *);
            if (!v)
                continue;
            np_buf_putc(&b, ',');
            put_json_string(&b, k);
            np_buf_putc(&b, ':');
            put_json_string(&b, v);
        }
        np_buf_puts(&b, "}\n");
    } else {
        np_buf_appendf(&b, "%s %-5s %s", ts, level_names[level], msg);
        for (;;) {
            const char *k = va_arg(ap, const char *);
            if (!k)
                break;
            const char *v = va_arg(ap, const char *);
            if (!v)
                continue;
            np_buf_appendf(&b, " %s=%s", k, v);
        }
        np_buf_putc(&b, '\n');
    }
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    size_t off = 0;
    while (off < b.len) {
        ssize_t n = write(STDERR_FILENO, b.data + off, b.len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    pthread_mutex_unlock(&log_lock);
    np_buf_clean_up(&b);
}
