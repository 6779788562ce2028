// IndRNN's element-wise recurrence with one recurrent weight per unit. Layouts and helpers: common.h.

#include "common.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// IndRNN, h_t = relu(p_t + u * h_{t-1} + b) over the input projections p[B][T][H] = x W from h0[B][H], u[H] one
// recurrent weight per unit and b[H] the bias. Every unit is its own recurrence, so the loops are element-wise like
// the linear scan's and bound by memory; the projection stays one matrix product in XLA, which also takes dW from
// dL/dp (the backward pass sums db as it goes, saving XLA a pass over dL/dp). The sums are added in the order of Keras' step, (p + u h) + b, so that both give the same states: over
// hundreds of steps the rounding of another order drifts by more than 1e-5.

ffi::Error CheckIndDims(const ffi::Buffer<ffi::F32>& p, const ffi::Buffer<ffi::F32>& u,
                        const ffi::Buffer<ffi::F32>& h0, Dims* dims) {
  const auto pd = p.dimensions();
  const auto ud = u.dimensions();
  const auto hd = h0.dimensions();
  if (pd.size() != 3 || ud.size() != 1 || hd.size() != 2 || pd[0] != hd[0] || pd[2] != hd[1] || ud[0] != hd[1]) {
    return ffi::Error::InvalidArgument("IndRNN: p must be [B][T][H], u [H] and h0 [B][H]");
  }
  *dims = Dims{pd[0], pd[1], hd[1]};
  return ffi::Error::Success();
}

void IndRnnForward(const float* p, const float* u, const float* b, const float* h0, float* h, int64_t steps,
                   int64_t n) {
  const float* prev = h0;
  for (int64_t t = 0; t < steps; ++t) {
    const float* pt = p + t * n;
    float* ht = h + t * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) ht[j] = std::max(pt[j] + u[j] * prev[j] + b[j], 0.0f);
    prev = ht;
  }
}

ffi::Error IndRnnForwardImpl(ffi::Buffer<ffi::F32> p, ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> b,
                             ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckIndDims(p, u, h0, &d); error.failure()) return error;
  if (b.element_count() != d.units || hseq->element_count() != p.element_count()) {
    return ffi::Error::InvalidArgument("IndRNN: b must be [H] and the result [B][T][H]");
  }
  const int64_t row = d.steps * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    IndRnnForward(p.typed_data() + s * row, u.typed_data(), b.typed_data(), h0.typed_data() + s * d.units,
                  hseq->typed_data() + s * row, d.steps, d.units);
  }
  return ffi::Error::Success();
}

// One sample, backwards in time: g_t = dL/dh_t from the outputs plus u g'_{t+1} from the step after, where
// g'_t = g_t where h_t > 0 (relu's slope, 0 at 0 as in JAX) is dL/dp_t; du gains g'_t h_{t-1} and db g'_t; what is
// carried past step 0 is dL/dh0. dh0 carries it between steps.
void IndRnnBackward(const OutputGradients& outputs, int64_t sample, const float* u, const float* hseq,
                    const float* h0, float* dp, float* du, float* db, float* dh0, int64_t steps, int64_t n) {
  std::fill(dh0, dh0 + n, 0.0f);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const float* given = outputs.at(sample, t);
    const float* ht = hseq + t * n;
    const float* prev = t == 0 ? h0 : hseq + (t - 1) * n;
    float* dpt = dp + t * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) {
      const float g = ht[j] > 0.0f ? given[j] + dh0[j] : 0.0f;
      dpt[j] = g;
      du[j] += g * prev[j];
      db[j] += g;
      dh0[j] = u[j] * g;
    }
  }
}

ffi::Error IndRnnBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> hseq,
                              ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> dp,
                              ffi::ResultBuffer<ffi::F32> du, ffi::ResultBuffer<ffi::F32> db,
                              ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckIndDims(hseq, u, h0, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  if (dp->element_count() != hseq.element_count() || du->element_count() != u.element_count() ||
      db->element_count() != u.element_count() || dh0->element_count() != h0.element_count()) {
    return ffi::Error::InvalidArgument("IndRNN gradient: dp must be [B][T][H], du and db [H] and dh0 [B][H]");
  }
  std::fill(du->typed_data(), du->typed_data() + d.units, 0.0f);
  std::fill(db->typed_data(), db->typed_data() + d.units, 0.0f);
  const int64_t row = d.steps * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    IndRnnBackward(outputs, s, u.typed_data(), hseq.typed_data() + s * row, h0.typed_data() + s * d.units,
                   dp->typed_data() + s * row, du->typed_data(), db->typed_data(), dh0->typed_data() + s * d.units,
                   d.steps, d.units);
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchIndRnnForward, IndRnnForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchIndRnnBackward, IndRnnBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
