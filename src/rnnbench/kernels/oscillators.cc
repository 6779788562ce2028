// coRNN and LEM, the cells of two states y and z. Layouts and helpers: common.h.

#include "common.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// coRNN and LEM, cells of two states y and z ([B][H] each). As for the LSTM, the forward pass computes the input
// projection x_t V + b itself, in the same pass as the recurrent products, and the backward pass sums dV and db with
// the recurrent weights' gradients while each step's gradients are in cache: for a pixel-by-pixel image (one feature)
// that spares XLA writing and reading back [B][T][G*H] arrays of projections and their gradients. The forward pass
// returns y at every step, z at every step (or only the last, for inference) and the activations the backward pass
// reads back (none for inference). The cells' options (time step, stiffness, damping) are attributes of the calls.

// One operand of a weight gradient: row b of a block at a + b * lda.
struct Operand {
  const float* a;
  int64_t lda;
};

// One weight gradient c[m][width] += A^T G over queued steps: A's rows (m floats each) are where OuterQueue::Push
// says.
struct OuterSum {
  float* c;
  int64_t m;
};

// A block's steps on their way into weight gradients: each step's G ([rows][width], written into grads()) is shared by
// up to three sums (the recurrent weights' and the input kernel's), each with its own operand A, and by the bias's
// gradient. Every kSteps steps, or at the block's last, the queued steps go into the sums at once.
class OuterQueue {
 public:
  static constexpr int64_t kSteps = 4;
  static constexpr size_t kMaxSums = 3;

  OuterQueue(int64_t rows, int64_t width, std::initializer_list<OuterSum> sums, float* bias)
      : rows_(rows), width_(width), sums_(sums), bias_(bias), grads_(kSteps * rows * width) {
    assert(sums_.size() <= kMaxSums);
    for (size_t i = 0; i < sums_.size(); ++i) operands_[i].resize(kSteps * rows);
  }

  float* grads() { return &grads_[count_ * rows_ * width_]; }

  // Queues the step whose gradients were just written, with the operands of its sums in the same order.
  void Push(std::initializer_list<Operand> operands, bool last) {
    size_t i = 0;
    for (const Operand& operand : operands) {
      for (int64_t b = 0; b < rows_; ++b) operands_[i][count_ * rows_ + b] = operand.a + b * operand.lda;
      ++i;
    }
    if (++count_ < kSteps && !last) return;
    const int64_t k = count_ * rows_;
    for (i = 0; i < sums_.size(); ++i) {
      AccumulateOuter(operands_[i].data(), sums_[i].m, grads_.data(), width_, k, sums_[i].c);
    }
    AccumulateRows(grads_.data(), width_, k, bias_);
    count_ = 0;
  }

 private:
  int64_t rows_, width_;
  std::vector<OuterSum> sums_;
  float* bias_;
  std::vector<const float*> operands_[kMaxSums];
  std::vector<float> grads_;
  int64_t count_ = 0;
};

// Zeroes the sums of a backward call before its first block.
void ZeroResults(std::initializer_list<ffi::Result<ffi::Buffer<ffi::F32>>*> results) {
  for (auto* result : results) {
    std::fill((*result)->typed_data(), (*result)->typed_data() + (*result)->element_count(), 0.0f);
  }
}

// x[B][T][F], V[F][G*H] (or V^T[G*H][F], `transposed`) and the initial states y0, z0 [B][H].
ffi::Error CheckOscillatorDims(const ffi::Buffer<ffi::F32>& x, const ffi::Buffer<ffi::F32>& v,
                               const ffi::Buffer<ffi::F32>& y0, const ffi::Buffer<ffi::F32>& z0, int64_t gates,
                               bool transposed, Dims* dims) {
  const auto xd = x.dimensions();
  const auto vd = v.dimensions();
  const auto yd = y0.dimensions();
  if (xd.size() != 3 || vd.size() != 2 || yd.size() != 2 || xd[0] != yd[0] ||
      (transposed ? vd[1] : vd[0]) != xd[2] || (transposed ? vd[0] : vd[1]) != gates * yd[1] ||
      z0.element_count() != y0.element_count()) {
    return ffi::Error::InvalidArgument("oscillator: x must be [B][T][F], V [F][G*H], y0 and z0 [B][H]");
  }
  *dims = Dims{xd[0], xd[1], yd[1], xd[2]};
  return ffi::Error::Success();
}

