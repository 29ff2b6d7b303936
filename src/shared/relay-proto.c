/* SPDX-License-Identifier: Apache-2.0 */
#include <cjson/cJSON.h>
#include <string.h>

#include "alloc-util.h"
#include "json-util.h"
#include "path-util.h"
#include "relay-proto.h"
#include "string-util.h"

static const char *const relay_frame_type_table[_RELAY_FRAME_TYPE_MAX] = {
        [RELAY_FRAME_PING] = "ping",     [RELAY_FRAME_PONG] = "pong",     [RELAY_FRAME_OPEN] = "open",
        [RELAY_FRAME_STDIN] = "stdin",   [RELAY_FRAME_STDOUT] = "stdout", [RELAY_FRAME_STDERR] = "stderr",
        [RELAY_FRAME_RESIZE] = "resize", [RELAY_FRAME_SIGNAL] = "signal", [RELAY_FRAME_EOF] = "eof",
        [RELAY_FRAME_EXIT] = "exit",     [RELAY_FRAME_ERROR] = "error",   [RELAY_FRAME_CLOSE] = "close",
};
DEFINE_STRING_TABLE_LOOKUP(relay_frame_type, RelayFrameType, _RELAY_FRAME_TYPE_MAX);

static const char *const relay_open_kind_table[_RELAY_OPEN_KIND_MAX] = {
        [RELAY_OPEN_EXEC] = "exec",
        [RELAY_OPEN_UPLOAD] = "upload",
        [RELAY_OPEN_DOWNLOAD] = "download",
};
DEFINE_STRING_TABLE_LOOKUP(relay_open_kind, RelayOpenKind, _RELAY_OPEN_KIND_MAX);

static uint32_t get_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

/* -1: any size; otherwise the exact payload size the type requires. */
static int frame_fixed_size(RelayFrameType t) {
        switch (t) {
        case RELAY_FRAME_RESIZE:
        case RELAY_FRAME_SIGNAL:
        case RELAY_FRAME_EXIT:
                return 4;
        case RELAY_FRAME_EOF:
        case RELAY_FRAME_CLOSE:
                return 0;
        case RELAY_FRAME_PING:
        case RELAY_FRAME_PONG:
        case RELAY_FRAME_OPEN:
        case RELAY_FRAME_STDIN:
        case RELAY_FRAME_STDOUT:
        case RELAY_FRAME_STDERR:
        case RELAY_FRAME_ERROR:
        case _RELAY_FRAME_TYPE_MAX:
        case _RELAY_FRAME_TYPE_INVALID:
                break;
        }
        return -1;
}

int relay_frame_parse(const void *buf, size_t size, RelayFrame *ret, size_t *ret_consumed) {
        const uint8_t *p = buf;
        uint32_t channel, length;
        bool control;
        int fixed;

        if (size < RELAY_FRAME_HEADER_SIZE)
                return 0;
        if (p[0] >= _RELAY_FRAME_TYPE_MAX || p[1] != 0)
                return -EBADMSG;
        channel = get_be32(p + 2);
        length = get_be32(p + 6);
        if (length > RELAY_FRAME_PAYLOAD_MAX)
                return -EMSGSIZE;
        control = IN_SET(p[0], RELAY_FRAME_PING, RELAY_FRAME_PONG);
        if (control != (channel == RELAY_CHANNEL_CONTROL))
                return -EBADMSG;
        fixed = frame_fixed_size((RelayFrameType) p[0]);
        if (fixed >= 0 && length != (uint32_t) fixed)
                return -EBADMSG;
        if (size - RELAY_FRAME_HEADER_SIZE < length)
                return 0;
        *ret = (RelayFrame) {
                .type = (RelayFrameType) p[0],
                .channel = channel,
                .payload = p + RELAY_FRAME_HEADER_SIZE,
                .size = length,
        };
        *ret_consumed = RELAY_FRAME_HEADER_SIZE + length;
        return 1;
}

void relay_frame_header(uint8_t out[static RELAY_FRAME_HEADER_SIZE], RelayFrameType type, uint32_t channel,
                        uint32_t length) {
        out[0] = (uint8_t) type;
        out[1] = 0;
        put_be32(out + 2, channel);
        put_be32(out + 6, length);
}

