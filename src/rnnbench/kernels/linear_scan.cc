// The element-wise linear recurrence, and minGRU and minLSTM, whose gates read the input alone. Layouts and
// helpers: common.h.

#include "common.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// An element-wise linear recurrence h_t = a_t * h_{t-1} + b_t over a[B][T][H], b[B][T][H] from h0[B][H] (minGRU and
// minLSTM, whose gates depend on the input alone). Each step is a few loads and one FMA per element, so the loops
// are bound by memory: one pass over each sample's rows, vectorised over the units, with no scratch.

ffi::Error CheckScanDims(const ffi::Buffer<ffi::F32>& a, const ffi::Buffer<ffi::F32>& b,
                         const ffi::Buffer<ffi::F32>& h0, Dims* dims) {
  const auto ad = a.dimensions();
  const auto bd = b.dimensions();
  const auto hd = h0.dimensions();
  if (ad.size() != 3 || bd.size() != 3 || hd.size() != 2 || ad[0] != bd[0] || ad[1] != bd[1] || ad[2] != bd[2] ||
      ad[0] != hd[0] || ad[2] != hd[1]) {
    return ffi::Error::InvalidArgument("linear scan: a and b must be [B][T][H] and h0 [B][H]");
  }
  *dims = Dims{ad[0], ad[1], ad[2]};
  return ffi::Error::Success();
}

void LinearScanForward(const float* a, const float* b, const float* h0, float* h, int64_t steps, int64_t n) {
  const float* prev = h0;
  for (int64_t t = 0; t < steps; ++t) {
    const float* at = a + t * n;
    const float* bt = b + t * n;
    float* ht = h + t * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) ht[j] = at[j] * prev[j] + bt[j];
    prev = ht;
  }
}

ffi::Error LinearScanForwardImpl(ffi::Buffer<ffi::F32> a, ffi::Buffer<ffi::F32> b, ffi::Buffer<ffi::F32> h0,
                                 ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckScanDims(a, b, h0, &d); error.failure()) return error;
  if (hseq->element_count() != a.element_count()) {
    return ffi::Error::InvalidArgument("linear scan: the result must be [B][T][H]");
  }
  const int64_t row = d.steps * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    LinearScanForward(a.typed_data() + s * row, b.typed_data() + s * row, h0.typed_data() + s * d.units,
                      hseq->typed_data() + s * row, d.steps, d.units);
  }
  return ffi::Error::Success();
}

// One sample, backwards in time: g_t = dL/dh_t from the outputs plus a_{t+1} g_{t+1} from the step after;
// db_t = g_t, da_t = g_t h_{t-1}, and what is left after step 0 is dL/dh0. dh0 carries g between steps.
void LinearScanBackward(const OutputGradients& outputs, int64_t sample, const float* a, const float* hseq,
                        const float* h0, float* da, float* db, float* dh0, int64_t steps, int64_t n) {
  std::fill(dh0, dh0 + n, 0.0f);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const float* given = outputs.at(sample, t);
    const float* prev = t == 0 ? h0 : hseq + (t - 1) * n;
    const float* at = a + t * n;
    float* dat = da + t * n;
    float* dbt = db + t * n;
    RNNBENCH_NO_ALIAS
    for (int64_t j = 0; j < n; ++j) {
      const float g = given[j] + dh0[j];
      dbt[j] = g;
      dat[j] = g * prev[j];
      dh0[j] = at[j] * g;
    }
  }
}

