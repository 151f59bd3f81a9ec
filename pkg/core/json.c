/*
 * Small json-c helpers for reading nested members by path without a cascade of lookups.
 */
#include "core/core.h"

#include <json-c/json.h>

static json_object *walk(json_object *obj, va_list ap)
{
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            return obj;
        json_object *next = NULL;
        if (!obj || !json_object_is_type(obj, json_type_object) ||
            !json_object_object_get_ex(obj, k, &next))
            return NULL;
        obj = next;
    }
}

json_object *np_json_path(json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    json_object *r = walk(obj, ap);
    va_end(ap);
    return r;
}

const char *np_json_path_str(json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    json_object *r = walk(obj, ap);
    va_end(ap);
    return r && json_object_is_type(r, json_type_string) ? json_object_get_string(r) : NULL;
}

int64_t np_json_path_int(json_object *obj, int64_t def, ...)
{
    va_list ap;
    va_start(ap, def);
    json_object *r = walk(obj, ap);
    va_end(ap);
    return r && json_object_is_type(r, json_type_int) ? json_object_get_int64(r) : def;
}

void np_json_put_str(json_object *obj, const char *k, const char *v)
{
    if (obj && v)
        json_object_object_add(obj, k, json_object_new_string(v));
}
