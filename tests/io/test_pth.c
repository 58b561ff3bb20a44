// test_pth.c: the .pth reader on files torch 1.13 wrote (fixtures), write ->
// read round trips with torch's 64-byte record alignment, and refusals of
// hostile archives and pickles, each with the message a user would see.
#include "gb_pickle.h"
#include "gb_zip.h"
#include "io_test_expect.h"

static void test_fixtures(void) {
    const char *files[] = {"mixed.pth", "tiny-resnet-f37072fd.pth", "wrapped.pth", "rezipped.pth"};
    for (int i = 0; i < 4; i++) {
        size_t len;
        uint8_t *buf = read_fixture(files[i], &len);
        gb_state_dict sd;
        CHECK(gb_pth_read(buf, len, &sd) == GB_OK, "%s: %s", files[i], gb_last_error());
        check_expected(&sd, files[i]);
        gb_sd_free(&sd);
        free(buf);
    }
}

static void fixture_refused(const char *file, const char *message) {
    size_t len;
    uint8_t *buf = read_fixture(file, &len);
    gb_state_dict sd;
    CHECK(gb_pth_read(buf, len, &sd) == GB_ERR_FORMAT, "%s accepted", file);
    CHECK(contains(gb_last_error(), message), "%s\n  got: %s\n want: %s", file, gb_last_error(), message);
    free(buf);
}