// Whether a buffer of `elements` floats can hold a [rows][cols] matrix.
bool HasShape(int64_t elements, int64_t rows, int64_t cols) { return elements == rows * cols; }

// Where step t's previous state lies in a block: the initial state for t = 0, else the row before in `rows`.
struct Previous {
  const float* at;
  int64_t stride;
};

Previous PreviousState(const float* initial, int64_t units, BlockRows& rows, int64_t t) {
  return t == 0 ? Previous{initial, units} : Previous{rows.at(t - 1), rows.stride()};
}

// ---------------------------------------------------------------------------------------------------------------
// coRNN: f = tanh(x_t V + b + y_{t-1} W + z_{t-1} W_z); z_t = z_{t-1} + dt (f - gamma y_{t-1} - eps z_{t-1});
// y_t = y_{t-1} + dt z_t. The three products are one pass over the forces (Gemm with three factors).

struct CoRnnOptions {
  float dt, gamma, epsilon;
};

// One sample's step after the products: f = tanh(a) in place, then z and y, in the order of Keras' step.
void CoRnnCell(const CoRnnOptions& o, float* f, const float* y_prev, const float* z_prev, float* y, float* z,
               int64_t n) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  const __m256 dt = _mm256_set1_ps(o.dt), gamma = _mm256_set1_ps(o.gamma), eps = _mm256_set1_ps(o.epsilon);
  for (; j + 8 <= n; j += 8) {
    const __m256 force = Tanh8(_mm256_loadu_ps(f + j));
    const __m256 yp = _mm256_loadu_ps(y_prev + j), zp = _mm256_loadu_ps(z_prev + j);
    const __m256 pull = _mm256_sub_ps(_mm256_sub_ps(force, _mm256_mul_ps(gamma, yp)), _mm256_mul_ps(eps, zp));
    const __m256 zn = _mm256_add_ps(zp, _mm256_mul_ps(dt, pull));
    _mm256_storeu_ps(f + j, force);
    _mm256_storeu_ps(z + j, zn);
    _mm256_storeu_ps(y + j, _mm256_add_ps(yp, _mm256_mul_ps(dt, zn)));
  }
#endif
  for (; j < n; ++j) {
    f[j] = TanhScalar(f[j]);
    z[j] = z_prev[j] + o.dt * ((f[j] - o.gamma * y_prev[j]) - o.epsilon * z_prev[j]);
    y[j] = y_prev[j] + o.dt * z[j];
  }
}

// A block's inputs: x[rows][T][F] from its first sample.
struct Inputs {
  const float* x;
  int64_t features;
};

void CoRnnForward(const CoRnnOptions& o, const Inputs& in, const PackedMatrix& v, const float* bias,
                  const PackedMatrix& w, const PackedMatrix& wz, const float* y0, const float* z0,
                  const SequenceResult& yseq, const SequenceResult& zseq, const SequenceResult& forces, int64_t first,
                  int64_t rows, int64_t steps) {
  const int64_t n = w.n();
  BlockRows y(yseq, first, rows), z(zseq, first, rows), f(forces, first, rows);
  for (int64_t t = 0; t < steps; ++t) {
    const Previous yp = PreviousState(y0, n, y, t), zp = PreviousState(z0, n, z, t);
    const Factor input{in.x + t * in.features, steps * in.features, &v};
    Gemm({input, Factor{yp.at, yp.stride, &w}, Factor{zp.at, zp.stride, &wz}}, rows, bias, 0, f.at(t), f.stride());
    for (int64_t b = 0; b < rows; ++b) {
      CoRnnCell(o, f.at(t) + b * f.stride(), yp.at + b * yp.stride, zp.at + b * zp.stride, y.at(t) + b * y.stride(),
                z.at(t) + b * z.stride(), n);
    }
    f.Done(t);
    z.Done(t);
    y.Done(t);
  }
}

