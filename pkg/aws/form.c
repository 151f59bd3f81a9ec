/*
 * Query API request bodies: "Action=...&Version=...&Key=Value" with every key and value
 * form-encoded, filters flattened to Filter.N.*, tags to Tag.N.* (or a TagSpecification), and
 * atomic permissions serialised one per IpPermissions.N after dropping repeats of the same rule.
 */
#include "aws/private/aws_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * application/x-www-form-urlencoded as botocore (Python urlencode) writes it: A-Z a-z 0-9
 * - _ . ~ kept, space as '+', every other byte %XX. AWS hashes whatever bytes arrive, but
 * moto's signature check re-encodes the parsed form this way, so matching it keeps both happy.
 */
static int form_encode(struct np_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            rc = np_buf_putc(b, (char)c);
        } else if (c == ' ') {
            rc = np_buf_putc(b, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = np_buf_append(b, esc, 3);
        }
    }
    return rc;
}

int np_aws_form_begin(struct np_buf *b, const char *action, const char *version)
{
    np_buf_reset(b);
    int rc = np_buf_puts(b, "Action=");
    if (rc == 0)
        rc = form_encode(b, action);
    if (rc == 0)
        rc = np_buf_puts(b, "&Version=");
    if (rc == 0)
        rc = form_encode(b, version);
    return rc;
}

int np_aws_form_add(struct np_buf *b, const char *key, const char *value)
{
    if (!value)
        value = "";
    int rc = np_buf_putc(b, '&');
    if (rc == 0)
        rc = form_encode(b, key);
    if (rc == 0)
        rc = np_buf_putc(b, '=');
    if (rc == 0)
        rc = form_encode(b, value);
    return rc;
}

int np_aws_form_addf(struct np_buf *b, const char *value, const char *key_fmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, key_fmt);
    int n = vsnprintf(key, sizeof(key), key_fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(key))
        return np_error_set(NP_EINVAL, "form: parameter name too long");
    return np_aws_form_add(b, key, value);
}

int np_aws_form_add_filters(struct np_buf *b, const struct np_aws_filter *filters, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (np_str_is_empty(filters[i].name))
            return np_error_set(NP_EINVAL, "filter %zu has no name", i + 1);
        rc = np_aws_form_addf(b, filters[i].name, "Filter.%zu.Name", i + 1);
        for (size_t j = 0; j < filters[i].n_values && rc == 0; j++)
            rc = np_aws_form_addf(b, filters[i].values[j], "Filter.%zu.Value.%zu", i + 1, j + 1);
    }
    return rc;
}

int np_aws_form_add_tags(struct np_buf *b, const char *prefix, const struct np_aws_tag *tags,
                         size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (np_str_is_empty(tags[i].key))
            return np_error_set(NP_EINVAL, "tag %zu has no key", i + 1);
        rc = np_aws_form_addf(b, tags[i].key, "%sTag.%zu.Key", prefix, i + 1);
        if (rc == 0)
            rc = np_aws_form_addf(b, tags[i].value ? tags[i].value : "", "%sTag.%zu.Value", prefix,
                                  i + 1);
    }
    return rc;
}

int np_aws_form_add_tag_spec(struct np_buf *b, const char *resource_type,
                             const struct np_aws_tag *tags, size_t n)
{
    if (n == 0)
        return 0;
    int rc = np_aws_form_add(b, "TagSpecification.1.ResourceType", resource_type);
    if (rc == 0)
        rc = np_aws_form_add_tags(b, "TagSpecification.1.", tags, n);
    return rc;
}

static int add_perm(struct np_buf *b, size_t n, const struct np_aws_perm *p, bool with_desc)
{
    int rc = np_aws_form_addf(b, p->protocol, "IpPermissions.%zu.IpProtocol", n);
    if (rc == 0 && p->has_ports) {
        char num[24];
        snprintf(num, sizeof(num), "%d", p->from_port);
        rc = np_aws_form_addf(b, num, "IpPermissions.%zu.FromPort", n);
        snprintf(num, sizeof(num), "%d", p->to_port);
        if (rc == 0)
            rc = np_aws_form_addf(b, num, "IpPermissions.%zu.ToPort", n);
    }
    const char *list = NULL, *field = NULL;
    switch (p->peer_kind) {
    case NP_AWS_PEER_CIDR4: list = "IpRanges", field = "CidrIp"; break;
    case NP_AWS_PEER_CIDR6: list = "Ipv6Ranges", field = "CidrIpv6"; break;
    case NP_AWS_PEER_PREFIX_LIST: list = "PrefixListIds", field = "PrefixListId"; break;
    case NP_AWS_PEER_GROUP: list = "Groups", field = "GroupId"; break;
    }
    if (!list)
        return np_error_set(NP_EINVAL, "permission %zu: unknown peer kind %d", n,
                            (int)p->peer_kind);
    if (rc == 0)
        rc = np_aws_form_addf(b, p->peer, "IpPermissions.%zu.%s.1.%s", n, list, field);
    if (rc == 0 && p->peer_kind == NP_AWS_PEER_GROUP && !np_str_is_empty(p->user_id))
        rc = np_aws_form_addf(b, p->user_id, "IpPermissions.%zu.Groups.1.UserId", n);
    if (rc == 0 && with_desc && p->description)
        rc = np_aws_form_addf(b, p->description, "IpPermissions.%zu.%s.1.Description", n, list);
    return rc;
}

int np_aws_form_add_perms(struct np_buf *b, const struct np_aws_perm *perms, size_t n,
                          bool with_descriptions, size_t *n_sent)
{
    size_t sent = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct np_aws_perm *p = &perms[i];
        if (np_str_is_empty(p->protocol) || np_str_is_empty(p->peer))
            return np_error_set(NP_EINVAL, "permission %zu has no protocol or no peer", i + 1);
        bool repeat = false;
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = np_aws_perm_is_same_rule(&perms[j], p);
        if (repeat)
            continue;
        rc = add_perm(b, ++sent, p, with_descriptions);
    }
    if (n_sent)
        *n_sent = sent;
    return rc;
}