static void test_round_trip(void) {
    size_t len;
    uint8_t *buf = read_fixture("mixed.pth", &len);
    gb_state_dict sd, back;
    CHECK(gb_pth_read(buf, len, &sd) == GB_OK, "%s", gb_last_error());
    uint8_t *out;
    size_t out_len;
    CHECK(gb_pth_write(&sd, &out, &out_len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_pth_read(out, out_len, &back) == GB_OK, "%s", gb_last_error());
    same_state_dict(&sd, &back, "pth round trip");
    gb_zip z;   // every record's data starts on a 64-byte boundary, as torch writes them
    CHECK(gb_zip_open(&z, out, out_len) == GB_OK);
    CHECK(z.n == sd.n + 2, "%d records", z.n);
    for (int i = 0; i < z.n; i++) {
        const uint8_t *data;
        size_t size;
        CHECK(gb_zip_data(&z, &z.entries[i], &data, &size) == GB_OK);
        CHECK((data - out) % 64 == 0, "record %.*s at %td", (int)z.entries[i].name_len, z.entries[i].name, data - out);
    }
    gb_zip_close(&z);
    gb_sd_free(&back);
    gb_sd_free(&sd);
    free(out);
    free(buf);
}

// ---- hand-made archives -----------------------------------------------------

// A .pth whose data.pkl is `pkl` and whose archive/data/0 holds `n0` float32s.
static gb_status read_made(const uint8_t *pkl, size_t pkl_len, int n0, gb_state_dict *sd) {
    gb_zip_writer w = {0};
    float v[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    gb_zip_add(&w, "archive/data.pkl", pkl, pkl_len);
    gb_zip_add(&w, "archive/data/0", v, (size_t)n0 * 4);
    gb_zip_add(&w, "archive/version", "3\n", 2);
    uint8_t *zip;
    size_t len;
    GB_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK, "%s", gb_last_error());
    gb_status st = gb_pth_read(zip, len, sd);
    free(zip);
    return st;
}

static void pkl_refused(const char *what, const uint8_t *pkl, size_t len, const char *message) {
    gb_state_dict sd;
    CHECK(read_made(pkl, len, 16, &sd) == GB_ERR_FORMAT, "%s accepted", what);
    CHECK(contains(gb_last_error(), message), "%s\n  got: %s\n want: %s", what, gb_last_error(), message);
    CHECK(sd.n == 0);
}
#define REFUSED(pkl, message) pkl_refused(#pkl, (const uint8_t *)(pkl), sizeof(pkl) - 1, message)

// {name: _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, ...)}
#define RAW(b, lit) gb_bytes_put(b, lit, sizeof(lit) - 1)
static void put_str(gb_bytes *b, const char *s) {
    uint8_t x[5] = {'X'};
    gb_wr32(x + 1, (uint32_t)strlen(s));
    gb_bytes_put(b, x, 5);
    gb_bytes_put(b, s, strlen(s));
}

static void put_binint(gb_bytes *b, int v) {
    uint8_t x[5] = {'J'};
    gb_wr32(x + 1, (uint32_t)v);
    gb_bytes_put(b, x, 5);
}

static size_t tensor_pkl(uint8_t *out, const char *name, const char *key, int numel, int offset,
                         const char *size_stride) {
    gb_bytes b = {0};
    RAW(&b, "\x80\x02" "ccollections\nOrderedDict\nq\0)R(");
    put_str(&b, name);
    RAW(&b, "ctorch._utils\n_rebuild_tensor_v2\n((");
    put_str(&b, "storage");
    RAW(&b, "ctorch\nFloatStorage\n");
    put_str(&b, key);
    put_str(&b, "cpu");
    put_binint(&b, numel);
    RAW(&b, "tQ");
    put_binint(&b, offset);
    gb_bytes_put(&b, size_stride, strlen(size_stride));
    RAW(&b, "\x89h\0)RtRu.");
    size_t n = b.len;
    memcpy(out, b.data, n);
    free(b.data);
    return n;
}

static void tensor_case(const char *name, int numel, int offset, const char *size_stride,
                        const char *message, float first) {
    uint8_t pkl[512];
    size_t n = tensor_pkl(pkl, name, "0", numel, offset, size_stride);
    gb_state_dict sd;
    gb_status st = read_made(pkl, n, 16, &sd);
    if (!message) {
        CHECK(st == GB_OK && sd.n == 1 && sd.entries[0].data[0] == first, "%s: %s", name, gb_last_error());
        gb_sd_free(&sd);
        return;
    }
    CHECK(st == GB_ERR_FORMAT && contains(gb_last_error(), message), "%s\n  got: %s\n want: %s", name,
          gb_last_error(), message);
}

static void test_tensors(void) {
    tensor_case("ok", 16, 0, "K\x04\x85K\x01\x85", NULL, 0);
    tensor_case("offset", 16, 5, "K\x02K\x03\x86K\x01K\x02\x86", NULL, 5);     // strided view
    tensor_case("past.storage", 16, 14, "K\x04\x85K\x01\x85", "reaches past the end of its storage", 0);
    tensor_case("stride.past", 16, 0, "K\x04\x85K\x06\x85", "reaches past the end of its storage", 0);
    tensor_case("huge", 16, 0, "J\x01\x01\x01\x40K\x08\x86K\x01K\x01\x86", "larger than this loader allows", 0);
    tensor_case("huge.stride", 16, 0, "K\x01\x85\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x85", NULL, 0);
    tensor_case("lying.numel", 15, 0, "K\x04\x85K\x01\x85", "says 15 elements but its record holds 64 bytes", 0);
    tensor_case("negative", 16, 0, "J\xff\xff\xff\xff\x85K\x01\x85", "tensor size holds a bad value", 0);
    tensor_case("ndim9", 16, 0, "(K\1K\1K\1K\1K\1K\1K\1K\1K\1t(K\1K\1K\1K\1K\1K\1K\1K\1K\1t", "more than 8 dimensions", 0);
    uint8_t pkl[512];
    size_t n = tensor_pkl(pkl, "w", "7", 16, 0, "K\x04\x85K\x01\x85");
    gb_state_dict sd;
    CHECK(read_made(pkl, n, 16, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "has no record 'archive/data/7'"),
          "%s", gb_last_error());
}

static void test_pickles(void) {
    REFUSED("\x80\x02h\x05.", "memo index 5 was never stored");
    REFUSED("\x80\x02j\xff\xff\xff\xff.", "memo index 4294967295 was never stored");
    REFUSED("\x80\x02Nr\xff\xff\xff\xff.", "memo index too large");
    REFUSED("\x80\x02" "cbuiltins\neval\n.", "forbidden global 'builtins.eval'");
    REFUSED("\x80\x02" "cposix\nsystem\nX\x02\0\0\0ls\x85R.", "forbidden global 'posix.system'");
    REFUSED("\x80\x02" "ctorch._utils\n_rebuild_sparse_tensor\n.", "'torch._utils._rebuild_sparse_tensor' is not supported");
    REFUSED("\x80\x02" "cnewline-less", "GLOBAL without a newline");
    REFUSED("\x80\x02i__main__\nX\n.", "opcode 0x69 is not allowed");
    REFUSED("\x80\x02\x95\x10\0\0\0\0\0\0\0.", "opcode 0x95 is not allowed");    // FRAME (protocol 4)
    REFUSED("\x80\x02X\xff\0\0\0ab", "truncated");
    REFUSED("\x80\x02.", "stack underflow");
    REFUSED("\x80\x02t.", "no MARK to pop");
    REFUSED("\x80\x02N(.", "stack underflow");                // STOP may not pop across a MARK
    REFUSED("\x80\x02(N.", "holds a None, not a state_dict");
    REFUSED("\x80\x02}(NNNu.", "odd number");
    REFUSED("\x80\x02NNs.", "stack underflow");
    REFUSED("\x80\x02NNNs.", "SETITEM on a None");
    REFUSED("\x80\x02N)R.", "REDUCE calls a None");
    REFUSED("\x80\x02" "ccollections\nOrderedDict\nN\x85R.", "OrderedDict(...) with arguments");
    REFUSED("\x80\x02]q\0h\0a.", "holds a list, not a state_dict");   // a list inside itself
    REFUSED("\x80\x02}X\x01\0\0\0xK\x01s.", "entry 'x' is a int, not a tensor");
    REFUSED("\x80\x02}K\x01K\x01s.", "key that is not a string");
    REFUSED("\x80\x02X\x02\0\0\0\xc3\x28.", "not valid UTF-8");
    REFUSED("\x80\x02\x8a\x09\0\0\0\0\0\0\0\0\0.", "wider than 64 bits");
    REFUSED("\x80\x02(X\x07\0\0\0storageK\0X\x01\0\0\0" "0X\x03\0\0\0cpuK\x01tQ.", "does not name a storage class");
    REFUSED("\x80\x02" "ctorch\nFloatStorage\n)R.", "REDUCE calls a storage class");
    REFUSED("\x80\x02N\x85NbN.", "BUILD on a tuple");
    REFUSED("\x80\x06.", "unknown protocol");
    // Deep MARK nesting and a huge stack fail cleanly.
    uint8_t *deep = malloc(3000);
    memcpy(deep, "\x80\x02", 2);
    memset(deep + 2, '(', 2998);
    pkl_refused("2998 MARKs", deep, 3000, "MARKs nested too deeply");
    free(deep);
    size_t big = (1 << 20) + 10;
    uint8_t *nones = malloc(big);
    memcpy(nones, "\x80\x02", 2);
    memset(nones + 2, 'N', big - 2);
    pkl_refused("a million Nones", nones, big, "stack overflow");
    memset(nones + 2, ')', big - 2);    // EMPTY_TUPLE is shared, so this is the stack limit too
    pkl_refused("a million ()", nones, big, "stack overflow");
    free(nones);
    big = 6 << 20;
    uint8_t *ints = malloc(big);
    memcpy(ints, "\x80\x02}", 3);
    for (size_t i = 3; i + 5 <= big; i += 5) memcpy(ints + i, "K\x01K\x02s", 5);
    pkl_refused("two million ints", ints, big, "too many values");
    big = 11 << 20;   // a dict of memo references: no new values, but 4M items
    ints = realloc(ints, big);
    memcpy(ints, "\x80\x02}q\0", 5);
    for (size_t i = 5; i + 5 <= big; i += 5) memcpy(ints + i, "h\0h\0s", 5);
    pkl_refused("four million items", ints, big, "too many items");
    free(ints);
}

static void test_archives(void) {
    fixture_refused("forbidden.pth", "forbidden global 'posix.system'");
    fixture_refused("deflated.pth", "is compressed (method 8); only stored entries can be read");
    fixture_refused("mixed.safetensors", "end of central directory not found (not a zip archive)");
    size_t len;
    uint8_t *buf = read_fixture("mixed.pth", &len);
    gb_state_dict sd;
    gb_zip z;
    const uint8_t *data;
    size_t size;
    CHECK(gb_zip_open(&z, buf, len) == GB_OK);
    CHECK(gb_zip_data(&z, gb_zip_find(&z, "mixed/data/0", 12), &data, &size) == GB_OK);
    gb_zip_close(&z);
    buf[data - buf + size - 1] ^= 1;   // the last byte of a storage
    CHECK(gb_pth_read(buf, len, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "fails its CRC-32"), "%s",
          gb_last_error());
    free(buf);
    uint8_t legacy[64] = {0x80, 0x02, 0x8a, 0x0a};
    CHECK(gb_pth_read(legacy, sizeof legacy, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "legacy"));
    gb_zip_writer w = {0};   // records not inside a folder
    gb_zip_add(&w, "data.pkl", "\x80\x02}.", 4);
    uint8_t *zip;
    GB_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_pth_read(zip, len, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "'data.pkl' is not inside a folder"));
    free(zip);
    w = (gb_zip_writer){0};   // no data.pkl
    gb_zip_add(&w, "x/version", "3\n", 2);
    GB_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_pth_read(zip, len, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "no record 'x/data.pkl'"));
    free(zip);
    w = (gb_zip_writer){0};   // the same name twice
    gb_zip_add(&w, "x/data.pkl", "\x80\x02}.", 4);
    gb_zip_add(&w, "x/data.pkl", "\x80\x02}.", 4);
    GB_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_pth_read(zip, len, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "holds 'x/data.pkl' twice"));
    free(zip);
    w = (gb_zip_writer){0};   // a big-endian checkpoint (torch 2.1+ says so in byteorder)
    gb_zip_add(&w, "x/data.pkl", "\x80\x02}.", 4);
    gb_zip_add(&w, "x/byteorder", "big", 3);
    GB_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_pth_read(zip, len, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "x/byteorder is not 'little'"));
    free(zip);
    uint8_t dup[] = "\x80\x02}(X\x01\0\0\0a" "ctorch._utils\n_rebuild_tensor_v2\nq\x01((X\x07\0\0\0storage"
                    "ctorch\nFloatStorage\nX\x01\0\0\0" "0X\x03\0\0\0cpuK\x10tQK\0K\x01\x85K\x01\x85tq\x02R"
                    "X\x01\0\0\0ah\x01h\x02Ru.";
    CHECK(read_made(dup, sizeof dup - 1, 16, &sd) == GB_ERR_FORMAT && contains(gb_last_error(), "key 'a' appears twice"),
          "%s", gb_last_error());
}

