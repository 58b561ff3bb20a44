// test_format.c: gb_file_format_of tells .pth, safetensors, a legacy .pth
// and pictures apart by their first bytes, never reads past `len`, and
// gb_weights_read refuses what is not weights with a message saying what
// the bytes are. Buffers are exactly sized, so ASan sees any overread.
#include "gb_format.h"
#include "io_test_util.h"

// A copy of `n` bytes in a buffer of exactly that size.
static uint8_t *exact(const void *bytes, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, bytes, n);
    return b;
}

static gb_file_format format_of(const void *bytes, size_t n) {
    uint8_t *b = exact(bytes, n);
    gb_file_format f = gb_file_format_of(b, n);
    free(b);
    return f;
}

// A string literal's bytes without its NUL.
#define BYTES(lit) lit, sizeof lit - 1
#define FORMAT_OF(lit) format_of(BYTES(lit))

static void test_magics(void) {
    CHECK(FORMAT_OF("PK\x03\x04rest") == GB_FILE_PTH);
    CHECK(FORMAT_OF("\x89PNG\r\n\x1a\n\0\0\0\rIHDR") == GB_FILE_PNG);
    CHECK(FORMAT_OF("\xff\xd8\xff\xe0") == GB_FILE_JPEG);
    CHECK(FORMAT_OF("GIF89a") == GB_FILE_GIF);
    CHECK(FORMAT_OF("\x80\x02\x8a\x0a") == GB_FILE_LEGACY_PTH);   // protocol 2: torch.save before 1.6
    CHECK(FORMAT_OF("\x80\x06") == GB_FILE_UNKNOWN);              // no pickle protocol 6
    CHECK(FORMAT_OF("\x10\0\0\0\0\0\0\0{\"a\":1}   ") == GB_FILE_SAFETENSORS);
    CHECK(FORMAT_OF("\x10\0\0\0\0\0\0\0[") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("PK\x03\x04{{{{{") == GB_FILE_PTH);           // the zip magic wins over byte 8
    CHECK(FORMAT_OF("hello, world") == GB_FILE_UNKNOWN);
}

// Every prefix of every magic: too short is unknown (or a shorter magic),
// and nothing past `len` is read.
static void test_short_buffers(void) {
    CHECK(gb_file_format_of(NULL, 0) == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("PK\x03") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("\x89PNG\r\n\x1a") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("\xff\xd8") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("GIF") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("\x80") == GB_FILE_UNKNOWN);
    CHECK(FORMAT_OF("\x10\0\0\0\0\0\0\0") == GB_FILE_UNKNOWN);
}

// What the writers make is read back as what it is; only weights are written.
static void test_written(void) {
    gb_state_dict sd = {0}, back = {0};
    const int64_t shape[1] = { 3 };
    const float v[3] = { 1, 2, 3 };
    CHECK(gb_sd_add(&sd, "w", 1, shape, GB_DT_F32, v) == GB_OK);
    uint8_t *bytes;
    size_t len;
    CHECK(gb_safetensors_write(&sd, &bytes, &len) == GB_OK);
    CHECK(gb_file_format_of(bytes, len) == GB_FILE_SAFETENSORS);
    gb_file_format f = GB_FILE_UNKNOWN;
    CHECK(gb_weights_read(bytes, len, &back, &f) == GB_OK && f == GB_FILE_SAFETENSORS && back.n == 1);
    gb_sd_free(&back);
    free(bytes);
    CHECK(gb_weights_write(&sd, GB_FILE_PTH, &bytes, &len) == GB_OK);
    CHECK(gb_file_format_of(bytes, len) == GB_FILE_PTH);
    CHECK(gb_weights_read(bytes, len, &back, NULL) == GB_OK && back.n == 1 && back.entries[0].data[2] == 3);
    CHECK(strcmp(gb_file_format_name(GB_FILE_PTH), "pth") == 0);
    CHECK(strcmp(gb_file_format_name(GB_FILE_SAFETENSORS), "safetensors") == 0);
    gb_sd_free(&back);
    free(bytes);
    bytes = NULL;
    CHECK(gb_weights_write(&sd, GB_FILE_PNG, &bytes, &len) == GB_ERR_ARG && !bytes);
    gb_sd_free(&sd);
}

// The messages the page shows for what is not weights.
static void test_refused(void) {
    static const struct { const char *bytes; size_t n; gb_file_format f; const char *says; } cases[] = {
        { BYTES("\x89PNG\r\n\x1a\n"), GB_FILE_PNG, "this is a PNG image, not a weights file" },
        { BYTES("\xff\xd8\xff\xdb"), GB_FILE_JPEG, "this is a JPEG image" },
        { BYTES("GIF87a"), GB_FILE_GIF, "this is a GIF image" },
        { BYTES("\x80\x02"), GB_FILE_LEGACY_PTH, "legacy (pre-1.6) format" },
        { BYTES("plain text"), GB_FILE_UNKNOWN, "not a weights file: expected a PyTorch .pth (zip) or a .safetensors file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = exact(cases[i].bytes, cases[i].n);
        gb_state_dict sd = {0};
        gb_file_format f = GB_FILE_PTH;
        CHECK(gb_weights_read(b, cases[i].n, &sd, &f) == GB_ERR_FORMAT, "case %zu", i);
        CHECK(f == cases[i].f && sd.n == 0, "case %zu: format %d", i, (int)f);
        CHECK(contains(gb_last_error(), cases[i].says), "case %zu: %s", i, gb_last_error());
        free(b);
    }
}

int main(void) {
    test_magics();
    test_short_buffers();
    test_written();
    test_refused();
    return finish("test_format");
}