ffi::Error LinearScanBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> a, ffi::Buffer<ffi::F32> hseq,
                                  ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> da,
                                  ffi::ResultBuffer<ffi::F32> db, ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckScanDims(a, hseq, h0, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  if (da->element_count() != a.element_count() || db->element_count() != a.element_count() ||
      dh0->element_count() != h0.element_count()) {
    return ffi::Error::InvalidArgument("linear scan gradient: da and db must be [B][T][H] and dh0 [B][H]");
  }
  const int64_t row = d.steps * d.units;
  for (int64_t s = 0; s < d.batch; ++s) {
    LinearScanBackward(outputs, s, a.typed_data() + s * row, hseq.typed_data() + s * row,
                       h0.typed_data() + s * d.units, da->typed_data() + s * row, db->typed_data() + s * row,
                       dh0->typed_data() + s * d.units, d.steps, d.units);
  }
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// minGRU and minLSTM over x[B][T][F] with W[F][G*H] and b[G*H] (G = 2: k, c; G = 3: k_f, k_i, c) from h0[B][H].
// Their gates read the input alone, so a step is the projection x_t W + b, the gates' activations and one element-wise
// update, all in registers and L1: no [B][T][G*H] array of pre-activations or of their gradient crosses to XLA (with
// one feature, writing, transposing and reading those cost more than the recurrence itself). The forward pass keeps
// the states alone; the backward pass recomputes the projection and the gates (a few exponentials per unit in
// SIMD, by estimate less than writing the gates out and reading them back), sums dW and db as it goes, and returns
// dL/dx when asked for. Each gate's row is padded to whole SIMD vectors (zeros in the weights, no gradient), so the
// element-wise code has no scalar tail.

// Sixteen lanes where the processor has AVX-512, eight with AVX2, else one: on a Zen 4 core, whose 512-bit arithmetic
// runs as two 256-bit halves, sixteen lanes still took 40 % off a minGRU training step at 64 units.
#if defined(RNNBENCH_AVX2) && defined(__AVX512F__)
using MinVec = __m512;  // GCC and Clang define + - * / on it
constexpr int64_t kMinLanes = 16;
inline MinVec MinLoad(const float* p) { return _mm512_loadu_ps(p); }
inline void MinStore(float* p, MinVec v) { _mm512_storeu_ps(p, v); }
inline MinVec MinSplat(float v) { return _mm512_set1_ps(v); }
// Exp8's polynomial, sixteen lanes at a time.
inline MinVec MinExp(MinVec x) {
  x = _mm512_min_ps(_mm512_max_ps(x, MinSplat(-88.3762626647949f)), MinSplat(88.3762626647949f));
  const MinVec fx = _mm512_roundscale_ps(_mm512_fmadd_ps(x, MinSplat(1.44269504088896341f), MinSplat(0.5f)),
                                         _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, MinSplat(0.693359375f), x);
  x = _mm512_fnmadd_ps(fx, MinSplat(-2.12194440e-4f), x);
  MinVec y = MinSplat(1.9875691500E-4f);
  for (float c : {1.3981999507E-3f, 8.3334519073E-3f, 4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f}) {
    y = _mm512_fmadd_ps(y, x, MinSplat(c));
  }
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, MinSplat(1.0f)));
  const __m512i exponent = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(exponent));
}
inline MinVec MinSigmoid(MinVec v) {
  const MinVec d = MinSplat(1.0f) + MinExp(-v), r = _mm512_rcp14_ps(d);
  return r * _mm512_fnmadd_ps(d, r, MinSplat(2.0f));
}
inline MinVec MinIfNonNegative(MinVec c, MinVec yes, MinVec no) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(c, _mm512_setzero_ps(), _CMP_GE_OQ), no, yes);
}
inline float MinSum(MinVec v) { return _mm512_reduce_add_ps(v); }
#elif defined(RNNBENCH_AVX2)
using MinVec = __m256;  // GCC and Clang define + - * / on it
constexpr int64_t kMinLanes = 8;
inline MinVec MinLoad(const float* p) { return _mm256_loadu_ps(p); }
inline void MinStore(float* p, MinVec v) { _mm256_storeu_ps(p, v); }
inline MinVec MinSplat(float v) { return _mm256_set1_ps(v); }
inline MinVec MinSigmoid(MinVec v) { return Sigmoid8(v); }
inline MinVec MinIfNonNegative(MinVec c, MinVec yes, MinVec no) {
  return _mm256_blendv_ps(no, yes, _mm256_cmp_ps(c, _mm256_setzero_ps(), _CMP_GE_OQ));
}
inline float MinSum(MinVec v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)));
}
#else
using MinVec = float;
constexpr int64_t kMinLanes = 1;
inline MinVec MinLoad(const float* p) { return *p; }
inline void MinStore(float* p, MinVec v) { *p = v; }
inline MinVec MinSplat(float v) { return v; }
inline MinVec MinSigmoid(MinVec v) { return SigmoidScalar(v); }
inline MinVec MinIfNonNegative(MinVec c, MinVec yes, MinVec no) { return c >= 0.0f ? yes : no; }
inline float MinSum(MinVec v) { return v; }
#endif

