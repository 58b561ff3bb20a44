// gb_image_api.c: torchvision's ImageNet preprocessing of a picture, in the
// steps the page shows one by one:
//   T.Resize(256) → T.CenterCrop(224) → T.ToTensor() → T.Normalize(mean, std)
// on a PIL image, exactly (tests/resnet/frozen.test.mjs, "preprocessing":
// every resized and cropped byte equals Pillow's, every float torchvision's).
// Validate, allocate the work memory, call the kernel.
#include <stdint.h>
#include <stdlib.h>

#include "../core/gb_status.h"
#include "../kernels/resize.h"
#include "gb_api.h"


// T.Normalize's ImageNet constants. NOTE: torch.as_tensor(mean, dtype=float32)
// rounds Python's doubles to float, so these are doubles cast to float, not
// float literals (decimal → float directly could round differently).
static const double imagenet_mean[3] = { 0.485, 0.456, 0.406 };
static const double imagenet_std[3] = { 0.229, 0.224, 0.225 };

static gb_status check_size(const char *what, int w, int h) {
    if (w < 1 || h < 1 || w > GB_MAX_IMAGE_SIDE || h > GB_MAX_IMAGE_SIDE)
        return gb_set_error(GB_ERR_ARG, "%s: %dx%d is not a picture size (1 to %d pixels a side)", what, w, h, GB_MAX_IMAGE_SIDE);
    return GB_OK;
}

// T.Resize(size)'s output for a w×h picture: the shorter side becomes
// `size`, the longer int(size · long / short), the division in double as
// Python's / (torchvision's _compute_resized_output_size; w <= h counts w as
// the shorter side). out_wh = {width, height}.
GB_API int gb_image_resized_size(int w, int h, int size, int *out_wh) {
    GB_TRY(check_size("Resize", w, h));
    if (size < 1 || size > GB_MAX_IMAGE_SIDE) return gb_set_error(GB_ERR_ARG, "Resize(%d): the size must be 1..%d", size, GB_MAX_IMAGE_SIDE);
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    double scaled = (double)size * longer / shorter;
    if (scaled >= GB_MAX_IMAGE_SIDE + 1.0) return gb_set_error(GB_ERR_ARG, "Resize(%d) of %dx%d would be over %d pixels long", size, w, h, GB_MAX_IMAGE_SIDE);
    int new_long = (int)scaled;
    out_wh[0] = w <= h ? size : new_long;
    out_wh[1] = w <= h ? new_long : size;
    return GB_OK;
}

// Pillow's img.resize((out_w, out_h), Image.BILINEAR) of `pixels` (h, w,
// channels) uint8, channels 3 (RGB) or 4 (RGBA, alpha ignored), into
// out_rgb (out_h, out_w, 3). engine/kernels/resize.h says how.
GB_API int gb_image_resize(const uint8_t *pixels, int w, int h, int channels, int out_w, int out_h, uint8_t *out_rgb) {
    if (!pixels || !out_rgb) return gb_set_error(GB_ERR_ARG, "gb_image_resize: missing buffer");
    if (channels != 3 && channels != 4) return gb_set_error(GB_ERR_ARG, "pixels must be RGB (3 channels) or RGBA (4), not %d", channels);
    GB_TRY(check_size("input", w, h));
    GB_TRY(check_size("output", out_w, out_h));
    void *work = malloc(gb_u8_resize_bilinear_work_bytes(w, h, out_w, out_h));
    if (!work) return gb_set_error(GB_ERR_NOMEM, "out of memory resizing %dx%d to %dx%d", w, h, out_w, out_h);
    gb_u8_resize_bilinear__scalar(pixels, w, h, channels, out_rgb, out_w, out_h, work);
    free(work);
    return GB_OK;
}

// Python's int(round(d / 2.0)) for d >= 0: halves go to the even neighbour.
static int half_to_even(int d) {
    int q = d / 2;
    return (d % 2 == 0 || q % 2 == 0) ? q : q + 1;
}

// T.CenterCrop(size) of rgb (h, w, 3), then T.ToTensor() and T.Normalize(
// ImageNet mean, std): crop_rgb (size, size, 3) uint8 (may be NULL) and
// chw (3, size, size) float32 with
//   chw[c][y][x] = (v / 255 − mean[c]) / std[c]     each step rounded to float, as torch does
// The crop starts at top = int(round((h − size) / 2.0)), likewise left.
GB_API int gb_image_center_crop_normalize(const uint8_t *rgb, int w, int h, int size, uint8_t *crop_rgb, float *chw) {
    if (!rgb || !chw) return gb_set_error(GB_ERR_ARG, "gb_image_center_crop_normalize: missing buffer");
    GB_TRY(check_size("input", w, h));
    if (size < 1 || size > w || size > h)
        return gb_set_error(GB_ERR_ARG, "CenterCrop(%d) of a %dx%d image: resize it first so both sides are at least %d "
                                        "(torchvision would pad it with black)", size, w, h, size);
    const int top = half_to_even(h - size), left = half_to_even(w - size);
    const size_t plane = (size_t)size * size;
    for (int y = 0; y < size; y++) {
        const uint8_t *src = rgb + ((size_t)(top + y) * w + left) * 3;
        for (int x = 0; x < size; x++) {
            for (int c = 0; c < 3; c++) {
                uint8_t v = src[3 * x + c];
                if (crop_rgb) crop_rgb[((size_t)y * size + x) * 3 + c] = v;
                float t = (float)v / 255.0f;   // ToTensor: img.float().div(255)
                chw[c * plane + (size_t)y * size + x] = (t - (float)imagenet_mean[c]) / (float)imagenet_std[c];
            }
        }
    }
    return GB_OK;
}
