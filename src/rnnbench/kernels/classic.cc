// The classic cells, SimpleRNN, LSTM and GRU, in Keras' formulas and gate order: one pass of matrix tiles per
// step forward and backward, the weight gradients summed as they go. Layouts and helpers: common.h.

#include "common.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// SimpleRNN: h_t = tanh(xproj_t + h_{t-1} U).

void RnnForward(const float* x, const PackedMatrix& w, const float* bias, const PackedMatrix& u, const float* h0,
                const SequenceResult& hseq, int64_t first, int64_t rows, int64_t steps) {
  const int64_t n = u.n(), features = w.k();
  BlockRows h(hseq, first, rows);
  for (int64_t t = 0; t < steps; ++t) {
    const float* h_prev = t == 0 ? h0 : h.at(t - 1);
    Gemm({Factor{x + t * features, steps * features, &w}, Factor{h_prev, t == 0 ? n : h.stride(), &u}}, rows, bias, 0,
         h.at(t), h.stride());
    for (int64_t b = 0; b < rows; ++b) Tanh(h.at(t) + b * h.stride(), h.at(t) + b * h.stride(), n);
    h.Done(t);
  }
}

ffi::Error RnnForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 1, &d); error.failure()) return error;
  const int64_t n = d.units;
  const SequenceResult hseq_out(hseq, d.steps, n);
  if (ffi::Error error = CheckResults({&hseq_out}, d.batch); error.failure()) return error;
  const PackedMatrix packed_w(w.typed_data(), d.features, n), packed(u.typed_data(), n, n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    RnnForward(x.typed_data() + first * d.steps * d.features, packed_w, bias.typed_data(), packed,
               h0.typed_data() + first * n, hseq_out, first, rows, d.steps);
  });
  return ffi::Error::Success();
}

// Given dL/dh_t from the layer's outputs: dW, db, dU, dL/dh0 and (when asked for) dL/dx.
void RnnBackward(const Gradients& grads, const OutputGradients& outputs, int64_t first, const float* x,
                 const float* hseq, const float* h0, const PackedMatrix& ut, float* dx, float* dh0, int64_t features,
                 int64_t rows, int64_t steps) {
  const int64_t n = ut.n(), row = steps * n;
  std::fill(dh0, dh0 + rows * n, 0.0f);  // dL/dh_t from the steps after t
  PendingSteps pending(rows, n, features, n, false);
  for (int64_t t = steps - 1; t >= 0; --t) {
    float* dp = pending.input_grads();  // this step's gradients of the pre-activation, contiguous
    for (int64_t b = 0; b < rows; ++b) {
      const int64_t at = b * row + t * n;
      const float* h = hseq + at;
      const float* dh_out = outputs.at(first + b, t);
      const float* carry = dh0 + b * n;
      float* dp_row = &dp[b * n];
      for (int64_t j = 0; j < n; ++j) dp_row[j] = (dh_out[j] + carry[j]) * (1.0f - h[j] * h[j]);
    }
    Gemm(dp, n, rows, ut, dh0, n, false);
    pending.Push(grads, x, hseq, h0, dx, steps, t);
  }
}

ffi::Error RnnBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> hseq,
                           ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> wt, ffi::Buffer<ffi::F32> ut,
                           ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                           ffi::ResultBuffer<ffi::F32> db, ffi::ResultBuffer<ffi::F32> du,
                           ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckBackwardDims(x, wt, h0, 1, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, xrow = d.steps * d.features;
  const PackedMatrix packed(ut.typed_data(), n, n), packed_wt(wt.typed_data(), n, d.features);
  Gradients grads = StartGradients(dw, db, du);
  if (dx->element_count() == x.element_count()) grads.wt = &packed_wt;
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    RnnBackward(grads, outputs, first, x.typed_data() + first * xrow,
                hseq.typed_data() + first * row, h0.typed_data() + first * n, packed, dx->typed_data() + first * xrow,
                dh0->typed_data() + first * n, d.features, rows, d.steps);
  });
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// LSTM: [i f g o] = xproj_t + h_{t-1} U; i, f, o sigmoid, g tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).

