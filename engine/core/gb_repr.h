// gb_repr.h: tensors printed as PyTorch prints them (see repr.c).
#ifndef GB_REPR_H
#define GB_REPR_H

#include "gb_tensor.h"

// repr(t): "tensor([2., 3.], requires_grad=True)".
void gb_repr(gb_sb *sb, const gb_tensor *t);
// The same for raw values (e.g. a leaf's .grad, which is a plain tensor).
void gb_repr_values(gb_sb *sb, const float *data, int ndim, const int *shape, int is_bool,
                    const char *grad_fn, int requires_grad);

#endif