ffi::Error CoRnnForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> v, ffi::Buffer<ffi::F32> bias,
                            ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> wz, ffi::Buffer<ffi::F32> y0,
                            ffi::Buffer<ffi::F32> z0, float dt, float gamma, float epsilon,
                            ffi::ResultBuffer<ffi::F32> yseq, ffi::ResultBuffer<ffi::F32> zseq,
                            ffi::ResultBuffer<ffi::F32> forces) {
  Dims d;
  if (ffi::Error error = CheckOscillatorDims(x, v, y0, z0, 1, false, &d); error.failure()) return error;
  const int64_t n = d.units;
  if (bias.element_count() != n || !HasShape(w.element_count(), n, n) || !HasShape(wz.element_count(), n, n)) {
    return ffi::Error::InvalidArgument("coRNN: b must be [H], W and W_z [H][H]");
  }
  const SequenceResult y_out(yseq, d.steps, n), z_out(zseq, d.steps, n), f_out(forces, d.steps, n);
  if (ffi::Error error = CheckResults({&y_out, &z_out, &f_out}, d.batch); error.failure()) return error;
  if (!y_out.keeps_all()) return ffi::Error::InvalidArgument("coRNN: y must be [B][T][H]");
  const PackedMatrix packed_v(v.typed_data(), d.features, n), packed_w(w.typed_data(), n, n),
      packed_wz(wz.typed_data(), n, n);
  const CoRnnOptions options{dt, gamma, epsilon};
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    const Inputs in{x.typed_data() + first * d.steps * d.features, d.features};
    CoRnnForward(options, in, packed_v, bias.typed_data(), packed_w, packed_wz, y0.typed_data() + first * n,
                 z0.typed_data() + first * n, y_out, z_out, f_out, first, rows, d.steps);
  });
  return ffi::Error::Success();
}

// The sequences a backward pass reads, each [B][T][W] from the block's first sample, and its initial states.
struct Residuals {
  const float* y;
  const float* z;
  const float* acts;  // coRNN's forces [H], LEM's [s1 s2 c e] [4H]
  const float* y0;
  const float* z0;
};

// Where a backward pass puts dL/dx ([B][T][F] from the block's first sample), when asked for (vt set).
struct InputGradients {
  const float* x;
  float* dx;
  int64_t features;
};

// One block backwards in time. carry holds [dL/dy_t dL/dz_t] ([rows][2H]) from the steps after t; each step's dL/da
// (a the forces' pre-activation) goes into dW, dW_z, dV, db and dL/dx; then carry = its elementwise part plus
// dL/da [W^T W_z^T] in one product. What is carried past step 0 is dL/dy0, dL/dz0.
void CoRnnBackward(const CoRnnOptions& o, const OutputGradients& outputs, int64_t first, const Residuals& r,
                   const InputGradients& in, const PackedMatrix* vt, const PackedMatrix& wt, OuterQueue& queue,
                   float* carry, int64_t rows, int64_t steps) {
  const int64_t n = wt.k(), row = steps * n, features = in.features;
  const float keep_z = 1.0f - o.dt * o.epsilon, pull_y = o.dt * o.gamma;
  for (int64_t t = steps - 1; t >= 0; --t) {
    float* da = queue.grads();
    for (int64_t b = 0; b < rows; ++b) {
      const float* given = outputs.at(first + b, t);
      const float* f = r.acts + b * row + t * n;
      float* cy = carry + b * 2 * n;
      float* cz = cy + n;
      float* da_row = da + b * n;
      RNNBENCH_NO_ALIAS
      for (int64_t j = 0; j < n; ++j) {
        const float gy = given[j] + cy[j];
        const float gz = cz[j] + o.dt * gy;  // z_t reaches the loss through y_t = y_{t-1} + dt z_t too
        da_row[j] = gz * o.dt * (1.0f - f[j] * f[j]);
        cy[j] = gy - pull_y * gz;
        cz[j] = keep_z * gz;
      }
    }
    Gemm(da, n, rows, wt, carry, 2 * n, true);
    if (vt != nullptr) Gemm(da, n, rows, *vt, in.dx + t * features, steps * features, false);
    const bool initial = t == 0;
    queue.Push({Operand{initial ? r.y0 : r.y + (t - 1) * n, initial ? n : row},
                Operand{initial ? r.z0 : r.z + (t - 1) * n, initial ? n : row},
                Operand{in.x + t * features, steps * features}},
               initial);
  }
}

