// zip.c: reading and writing the stored zip archives of torch.save.
//
// A zip is read from its end: the end-of-central-directory record (EOCD)
// gives the directory's offset, size and entry count (ZIP64 puts 64-bit
// copies in an extra record just before it); each directory entry gives a
// local header offset; the data follows the local header, its name and its
// extra field. Every offset below is checked against the buffer before use.
#include "gb_zip.h"

#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_DIR 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define MAX_ENTRIES (1 << 20)

typedef struct {
    uint64_t n_entries, dir_size, dir_offset;
    size_t dir_end;            // where the directory must end (the next record)
} eocd_info;

static gb_status zerr(const char *msg) { return gb_set_error(GB_ERR_FORMAT, "pth: zip %s", msg); }

static gb_status find_eocd(const uint8_t *buf, size_t len, size_t *at) {
    if (len < 22) return zerr("archive is too short to be a zip (no end of central directory)");
    size_t lowest = len - 22 > 65535 ? len - 22 - 65535 : 0;
    for (size_t p = len - 22 + 1; p-- > lowest;) {
        if (gb_rd32(buf + p) == SIG_EOCD && gb_rd16(buf + p + 20) == len - p - 22) {
            *at = p;
            return GB_OK;
        }
    }
    if (len >= 2 && buf[0] == 0x80 && buf[1] == 0x02)
        return gb_set_error(GB_ERR_FORMAT,
                            "pth: this is the legacy (pre-1.6) torch.save format, which is not supported; "
                            "re-save it with a current PyTorch");
    return zerr("end of central directory not found (not a zip archive)");
}

// ZIP64: a locator 20 bytes before the EOCD points at the 64-bit EOCD.
static gb_status read_eocd64(const uint8_t *buf, size_t eocd, eocd_info *info) {
    size_t loc = eocd - 20;
    uint64_t off = gb_rd64(buf + loc + 8);
    if (gb_rd32(buf + loc + 4) != 0 || gb_rd32(buf + loc + 16) > 1)
        return zerr("archive spans several disks");
    if (off > loc || loc - off < 56 || gb_rd32(buf + off) != SIG_EOCD64)
        return zerr("ZIP64 end of central directory is missing or misplaced");
    const uint8_t *r = buf + off;
    if (gb_rd32(r + 16) != 0 || gb_rd32(r + 20) != 0 || gb_rd64(r + 24) != gb_rd64(r + 32))
        return zerr("archive spans several disks");
    info->n_entries = gb_rd64(r + 32);
    info->dir_size = gb_rd64(r + 40);
    info->dir_offset = gb_rd64(r + 48);
    info->dir_end = (size_t)off;
    return GB_OK;
}

static gb_status read_eocd(const uint8_t *buf, size_t len, eocd_info *info) {
    size_t eocd;
    GB_TRY(find_eocd(buf, len, &eocd));
    const uint8_t *r = buf + eocd;
    if (eocd >= 20 && gb_rd32(buf + eocd - 20) == SIG_LOCATOR64) {
        GB_TRY(read_eocd64(buf, eocd, info));
    } else {
        if (gb_rd16(r + 4) != 0 || gb_rd16(r + 6) != 0 || gb_rd16(r + 8) != gb_rd16(r + 10))
            return zerr("archive spans several disks");
        info->n_entries = gb_rd16(r + 10);
        info->dir_size = gb_rd32(r + 12);
        info->dir_offset = gb_rd32(r + 16);
        info->dir_end = eocd;
    }
    if (info->dir_offset > info->dir_end || info->dir_size != info->dir_end - info->dir_offset)
        return zerr("central directory offset/size do not match its position");
    if (info->n_entries > MAX_ENTRIES || info->n_entries > info->dir_size / 46)
        return zerr("entry count does not fit the central directory");
    return GB_OK;
}

// ZIP64 extra field (id 1): 64-bit values for whichever 32-bit fields are 0xFFFFFFFF,
// in the order uncompressed size, compressed size, local header offset.
static gb_status read_zip64_extra(const uint8_t *x, size_t n, gb_zip_entry *e) {
    int need_u = e->usize == 0xffffffffu, need_c = e->csize == 0xffffffffu,
        need_o = e->local_offset == 0xffffffffu;
    if (!need_u && !need_c && !need_o) return GB_OK;
    for (size_t p = 0; p + 4 <= n;) {
        size_t id = gb_rd16(x + p), size = gb_rd16(x + p + 2);
        if (size > n - p - 4) break;
        if (id == 1) {
            const uint8_t *f = x + p + 4, *end = f + size;
            if (need_u) { if (end - f < 8) break; e->usize = gb_rd64(f); f += 8; }
            if (need_c) { if (end - f < 8) break; e->csize = gb_rd64(f); f += 8; }
            if (need_o) { if (end - f < 8) break; e->local_offset = gb_rd64(f); }
            return GB_OK;
        }
        p += 4 + size;
    }
    return zerr("entry needs a ZIP64 extra field that is missing or short");
}