void relay_frame_get_resize(const RelayFrame *f, uint16_t *ret_rows, uint16_t *ret_cols) {
        *ret_rows = (uint16_t) (f->payload[0] << 8 | f->payload[1]);
        *ret_cols = (uint16_t) (f->payload[2] << 8 | f->payload[3]);
}

uint32_t relay_frame_get_u32(const RelayFrame *f) {
        return get_be32(f->payload);
}

void relay_buffer_done(RelayBuffer *b) {
        b->data = mfree(b->data);
        b->start = b->end = b->allocated = 0;
}

int relay_buffer_append(RelayBuffer *b, const void *data, size_t size) {
        if (size == 0)
                return 0;
        if (b->allocated - b->end < size && b->start > 0) {
                /* Compact before growing: a queue that drains steadily never grows. */
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        if (b->allocated - b->end < size) {
                if (b->end > SIZE_MAX - size)
                        return -ENOMEM;
                if (!GREEDY_REALLOC(b->data, b->allocated, b->end + size))
                        return -ENOMEM;
        }
        memcpy(b->data + b->end, data, size);
        b->end += size;
        return 0;
}

void relay_buffer_consume(RelayBuffer *b, size_t size) {
        b->start += MIN(size, relay_buffer_pending(b));
        if (b->start == b->end)
                b->start = b->end = 0;
}

int relay_buffer_put_frame(RelayBuffer *b, RelayFrameType type, uint32_t channel, const void *payload,
                           size_t size) {
        uint8_t h[RELAY_FRAME_HEADER_SIZE];
        int r;

        if (size > RELAY_FRAME_PAYLOAD_MAX)
                return -EMSGSIZE;
        relay_frame_header(h, type, channel, (uint32_t) size);
        r = relay_buffer_append(b, h, sizeof(h));
        if (r < 0)
                return r;
        r = relay_buffer_append(b, payload, size);
        if (r < 0) {
                b->end -= sizeof(h); /* never leave half a frame queued */
                return r;
        }
        return 0;
}

int relay_buffer_put_u32(RelayBuffer *b, RelayFrameType type, uint32_t channel, uint32_t value) {
        uint8_t p[4];

        put_be32(p, value);
        return relay_buffer_put_frame(b, type, channel, p, sizeof(p));
}

int relay_buffer_put_resize(RelayBuffer *b, uint32_t channel, uint16_t rows, uint16_t cols) {
        uint8_t p[4] = { rows >> 8, rows & 0xff, cols >> 8, cols & 0xff };

        return relay_buffer_put_frame(b, RELAY_FRAME_RESIZE, channel, p, sizeof(p));
}

void relay_open_done(RelayOpen *o) {
        o->argv = strv_free(o->argv);
        o->env = strv_free(o->env);
        o->workdir = mfree(o->workdir);
        o->path = mfree(o->path);
}

bool relay_env_entry_is_valid(const char *s) {
        const char *eq = strchr(s, '=');

        if (!eq || eq == s || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (const char *p = s; p < eq; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static int json_add_strv(cJSON *o, const char *key, char **l) {
        cJSON *a = cJSON_AddArrayToObject(o, key);

        if (!a)
                return -ENOMEM;
        STRV_FOREACH(s, l) {
                cJSON *item = cJSON_CreateString(*s);
                if (!item || !cJSON_AddItemToArray(a, item)) {
                        cJSON_Delete(item);
                        return -ENOMEM;
                }
        }
        return 0;
}

int relay_open_to_json(const RelayOpen *o, char **ret, size_t *ret_size) {
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        char *s;

        if (!j || !cJSON_AddStringToObject(j, "kind", relay_open_kind_to_string(o->kind)) ||
            json_add_strv(j, "argv", o->argv) < 0 || json_add_strv(j, "env", o->env) < 0 ||
            (o->workdir && !cJSON_AddStringToObject(j, "workdir", o->workdir)) ||
            (o->path && !cJSON_AddStringToObject(j, "path", o->path)) || !cJSON_AddBoolToObject(j, "tty", o->tty) ||
            !cJSON_AddNumberToObject(j, "rows", o->rows) || !cJSON_AddNumberToObject(j, "cols", o->cols))
                return -ENOMEM;
        s = json_print(j, false);
        if (!s)
                return -ENOMEM;
        if (strlen(s) > RELAY_FRAME_PAYLOAD_MAX) {
                free(s);
                return -EMSGSIZE;
        }
        *ret_size = strlen(s);
        *ret = s;
        return 0;
}

static int json_get_strv(const cJSON *j, const char *key, char ***ret, const char **ret_error) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key), *item;
        _cleanup_strv_free_ char **l = NULL;

        if (!a || cJSON_IsNull(a))
                return 0;
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > (int) RELAY_OPEN_STRV_MAX) {
                *ret_error = "argv/env must be arrays of at most 1024 strings";
                return -EINVAL;
        }
        cJSON_ArrayForEach(item, a) {
                if (!cJSON_IsString(item)) {
                        *ret_error = "argv/env entries must be strings";
                        return -EINVAL;
                }
                if (strv_extend(&l, item->valuestring) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int json_get_u16(const cJSON *j, const char *key, uint16_t *ret, const char **ret_error) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > UINT16_MAX ||
            v->valuedouble != (double) (uint16_t) v->valuedouble) {
                *ret_error = "rows/cols must be integers 0..65535";
                return -EINVAL;
        }
        *ret = (uint16_t) v->valuedouble;
        return 0;
}

static int json_get_path(const cJSON *j, const char *key, char **ret, const char **ret_error) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsString(v) || !path_is_normalized_absolute(v->valuestring)) {
                *ret_error = "workdir/path must be normalized absolute paths";
                return -EINVAL;
        }
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static int relay_open_check(const RelayOpen *o, const char **ret_error) {
        if (o->kind == RELAY_OPEN_EXEC && strv_length(o->argv) == 0) {
                *ret_error = "exec needs a non-empty argv";
                return -EINVAL;
        }
        if (o->kind != RELAY_OPEN_EXEC && !o->path) {
                *ret_error = "upload/download need a path";
                return -EINVAL;
        }
        STRV_FOREACH(e, o->env)
                if (!relay_env_entry_is_valid(*e)) {
                        *ret_error = "env entries must be KEY=VALUE with KEY matching [A-Za-z_][A-Za-z0-9_]*";
                        return -EINVAL;
                }
        return 0;
}

int relay_open_from_json(const void *payload, size_t size, RelayOpen *ret, const char **ret_error) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_(relay_open_done) RelayOpen o = {};
        const cJSON *kind, *tty;
        const char *dummy;
        int r;

        if (!ret_error)
                ret_error = &dummy;
        *ret_error = NULL;
        if (size > RELAY_FRAME_PAYLOAD_MAX || json_parse(payload, size, &j, NULL, NULL) < 0 || !cJSON_IsObject(j)) {
                *ret_error = "open payload is not a JSON object";
                return -EINVAL;
        }
        kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
        o.kind = cJSON_IsString(kind) ? relay_open_kind_from_string(kind->valuestring) : _RELAY_OPEN_KIND_INVALID;
        if (o.kind < 0) {
                *ret_error = "kind must be exec, upload or download";
                return -EINVAL;
        }
        tty = cJSON_GetObjectItemCaseSensitive(j, "tty");
        if (tty && !cJSON_IsBool(tty)) {
                *ret_error = "tty must be a boolean";
                return -EINVAL;
        }
        o.tty = cJSON_IsTrue(tty);
        if ((r = json_get_strv(j, "argv", &o.argv, ret_error)) < 0 ||
            (r = json_get_strv(j, "env", &o.env, ret_error)) < 0 ||
            (r = json_get_path(j, "workdir", &o.workdir, ret_error)) < 0 ||
            (r = json_get_path(j, "path", &o.path, ret_error)) < 0 ||
            (r = json_get_u16(j, "rows", &o.rows, ret_error)) < 0 ||
            (r = json_get_u16(j, "cols", &o.cols, ret_error)) < 0)
                return r;
        r = relay_open_check(&o, ret_error);
        if (r < 0)
                return r;
        *ret = o;
        o = (RelayOpen) {};
        return 0;
}