ffi::Error CoRnnBackwardImpl(ffi::Buffer<ffi::F32> dyseq, ffi::Buffer<ffi::F32> dz_last, ffi::Buffer<ffi::F32> x,
                             ffi::Buffer<ffi::F32> yseq, ffi::Buffer<ffi::F32> zseq, ffi::Buffer<ffi::F32> forces,
                             ffi::Buffer<ffi::F32> y0, ffi::Buffer<ffi::F32> z0, ffi::Buffer<ffi::F32> vt,
                             ffi::Buffer<ffi::F32> wt, float dt, float gamma, float epsilon,
                             ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dv,
                             ffi::ResultBuffer<ffi::F32> db, ffi::ResultBuffer<ffi::F32> dw,
                             ffi::ResultBuffer<ffi::F32> dwz, ffi::ResultBuffer<ffi::F32> dy0,
                             ffi::ResultBuffer<ffi::F32> dz0) {
  Dims d;
  if (ffi::Error error = CheckOscillatorDims(x, vt, y0, z0, 1, true, &d); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, xrow = d.steps * d.features;
  const OutputGradients outputs(dyseq, d.steps, n);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  if (yseq.element_count() != d.batch * row || zseq.element_count() != d.batch * row ||
      forces.element_count() != d.batch * row || dz_last.element_count() != y0.element_count() ||
      !HasShape(wt.element_count(), n, 2 * n) || dv->element_count() != vt.element_count() ||
      db->element_count() != n || !HasShape(dw->element_count(), n, n) || !HasShape(dwz->element_count(), n, n) ||
      dy0->element_count() != y0.element_count() || dz0->element_count() != y0.element_count()) {
    return ffi::Error::InvalidArgument("coRNN gradient: y, z and the forces must be [B][T][H], [W^T W_z^T] [H][2H]");
  }
  const PackedMatrix packed(wt.typed_data(), n, 2 * n), packed_vt(vt.typed_data(), n, d.features);
  const PackedMatrix* wants_dx = dx->element_count() == x.element_count() ? &packed_vt : nullptr;
  ZeroResults({&dv, &db, &dw, &dwz});
  const CoRnnOptions options{dt, gamma, epsilon};
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    std::vector<float> carry(rows * 2 * n, 0.0f);
    for (int64_t b = 0; b < rows; ++b) {
      std::memcpy(&carry[b * 2 * n + n], dz_last.typed_data() + (first + b) * n, sizeof(float) * n);
    }
    const int64_t at = first * row, state = first * n;
    const Residuals r{yseq.typed_data() + at, zseq.typed_data() + at, forces.typed_data() + at,
                      y0.typed_data() + state, z0.typed_data() + state};
    const InputGradients in{x.typed_data() + first * xrow, dx->typed_data() + first * xrow, d.features};
    OuterQueue queue(rows, n, {{dw->typed_data(), n}, {dwz->typed_data(), n}, {dv->typed_data(), d.features}},
                     db->typed_data());
    CoRnnBackward(options, outputs, first, r, in, wants_dx, packed, queue, carry.data(), rows, d.steps);
    for (int64_t b = 0; b < rows; ++b) {
      std::memcpy(dy0->typed_data() + state + b * n, &carry[b * 2 * n], sizeof(float) * n);
      std::memcpy(dz0->typed_data() + state + b * n, &carry[b * 2 * n + n], sizeof(float) * n);
    }
  });
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// LEM: [a1 a2 az] = x_t V_a + b_a + y_{t-1} [W_1 W_2 W_z]; s1 = sigmoid(a1), s2 = sigmoid(a2), c = tanh(az);
// z_t = (1 - dt s1) z_{t-1} + dt s1 c; e = tanh(x_t V_y + b_y + z_t W_y); y_t = (1 - dt s2) y_{t-1} + dt s2 e.
// The activations [s1 s2 c e] ([4H] a step) are what the backward pass reads back.