// Our own archive with its directory rewritten the ZIP64 way: every size and
// offset 0xFFFFFFFF in the entries with the real values in a ZIP64 extra
// field, and the classic end record saturated, so only the ZIP64 one counts.
static uint8_t *as_zip64(const uint8_t *zip, size_t len, size_t *out_len) {
    gb_zip z;
    GB_ASSERT(gb_zip_open(&z, zip, len) == GB_OK, "%s", gb_last_error());
    size_t dir_offset = 0;   // the records end where the first directory entry starts
    while (gb_rd32(zip + dir_offset) != 0x02014b50u) dir_offset++;
    gb_bytes b = {0};
    gb_bytes_put(&b, zip, dir_offset);
    for (int i = 0; i < z.n; i++) {
        const gb_zip_entry *e = &z.entries[i];
        uint8_t *c = gb_bytes_grow(&b, 46 + e->name_len + 28);
        memset(c, 0, 46);
        gb_wr32(c, 0x02014b50u);
        gb_wr16(c + 10, e->method);
        gb_wr32(c + 16, e->crc);
        gb_wr32(c + 20, 0xffffffffu);
        gb_wr32(c + 24, 0xffffffffu);
        gb_wr16(c + 28, (uint32_t)e->name_len);
        gb_wr16(c + 30, 28);
        gb_wr32(c + 42, 0xffffffffu);
        memcpy(c + 46, e->name, e->name_len);
        uint8_t *x = c + 46 + e->name_len;
        gb_wr16(x, 1);
        gb_wr16(x + 2, 24);
        gb_wr64(x + 4, e->usize);
        gb_wr64(x + 12, e->csize);
        gb_wr64(x + 20, e->local_offset);
    }
    size_t dir_size = b.len - dir_offset, eocd64 = b.len;
    uint8_t *r = gb_bytes_grow(&b, 56 + 20 + 22);
    memset(r, 0, 98);
    gb_wr32(r, 0x06064b50u);
    gb_wr64(r + 4, 44);
    gb_wr64(r + 24, (uint64_t)z.n);
    gb_wr64(r + 32, (uint64_t)z.n);
    gb_wr64(r + 40, dir_size);
    gb_wr64(r + 48, dir_offset);
    gb_wr32(r + 56, 0x07064b50u);
    gb_wr64(r + 64, eocd64);
    gb_wr32(r + 72, 1);
    gb_wr32(r + 76, 0x06054b50u);
    gb_wr16(r + 84, 0xffff);
    gb_wr16(r + 86, 0xffff);
    gb_wr32(r + 88, 0xffffffffu);
    gb_wr32(r + 92, 0xffffffffu);
    gb_zip_close(&z);
    *out_len = b.len;
    return b.data;
}

