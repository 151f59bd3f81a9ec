/*
 * What netposturectl prints: findings (a list, their one-line text form and their JSON form for
 * CI annotations) and data as text, pretty JSON or YAML (libyaml's emitter, block style).
 */
#include "cli/private/cli_private.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---------------------------------------------------------------- visible text */

/* The length of the well-formed UTF-8 sequence at p (1 for ASCII), 0 when it is not one
 * (stray continuation bytes, overlong forms, surrogates, beyond U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

void np_cli_put_visible(struct np_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            np_buf_appendf(b, "\\x%02x", *p);
            n = 1;
        } else if (*p == '\n') {
            np_buf_puts(b, "\\n");
        } else if (*p == '\t') {
            np_buf_puts(b, "\\t");
        } else if (*p == '\r') {
            np_buf_puts(b, "\\r");
        } else if (*p < 0x20 || *p == 0x7f) {
            np_buf_appendf(b, "\\x%02x", *p);
        } else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) { /* C1: U+0080..U+009F */
            np_buf_appendf(b, "\\u%04x", p[1]);
        } else {
            np_buf_append(b, p, n);
        }
        p += n;
    }
}

char *np_cli_visible(const char *s)
{
    struct np_buf b = NP_BUF_INIT;
    np_cli_put_visible(&b, s);
    return np_buf_take(&b);
}

void np_cli_fputs_visible(FILE *out, const char *s)
{
    char *v = np_cli_visible(s);
    fputs(v, out);
    free(v);
}

/* ---------------------------------------------------------------- findings */

static char *dup_or_empty(const char *s)
{
    return np_strdup(s ? s : "");
}

void np_cli_findings_add(struct np_cli_findings *f, const struct np_cli_finding *item)
{
    f->items = np_xrealloc(f->items, (f->n + 1) * sizeof(*f->items));
    struct np_cli_finding *d = &f->items[f->n++];
    *d = (struct np_cli_finding){
        .severity = item->severity,
        .file = dup_or_empty(item->file),
        .line = item->line,
        .column = item->column,
        .kind = dup_or_empty(item->kind),
        .ns = dup_or_empty(item->ns),
        .name = dup_or_empty(item->name),
        .field = dup_or_empty(item->field),
        .message = dup_or_empty(item->message),
    };
}

void np_cli_findings_clean_up(struct np_cli_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct np_cli_finding *d = &f->items[i];
        free((char *)d->file);
        free((char *)d->kind);
        free((char *)d->ns);
        free((char *)d->name);
        free((char *)d->field);
        free((char *)d->message);
    }
    free(f->items);
    memset(f, 0, sizeof(*f));
}

size_t np_cli_findings_count(const struct np_cli_findings *f, enum np_cli_severity s)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += f->items[i].severity == s;
    return n;
}

char *np_cli_finding_text(const struct np_cli_finding *f)
{
    struct np_buf b;
    np_buf_init(&b);
    np_cli_put_visible(&b, f->file);
    np_buf_appendf(&b, ":%d:%d: ", f->line, f->column);
    if (*f->kind) {
        np_cli_put_visible(&b, f->kind);
        np_buf_putc(&b, ' ');
        np_cli_put_visible(&b, f->ns);
        np_buf_puts(&b, *f->ns ? "/" : "");
        np_cli_put_visible(&b, f->name);
        np_buf_puts(&b, ": ");
    }
    if (*f->field) {
        np_cli_put_visible(&b, f->field);
        np_buf_puts(&b, ": ");
    }
    np_buf_puts(&b, f->severity == NP_CLI_WARNING ? "warning: " : "");
    np_cli_put_visible(&b, f->message);
    return np_buf_take(&b);
}

json_object *np_cli_findings_json(const struct np_cli_findings *f)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < f->n; i++) {
        const struct np_cli_finding *d = &f->items[i];
        json_object *o = json_object_new_object();
        np_json_put_str(o, "severity", d->severity == NP_CLI_ERROR ? "error" : "warning");
        np_json_put_str(o, "file", d->file);
        json_object_object_add(o, "line", json_object_new_int(d->line));
        json_object_object_add(o, "column", json_object_new_int(d->column));
        np_json_put_str(o, "kind", d->kind);
        np_json_put_str(o, "namespace", d->ns);
        np_json_put_str(o, "name", d->name);
        np_json_put_str(o, "field", d->field);
        np_json_put_str(o, "message", d->message);
        json_object_array_add(arr, o);
    }
    return arr;
}

