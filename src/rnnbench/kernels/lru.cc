// LRU's complex diagonal recurrence. Layouts and helpers: common.h.

#include "common.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// LRU's recurrence, h_t = lambda * h_{t-1} + u_t in complex numbers, over u[B][T][2H] from h0[B][2H] with lambda[2H]
// the same at every step: each row holds the real parts of its H units, then their imaginary parts. The input term
// u = gamma * (x B) and the outputs Re(C h) + D x are matrix products in XLA; what is left is element-wise, like the
// linear scan's loops, and bound by memory. The sums are taken in the order of the cell's step,
// (Re lambda Re h - Im lambda Im h) + Re u, so that both give the same states over hundreds of steps. Each call may
// write its result over one of its inputs (JAX passes the same buffer): the forward pass h_t over u_t, the backward
// pass du_t over h_t, which it has read for the last time at step t + 1; so each loop reads a step's row in full
// before it writes that row.

ffi::Error CheckLruDims(const ffi::Buffer<ffi::F32>& u, const ffi::Buffer<ffi::F32>& lambda,
                        const ffi::Buffer<ffi::F32>& h0, Dims* dims) {
  const auto ud = u.dimensions();
  const auto ld = lambda.dimensions();
  const auto hd = h0.dimensions();
  if (ud.size() != 3 || ld.size() != 1 || hd.size() != 2 || ud[0] != hd[0] || ud[2] != hd[1] || ld[0] != hd[1] ||
      hd[1] % 2 != 0) {
    return ffi::Error::InvalidArgument("LRU scan: u must be [B][T][2H], lambda [2H] and h0 [B][2H]");
  }
  *dims = Dims{ud[0], ud[1], hd[1] / 2};
  return ffi::Error::Success();
}

void LruScanForward(const float* u, const float* lambda, const float* h0, float* h, int64_t steps, int64_t n) {
  const float* lambda_re = lambda;
  const float* lambda_im = lambda + n;
  const float* prev = h0;
  for (int64_t t = 0; t < steps; ++t) {
    const float* ut = u + t * 2 * n;
    float* ht = h + t * 2 * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) {
      const float re = prev[j];
      const float im = prev[n + j];
      const float u_re = ut[j];
      const float u_im = ut[n + j];
      ht[j] = (lambda_re[j] * re - lambda_im[j] * im) + u_re;
      ht[n + j] = (lambda_re[j] * im + lambda_im[j] * re) + u_im;
    }
    prev = ht;
  }
}

ffi::Error LruScanForwardImpl(ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> lambda, ffi::Buffer<ffi::F32> h0,
                              ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckLruDims(u, lambda, h0, &d); error.failure()) return error;
  if (hseq->element_count() != u.element_count()) {
    return ffi::Error::InvalidArgument("LRU scan: the result must be [B][T][2H]");
  }
  const int64_t row = d.steps * 2 * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    LruScanForward(u.typed_data() + s * row, lambda.typed_data(), h0.typed_data() + s * 2 * d.units,
                   hseq->typed_data() + s * row, d.steps, d.units);
  }
  return ffi::Error::Success();
}

// One sample, backwards in time. With g_t = dL/dRe h_t + i dL/dIm h_t, from the outputs plus conj(lambda) g_{t+1}
// from the step after: du_t = g_t, and dlambda gains conj(h_{t-1}) g_t (as real and imaginary parts: dL/dRe lambda
// and dL/dIm lambda); what is carried past step 0 is dL/dh0. dh0 carries g between steps.
void LruScanBackward(const OutputGradients& outputs, int64_t sample, const float* lambda, const float* hseq,
                     const float* h0, float* du, float* dlambda, float* dh0, int64_t steps, int64_t n) {
  const float* lambda_re = lambda;
  const float* lambda_im = lambda + n;
  float* dlambda_re = dlambda;
  float* dlambda_im = dlambda + n;
  std::fill(dh0, dh0 + 2 * n, 0.0f);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const float* given = outputs.at(sample, t);
    const float* prev = t == 0 ? h0 : hseq + (t - 1) * 2 * n;
    float* dut = du + t * 2 * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) {
      const float g_re = given[j] + dh0[j];
      const float g_im = given[n + j] + dh0[n + j];
      dut[j] = g_re;
      dut[n + j] = g_im;
      dlambda_re[j] += g_re * prev[j] + g_im * prev[n + j];
      dlambda_im[j] += g_im * prev[j] - g_re * prev[n + j];
      dh0[j] = lambda_re[j] * g_re + lambda_im[j] * g_im;
      dh0[n + j] = lambda_re[j] * g_im - lambda_im[j] * g_re;
    }
  }
}

ffi::Error LruScanBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> lambda, ffi::Buffer<ffi::F32> hseq,
                               ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> du,
                               ffi::ResultBuffer<ffi::F32> dlambda, ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckLruDims(hseq, lambda, h0, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, 2 * d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  if (du->element_count() != hseq.element_count() || dlambda->element_count() != lambda.element_count() ||
      dh0->element_count() != h0.element_count()) {
    return ffi::Error::InvalidArgument("LRU scan gradient: du must be [B][T][2H], dlambda [2H] and dh0 [B][2H]");
  }
  std::fill(dlambda->typed_data(), dlambda->typed_data() + 2 * d.units, 0.0f);
  const int64_t row = d.steps * 2 * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    LruScanBackward(outputs, s, lambda.typed_data(), hseq.typed_data() + s * row, h0.typed_data() + s * 2 * d.units,
                    du->typed_data() + s * row, dlambda->typed_data(), dh0->typed_data() + s * 2 * d.units, d.steps,
                    d.units);
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLruScanForward, LruScanForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLruScanBackward, LruScanBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
