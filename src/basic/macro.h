/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Core macros shared by every part of the tree: cleanup attributes, ownership hand-over, sizes.
 * Modelled on systemd's src/fundamental/macro-fundamental.h and src/basic/macro.h. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _const_ __attribute__((const))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _fallthrough_ __attribute__((fallthrough))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _section_(x) __attribute__((section(x)))
#define _used_ __attribute__((used))
#define _retain_ __attribute__((retain))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(x) (sizeof("" x "") - 1)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))

/* Returns the value of *p and sets *p to NULL: hands ownership on. */
#define TAKE_PTR(p)                                                                                        \
        ({                                                                                                 \
                __typeof__(p) _ptr_ = (p);                                                                 \
                (p) = NULL;                                                                                \
                _ptr_;                                                                                     \
        })

#define TAKE_FD(fd)                                                                                        \
        ({                                                                                                 \
                int _fd_ = (fd);                                                                           \
                (fd) = -EBADF;                                                                             \
                _fd_;                                                                                      \
        })

/* Defines a cleanup helper 'funcp' that calls 'func' on a non-NULL pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                            \
        static inline void func##p(type *p) {                                                              \
                if (*p)                                                                                    \
                        *p = func(*p);                                                             \
        }

/* Same, for library free functions that return void. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(type, func, name)                                                \
        static inline void name(type *p) {                                                                 \
                if (*p)                                                                                    \
                        func(*p);                                                                          \
        }

#define assert_not_reached() __builtin_unreachable()

/* Negative errno helpers. */
#define ERRNO_IS_TRANSIENT(r) (IN_SET(abs(r), EAGAIN, EINTR))
#define ERRNO_IS_DISCONNECT(r)                                                                             \
        (IN_SET(abs(r), ECONNABORTED, ECONNREFUSED, ECONNRESET, EHOSTDOWN, EHOSTUNREACH, ENETDOWN,         \
                ENETRESET, ENETUNREACH, ENONET, ENOPROTOOPT, ENOTCONN, EPIPE, EPROTO, ESHUTDOWN, ETIMEDOUT))

#define IN_SET(x, first, ...)                                                                              \
        ({                                                                                                 \
                bool _found_ = false;                                                                      \
                const __typeof__(first) _set_[] = { first, __VA_ARGS__ };                                  \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++)                                       \
                        if ((x) == _set_[_i_]) {                                                           \
                                _found_ = true;                                                            \
                                break;                                                             \
                        }                                                                                  \
                _found_;                                                                                   \
        })

/* Returns the negative errno of the last failed libc call, never 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* String tables for enums: foo_to_string() / foo_from_string(). */
#define DECLARE_STRING_TABLE_LOOKUP(name, type)                                                            \
        const char *name##_to_string(type i) _const_;                                                     \
        type name##_from_string(const char *s) _pure_

#define DEFINE_STRING_TABLE_LOOKUP(name, type, max)                                                        \
        const char *name##_to_string(type i) {                                                             \
                if ((int) i < 0 || (size_t) i >= ELEMENTSOF(name##_table))                                 \
                        return NULL;                                                                       \
                return name##_table[i];                                                                    \
        }                                                                                                  \
        type name##_from_string(const char *s) {                                                           \
                if (!s)                                                                                    \
                        return (type) -EINVAL;                                                             \
                for (size_t i = 0; i < (size_t) (max); i++)                                                \
                        if (name##_table[i] && strcmp(name##_table[i], s) == 0)                            \
                                return (type) i;                                                           \
                return (type) -EINVAL;                                                                     \
        }
