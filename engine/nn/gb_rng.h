// gb_rng.h: PyTorch's CPU random generator, bit for bit, so that a model
// initialised here after "seed 42" holds the very numbers torch.manual_seed(42)
// followed by nn.Linear(512, 10) gives.
//
// torch.manual_seed(s) seeds a Mersenne twister (mt19937) with the low 32
// bits of s. A float32 uniform_(from, to) takes one 32-bit draw per element,
// keeps its low 24 bits (float's mantissa) and maps them to [from, to):
//     u = (x & (2^24 - 1)) · 2^-24          exact in float
//     v = u · (to − from) + from            one FMA in float, see rng.c
// normal_ on a float tensor of 16 or more elements fills it with uniforms in
// [0, 1), then turns each block of 16 into normals by Box–Muller (the last,
// partial block is redrawn and overlaps the previous one).
#ifndef GB_RNG_H
#define GB_RNG_H

#include <stdint.h>

typedef struct gb_generator {
    uint32_t state[624];
    int next;
} gb_generator;

// torch.manual_seed(seed).
void gb_generator_seed(gb_generator *gen, uint64_t seed);
// One 32-bit draw (CPUGeneratorImpl::random()).
uint32_t gb_generator_random(gb_generator *gen);

// tensor.uniform_(from, to) on n float32 values (from, to as Python floats).
void gb_uniform_(gb_generator *gen, float *data, int64_t n, double from, double to);
// tensor.normal_(mean, std) on n >= 16 float32 values: torch's draws and
// Box–Muller, but torch's AVX2 build takes log/cos/sin from SLEEF, so values
// agree within a few ulps, not bit for bit (see rng.c).
void gb_normal_(gb_generator *gen, float *data, int64_t n, double mean, double std);

// torch.nn.init for a weight of shape (fan_out_dim, fan_in_dim, k, k):
// fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field.
//   kaiming_uniform_(w, a)      bound = gain(a)·sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²))
//   kaiming_normal_(w, fan_out, relu)  std = sqrt(2) / sqrt(fan_out)
void gb_kaiming_uniform_(gb_generator *gen, float *w, int ndim, const int *shape, double a);
void gb_kaiming_normal_fan_out_relu_(gb_generator *gen, float *w, int ndim, const int *shape);
// fan_in and fan_out as torch.nn.init._calculate_fan_in_and_fan_out.
void gb_fans(int ndim, const int *shape, int64_t *fan_in, int64_t *fan_out);

#endif
