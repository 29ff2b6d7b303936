/* SPDX-License-Identifier: Apache-2.0 */
/* YAML policies with libyaml: the document becomes the same cJSON tree a JSON policy gives, plus a map from
 * nodes to source lines so that validation errors name the line. Aliases are refused (no expansion bombs),
 * duplicate keys are errors, nesting is bounded. */
#include <stdio.h>
#include <yaml.h>

#include "alloc-util.h"
#include "json-util.h"
#include "policy.h"
#include "string-util.h"

#define POLICY_YAML_MAX_DEPTH 64U

struct PolicyLineMap {
        struct {
                const cJSON *node;
                unsigned line;
        } *items;
        size_t n, allocated;
};

PolicyLineMap *policy_line_map_free(PolicyLineMap *m) {
        if (!m)
                return NULL;
        free(m->items);
        return mfree(m);
}

unsigned policy_line_map_lookup(const PolicyLineMap *m, const cJSON *node) {
        if (!m)
                return 0;
        for (size_t i = 0; i < m->n; i++)
                if (m->items[i].node == node)
                        return m->items[i].line;
        return 0;
}

static int line_map_add(PolicyLineMap *m, const cJSON *node, unsigned line) {
        if (!GREEDY_REALLOC(m->items, m->allocated, m->n + 1))
                return -ENOMEM;
        m->items[m->n].node = node;
        m->items[m->n].line = line;
        m->n++;
        return 0;
}

typedef struct YamlCtx {
        yaml_parser_t parser;
        PolicyLineMap *lines;
        char *error;
} YamlCtx;

_printf_(3, 4) static int yfail(YamlCtx *y, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (y->error)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        y->error = asprintf_safe("line %u: %s", line, strempty(msg));
        return -EINVAL;
}

static int next_event(YamlCtx *y, yaml_event_t *ev) {
        if (!yaml_parser_parse(&y->parser, ev))
                return yfail(y, (unsigned) y->parser.problem_mark.line + 1, "invalid YAML: %s",
                             strempty(y->parser.problem));
        return 0;
}

static bool looks_like_number(const char *s) {
        char *end = NULL;

        if (isempty(s) || strchr(" \t+", s[0]))
                return false;
        (void) strtod(s, &end);
        return end && *end == 0 && strspn(s, "-0123456789.eE") == strlen(s);
}

/* Plain scalars follow the YAML 1.2 core schema; quoted ones are always strings. */
static cJSON *scalar_to_json(const yaml_event_t *ev) {
        const char *v = (const char *) ev->data.scalar.value;

        if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return cJSON_CreateString(v);
        if (ev->data.scalar.length == 0 || streq(v, "~") || streq(v, "null") || streq(v, "Null") ||
            streq(v, "NULL"))
                return cJSON_CreateNull();
        if (streq(v, "true") || streq(v, "True") || streq(v, "TRUE"))
                return cJSON_CreateTrue();
        if (streq(v, "false") || streq(v, "False") || streq(v, "FALSE"))
                return cJSON_CreateFalse();
        if (looks_like_number(v))
                return cJSON_CreateNumber(strtod(v, NULL));
        return cJSON_CreateString(v);
}

static int parse_node(YamlCtx *y, yaml_event_t *ev, unsigned depth, cJSON **ret);