// One sample's fast state after the product on y_{t-1}: acts holds [a1 a2 az] and gets [s1 s2 c]; then z_t.
void LemFastState(float dt, float* acts, const float* z_prev, float* z, int64_t n) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  const __m256 step = _mm256_set1_ps(dt), one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 s1 = Sigmoid8(_mm256_loadu_ps(acts + j));
    const __m256 s2 = Sigmoid8(_mm256_loadu_ps(acts + n + j));
    const __m256 c = Tanh8(_mm256_loadu_ps(acts + 2 * n + j));
    const __m256 dt_n = _mm256_mul_ps(step, s1);
    const __m256 kept = _mm256_mul_ps(_mm256_sub_ps(one, dt_n), _mm256_loadu_ps(z_prev + j));
    _mm256_storeu_ps(acts + j, s1);
    _mm256_storeu_ps(acts + n + j, s2);
    _mm256_storeu_ps(acts + 2 * n + j, c);
    _mm256_storeu_ps(z + j, _mm256_add_ps(kept, _mm256_mul_ps(dt_n, c)));
  }
#endif
  for (; j < n; ++j) {
    acts[j] = SigmoidScalar(acts[j]);
    acts[n + j] = SigmoidScalar(acts[n + j]);
    acts[2 * n + j] = TanhScalar(acts[2 * n + j]);
    const float dt_n = dt * acts[j];
    z[j] = (1.0f - dt_n) * z_prev[j] + dt_n * acts[2 * n + j];
  }
}

// One sample's slow state after the product on z_t: acts[3H:] holds its pre-activation and gets e; then y_t.
void LemSlowState(float dt, float* acts, const float* y_prev, float* y, int64_t n) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  const __m256 step = _mm256_set1_ps(dt), one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 e = Tanh8(_mm256_loadu_ps(acts + 3 * n + j));
    const __m256 dt_y = _mm256_mul_ps(step, _mm256_loadu_ps(acts + n + j));
    const __m256 kept = _mm256_mul_ps(_mm256_sub_ps(one, dt_y), _mm256_loadu_ps(y_prev + j));
    _mm256_storeu_ps(acts + 3 * n + j, e);
    _mm256_storeu_ps(y + j, _mm256_add_ps(kept, _mm256_mul_ps(dt_y, e)));
  }
#endif
  for (; j < n; ++j) {
    acts[3 * n + j] = TanhScalar(acts[3 * n + j]);
    const float dt_y = dt * acts[n + j];
    y[j] = (1.0f - dt_y) * y_prev[j] + dt_y * acts[3 * n + j];
  }
}

// LEM's input projection split by the products it joins: V_a, b_a ([F][3H], [3H]) for [a1 a2 az] with the product on
// y_{t-1}, V_y, b_y ([F][H], [H]) for e's pre-activation with the product on z_t.
struct LemInputs {
  const PackedMatrix& va;
  const PackedMatrix& vy;
  const float* ba;
  const float* by;
};

void LemForward(float dt, const Inputs& in, const LemInputs& v, const PackedMatrix& wrec, const PackedMatrix& wy,
                const float* y0, const float* z0, const SequenceResult& yseq, const SequenceResult& zseq,
                const SequenceResult& acts, int64_t first, int64_t rows, int64_t steps) {
  const int64_t n = wy.n();
  BlockRows y(yseq, first, rows), z(zseq, first, rows), a(acts, first, rows);
  for (int64_t t = 0; t < steps; ++t) {
    const Previous yp = PreviousState(y0, n, y, t), zp = PreviousState(z0, n, z, t);
    const float* xt = in.x + t * in.features;
    const int64_t ldx = steps * in.features;
    Gemm({Factor{xt, ldx, &v.va}, Factor{yp.at, yp.stride, &wrec}}, rows, v.ba, 0, a.at(t), a.stride());
    for (int64_t b = 0; b < rows; ++b) {
      LemFastState(dt, a.at(t) + b * a.stride(), zp.at + b * zp.stride, z.at(t) + b * z.stride(), n);
    }
    Gemm({Factor{xt, ldx, &v.vy}, Factor{z.at(t), z.stride(), &wy}}, rows, v.by, 0, a.at(t) + 3 * n, a.stride());
    for (int64_t b = 0; b < rows; ++b) {
      LemSlowState(dt, a.at(t) + b * a.stride(), yp.at + b * yp.stride, y.at(t) + b * y.stride(), n);
    }
    a.Done(t);
    z.Done(t);
    y.Done(t);
  }
}

