/*
 * Inputs that once crashed or confused an XML decoder (tests/fixtures/aws/crashers/, found by
 * review and by the fuzz targets in tests/fuzz/): each must decode or be refused cleanly under
 * ASan+UBSan, with fields never written into an element that does not exist. A sweep also feeds
 * every crasher to every decoder, as the fuzz target does.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRASHERS "tests/fixtures/aws/crashers/"

static int decode_kind(const struct np_aws_xml_list *kind, const char *file, void **items,
                       size_t *n)
{
    size_t len = 0;
    char path[512];
    snprintf(path, sizeof(path), CRASHERS "%s", file);
    char *xml = fixture_read(path, &len);
    int rc = np_aws_xml_decode_list(kind, xml, len, items, n, NULL);
    free(xml);
    return rc;
}

Test(xml_crashers, route_table_fields_outside_a_route_item_are_ignored)
{
    const char *files[] = {"route-tables-route-field-outside-item.xml",
                           "route-tables-association-field-outside-item.xml"};
    for (size_t i = 0; i < NP_ARRAY_LEN(files); i++) {
        void *items = NULL;
        size_t n = 0;
        cr_assert_eq(decode_kind(&np_aws_xml_route_tables, files[i], &items, &n), 0, "%s: %s",
                     files[i], np_error_message());
        struct np_aws_route_table *t = items;
        cr_assert_eq(n, 1, "%s", files[i]);
        cr_expect_str_eq(t->route_table_id, "rtb-1");
        cr_expect_eq(t->n_routes, 0, "%s: no route was made up", files[i]);
        cr_expect_eq(t->n_assocs, 0, "%s: no association was made up", files[i]);
        np_aws_route_tables_free(t, n);
    }
}

Test(xml_crashers, a_field_outside_an_item_does_not_overwrite_the_previous_route)
{
    void *items = NULL;
    size_t n = 0;
    cr_assert_eq(decode_kind(&np_aws_xml_route_tables,
                             "route-tables-field-outside-item-after-a-route.xml", &items, &n),
                 0, "%s", np_error_message());
    struct np_aws_route_table *t = items;
    cr_assert_eq(t->n_routes, 1);
    cr_expect_str_eq(t->routes[0].destination, "10.0.0.0/8");
    cr_expect_str_eq(t->routes[0].state, "active");
    cr_expect_str_eq(t->routes[0].target, "local");
    np_aws_route_tables_free(t, n);
}

Test(xml_crashers, network_acl_fields_outside_an_entry_item_are_ignored)
{
    const char *files[] = {"network-acls-entry-field-outside-item.xml",
                           "network-acls-port-range-outside-item.xml",
                           "network-acls-association-field-outside-item.xml"};
    for (size_t i = 0; i < NP_ARRAY_LEN(files); i++) {
        void *items = NULL;
        size_t n = 0;
        cr_assert_eq(decode_kind(&np_aws_xml_nacls, files[i], &items, &n), 0, "%s: %s", files[i],
                     np_error_message());
        struct np_aws_nacl *a = items;
        cr_assert_eq(n, 1, "%s", files[i]);
        cr_expect_str_eq(a->network_acl_id, "acl-1");
        cr_expect_eq(a->n_entries, 0, "%s", files[i]);
        cr_expect_eq(a->n_assocs, 0, "%s", files[i]);
        np_aws_nacls_free(a, n);
    }
}

/* Every decoder over one document; only "no crash, no leak" is checked. */
static void decode_with_every_decoder(const char *xml, size_t len)
{
    const struct np_aws_xml_list *kinds[] = {&np_aws_xml_vpcs, &np_aws_xml_subnets,
                                             &np_aws_xml_route_tables, &np_aws_xml_nacls,
                                             &np_aws_xml_flow_logs};
    for (size_t i = 0; i < NP_ARRAY_LEN(kinds); i++) {
        void *items = NULL;
        size_t n = 0;
        char *token = NULL;
        if (np_aws_xml_decode_list(kinds[i], xml, len, &items, &n, &token) == 0) {
            kinds[i]->free_items(items, n);
            free(token);
        }
    }
    struct np_aws_sg *sgs = NULL;
    size_t n_sgs = 0;
    char *token = NULL;
    if (np_aws_xml_decode_sg_page(xml, len, &sgs, &n_sgs, &token) == 0) {
        np_aws_sgs_free(sgs, n_sgs);
        free(token);
    }
    struct np_aws_sqs_message *msgs = NULL;
    size_t n_msgs = 0;
    if (np_aws_xml_decode_sqs_messages(xml, len, &msgs, &n_msgs) == 0)
        np_aws_sqs_messages_free(msgs, n_msgs);
    char *a = NULL, *b = NULL, *c = NULL;
    if (np_aws_xml_decode_error(xml, len, &a, &b, &c) == 0) {
        free(a), free(b), free(c);
    }
    a = b = c = NULL;
    if (np_aws_xml_decode_caller_identity(xml, len, &a, &b, &c) == 0) {
        free(a), free(b), free(c);
    }
}

Test(xml_crashers, every_crasher_through_every_decoder)
{
    DIR *d = opendir(CRASHERS);
    cr_assert_not_null(d, "run from the repository root");
    size_t n_files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strstr(e->d_name, ".xml"))
            continue;
        char path[512];
        snprintf(path, sizeof(path), CRASHERS "%s", e->d_name);
        size_t len = 0;
        char *xml = fixture_read(path, &len);
        decode_with_every_decoder(xml, len);
        free(xml);
        n_files++;
    }
    closedir(d);
    cr_expect_geq(n_files, 6);
}
