/* INCRBYFLOAT arithmetic in the C long double type, as Redis does it: parse with strtold,
 * add, print with "%.17Lf" and trim trailing zeros. Rust has no long double; on x86_64 it
 * is the 80-bit extended type, and replies such as "5005.60000000000000009" or results up
 * to 1e4932 depend on it, so the arithmetic is done here. Written for ferrodis. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld rules: no leading space, whole string consumed, no overflow, no NaN. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* current (NULL when the key is missing) + incr, printed into out.
 * Returns the length, or -1 when current is not a float, -2 when incr is not a float,
 * -3 when the result is NaN or infinite, -4 when out is too small. */
long ferrodis_ld_incr(const char *cur, size_t cur_len, const char *incr, size_t incr_len,
                      char *out, size_t out_len) {
    long double value = 0, by;
    int l;
    if (cur != NULL && !parse_ld(cur, cur_len, &value)) return -1;
    if (!parse_ld(incr, incr_len, &by)) return -2;
    value += by;
    if (isnan(value) || isinf(value)) return -3;
    l = snprintf(out, out_len, "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > out_len) return -4;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    return l;
}