static int parse_collection(YamlCtx *y, bool mapping, unsigned depth, cJSON *out) {
        for (;;) {
                _cleanup_free_ char *key = NULL;
                yaml_event_t ev;
                cJSON *child = NULL;
                unsigned line;
                int r;

                r = next_event(y, &ev);
                if (r < 0)
                        return r;
                if (ev.type == (mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                line = (unsigned) ev.start_mark.line + 1;
                if (mapping) {
                        if (ev.type != YAML_SCALAR_EVENT) {
                                yaml_event_delete(&ev);
                                return yfail(y, line, "mapping keys must be scalars");
                        }
                        key = strdup((const char *) ev.data.scalar.value);
                        yaml_event_delete(&ev);
                        if (!key)
                                return -ENOMEM;
                        if (cJSON_GetObjectItemCaseSensitive(out, key))
                                return yfail(y, line, "duplicate key \"%s\"", key);
                        r = next_event(y, &ev);
                        if (r < 0)
                                return r;
                }
                r = parse_node(y, &ev, depth + 1, &child);
                if (r < 0)
                        return r;
                if (mapping ? !cJSON_AddItemToObject(out, key, child) : !cJSON_AddItemToArray(out, child)) {
                        cJSON_Delete(child);
                        return -ENOMEM;
                }
        }
}

/* Consumes ev (the node's first event) and the rest of the node. */
static int parse_node(YamlCtx *y, yaml_event_t *ev, unsigned depth, cJSON **ret) {
        unsigned line = (unsigned) ev->start_mark.line + 1;
        _cleanup_json_ cJSON *j = NULL;
        yaml_event_type_t type = ev->type;
        int r;

        if (depth > POLICY_YAML_MAX_DEPTH) {
                yaml_event_delete(ev);
                return yfail(y, line, "nesting deeper than %u", POLICY_YAML_MAX_DEPTH);
        }
        switch (type) {
        case YAML_SCALAR_EVENT:
                j = scalar_to_json(ev);
                break;
        case YAML_MAPPING_START_EVENT:
                j = cJSON_CreateObject();
                break;
        case YAML_SEQUENCE_START_EVENT:
                j = cJSON_CreateArray();
                break;
        case YAML_ALIAS_EVENT:
                yaml_event_delete(ev);
                return yfail(y, line, "YAML aliases are not supported in policies");
        case YAML_NO_EVENT:
        case YAML_STREAM_START_EVENT:
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
        default:
                yaml_event_delete(ev);
                return yfail(y, line, "unexpected YAML structure");
        }
        yaml_event_delete(ev);
        if (!j)
                return -ENOMEM;
        r = line_map_add(y->lines, j, line);
        if (r < 0)
                return r;
        if (type != YAML_SCALAR_EVENT) {
                r = parse_collection(y, type == YAML_MAPPING_START_EVENT, depth, j);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

static int expect(YamlCtx *y, yaml_event_type_t type) {
        yaml_event_t ev;
        bool ok;
        int r;

        r = next_event(y, &ev);
        if (r < 0)
                return r;
        ok = ev.type == type;
        yaml_event_delete(&ev);
        return ok ? 0 : yfail(y, (unsigned) ev.start_mark.line + 1, "expected a single YAML document");
}

static int parse_stream(YamlCtx *y, cJSON **ret) {
        yaml_event_t ev;
        int r;

        if ((r = expect(y, YAML_STREAM_START_EVENT)) < 0 || (r = expect(y, YAML_DOCUMENT_START_EVENT)) < 0)
                return r;
        if ((r = next_event(y, &ev)) < 0 || (r = parse_node(y, &ev, 0, ret)) < 0)
                return r;
        if ((r = expect(y, YAML_DOCUMENT_END_EVENT)) < 0 || (r = expect(y, YAML_STREAM_END_EVENT)) < 0)
                return r;
        return 0;
}

int policy_yaml_to_json(const char *text, size_t size, cJSON **ret, PolicyLineMap **ret_lines, char **ret_error) {
        _cleanup_(policy_line_map_freep) PolicyLineMap *lines = new0(PolicyLineMap, 1);
        _cleanup_json_ cJSON *root = NULL;
        YamlCtx y = {};
        int r;

        if (!lines)
                return -ENOMEM;
        if (!yaml_parser_initialize(&y.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&y.parser, (const unsigned char *) text, size);
        y.lines = lines;
        r = parse_stream(&y, &root);
        yaml_parser_delete(&y.parser);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(y.error);
                free(y.error);
                return r;
        }
        free(y.error);
        *ret = TAKE_PTR(root);
        *ret_lines = TAKE_PTR(lines);
        return 0;
}