// The paper's g(c) = c + 1/2 for c >= 0, sigmoid(c) below, from c and s = sigmoid(c); and its slope.
inline MinVec PositiveG(MinVec c, MinVec s) { return MinIfNonNegative(c, c + MinSplat(0.5f), s); }
inline MinVec PositiveGSlope(MinVec c, MinVec s) {
  return MinIfNonNegative(c, MinSplat(1.0f), s * (MinSplat(1.0f) - s));
}

// A cell's Step and Back read one step's pre-activations pre[G][width], width a multiple of kMinLanes.
struct MinGru {
  static constexpr int kGates = 2;
  // h: h_{t-1} on entry, h_t on return.
  static void Step(const float* pre, float* h, int64_t width) {
    const MinVec one = MinSplat(1.0f);
    for (int64_t j = 0; j < width; j += kMinLanes) {
      const MinVec z = MinSigmoid(MinLoad(pre + j)), c = MinLoad(pre + width + j);
      MinStore(h + j, (one - z) * MinLoad(h + j) + z * PositiveG(c, MinSigmoid(c)));
    }
  }
  // g: dL/dh_t on entry, dL/dh_{t-1} through this step on return; dpre: this step's dL/dpre.
  static void Back(const float* pre, const float* prev, float* g, float* dpre, int64_t width) {
    const MinVec one = MinSplat(1.0f);
    for (int64_t j = 0; j < width; j += kMinLanes) {
      const MinVec z = MinSigmoid(MinLoad(pre + j)), c = MinLoad(pre + width + j), s = MinSigmoid(c);
      const MinVec dh = MinLoad(g + j);
      MinStore(dpre + j, dh * (PositiveG(c, s) - MinLoad(prev + j)) * z * (one - z));
      MinStore(dpre + width + j, dh * z * PositiveGSlope(c, s));
      MinStore(g + j, dh * (one - z));
    }
  }
};

struct MinLstm {
  static constexpr int kGates = 3;
  static void Step(const float* pre, float* h, int64_t width) {
    for (int64_t j = 0; j < width; j += kMinLanes) {
      const MinVec f = MinSigmoid(MinLoad(pre + j)), i = MinSigmoid(MinLoad(pre + width + j));
      const MinVec c = MinLoad(pre + 2 * width + j);
      MinStore(h + j, (f * MinLoad(h + j) + i * PositiveG(c, MinSigmoid(c))) / (f + i));
    }
  }
  // h_t = a h_{t-1} + b g(c), a = f / (f + i), b = i / (f + i): da/df = i / S^2 = -db/df, db/di = f / S^2 = -da/di.
  static void Back(const float* pre, const float* prev, float* g, float* dpre, int64_t width) {
    const MinVec one = MinSplat(1.0f);
    for (int64_t j = 0; j < width; j += kMinLanes) {
      const MinVec f = MinSigmoid(MinLoad(pre + j)), i = MinSigmoid(MinLoad(pre + width + j));
      const MinVec c = MinLoad(pre + 2 * width + j), s = MinSigmoid(c), dh = MinLoad(g + j);
      const MinVec inverse = one / (f + i);
      // dL/da - dL/db, over S^2
      const MinVec difference = dh * (MinLoad(prev + j) - PositiveG(c, s)) * inverse * inverse;
      MinStore(dpre + j, difference * i * f * (one - f));
      MinStore(dpre + width + j, -(difference * f * i * (one - i)));
      MinStore(dpre + 2 * width + j, dh * i * inverse * PositiveGSlope(c, s));
      MinStore(g + j, dh * f * inverse);
    }
  }
};

// dst[0..n) = src[0..n), inline: a step's rows are too short for a call to memmove to pay.
inline void CopyRow(const float* src, int64_t n, float* dst) {
  RNNBENCH_NO_ALIAS
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// W[F][G*H] and b[G*H] with each gate's row padded from H to `width` units with zeros.
struct MinWeights {
  int64_t features, gates, units, width, row;
  std::vector<float> w, b;

  MinWeights(const float* w_in, const float* b_in, int64_t features, int64_t gates, int64_t units)
      : features(features), gates(gates), units(units), width((units + kMinLanes - 1) / kMinLanes * kMinLanes),
        row(gates * width), w(features * row, 0.0f), b(row, 0.0f) {
    for (int64_t gate = 0; gate < gates; ++gate) {
      for (int64_t f = 0; f < features; ++f) {
        std::copy_n(w_in + f * gates * units + gate * units, units, w.data() + f * row + gate * width);
      }
      std::copy_n(b_in + gate * units, units, b.data() + gate * width);
    }
  }
  // pre[row] = x W + b for one step's inputs x[F].
  void Project(const float* x, float* pre) const {
    CopyRow(b.data(), row, pre);
    for (int64_t f = 0; f < features; ++f) {
      const float xf = x[f];
      const float* wf = w.data() + f * row;
      RNNBENCH_NO_ALIAS
      for (int64_t i = 0; i < row; ++i) pre[i] += xf * wf[i];
    }
  }
  // Padded [F][row] or [row] sums back to W's or b's layout, `gates` rows of `units` each.
  void Unpad(const float* padded, int64_t rows, float* dst) const {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t gate = 0; gate < gates; ++gate) {
        std::copy_n(padded + r * row + gate * width, units, dst + (r * gates + gate) * units);
      }
    }
  }
};

