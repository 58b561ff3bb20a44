// gb_api.h: the engine's public C interface (what the wasm module exports).
//
// Conventions, the same for every call:
//   - A call that returns int returns a gb_status (0 = GB_OK), unless its
//     comment says it returns a handle, a count or a flag: then a negative
//     value is -status. After a failure gb_error_message() says why and
//     gb_error_pos() where (in an expression).
//   - Handles: gb_<thing>_new returns one (> 0), gb_<thing>_free ends it.
//   - Sizes, lengths and counts are integers: size_t for bytes, int for
//     elements. Seeds are doubles: JS numbers reach 2^53, past an int32.
//   - Bytes the engine writes (gb_model_save...) come back as *out and *len,
//     valid until the next such call on the same model.
//   - The codes below are the only numbers JS passes that are not counts
//     or shapes; js/model.mjs's CODES holds the same values (keep both in step).
#ifndef GB_API_H
#define GB_API_H

#include <stddef.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define GB_API EMSCRIPTEN_KEEPALIVE
#else
#define GB_API
#endif

#define GB_VERSION "0.1.0"

// File formats of gb_model_save / gb_model_save_keys (js/model.mjs CODES.format).
enum { GB_FORMAT_SAFETENSORS = 0, GB_FORMAT_PTH = 1 };
// Optimizer kinds of gb_model_set_optimizer (js/model.mjs CODES.optimizer).
enum { GB_OPTIMIZER_SGD = 0, GB_OPTIMIZER_ADAM = 1 };

// Limits on what a caller may ask for (the message names the limit).
#define GB_MAX_WORKSPACES 16
#define GB_MAX_MODELS 4
#define GB_MAX_CLASSES 100000               // num_classes of gb_model_new / gb_model_replace_fc
#define GB_MAX_INPUT_NUMEL (1 << 28)        // N*3*H*W of one batch: 1 GiB of floats
#define GB_MAX_RANDPERM 100000000           // n of gb_randperm
#define GB_MAX_IMAGE_SIDE 16384             // a 16384² RGBA picture is 1 GiB, the most a wasm heap here holds

// --- the autograd lesson's workspaces (gb_api.c) ---------------------------------
GB_API int gb_ws_new(void);   // a handle, or -status
GB_API void gb_ws_free(int ws);
GB_API int gb_ws_clear(int ws);
GB_API int gb_ws_set_tensor(int ws, const char *name, const float *data, const int *shape, int ndim,
                            int requires_grad);
GB_API int gb_ws_assign(int ws, const char *name, const char *expr, int no_grad);
GB_API int gb_ws_backward(int ws, const char *name, const float *gradient, int n, int retain_graph);
GB_API int gb_ws_zero_grad(int ws);
// eps <= 0: the default step, GB_GRADCHECK_EPS (gb_workspace.h).
GB_API int gb_ws_gradcheck(int ws, const char *name, const float *gradient, int n, double eps);
GB_API const char *gb_ws_json(int ws, const char *root);
GB_API const char *gb_build_info(void);
#ifdef GB_PROFILE_PASSES
GB_API void gb_passes_reset(void);
GB_API const char *gb_passes_json(void);
#endif
GB_API const char *gb_error_message(void);
GB_API int gb_error_pos(void);
// The Python exception class of the last error: "RuntimeError", "SyntaxError"...
GB_API const char *gb_error_type(void);

// --- ResNet-18 (gb_model_api.c) ---------------------------------------------------
// A model handle (> 0, or -status): resnet18(num_classes) with torchvision's
// init after torch.manual_seed(seed), in eval mode.
GB_API int gb_model_new(int num_classes, double seed);
GB_API void gb_model_free(int model);
// Weights from .safetensors or .pth bytes, load_state_dict(strict=True).
GB_API int gb_model_load(int model, const unsigned char *buf, size_t len);
// The state_dict as GB_FORMAT_SAFETENSORS or GB_FORMAT_PTH bytes: *out, *len.
GB_API int gb_model_save(int model, int format, unsigned char **out, size_t *len);
GB_API int gb_model_set_requires_grad(int model, const char *path, int on);  // "layer4.1", "" = all
GB_API int gb_model_train_mode(int model, int on);                            // train() / eval()
GB_API int gb_model_replace_fc(int model, int num_classes, double seed);      // model.fc = Linear(512, N)
GB_API int gb_model_forward(int model, const float *x, int N, int H, int W, float *logits);
GB_API int gb_model_train_step(int model, const float *x, int N, int H, int W, const int *targets,
                               double lr, double momentum, double weight_decay);
