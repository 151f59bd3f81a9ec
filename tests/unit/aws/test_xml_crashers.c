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

/*
 * Nested lists and tags grow by doubling: under ASan realloc always moves, and growing by one
 * element at a time made a page with 50,000 routes take minutes (quadratic copying).
 */
Test(xml_crashers, nested_arrays_grow_by_doubling)
{
    int *arr = NULL;
    size_t moves = 0;
    for (size_t n = 0; n < 1000; n++) {
        int *grown = np_aws_xml_append(arr, n, 1, sizeof(*arr));
        moves += grown != arr;
        arr = grown;
        arr[n] = (int)n;
    }
    cr_expect_leq(moves, 11, "%zu reallocations for 1000 appends", moves);
    cr_expect_eq(arr[999], 999);
    arr = np_aws_xml_append(arr, 1000, 30, sizeof(*arr)); /* 1030 > 1024: one more */
    arr[1029] = 1;
    free(arr);

    void *items = NULL;
    size_t n = 0;
    struct np_buf xml = NP_BUF_INIT;
    const char *head = "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1"
                       "</routeTableId><routeSet>";
    const char *route = "<item><destinationCidrBlock>10.0.0.0/8</destinationCidrBlock></item>";
    np_buf_append(&xml, head, strlen(head));
    for (int i = 0; i < 3000; i++)
        np_buf_append(&xml, route, strlen(route));
    const char *end = "</routeSet></item></routeTableSet></DescribeRouteTablesResponse>";
    np_buf_append(&xml, end, strlen(end));
    cr_assert_eq(
        np_aws_xml_decode_list(&np_aws_xml_route_tables, xml.data, xml.len, &items, &n, NULL), 0,
        "%s", np_error_message());
    struct np_aws_route_table *t = items;
    cr_expect_eq(t->n_routes, 3000);
    cr_expect_str_eq(t->routes[2999].destination, "10.0.0.0/8");
    np_aws_route_tables_free(t, n);
    np_buf_clean_up(&xml);
}
