// test_safetensors.c: the reader against a file written by hand in Python
// (fixture), write -> read round trips, and refusals of hostile headers,
// each with the message a user would see.
#include <math.h>

#include "gb_io_internal.h"
#include "io_test_expect.h"

static void test_fixture_and_round_trip(void) {
    size_t len;
    uint8_t *buf = read_fixture("mixed.safetensors", &len);
    gb_state_dict sd, back;
    CHECK(gb_safetensors_read(buf, len, &sd) == GB_OK, "%s", gb_last_error());
    check_expected(&sd, "mixed.safetensors");
    uint8_t *out;
    size_t out_len;
    CHECK(gb_safetensors_write(&sd, &out, &out_len) == GB_OK, "%s", gb_last_error());
    uint64_t header_len = gb_rd64(out);
    CHECK(header_len % 8 == 0 && (out[8 + header_len - 1] == ' ' || out[8 + header_len - 1] == '}'));
    const char *i64 = "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}";
    CHECK(memmem(out, out_len, i64, strlen(i64)) != NULL, "int64 first, 8-aligned");
    CHECK(gb_safetensors_read(out, out_len, &back) == GB_OK, "%s", gb_last_error());
    same_state_dict(&sd, &back, "safetensors round trip");
    gb_sd_free(&back);
    free(out);
    gb_sd_free(&sd);
    free(buf);
}

// A file from a header and `data_len` bytes of data (value i at byte i).
static gb_status read_made(const char *header, size_t data_len, gb_state_dict *sd) {
    size_t h = strlen(header), len = 8 + h + data_len;
    uint8_t *buf = malloc(len);
    gb_wr64(buf, h);
    memcpy(buf + 8, header, h);
    for (size_t i = 0; i < data_len; i++) buf[8 + h + i] = (uint8_t)i;
    gb_status st = gb_safetensors_read(buf, len, sd);
    free(buf);
    return st;
}

static void refuses(const char *header, size_t data_len, const char *message) {
    gb_state_dict sd;
    gb_status st = read_made(header, data_len, &sd);
    CHECK(st == GB_ERR_FORMAT, "accepted: %s", header);
    CHECK(contains(gb_last_error(), message), "for %s\n  got: %s\n want: %s", header, gb_last_error(), message);
    CHECK(sd.n == 0 && sd.entries == NULL);
}

#define T(body) "{\"t\":{" body "}}"