/* ---------------------------------------------------------------- formats */

int np_cli_format_parse(enum np_cli_format *out, const char *s)
{
    static const char *const names[] = {"text", "json", "yaml"};
    for (size_t i = 0; s && i < NP_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum np_cli_format)i;
            return 0;
        }
    return np_error_set(NP_EINVAL, "output format \"%s\": use text, json or yaml", s ? s : "");
}

static int file_writer(void *data, unsigned char *buffer, size_t size)
{
    return fwrite(buffer, 1, size, (FILE *)data) == size;
}

/* Whether a plain scalar would read back as something other than the string s. */
static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    json_object *typed = NULL;
    struct np_cli_docs docs;
    int line, col;
    bool quote = true;
    if (np_cli_yaml_load(&docs, s, strlen(s), &line, &col) == 0 && docs.n == 1) {
        typed = docs.items[0].root;
        quote = !json_object_is_type(typed, json_type_string) ||
                strcmp(json_object_get_string(typed), s) != 0;
    }
    np_error_clear();
    np_cli_docs_clean_up(&docs);
    return quote;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(em, ev) ? 0 : np_error_set(NP_EIO, "cannot write YAML");
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool string)
{
    yaml_event_t ev;
    yaml_scalar_style_t style =
        string && needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    return emit(em, &ev);
}

static int emit_value(yaml_emitter_t *em, json_object *v)
{
    yaml_event_t ev;
    int rc = 0;
    if (json_object_is_type(v, json_type_object)) {
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        rc = emit(em, &ev);
        json_object_object_foreach(v, k, child)
        {
            if (rc == 0)
                rc = emit_scalar(em, k, true);
            if (rc == 0)
                rc = emit_value(em, child);
        }
        yaml_mapping_end_event_initialize(&ev);
    } else if (json_object_is_type(v, json_type_array)) {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        rc = emit(em, &ev);
        for (size_t i = 0; rc == 0 && i < np_cli_len(v); i++)
            rc = emit_value(em, json_object_array_get_idx(v, i));
        yaml_sequence_end_event_initialize(&ev);
    } else {
        return emit_scalar(em, v ? json_object_get_string(v) : "null",
                           json_object_is_type(v, json_type_string));
    }
    return rc ? rc : emit(em, &ev);
}

static int print_yaml(FILE *out, json_object *v)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return np_error_set(NP_ENOMEM, "cannot initialise the YAML emitter");
    yaml_emitter_set_output(&em, file_writer, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1); /* never fold long lines */
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    int rc = emit(&em, &ev);
    if (rc == 0) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        rc = emit(&em, &ev);
    }
    if (rc == 0)
        rc = emit_value(&em, v);
    if (rc == 0) {
        yaml_document_end_event_initialize(&ev, 1);
        rc = emit(&em, &ev);
    }
    if (rc == 0) {
        yaml_stream_end_event_initialize(&ev);
        rc = emit(&em, &ev);
    }
    yaml_emitter_delete(&em);
    return rc;
}

int np_cli_print_data(FILE *out, json_object *v, enum np_cli_format fmt)
{
    if (fmt == NP_CLI_YAML)
        return print_yaml(out, v);
    const char *s = json_object_to_json_string_ext(
        v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (fprintf(out, "%s\n", s) < 0)
        return np_error_set(NP_EIO, "cannot write the output");
    return 0;
}

void np_cli_print_error(const char *prog, const char *cmd)
{
    fprintf(stderr, "%s %s: ", prog, cmd);
    np_cli_fputs_visible(stderr, np_error_message());
    fputc('\n', stderr);
}

int np_cli_report(const char *prog, const char *cmd, int rc, json_object *data,
                  const struct np_cli_report_ops *ops)
{
    if (rc == 0 && ops->format == NP_CLI_TEXT)
        ops->text(stdout, data);
    else if (rc == 0)
        rc = np_cli_print_data(stdout, data, ops->format);
    if (rc) {
        np_cli_print_error(prog, cmd);
        return NP_CLI_EXIT_USAGE;
    }
    return ops->findings(data) ? NP_CLI_EXIT_FINDINGS : NP_CLI_EXIT_OK;
}