GB_API int gb_model_loss_backward(int model, const float *x, int N, int H, int W, const int *targets);
GB_API double gb_model_last_loss(int model);
GB_API int gb_model_last_correct(int model);   // a count: argmax == target rows of the last step
// A state_dict tensor (grad 0) or its .grad (1) as *out (NULL: no .grad); returns its numel.
GB_API int gb_model_tensor(int model, const char *key, int grad, float **out);
// state_dict()[key].copy_(data) for a float tensor (n = its numel); bumps its version.
GB_API int gb_model_set_tensor(int model, const char *key, const float *data, int n);
// JSON (model_info.c), valid until the next of these three calls on the model:
GB_API const char *gb_model_json(int model);        // printouts, the module tree
GB_API const char *gb_model_load_info(int model);   // the last successful load (null before)
GB_API const char *gb_model_step_info(int model);   // the last forward/backward/step (null before)

// --- training steps (gb_model_step_api.c) and fine-tuning (gb_finetune_api.c) ------
// A fresh optimizer over what requires grad now: GB_OPTIMIZER_SGD(lr, momentum, dampening,
// weight_decay, nesterov) or GB_OPTIMIZER_ADAM(lr, (beta1, beta2), eps, weight_decay).
GB_API int gb_model_set_optimizer(int model, int kind, double lr, double momentum, double dampening,
                                  double weight_decay, int nesterov, double beta1, double beta2, double eps);
// zero_grad; cross_entropy(model(x), targets).backward(); optimizer.step(). Loss: gb_model_last_loss.
GB_API int gb_model_step(int model, const float *x, int N, int H, int W, const int *targets);
// feats (N, 512): flatten(avgpool(...)) under no_grad, what the forward feeds fc.
GB_API int gb_model_features(int model, const float *x, int N, int H, int W, float *feats);
// logits (N, classes) = fc(feats) under no_grad.
GB_API int gb_model_head_forward(int model, const float *feats, int N, float *logits);
// gb_model_step on cached features (only fc.weight and fc.bias may require grad).
GB_API int gb_model_head_step(int model, const float *feats, int N, const int *targets);
// The state_dict entries whose keys start with one of the newline-separated prefixes.
GB_API int gb_model_save_keys(int model, int format, const char *prefixes, unsigned char **out, size_t *len);
// load_state_dict(strict=False), refusing unexpected keys and size mismatches.
GB_API int gb_model_load_partial(int model, const unsigned char *buf, size_t len);
// A flag: 1 when every parameter that requires grad and every running statistic is finite, 0 not.
GB_API int gb_model_finite(int model);
// optimizer.state_dict()['state'] as safetensors bytes, and back.
GB_API int gb_model_optimizer_state(int model, unsigned char **out, size_t *len);
GB_API int gb_model_set_optimizer_state(int model, const unsigned char *buf, size_t len);
// The order DataLoader(shuffle=True, generator=manual_seed(seed)) yields in epoch `epoch`.
GB_API int gb_randperm(double seed, int n, int epoch, int *out);

// --- preprocessing (gb_image_api.c): torchvision's transforms on a PIL image --------
// T.Resize(size)'s output size: out_wh = {width, height}.
GB_API int gb_image_resized_size(int w, int h, int size, int *out_wh);
// Pillow's resize(BILINEAR) of RGB/RGBA uint8 pixels to out_rgb (out_h, out_w, 3).
GB_API int gb_image_resize(const unsigned char *pixels, int w, int h, int channels, int out_w, int out_h,
                           unsigned char *out_rgb);
// T.CenterCrop(size), then ToTensor and Normalize(ImageNet mean, std) into chw (3, size, size).
GB_API int gb_image_center_crop_normalize(const unsigned char *rgb, int w, int h, int size,
                                          unsigned char *crop_rgb, float *chw);

// Starts the engine's thread pool with n threads (the caller included) and
// returns how many it runs (a count); 1 in builds without threads.
GB_API int gb_set_threads(int n);

#endif