// One sample's step after the products: the gates' activations in place (i, f, o sigmoid, g tanh), then
// c = f c_prev + i g and h = o tanh(c), eight units at a time in one pass.
void LstmCell(float* z, const float* c_prev, float* c, float* h, int64_t n) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  for (; j + 8 <= n; j += 8) {
    const __m256 i = Sigmoid8(_mm256_loadu_ps(z + j));
    const __m256 f = Sigmoid8(_mm256_loadu_ps(z + n + j));
    const __m256 g = Tanh8(_mm256_loadu_ps(z + 2 * n + j));
    const __m256 o = Sigmoid8(_mm256_loadu_ps(z + 3 * n + j));
    const __m256 cell = _mm256_fmadd_ps(f, _mm256_loadu_ps(c_prev + j), _mm256_mul_ps(i, g));
    _mm256_storeu_ps(z + j, i);
    _mm256_storeu_ps(z + n + j, f);
    _mm256_storeu_ps(z + 2 * n + j, g);
    _mm256_storeu_ps(z + 3 * n + j, o);
    _mm256_storeu_ps(c + j, cell);
    _mm256_storeu_ps(h + j, _mm256_mul_ps(o, Tanh8(cell)));
  }
#endif
  for (; j < n; ++j) {
    const float i = SigmoidScalar(z[j]), f = SigmoidScalar(z[n + j]), g = TanhScalar(z[2 * n + j]);
    const float o = SigmoidScalar(z[3 * n + j]);
    z[j] = i;
    z[n + j] = f;
    z[2 * n + j] = g;
    z[3 * n + j] = o;
    c[j] = f * c_prev[j] + i * g;
    h[j] = o * TanhScalar(c[j]);
  }
}

void LstmForward(const float* x, const PackedMatrix& w, const float* bias, const PackedMatrix& u, const float* h0,
                 const float* c0, const SequenceResult& hseq, const SequenceResult& cseq, const SequenceResult& gates,
                 int64_t first, int64_t rows, int64_t steps) {
  const int64_t n = u.k(), features = w.k();
  BlockRows h(hseq, first, rows), c(cseq, first, rows), z(gates, first, rows);
  for (int64_t t = 0; t < steps; ++t) {
    const float* h_prev = t == 0 ? h0 : h.at(t - 1);
    const float* c_prev = t == 0 ? c0 : c.at(t - 1);
    const int64_t h_prev_stride = t == 0 ? n : h.stride(), c_prev_stride = t == 0 ? n : c.stride();
    // The input projection and the recurrent product in one pass over the gates, starting from the bias.
    Gemm({Factor{x + t * features, steps * features, &w}, Factor{h_prev, h_prev_stride, &u}}, rows, bias, 0, z.at(t),
         z.stride());
    for (int64_t b = 0; b < rows; ++b) {
      LstmCell(z.at(t) + b * z.stride(), c_prev + b * c_prev_stride, c.at(t) + b * c.stride(),
               h.at(t) + b * h.stride(), n);
    }
    z.Done(t);
    c.Done(t);
    h.Done(t);
  }
}

ffi::Error LstmForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias,
                           ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> c0,
                           ffi::ResultBuffer<ffi::F32> hseq, ffi::ResultBuffer<ffi::F32> cseq,
                           ffi::ResultBuffer<ffi::F32> gates) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 4, &d); error.failure()) return error;
  const int64_t n = d.units;
  const SequenceResult hseq_out(hseq, d.steps, n), cseq_out(cseq, d.steps, n), gates_out(gates, d.steps, 4 * n);
  if (ffi::Error error = CheckResults({&hseq_out, &cseq_out, &gates_out}, d.batch); error.failure()) return error;
  const PackedMatrix packed_w(w.typed_data(), d.features, 4 * n), packed(u.typed_data(), n, 4 * n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    LstmForward(x.typed_data() + first * d.steps * d.features, packed_w, bias.typed_data(), packed,
                h0.typed_data() + first * n, c0.typed_data() + first * n, hseq_out, cseq_out, gates_out, first, rows,
                d.steps);
  });
  return ffi::Error::Success();
}

