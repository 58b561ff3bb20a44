// rng.c: PyTorch's CPU generator (mt19937) and the float transformations of
// uniform_ and normal_, as torch 1.13 does them. See gb_rng.h.
#include "gb_rng.h"

#include <math.h>

#include "../core/gb_status.h"

// --- mt19937 (Matsumoto & Nishimura), as at::mt19937 and std::mt19937 -------

void gb_generator_seed(gb_generator *gen, uint64_t seed) {
    gen->state[0] = (uint32_t)seed;   // NOTE: torch keeps only the low 32 bits
    for (uint32_t j = 1; j < 624; j++) {
        uint32_t prev = gen->state[j - 1];
        gen->state[j] = 1812433253u * (prev ^ (prev >> 30)) + j;
    }
    gen->next = 624;                  // regenerate before the first draw
}

// The "twist": a new block of 624 words from the old one.
static void twist(gb_generator *gen) {
    uint32_t *s = gen->state;
    for (int i = 0; i < 624; i++) {
        uint32_t y = (s[i] & 0x80000000u) | (s[(i + 1) % 624] & 0x7fffffffu);
        s[i] = s[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    gen->next = 0;
}

uint32_t gb_generator_random(gb_generator *gen) {
    if (gen->next >= 624) twist(gen);
    uint32_t y = gen->state[gen->next++];
    // Tempering: spreads the bits of the state word over the output.
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

// --- uniform_ -----------------------------------------------------------------

// at::uniform_real_distribution<float>: 24 random bits scaled to [0, 1), then
// stretched to [from, to) in float. `from` and `to` are rounded to float first.
// NOTE: torch's AVX2 build (the one CPUs run) contracts u·(to − from) + from
// into one FMA, a single rounding; checked bit for bit against torch 1.13.
// Two roundings differ in about half the values.
static inline float uniform_float(gb_generator *gen, float from, float to) {
    uint32_t x = gb_generator_random(gen) & ((1u << 24) - 1);
    float u = (float)x * (1.0f / 16777216.0f);   // exact: 24 bits fit a float
    return fmaf(u, to - from, from);
}

void gb_uniform_(gb_generator *gen, float *data, int64_t n, double from, double to) {
    float f = (float)from, t = (float)to;
    for (int64_t i = 0; i < n; i++) data[i] = uniform_float(gen, f, t);
}

// --- normal_ ------------------------------------------------------------------

// Box–Muller on 8 pairs: (u1, u2) uniform in [0, 1) → two independent normals
//   r = sqrt(−2 ln(1 − u1)),  θ = 2π u2,  n1 = r cos θ,  n2 = r sin θ.
// As torch's normal_fill_16_AVX2: θ and r in float, mean + std·n as one FMA.
// NOTE: torch takes log, cos and sin from SLEEF (1-ulp accurate), we from
// libm: the same draws give values within a few ulps (measured: 85% identical,
// at most 4 ulps apart), not bit-exact.
static void normal_fill_16(float *data, float mean, float std) {
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - data[j];            // [0, 1) → (0, 1], safe for log
        float u2 = data[j + 8];
        float radius = sqrtf(-2.0f * logf(u1));
        float theta = (float)(2.0 * 3.14159265358979323846) * u2;
        data[j] = fmaf(radius * cosf(theta), std, mean);
        data[j + 8] = fmaf(radius * sinf(theta), std, mean);
    }
}

void gb_normal_(gb_generator *gen, float *data, int64_t n, double mean, double std) {
    GB_ASSERT(n >= 16, "normal_ on fewer than 16 values takes torch's double path, not implemented");
    float m = (float)mean, s = (float)std;
    for (int64_t i = 0; i < n; i++) data[i] = uniform_float(gen, 0.0f, 1.0f);
    for (int64_t i = 0; i + 16 <= n; i += 16) normal_fill_16(data + i, m, s);
    if (n % 16 != 0) {
        // NOTE: torch redraws the last 16 values and transforms them again,
        // overwriting the tail of the previous block.
        float *tail = data + n - 16;
        for (int i = 0; i < 16; i++) tail[i] = uniform_float(gen, 0.0f, 1.0f);
        normal_fill_16(tail, m, s);
    }
}

// --- torch.nn.init ------------------------------------------------------------

void gb_fans(int ndim, const int *shape, int64_t *fan_in, int64_t *fan_out) {
    GB_ASSERT(ndim >= 2, "fan in/out needs at least 2 dimensions");
    int64_t receptive = 1;
    for (int d = 2; d < ndim; d++) receptive *= shape[d];
    *fan_in = shape[1] * receptive;
    *fan_out = shape[0] * receptive;
}

static int64_t numel_of(int ndim, const int *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

void gb_kaiming_uniform_(gb_generator *gen, float *w, int ndim, const int *shape, double a) {
    int64_t fan_in, fan_out;
    gb_fans(ndim, shape, &fan_in, &fan_out);
    // In double, as Python computes it: gain = sqrt(2 / (1 + a²)), std = gain / sqrt(fan_in).
    double gain = sqrt(2.0 / (1.0 + a * a));
    double std = gain / sqrt((double)fan_in);
    double bound = sqrt(3.0) * std;
    gb_uniform_(gen, w, numel_of(ndim, shape), -bound, bound);
}

void gb_kaiming_normal_fan_out_relu_(gb_generator *gen, float *w, int ndim, const int *shape) {
    int64_t fan_in, fan_out;
    gb_fans(ndim, shape, &fan_in, &fan_out);
    double std = sqrt(2.0) / sqrt((double)fan_out);
    gb_normal_(gen, w, numel_of(ndim, shape), 0.0, std);
}