static void test_hostile_headers(void) {
    refuses("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[10,4]}}", 10,
            "safetensors: tensor 'fc.weight' data_offsets [10, 4] run backwards");
    refuses("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "[4, 12] overlaps 'a'");
    refuses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "data bytes [4, 8) belong to no tensor");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), 6, "data bytes [4, 6) belong to no tensor");
    refuses(T("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"), 8, "[0, 8] hold 8 bytes but its shape needs 12");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), 2, "run past the end of the data (2 bytes)");
    refuses(T("\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]"), 1, "unsupported dtype 'F8_E4M3'");
    refuses(T("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), 4, "shape holds something other than a sane size");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]"), 4, "sane size");
    refuses(T("\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]"), 4, "sane size");
    refuses(T("\"dtype\":\"F32\",\"shape\":[268435456,268435456],\"data_offsets\":[0,4]"), 4, "larger than this loader allows");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4, "more than 8 dimensions");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1"), 4, "unknown field extra");
    refuses(T("\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), 4, "repeats the field dtype");
    refuses(T("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, "has no shape");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4, "not a pair");
    refuses(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]"), 4, "run past the end");
    refuses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'a' appears twice");
    refuses("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ 'k' is not a string");
    refuses("{\"a\\u0000b\":{}}", 0, "NUL");
    refuses("[]", 0, "does not start with '{'");
    refuses("{\"t\":1,}", 0, "safetensors: header: bad JSON at byte 7: expected a member name");
    refuses("{\"t\":\"abc}", 0, "unterminated string");
    refuses("{\"t\":\"\\ud800\"}", 0, "unpaired surrogate");
    refuses("{\"t\":\"a\tb\"}", 0, "control character");
    refuses("{\"t\":\"\\x\"}", 0, "bad escape");
    refuses("{\"t\":\"\xc3\x28\"}", 0, "invalid UTF-8");
    refuses("{\"t\":01}", 0, "expected ',' or '}'");
    refuses("{\"t\":1} x", 0, "trailing characters");
    refuses("{\"t\":tru}", 0, "bad literal");
    char deep[400] = "{\"__metadata__\":";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    refuses(deep, 0, "nested too deeply");
}

static void test_lengths(void) {
    gb_state_dict sd;
    uint8_t small[7] = {0};
    CHECK(gb_safetensors_read(small, sizeof small, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "too short"));
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    CHECK(gb_safetensors_read(huge, sizeof huge, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "runs past the end"));
    uint8_t empty[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(gb_safetensors_read(empty, sizeof empty, &sd) == GB_OK && sd.n == 0, "%s", gb_last_error());
    gb_sd_free(&sd);
    // Escapes in names, and a name with a surrogate pair, survive.
    CHECK(read_made("{\"a\\\"b\\\\\\u00e9\\ud83d\\ude00\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}  ",
                    4, &sd) == GB_OK, "%s", gb_last_error());
    CHECK(sd.n == 1 && strcmp(sd.entries[0].name, "a\"b\\\xc3\xa9\xf0\x9f\x98\x80") == 0);
    CHECK(sd.n == 1 && sd.entries[0].data[0] == gb_load_as_f32((const uint8_t *)"\x00\x01", GB_DT_BF16));
    gb_sd_free(&sd);
}

// Every dtype the reader converts, from known bytes.
static void test_dtypes(void) {
    const char *header = "{\"f64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                         "\"i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                         "\"i16\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[12,14]},"
                         "\"i8\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[14,15]},"
                         "\"u8\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[15,16]},"
                         "\"b\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[16,18]},"
                         "\"f16\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[18,28]},"
                         "\"i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[28,36]}}";
    static const uint8_t data[36] = {
        0, 0, 0, 0, 0, 0, 0xf8, 0x3f,                 // 1.5 as float64
        0xfe, 0xff, 0xff, 0xff,                       // -2 as int32
        0x00, 0x80,                                   // -32768 as int16
        0x80,                                         // -128 as int8
        0xff,                                         // 255 as uint8
        0x00, 0x07,                                   // False, True (any non-zero)
        0x00, 0x7c, 0x00, 0xfc, 0x01, 0x7c, 0x01, 0x00, 0xff, 0x03,   // inf, -inf, NaN, 2^-24, 1023*2^-24
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};  // INT64_MAX
    size_t h = strlen(header);
    uint8_t *buf = malloc(8 + h + sizeof data);
    gb_wr64(buf, h);
    memcpy(buf + 8, header, h);
    memcpy(buf + 8 + h, data, sizeof data);
    gb_state_dict sd;
    CHECK(gb_safetensors_read(buf, 8 + h + sizeof data, &sd) == GB_OK, "%s", gb_last_error());
    if (sd.n == 8) {
        CHECK(sd.entries[0].data[0] == 1.5f && sd.entries[0].dtype_src == GB_DT_F64);
        CHECK(sd.entries[1].data[0] == -2.0f && sd.entries[2].data[0] == -32768.0f);
        CHECK(sd.entries[3].data[0] == -128.0f && sd.entries[4].data[0] == 255.0f);
        CHECK(sd.entries[5].data[0] == 0.0f && sd.entries[5].data[1] == 1.0f);
        const float *f = sd.entries[6].data;
        CHECK(f[0] == INFINITY && f[1] == -INFINITY && f[2] != f[2], "%g %g %g", f[0], f[1], f[2]);
        CHECK(f[3] == ldexpf(1, -24) && f[4] == ldexpf(1023, -24), "%g %g", f[3], f[4]);
        CHECK(sd.entries[7].data[0] == 9.2233720368547758e18f && sd.entries[7].dtype_src == GB_DT_I64);
    }
    uint8_t *out;
    size_t len;   // INT64_MAX goes through float (2^63) and back out clamped
    CHECK(gb_safetensors_write(&sd, &out, &len) == GB_OK);
    CHECK(memmem(out, len, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8) != NULL);
    free(out);
    gb_sd_free(&sd);
    free(buf);
}

static void test_write_empty(void) {
    gb_state_dict empty = {0}, back;
    uint8_t *out;
    size_t len;
    CHECK(gb_safetensors_write(&empty, &out, &len) == GB_OK && len % 8 == 0);
    CHECK(gb_safetensors_read(out, len, &back) == GB_OK && back.n == 0, "%s", gb_last_error());
    free(out);
}

int main(void) {
    test_dtypes();
    test_write_empty();
    test_fixture_and_round_trip();
    test_hostile_headers();
    test_lengths();
    return finish("test_safetensors");
}