ffi::Error LemForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> va, ffi::Buffer<ffi::F32> vy,
                          ffi::Buffer<ffi::F32> ba, ffi::Buffer<ffi::F32> by, ffi::Buffer<ffi::F32> wrec,
                          ffi::Buffer<ffi::F32> wy, ffi::Buffer<ffi::F32> y0, ffi::Buffer<ffi::F32> z0, float dt,
                          ffi::ResultBuffer<ffi::F32> yseq, ffi::ResultBuffer<ffi::F32> zseq,
                          ffi::ResultBuffer<ffi::F32> acts) {
  Dims d;
  if (ffi::Error error = CheckOscillatorDims(x, va, y0, z0, 3, false, &d); error.failure()) return error;
  const int64_t n = d.units;
  if (!HasShape(vy.element_count(), d.features, n) || ba.element_count() != 3 * n || by.element_count() != n ||
      !HasShape(wrec.element_count(), n, 3 * n) || !HasShape(wy.element_count(), n, n)) {
    return ffi::Error::InvalidArgument("LEM: V_y must be [F][H], b_a [3H], b_y [H], [W_1 W_2 W_z] [H][3H], W_y [H][H]");
  }
  const SequenceResult y_out(yseq, d.steps, n), z_out(zseq, d.steps, n), a_out(acts, d.steps, 4 * n);
  if (ffi::Error error = CheckResults({&y_out, &z_out, &a_out}, d.batch); error.failure()) return error;
  if (!y_out.keeps_all()) return ffi::Error::InvalidArgument("LEM: y must be [B][T][H]");
  const PackedMatrix packed_va(va.typed_data(), d.features, 3 * n), packed_vy(vy.typed_data(), d.features, n);
  const PackedMatrix packed_rec(wrec.typed_data(), n, 3 * n), packed_y(wy.typed_data(), n, n);
  const LemInputs v{packed_va, packed_vy, ba.typed_data(), by.typed_data()};
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    const Inputs in{x.typed_data() + first * d.steps * d.features, d.features};
    LemForward(dt, in, v, packed_rec, packed_y, y0.typed_data() + first * n, z0.typed_data() + first * n, y_out,
               z_out, a_out, first, rows, d.steps);
  });
  return ffi::Error::Success();
}

// The slow state's part of one sample's step backwards: from gy = dL/dy_t, dL/d(e's pre-activation) into de and
// dL/da2 into dr[H:2H]; carry_y becomes gy's part that reaches y_{t-1} directly. In intrinsics, as the compiler
// leaves these loops scalar.
void LemSlowBack(float dt, const float* acts, const float* y_prev, const float* given, float* carry_y, float* de,
                 float* dr, int64_t n) {
  const float* s2 = acts + n;
  const float* e = acts + 3 * n;
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  const __m256 step = _mm256_set1_ps(dt), one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 gy = _mm256_add_ps(_mm256_loadu_ps(given + j), _mm256_loadu_ps(carry_y + j));
    const __m256 s = _mm256_loadu_ps(s2 + j), ev = _mm256_loadu_ps(e + j);
    const __m256 dt_y = _mm256_mul_ps(step, s);
    _mm256_storeu_ps(de + j, _mm256_mul_ps(_mm256_mul_ps(gy, dt_y), _mm256_fnmadd_ps(ev, ev, one)));
    const __m256 toward = _mm256_mul_ps(gy, _mm256_sub_ps(ev, _mm256_loadu_ps(y_prev + j)));
    _mm256_storeu_ps(dr + n + j, _mm256_mul_ps(_mm256_mul_ps(toward, dt_y), _mm256_sub_ps(one, s)));
    _mm256_storeu_ps(carry_y + j, _mm256_mul_ps(gy, _mm256_sub_ps(one, dt_y)));
  }
#endif
  for (; j < n; ++j) {
    const float gy = given[j] + carry_y[j], dt_y = dt * s2[j];
    de[j] = gy * dt_y * (1.0f - e[j] * e[j]);
    dr[n + j] = gy * (e[j] - y_prev[j]) * dt_y * (1.0f - s2[j]);
    carry_y[j] = gy * (1.0f - dt_y);
  }
}