ffi::Error CheckMinArgs(const ffi::Buffer<ffi::F32>& x, const ffi::Buffer<ffi::F32>& w,
                        const ffi::Buffer<ffi::F32>& b, const ffi::Buffer<ffi::F32>& h0, int64_t gates, Dims* dims) {
  if (ffi::Error error = CheckDims(x, w, h0, gates, dims); error.failure()) return error;
  if (b.element_count() != gates * dims->units) {
    return ffi::Error::InvalidArgument("minimal recurrence: b must be [G*H]");
  }
  return ffi::Error::Success();
}

template <class Cell>
ffi::Error MinForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> b,
                          ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckMinArgs(x, w, b, h0, Cell::kGates, &d); error.failure()) return error;
  const int64_t n = d.units;
  if (hseq->element_count() != d.batch * d.steps * n) {
    return ffi::Error::InvalidArgument("minimal recurrence: the result must be [B][T][H]");
  }
  const MinWeights weights(w.typed_data(), b.typed_data(), d.features, Cell::kGates, n);
  std::vector<float> pre(weights.row), h(weights.width);
  for (int64_t s = 0; s < d.batch; ++s) {
    std::fill(h.begin(), h.end(), 0.0f);
    std::copy_n(h0.typed_data() + s * n, n, h.begin());
    for (int64_t t = 0; t < d.steps; ++t) {
      weights.Project(x.typed_data() + (s * d.steps + t) * d.features, pre.data());
      Cell::Step(pre.data(), h.data(), weights.width);
      CopyRow(h.data(), n, hseq->typed_data() + (s * d.steps + t) * n);
    }
  }
  return ffi::Error::Success();
}

// What a backward pass over one sample reads and writes, and the scratch rows of a step, padded as in MinWeights.
struct MinBackwardPass {
  const MinWeights& weights;
  const OutputGradients& outputs;
  const Dims& d;
  const float *x, *hseq, *h0;
  float* dx;  // nullptr: not asked for
  std::vector<float> pre, dpre, prev, g, dw, db, dw_steps, db_steps;

  MinBackwardPass(const MinWeights& weights, const OutputGradients& outputs, const Dims& d, const float* x,
                  const float* hseq, const float* h0, float* dx)
      : weights(weights), outputs(outputs), d(d), x(x), hseq(hseq), h0(h0), dx(dx), pre(weights.row),
        dpre(weights.row), prev(weights.width, 0.0f), g(weights.width), dw(d.features * weights.row),
        db(weights.row), dw_steps(dw.size()), db_steps(db.size()) {}