// dW, db, dU, dL/dh0, dL/dc0 and (when asked for) dL/dx.
void LstmBackward(const Gradients& grads, const OutputGradients& outputs, int64_t first, const float* dc_last,
                  const float* x, const float* hseq, const float* cseq, const float* gates, const float* h0,
                  const float* c0, const PackedMatrix& ut, float* dx, float* dh0, float* dc0, int64_t features,
                  int64_t rows, int64_t steps) {
  const int64_t n = ut.n(), g4 = ut.k(), row = steps * n, grow = steps * g4;
  float* dh = dh0;  // dL/dh_t from the steps after t
  float* dc = dc0;  // dL/dc_t from the steps after t
  std::fill(dh, dh + rows * n, 0.0f);
  std::memcpy(dc, dc_last, sizeof(float) * rows * n);
  std::vector<float> tanh_c(n);
  PendingSteps pending(rows, n, features, g4, false);
  for (int64_t t = steps - 1; t >= 0; --t) {
    float* dz = pending.input_grads();  // this step's gate gradients, contiguous for the products
    for (int64_t b = 0; b < rows; ++b) {
      const float* c = cseq + b * row + t * n;
      const float* c_prev = t == 0 ? c0 + b * n : c - n;
      const float* i = gates + b * grow + t * g4;
      const float* f = i + n;
      const float* g = i + 2 * n;
      const float* o = i + 3 * n;
      const float* dh_out = outputs.at(first + b, t);
      float* di = &dz[b * g4];
      float* df = di + n;
      float* dg = di + 2 * n;
      float* d_o = di + 3 * n;
      float* dh_row = dh + b * n;
      float* dc_row = dc + b * n;
      Tanh(c, tanh_c.data(), n);
      RNNBENCH_NO_ALIAS
      for (int64_t j = 0; j < n; ++j) {
        const float grad_h = dh_out[j] + dh_row[j];
        const float tc = tanh_c[j];
        const float grad_c = dc_row[j] + grad_h * o[j] * (1.0f - tc * tc);
        di[j] = grad_c * g[j] * i[j] * (1.0f - i[j]);
        df[j] = grad_c * c_prev[j] * f[j] * (1.0f - f[j]);
        dg[j] = grad_c * i[j] * (1.0f - g[j] * g[j]);
        d_o[j] = grad_h * tc * o[j] * (1.0f - o[j]);
        dc_row[j] = grad_c * f[j];
      }
    }
    Gemm(dz, g4, rows, ut, dh, n, false);
    pending.Push(grads, x, hseq, h0, dx, steps, t);
  }
}

ffi::Error LstmBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> dc_last, ffi::Buffer<ffi::F32> x,
                            ffi::Buffer<ffi::F32> hseq, ffi::Buffer<ffi::F32> cseq, ffi::Buffer<ffi::F32> gates,
                            ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> c0, ffi::Buffer<ffi::F32> wt,
                            ffi::Buffer<ffi::F32> ut, ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                            ffi::ResultBuffer<ffi::F32> db, ffi::ResultBuffer<ffi::F32> du,
                            ffi::ResultBuffer<ffi::F32> dh0, ffi::ResultBuffer<ffi::F32> dc0) {
  Dims d;
  if (ffi::Error error = CheckBackwardDims(x, wt, h0, 4, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, grow = 4 * row, xrow = d.steps * d.features;
  const PackedMatrix packed(ut.typed_data(), 4 * n, n), packed_wt(wt.typed_data(), 4 * n, d.features);
  Gradients grads = StartGradients(dw, db, du);
  if (dx->element_count() == x.element_count()) grads.wt = &packed_wt;
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    LstmBackward(grads, outputs, first, dc_last.typed_data() + first * n,
                 x.typed_data() + first * xrow, hseq.typed_data() + first * row, cseq.typed_data() + first * row,
                 gates.typed_data() + first * grow, h0.typed_data() + first * n, c0.typed_data() + first * n, packed,
                 dx->typed_data() + first * xrow, dh0->typed_data() + first * n, dc0->typed_data() + first * n,
                 d.features, rows, d.steps);
  });
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// GRU (reset_after): [rz rr rn] = h_{t-1} U + b_rec; z = sigmoid(xz + rz); r = sigmoid(xr + rr);
// n = tanh(xn + r rn); h_t = z h_{t-1} + (1 - z) n.

// One sample's step after the products x W + b_in and h U + b_rec: the gates z, r and h into act, and the new state,
// eight units at a time in one pass.
void GruCell(const float* x, const float* rec, const float* h_prev, float* act, float* h, int64_t n) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  for (; j + 8 <= n; j += 8) {
    const __m256 z = Sigmoid8(_mm256_add_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(rec + j)));
    const __m256 r = Sigmoid8(_mm256_add_ps(_mm256_loadu_ps(x + n + j), _mm256_loadu_ps(rec + n + j)));
    const __m256 hh = Tanh8(_mm256_fmadd_ps(r, _mm256_loadu_ps(rec + 2 * n + j), _mm256_loadu_ps(x + 2 * n + j)));
    _mm256_storeu_ps(act + j, z);
    _mm256_storeu_ps(act + n + j, r);
    _mm256_storeu_ps(act + 2 * n + j, hh);
    // z h_prev + (1 - z) hh as hh + z (h_prev - hh): one rounding less, within 1 ulp of the formula.
    _mm256_storeu_ps(h + j, _mm256_fmadd_ps(z, _mm256_sub_ps(_mm256_loadu_ps(h_prev + j), hh), hh));
  }