// The fast state's part: from gz = dL/dz_t (carry_z), dL/da1 and dL/daz into dr[:H] and dr[2H:3H]; carry_z becomes
// dL/dz_{t-1}.
void LemFastBack(float dt, const float* acts, const float* z_prev, float* carry_z, float* dr, int64_t n) {
  const float* s1 = acts;
  const float* c = acts + 2 * n;
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  const __m256 step = _mm256_set1_ps(dt), one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 gz = _mm256_loadu_ps(carry_z + j), s = _mm256_loadu_ps(s1 + j), cv = _mm256_loadu_ps(c + j);
    const __m256 dt_n = _mm256_mul_ps(step, s);
    const __m256 toward = _mm256_mul_ps(gz, _mm256_sub_ps(cv, _mm256_loadu_ps(z_prev + j)));
    _mm256_storeu_ps(dr + j, _mm256_mul_ps(_mm256_mul_ps(toward, dt_n), _mm256_sub_ps(one, s)));
    _mm256_storeu_ps(dr + 2 * n + j, _mm256_mul_ps(_mm256_mul_ps(gz, dt_n), _mm256_fnmadd_ps(cv, cv, one)));
    _mm256_storeu_ps(carry_z + j, _mm256_mul_ps(gz, _mm256_sub_ps(one, dt_n)));
  }
#endif
  for (; j < n; ++j) {
    const float gz = carry_z[j], dt_n = dt * s1[j];
    dr[j] = gz * (c[j] - z_prev[j]) * dt_n * (1.0f - s1[j]);
    dr[2 * n + j] = gz * dt_n * (1.0f - c[j] * c[j]);
    carry_z[j] = gz * (1.0f - dt_n);
  }
}

// V_a^T and V_y^T packed, where dL/dx is asked for.
struct LemInputGradients {
  const PackedMatrix* vat;
  const PackedMatrix* vyt;
};

// One block backwards in time; dy, dz carry dL/dy_t, dL/dz_t ([rows][H]) from the steps after t and end as dL/dy0,
// dL/dz0. Each step: the slow state's gradients de (and dr's second part), dz += de W_y^T, the fast state's (dr's
// others), dy += dr [W_1 W_2 W_z]^T, dL/dx = dr V_a^T + de V_y^T. dr goes into d[W_1 W_2 W_z] (with y_{t-1}), dV_a
// and db_a (with x_t), de into dW_y (with z_t), dV_y and db_y.
void LemBackward(float dt, const OutputGradients& outputs, int64_t first, const Residuals& r, const InputGradients& in,
                 const LemInputGradients& v, const PackedMatrix& wrec_t, const PackedMatrix& wy_t,
                 OuterQueue& recurrent, OuterQueue& state, float* dy, float* dz, int64_t rows, int64_t steps) {
  const int64_t n = wy_t.n(), g4 = 4 * n, row = steps * n, grow = steps * g4, features = in.features;
  for (int64_t t = steps - 1; t >= 0; --t) {
    float* dr = recurrent.grads();
    float* de = state.grads();
    const bool initial = t == 0;
    const Operand y_prev{initial ? r.y0 : r.y + (t - 1) * n, initial ? n : row};
    const Operand z_prev{initial ? r.z0 : r.z + (t - 1) * n, initial ? n : row};
    for (int64_t b = 0; b < rows; ++b) {
      LemSlowBack(dt, r.acts + b * grow + t * g4, y_prev.a + b * y_prev.lda, outputs.at(first + b, t), dy + b * n,
                  de + b * n, dr + b * 3 * n, n);
    }
    Gemm(de, n, rows, wy_t, dz, n, true);
    for (int64_t b = 0; b < rows; ++b) {
      LemFastBack(dt, r.acts + b * grow + t * g4, z_prev.a + b * z_prev.lda, dz + b * n, dr + b * 3 * n, n);
    }
    Gemm(dr, 3 * n, rows, wrec_t, dy, n, true);
    if (v.vat != nullptr) {
      Gemm({Factor{dr, 3 * n, v.vat}, Factor{de, n, v.vyt}}, rows, nullptr, 0, in.dx + t * features,
           steps * features);
    }
    const Operand input{in.x + t * features, steps * features};
    recurrent.Push({y_prev, input}, initial);
    state.Push({Operand{r.z + t * n, row}, input}, initial);
  }
}

