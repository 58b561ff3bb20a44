// gb_zip.h: just enough zip for PyTorch checkpoints. Reading: the end of
// central directory (and its ZIP64 form, which torch always writes), the
// central directory, local headers; stored entries only, CRC checked.
// Writing: stored entries laid out exactly as torch 1.13 does.
#ifndef GB_ZIP_H
#define GB_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "gb_io_internal.h"

typedef struct gb_zip_entry {
    const char *name;          // points into the archive; NOT NUL-terminated
    size_t name_len;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, local_offset;
} gb_zip_entry;

typedef struct gb_zip {
    const uint8_t *buf;
    size_t len;
    gb_zip_entry *entries;     // sorted by name, for gb_zip_find
    int n;
    gb_zip_entry first;        // the first entry in directory order (torch takes its prefix from it)
    uint8_t *verified;         // per entry: CRC already checked
} gb_zip;

gb_status gb_zip_open(gb_zip *z, const uint8_t *buf, size_t len);
void gb_zip_close(gb_zip *z);
const gb_zip_entry *gb_zip_find(const gb_zip *z, const char *name, size_t name_len);
// The bytes of a stored entry (one of z->entries), after checking its local
// header and CRC-32.
gb_status gb_zip_data(const gb_zip *z, const gb_zip_entry *e, const uint8_t **data, size_t *size);

// Writer: records go straight into `out`; the directory is kept aside.
typedef struct gb_zip_writer {
    gb_bytes out;
    gb_bytes dir;               // central directory records
    int n;
} gb_zip_writer;

// Appends a stored record whose data starts on a 64-byte boundary.
void gb_zip_add(gb_zip_writer *w, const char *name, const void *data, size_t size);
// Finishes the archive; on success `*out` (malloc'd) and `*len` take it over.
gb_status gb_zip_finish(gb_zip_writer *w, uint8_t **out, size_t *len);

#endif