#endif
  for (; j < n; ++j) {
    const float z = SigmoidScalar(x[j] + rec[j]), r = SigmoidScalar(x[n + j] + rec[n + j]);
    const float hh = TanhScalar(x[2 * n + j] + r * rec[2 * n + j]);
    act[j] = z;
    act[n + j] = r;
    act[2 * n + j] = hh;
    h[j] = z * h_prev[j] + (1.0f - z) * hh;
  }
}

void GruForward(const float* inputs, const PackedMatrix& w, const float* bias_in, const PackedMatrix& u,
                const float* bias_rec, const float* h0, const SequenceResult& hseq, const SequenceResult& gates,
                const SequenceResult& rec_n, int64_t first, int64_t rows, int64_t steps) {
  const int64_t n = u.k(), g3 = u.n(), features = w.k();
  BlockRows h(hseq, first, rows), act(gates, first, rows), rn(rec_n, first, rows);
  std::vector<float> rec(rows * g3), projected(rows * g3);
  for (int64_t t = 0; t < steps; ++t) {
    const float* h_prev = t == 0 ? h0 : h.at(t - 1);
    const int64_t h_prev_stride = t == 0 ? n : h.stride();
    Gemm({Factor{inputs + t * features, steps * features, &w}}, rows, bias_in, 0, projected.data(), g3);
    Gemm({Factor{h_prev, h_prev_stride, &u}}, rows, bias_rec, 0, rec.data(), g3);
    for (int64_t b = 0; b < rows; ++b) {
      GruCell(&projected[b * g3], &rec[b * g3], h_prev + b * h_prev_stride, act.at(t) + b * act.stride(),
              h.at(t) + b * h.stride(), n);
      std::memcpy(rn.at(t) + b * rn.stride(), &rec[b * g3 + 2 * n], sizeof(float) * n);
    }
    act.Done(t);
    rn.Done(t);
    h.Done(t);
  }
}

ffi::Error GruForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias_in,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias_rec, ffi::Buffer<ffi::F32> h0,
                          ffi::ResultBuffer<ffi::F32> hseq, ffi::ResultBuffer<ffi::F32> gates,
                          ffi::ResultBuffer<ffi::F32> rec_n) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 3, &d); error.failure()) return error;
  const int64_t n = d.units;
  const SequenceResult hseq_out(hseq, d.steps, n), gates_out(gates, d.steps, 3 * n), rec_n_out(rec_n, d.steps, n);
  if (ffi::Error error = CheckResults({&hseq_out, &gates_out, &rec_n_out}, d.batch); error.failure()) return error;
  const PackedMatrix packed_w(w.typed_data(), d.features, 3 * n), packed(u.typed_data(), n, 3 * n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    GruForward(x.typed_data() + first * d.steps * d.features, packed_w, bias_in.typed_data(), packed,
               bias_rec.typed_data(), h0.typed_data() + first * n, hseq_out, gates_out, rec_n_out, first, rows,
               d.steps);
  });
  return ffi::Error::Success();
}