  // One sample backwards through all steps: its dW and db in dw and db, its dL/dh0 in g. The sums run over
  // kMinSumSteps steps at a time, then into the sample's, then (the caller) into the call's: no float32 sum takes
  // thousands of terms in a row, whose rounding would drift from XLA's blocked sums by more than 1e-5.
  template <class Cell>
  void Sample(int64_t s) {
    const int64_t n = d.units, row = weights.row;
    for (auto* sums : {&g, &dw, &db, &dw_steps, &db_steps}) std::fill(sums->begin(), sums->end(), 0.0f);
    for (int64_t t = d.steps - 1; t >= 0; --t) {
      const float* given = outputs.at(s, t);
      for (int64_t j = 0; j < n; ++j) g[j] += given[j];
      const float* xt = x + (s * d.steps + t) * d.features;
      weights.Project(xt, pre.data());
      CopyRow(t == 0 ? h0 + s * n : hseq + (s * d.steps + t - 1) * n, n, prev.data());
      Cell::Back(pre.data(), prev.data(), g.data(), dpre.data(), weights.width);
      RNNBENCH_NO_ALIAS
      for (int64_t i = 0; i < row; ++i) db_steps[i] += dpre[i];
      for (int64_t f = 0; f < d.features; ++f) {
        float* dwf = dw_steps.data() + f * row;
        RNNBENCH_NO_ALIAS
        for (int64_t i = 0; i < row; ++i) dwf[i] += xt[f] * dpre[i];
      }
      if (dx != nullptr) InputGradient(dx + (s * d.steps + t) * d.features);
      if (t % kMinSumSteps == 0) {
        MoveSums(dw_steps, dw);
        MoveSums(db_steps, db);
      }
    }
  }
  static constexpr int64_t kMinSumSteps = 16;
  // sums += partial; partial = 0.
  static void MoveSums(std::vector<float>& partial, std::vector<float>& sums) {
    for (size_t i = 0; i < sums.size(); ++i) sums[i] += partial[i];
    std::fill(partial.begin(), partial.end(), 0.0f);
  }
  // dL/dx_t = dpre W^T.
  void InputGradient(float* dxt) const {
    for (int64_t f = 0; f < d.features; ++f) {
      const float* wf = weights.w.data() + f * weights.row;
      MinVec sum = MinSplat(0.0f);
      for (int64_t i = 0; i < weights.row; i += kMinLanes) sum = sum + MinLoad(dpre.data() + i) * MinLoad(wf + i);
      dxt[f] = MinSum(sum);
    }
  }
};

// Flushes denormal results and operands to zero while it lives. A gradient that reaches the last state alone shrinks
// by the forget gate at every step back in time and spends steps in the denormal range, where this processor's
// arithmetic slows down many times; values below 1e-38 change no result by anything near 1e-5.
class FlushDenormals {
 public:
#ifdef RNNBENCH_AVX2
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

template <class Cell>
ffi::Error MinBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w,
                           ffi::Buffer<ffi::F32> b, ffi::Buffer<ffi::F32> hseq, ffi::Buffer<ffi::F32> h0,
                           ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                           ffi::ResultBuffer<ffi::F32> db, ffi::ResultBuffer<ffi::F32> dh0) {
  Dims d;
  if (ffi::Error error = CheckMinArgs(x, w, b, h0, Cell::kGates, &d); error.failure()) return error;
  const OutputGradients outputs(dhseq, d.steps, d.units);
  if (ffi::Error error = CheckOutputGradients(outputs, d.batch); error.failure()) return error;
  const bool wants_dx = dx->element_count() == x.element_count();
  if (hseq.element_count() != d.batch * d.steps * d.units || (!wants_dx && dx->element_count() != 0) ||
      dw->element_count() != w.element_count() || db->element_count() != b.element_count() ||
      dh0->element_count() != h0.element_count()) {
    return ffi::Error::InvalidArgument("minimal recurrence gradient: hseq must be [B][T][H], dx x's shape or empty, "
                                       "dW, db and dh0 the shapes of W, b and h0");
  }
  const MinWeights weights(w.typed_data(), b.typed_data(), d.features, Cell::kGates, d.units);
  const FlushDenormals flush;
  MinBackwardPass pass(weights, outputs, d, x.typed_data(), hseq.typed_data(), h0.typed_data(),
                       wants_dx ? dx->typed_data() : nullptr);
  std::vector<float> dw_sum(pass.dw.size(), 0.0f), db_sum(pass.db.size(), 0.0f);
  for (int64_t s = 0; s < d.batch; ++s) {
    pass.Sample<Cell>(s);
    for (size_t i = 0; i < dw_sum.size(); ++i) dw_sum[i] += pass.dw[i];
    for (size_t i = 0; i < db_sum.size(); ++i) db_sum[i] += pass.db[i];
    std::copy_n(pass.g.begin(), d.units, dh0->typed_data() + s * d.units);
  }
  weights.Unpad(dw_sum.data(), d.features, dw->typed_data());
  weights.Unpad(db_sum.data(), 1, db->typed_data());
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLinearScanForward, LinearScanForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchLinearScanBackward, LinearScanBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchMinGruForward, MinForwardImpl<MinGru>,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchMinGruBackward, MinBackwardImpl<MinGru>,
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
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchMinLstmForward, MinForwardImpl<MinLstm>,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchMinLstmBackward, MinBackwardImpl<MinLstm>,
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
                                  .Ret<ffi::Buffer<ffi::F32>>());