ffi::Error LemBackwardImpl(ffi::Buffer<ffi::F32> dyseq, ffi::Buffer<ffi::F32> dz_last, ffi::Buffer<ffi::F32> x,
                           ffi::Buffer<ffi::F32> yseq, ffi::Buffer<ffi::F32> zseq, ffi::Buffer<ffi::F32> acts,
                           ffi::Buffer<ffi::F32> y0, ffi::Buffer<ffi::F32> z0, ffi::Buffer<ffi::F32> vat,
                           ffi::Buffer<ffi::F32> vyt, ffi::Buffer<ffi::F32> wrec_t, ffi::Buffer<ffi::F32> wy_t,
                           float dt, ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dva,
                           ffi::ResultBuffer<ffi::F32> dvy, ffi::ResultBuffer<ffi::F32> dba,
                           ffi::ResultBuffer<ffi::F32> dby, ffi::ResultBuffer<ffi::F32> dwrec,
                           ffi::ResultBuffer<ffi::F32> dwy, ffi::ResultBuffer<ffi::F32> dy0,
                           ffi::ResultBuffer<ffi::F32> dz0) {
  Dims d;
  if (ffi::Error error = CheckOscillatorDims(x, vat, y0, z0, 3, true, &d); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, xrow = d.steps * d.features;
  const OutputGradients outputs(dyseq, d.steps, n);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  if (yseq.element_count() != d.batch * row || zseq.element_count() != d.batch * row ||
      acts.element_count() != 4 * d.batch * row || dz_last.element_count() != y0.element_count() ||
      !HasShape(vyt.element_count(), n, d.features) || !HasShape(wrec_t.element_count(), 3 * n, n) ||
      !HasShape(wy_t.element_count(), n, n) || dva->element_count() != vat.element_count() ||
      dvy->element_count() != vyt.element_count() || dba->element_count() != 3 * n || dby->element_count() != n ||
      !HasShape(dwrec->element_count(), n, 3 * n) || !HasShape(dwy->element_count(), n, n) ||
      dy0->element_count() != y0.element_count() || dz0->element_count() != y0.element_count()) {
    return ffi::Error::InvalidArgument("LEM gradient: y and z must be [B][T][H], the activations [B][T][4H], "
                                       "V_y^T [H][F], [W_1 W_2 W_z]^T [3H][H] and W_y^T [H][H]");
  }
  const PackedMatrix packed_rec(wrec_t.typed_data(), 3 * n, n), packed_y(wy_t.typed_data(), n, n);
  const PackedMatrix packed_vat(vat.typed_data(), 3 * n, d.features), packed_vyt(vyt.typed_data(), n, d.features);
  const bool wants_dx = dx->element_count() == x.element_count();
  const LemInputGradients v{wants_dx ? &packed_vat : nullptr, &packed_vyt};
  ZeroResults({&dva, &dvy, &dba, &dby, &dwrec, &dwy, &dy0});
  std::memcpy(dz0->typed_data(), dz_last.typed_data(), sizeof(float) * d.batch * n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    const int64_t at = first * row, state = first * n;
    const Residuals r{yseq.typed_data() + at, zseq.typed_data() + at, acts.typed_data() + 4 * at,
                      y0.typed_data() + state, z0.typed_data() + state};
    const InputGradients in{x.typed_data() + first * xrow, dx->typed_data() + first * xrow, d.features};
    OuterQueue recurrent(rows, 3 * n, {{dwrec->typed_data(), n}, {dva->typed_data(), d.features}},
                         dba->typed_data());
    OuterQueue slow(rows, n, {{dwy->typed_data(), n}, {dvy->typed_data(), d.features}}, dby->typed_data());
    LemBackward(dt, outputs, first, r, in, v, packed_rec, packed_y, recurrent, slow, dy0->typed_data() + state,
                dz0->typed_data() + state, rows, d.steps);
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchCoRnnForward, CoRnnForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<float>("dt")
                                  .Attr<float>("gamma")
                                  .Attr<float>("epsilon")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchCoRnnBackward, CoRnnBackwardImpl,
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
                                  .Attr<float>("dt")
                                  .Attr<float>("gamma")
                                  .Attr<float>("epsilon")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLemForward, LemForwardImpl,
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
                                  .Attr<float>("dt")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLemBackward, LemBackwardImpl,
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
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<float>("dt")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