static gb_status read_dir_entry(const uint8_t *buf, size_t *p, size_t end, gb_zip_entry *e) {
    const uint8_t *r = buf + *p;
    if (end - *p < 46 || gb_rd32(r) != SIG_DIR) return zerr("central directory entry is damaged");
    size_t name_len = gb_rd16(r + 28), extra_len = gb_rd16(r + 30), comment_len = gb_rd16(r + 32);
    if (end - *p - 46 < name_len + extra_len + comment_len) return zerr("central directory entry overruns the directory");
    *e = (gb_zip_entry){
        .name = (const char *)r + 46, .name_len = name_len, .flags = gb_rd16(r + 8),
        .method = gb_rd16(r + 10), .crc = gb_rd32(r + 16), .csize = gb_rd32(r + 20),
        .usize = gb_rd32(r + 24), .local_offset = gb_rd32(r + 42)};
    if (e->flags & 1) return zerr("entry is encrypted");
    GB_TRY(read_zip64_extra(r + 46 + name_len, extra_len, e));
    *p += 46 + name_len + extra_len + comment_len;
    return GB_OK;
}

static int entry_cmp(const void *a, const void *b) {
    const gb_zip_entry *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

gb_status gb_zip_open(gb_zip *z, const uint8_t *buf, size_t len) {
    *z = (gb_zip){.buf = buf, .len = len};
    eocd_info info;
    GB_TRY(read_eocd(buf, len, &info));
    if (info.n_entries == 0) return zerr("archive is empty");
    z->entries = malloc((size_t)info.n_entries * sizeof *z->entries);
    if (!z->entries) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
    size_t p = (size_t)info.dir_offset;
    for (uint64_t i = 0; i < info.n_entries; i++) {
        gb_status st = read_dir_entry(buf, &p, info.dir_end, &z->entries[i]);
        if (st != GB_OK) { gb_zip_close(z); return st; }
    }
    z->n = (int)info.n_entries;
    z->first = z->entries[0];
    z->verified = calloc((size_t)z->n, 1);
    if (!z->verified) { gb_zip_close(z); return gb_set_error(GB_ERR_NOMEM, "pth: out of memory"); }
    qsort(z->entries, (size_t)z->n, sizeof *z->entries, entry_cmp);
    for (int i = 1; i < z->n; i++)
        if (entry_cmp(&z->entries[i - 1], &z->entries[i]) == 0) {
            gb_status st = gb_set_error(GB_ERR_FORMAT, "pth: zip holds '%.*s' twice",
                                        (int)(z->entries[i].name_len > 100 ? 100 : z->entries[i].name_len),
                                        z->entries[i].name);
            gb_zip_close(z);
            return st;
        }
    return GB_OK;
}

void gb_zip_close(gb_zip *z) {
    free(z->entries);
    free(z->verified);
    z->verified = NULL;
    z->entries = NULL;
    z->n = 0;
}

const gb_zip_entry *gb_zip_find(const gb_zip *z, const char *name, size_t name_len) {
    gb_zip_entry key = {.name = name, .name_len = name_len};
    return bsearch(&key, z->entries, (size_t)z->n, sizeof *z->entries, entry_cmp);
}

gb_status gb_zip_data(const gb_zip *z, const gb_zip_entry *e, const uint8_t **data, size_t *size) {
    int shown = e->name_len > 100 ? 100 : (int)e->name_len;
    if (e->method != 0)
        return gb_set_error(GB_ERR_FORMAT,
                            "pth: zip entry '%.*s' is compressed (method %u); only stored entries can be "
                            "read (torch.save stores them; re-zip with 'zip -0' if a tool compressed it)",
                            shown, e->name, e->method);
    if (e->csize != e->usize)
        return gb_set_error(GB_ERR_FORMAT, "pth: zip entry '%.*s' is stored but its two sizes differ",
                            shown, e->name);
    size_t off = (size_t)e->local_offset;
    if (e->local_offset > z->len || z->len - off < 30 || gb_rd32(z->buf + off) != SIG_LOCAL)
        return gb_set_error(GB_ERR_FORMAT, "pth: zip local header of '%.*s' is missing", shown, e->name);
    size_t name_len = gb_rd16(z->buf + off + 26), extra_len = gb_rd16(z->buf + off + 28);
    size_t start = off + 30 + name_len + extra_len;   // no overflow: each term < 2^16 and off <= len
    if (name_len != e->name_len || start > z->len || memcmp(z->buf + off + 30, e->name, name_len) != 0)
        return gb_set_error(GB_ERR_FORMAT, "pth: zip local header of '%.*s' disagrees with the directory",
                            shown, e->name);
    if (e->csize > z->len - start)
        return gb_set_error(GB_ERR_FORMAT, "pth: zip entry '%.*s' claims %llu bytes, past the end of the file",
                            shown, e->name, (unsigned long long)e->csize);
    // Checked once per entry: many tensors may share one storage.
    uint8_t *verified = &z->verified[e - z->entries];
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION   // let fuzzers past the CRC into the pickle
    if (!*verified && gb_crc32(0, z->buf + start, (size_t)e->csize) != e->crc)
        return gb_set_error(GB_ERR_FORMAT, "pth: zip entry '%.*s' fails its CRC-32 check (file damaged)",
                            shown, e->name);
#endif
    *verified = 1;
    *data = z->buf + start;
    *size = (size_t)e->csize;
    return GB_OK;
}

// ---- writer: the layout of torch 1.13's PyTorchStreamWriter (miniz) --------
// Local header with bit 3 set (sizes follow in a data descriptor), an "FB"
// extra field of 'Z' bytes that pads the data to a 64-byte boundary, the
// data, the descriptor; then the central directory, a ZIP64 EOCD, its
// locator and the classic EOCD.

void gb_zip_add(gb_zip_writer *w, const char *name, const void *data, size_t size) {
    size_t name_len = strlen(name), offset = w->out.len;
    size_t start = offset + 30 + name_len + 4;   // data start without padding
    size_t pad = (64 - start % 64) % 64;
    uint32_t crc = gb_crc32(0, data, size);
    uint8_t *h = gb_bytes_grow(&w->out, 30 + name_len + 4 + pad);
    if (h) {
        memset(h, 0, 30);
        gb_wr32(h, SIG_LOCAL);
        gb_wr16(h + 6, 0x0808);               // data descriptor follows; UTF-8 names
        gb_wr16(h + 26, (uint32_t)name_len);
        gb_wr16(h + 28, (uint32_t)(4 + pad));
        memcpy(h + 30, name, name_len);
        uint8_t *x = h + 30 + name_len;
        x[0] = 'F';
        x[1] = 'B';
        gb_wr16(x + 2, (uint32_t)pad);
        memset(x + 4, 'Z', pad);
    }
    gb_bytes_put(&w->out, data, size);
    uint8_t *d = gb_bytes_grow(&w->out, 16);
    if (d) {
        gb_wr32(d, SIG_DESCRIPTOR);
        gb_wr32(d + 4, crc);
        gb_wr32(d + 8, (uint32_t)size);
        gb_wr32(d + 12, (uint32_t)size);
    }
    uint8_t *c = gb_bytes_grow(&w->dir, 46 + name_len);
    if (c) {
        memset(c, 0, 46);
        gb_wr32(c, SIG_DIR);
        gb_wr16(c + 8, 0x0808);
        gb_wr32(c + 16, crc);
        gb_wr32(c + 20, (uint32_t)size);
        gb_wr32(c + 24, (uint32_t)size);
        gb_wr16(c + 28, (uint32_t)name_len);
        gb_wr32(c + 42, (uint32_t)offset);
        memcpy(c + 46, name, name_len);
    }
    w->n++;
}

gb_status gb_zip_finish(gb_zip_writer *w, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    size_t dir_offset = w->out.len, dir_size = w->dir.len;
    if (w->out.len + w->dir.len >= 0xffffffffu || w->n >= 0xffff) {
        free(w->out.data);
        free(w->dir.data);
        return gb_set_error(GB_ERR_ARG, "pth: checkpoints over 4 GB (or 65535 tensors) cannot be written");
    }
    gb_bytes_put(&w->out, w->dir.data, w->dir.len);
    free(w->dir.data);
    size_t eocd64 = w->out.len;
    uint8_t *r = gb_bytes_grow(&w->out, 56 + 20 + 22);
    if (r) {
        memset(r, 0, 56 + 20 + 22);
        gb_wr32(r, SIG_EOCD64);
        gb_wr64(r + 4, 44);                  // size of the rest of this record
        gb_wr16(r + 12, 0x031e);             // made by: unix, spec 3.0 (as miniz writes)
        gb_wr16(r + 14, 0x002d);             // needs 4.5 (ZIP64)
        gb_wr64(r + 24, (uint64_t)w->n);
        gb_wr64(r + 32, (uint64_t)w->n);
        gb_wr64(r + 40, dir_size);
        gb_wr64(r + 48, dir_offset);
        uint8_t *l = r + 56;
        gb_wr32(l, SIG_LOCATOR64);
        gb_wr64(l + 8, eocd64);
        gb_wr32(l + 16, 1);                  // total disks
        uint8_t *e = l + 20;
        gb_wr32(e, SIG_EOCD);
        gb_wr16(e + 8, (uint32_t)w->n);
        gb_wr16(e + 10, (uint32_t)w->n);
        gb_wr32(e + 12, (uint32_t)dir_size);
        gb_wr32(e + 16, (uint32_t)dir_offset);
    }
    if (w->out.failed) {
        free(w->out.data);
        return gb_set_error(GB_ERR_NOMEM, "pth: out of memory while writing");
    }
    *out = w->out.data;
    *len = w->out.len;
    return GB_OK;
}