// dW, db_in, dU, db_rec, dL/dh0 and (when asked for) dL/dx.
void GruBackward(const Gradients& grads, const OutputGradients& outputs, int64_t first, const float* x,
                 const float* hseq, const float* gates, const float* rec_n, const float* h0, const PackedMatrix& ut,
                 float* dx, float* dh0, int64_t features, int64_t rows, int64_t steps) {
  const int64_t n = ut.n(), g3 = ut.k(), row = steps * n, grow = steps * g3;
  float* carry = dh0;  // dL/dh_t from the steps after t
  std::fill(carry, carry + rows * n, 0.0f);
  PendingSteps pending(rows, n, features, g3, true);
  for (int64_t t = steps - 1; t >= 0; --t) {
    // This step's gradients of the input projection and of the recurrent product, contiguous for the products.
    float* dxp = pending.input_grads();
    float* dr = pending.recurrent_grads();
    for (int64_t b = 0; b < rows; ++b) {
      const float* h_prev = t == 0 ? h0 + b * n : hseq + b * row + (t - 1) * n;
      const float* z = gates + b * grow + t * g3;
      const float* r = z + n;
      const float* hh = z + 2 * n;
      const float* rn = rec_n + b * row + t * n;
      const float* dh_out = outputs.at(first + b, t);
      float* dx_row = &dxp[b * g3];
      float* dr_row = &dr[b * g3];
      float* c = carry + b * n;
      RNNBENCH_NO_ALIAS
      for (int64_t j = 0; j < n; ++j) {
        const float grad_h = dh_out[j] + c[j];
        const float grad_n = grad_h * (1.0f - z[j]) * (1.0f - hh[j] * hh[j]);
        const float grad_z = grad_h * (h_prev[j] - hh[j]) * z[j] * (1.0f - z[j]);
        const float grad_r = grad_n * rn[j] * r[j] * (1.0f - r[j]);
        dx_row[j] = grad_z;
        dx_row[n + j] = grad_r;
        dx_row[2 * n + j] = grad_n;
        dr_row[j] = grad_z;
        dr_row[n + j] = grad_r;
        dr_row[2 * n + j] = grad_n * r[j];
        c[j] = grad_h * z[j];
      }
    }
    Gemm(dr, g3, rows, ut, carry, n, true);
    pending.Push(grads, x, hseq, h0, dx, steps, t);
  }
}

ffi::Error GruBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> hseq,
                           ffi::Buffer<ffi::F32> gates, ffi::Buffer<ffi::F32> rec_n, ffi::Buffer<ffi::F32> h0,
                           ffi::Buffer<ffi::F32> wt, ffi::Buffer<ffi::F32> ut, ffi::ResultBuffer<ffi::F32> dx,
                           ffi::ResultBuffer<ffi::F32> dw, ffi::ResultBuffer<ffi::F32> db_in,
                           ffi::ResultBuffer<ffi::F32> du, ffi::ResultBuffer<ffi::F32> db_rec,
                           ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckBackwardDims(x, wt, h0, 3, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, grow = 3 * row, xrow = d.steps * d.features;
  const PackedMatrix packed(ut.typed_data(), 3 * n, n), packed_wt(wt.typed_data(), 3 * n, d.features);
  Gradients grads = StartGradients(dw, db_in, du);
  std::fill(db_rec->typed_data(), db_rec->typed_data() + db_rec->element_count(), 0.0f);
  grads.db_rec = db_rec->typed_data();
  if (dx->element_count() == x.element_count()) grads.wt = &packed_wt;
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    GruBackward(grads, outputs, first, x.typed_data() + first * xrow,
                hseq.typed_data() + first * row, gates.typed_data() + first * grow, rec_n.typed_data() + first * row,
                h0.typed_data() + first * n, packed, dx->typed_data() + first * xrow, dh0->typed_data() + first * n,
                d.features, rows, d.steps);
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchRnnForward, RnnForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchRnnBackward, RnnBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLstmForward, LstmForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLstmBackward, LstmBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchGruForward, GruForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchGruBackward, GruBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