static void test_zip64(void) {
    size_t len, len64;
    uint8_t *buf = read_fixture("tiny-resnet-f37072fd.pth", &len);
    uint8_t *zip64 = as_zip64(buf, len, &len64);
    gb_state_dict a, b;
    CHECK(gb_pth_read(buf, len, &a) == GB_OK);
    CHECK(gb_pth_read(zip64, len64, &b) == GB_OK, "%s", gb_last_error());
    same_state_dict(&a, &b, "zip64");
    zip64[len64 - 98 + 56 + 8] ^= 1;   // the locator now points beside the ZIP64 end record
    gb_sd_free(&b);
    CHECK(gb_pth_read(zip64, len64, &b) == GB_ERR_FORMAT && contains(gb_last_error(), "ZIP64 end of central directory"),
          "%s", gb_last_error());
    gb_sd_free(&a);
    free(zip64);
    free(buf);
}

static void test_write_empty(void) {
    gb_state_dict empty = {0}, back;
    uint8_t *out;
    size_t len;
    CHECK(gb_pth_write(&empty, &out, &len) == GB_OK);
    CHECK(gb_pth_read(out, len, &back) == GB_OK && back.n == 0, "%s", gb_last_error());
    free(out);
}

int main(void) {
    test_write_empty();
    test_zip64();
    test_fixtures();
    test_round_trip();
    test_tensors();
    test_pickles();
    test_archives();
    return finish("test_pth");
}
