// Whole-sequence recurrences for the CPU, called from JAX through XLA's FFI.
//
// XLA runs a recurrence one time step at a time, and on a CPU each step costs tens of microseconds of dispatch around
// a few microseconds of arithmetic. These handlers run all time steps of a batch in one call: one small matrix
// product per step plus the gate arithmetic, in SIMD, forward and backward. Everything that is one large matrix product
// over all steps (the input projection, the weight gradients) stays in XLA, which does those well.
//
// Layouts (row-major, batch-major like Keras): x[B][T][F] the inputs, W[F][G*H] the input kernel and b[G*H] its bias,
// U[H][G*H] the recurrent kernel and UT its transpose. The forward pass computes the input projection x_t W + b
// itself, step by step (XLA's product for an inner dimension as small as 28 runs far below the machine's rate); the
// backward pass returns the gradient of that projection, from which XLA gets dW, db and dx as large products. Gate order and formulas are those of Keras' SimpleRNN, LSTM (i, f, c, o) and
// GRU (z, r, h; reset_after=True).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "xla/ffi/api/ffi.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define RNNBENCH_AVX2 1
#endif

namespace ffi = xla::ffi;

// The gradient loops read and write through many pointers into distinct buffers; without this the compiler cannot
// rule out overlap and leaves them scalar.
#if defined(__clang__)
#define RNNBENCH_NO_ALIAS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define RNNBENCH_NO_ALIAS _Pragma("GCC ivdep")
#else
#define RNNBENCH_NO_ALIAS
#endif

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Matrix products against a recurrent kernel that stays fixed for the whole sequence. The kernel is packed once per
// call into panels of 16 columns, each contiguous (k x 16): read row by row from the original layout, rows 1 KiB
// apart map to a handful of L1 sets and evict each other.

constexpr int64_t kPanel = 16;

class PackedMatrix {
 public:
  PackedMatrix(const float* b, int64_t k, int64_t n) : k_(k), n_(n) {
#ifdef RNNBENCH_AVX2
    const int64_t panels = (n + kPanel - 1) / kPanel;
    data_.assign(panels * k * kPanel, 0.0f);
    for (int64_t panel = 0; panel < panels; ++panel) {
      const int64_t width = std::min(kPanel, n - panel * kPanel);
      for (int64_t p = 0; p < k; ++p) {
        std::memcpy(&data_[(panel * k + p) * kPanel], b + p * n + panel * kPanel, sizeof(float) * width);
      }
    }
#else
    data_.assign(b, b + k * n);
#endif
  }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  const float* data() const { return data_.data(); }

 private:
  int64_t k_, n_;
  std::vector<float> data_;
};

#ifdef RNNBENCH_AVX2
// c[R][16] (+)= a[R][k] @ panel[k][16]; rows of a and c are lda and ldc apart.
template <int R>
inline void Tile(const float* a, int64_t lda, const float* panel, int64_t k, float* c, int64_t ldc, bool accumulate) {
  __m256 lo[R], hi[R];
  for (int r = 0; r < R; ++r) {
    lo[r] = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
    hi[r] = accumulate ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_loadu_ps(panel + p * kPanel);
    const __m256 b1 = _mm256_loadu_ps(panel + p * kPanel + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * lda + p);
      lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc, lo[r]);
    _mm256_storeu_ps(c + r * ldc + 8, hi[r]);
  }
}

inline void TileRows(int rows, const float* a, int64_t lda, const float* panel, int64_t k, float* c, int64_t ldc,
                     bool accumulate) {
  switch (rows) {
    case 6: Tile<6>(a, lda, panel, k, c, ldc, accumulate); break;
    case 5: Tile<5>(a, lda, panel, k, c, ldc, accumulate); break;
    case 4: Tile<4>(a, lda, panel, k, c, ldc, accumulate); break;
    case 3: Tile<3>(a, lda, panel, k, c, ldc, accumulate); break;
    case 2: Tile<2>(a, lda, panel, k, c, ldc, accumulate); break;
    default: Tile<1>(a, lda, panel, k, c, ldc, accumulate); break;
  }
}
#endif

// c[m][n] = (accumulate ? c : 0) + a[m][k] @ b[k][n]; rows of a are lda floats apart, rows of c ldc.
void Gemm(const float* a, int64_t lda, int64_t m, const PackedMatrix& b, float* c, int64_t ldc, bool accumulate) {
  const int64_t k = b.k(), n = b.n();
#ifdef RNNBENCH_AVX2
  constexpr int64_t kRows = 6;
  float edge[kRows * kPanel];
  for (int64_t j = 0; j < n; j += kPanel) {
    const float* panel = b.data() + j * k;
    const int64_t width = std::min(kPanel, n - j);
    for (int64_t i = 0; i < m; i += kRows) {
      const int rows = static_cast<int>(std::min(kRows, m - i));
      if (width == kPanel) {
        TileRows(rows, a + i * lda, lda, panel, k, c + i * ldc + j, ldc, accumulate);
        continue;
      }
      // A partial last panel goes through a full-width scratch tile (the packed panel is zero-padded).
      for (int r = 0; r < rows; ++r) {
        for (int64_t jj = 0; jj < kPanel; ++jj) edge[r * kPanel + jj] = jj < width ? c[(i + r) * ldc + j + jj] : 0.0f;
      }
      TileRows(rows, a + i * lda, lda, panel, k, edge, kPanel, accumulate);
      for (int r = 0; r < rows; ++r) std::memcpy(c + (i + r) * ldc + j, edge + r * kPanel, sizeof(float) * width);
    }
  }
#else
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (!accumulate) std::fill(row, row + n, 0.0f);
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[i * lda + p];
      const float* b_row = b.data() + p * n;
      for (int64_t j = 0; j < n; ++j) row[j] += av * b_row[j];
    }
  }
#endif
}

// ---------------------------------------------------------------------------------------------------------------
// Activations over contiguous runs, in SIMD where available. exp is Cephes' single-precision polynomial (within a
// few ulp of expf); tanh(x) = 1 - 2 / (exp(2x) + 1) has an absolute error of about 1e-7.

#ifdef RNNBENCH_AVX2
inline __m256 Exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(exponent));
}

inline __m256 Sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, Exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline __m256 Tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = Exp8(_mm256_add_ps(x, x));
  return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}
#endif

inline float SigmoidScalar(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float TanhScalar(float x) { return std::tanh(x); }

void SigmoidInPlace(float* p, int64_t n) {
  int64_t i = 0;
#ifdef RNNBENCH_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, Sigmoid8(_mm256_loadu_ps(p + i)));
#endif
  for (; i < n; ++i) p[i] = SigmoidScalar(p[i]);
}

void TanhInPlace(float* p, int64_t n) {
  int64_t i = 0;
#ifdef RNNBENCH_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, Tanh8(_mm256_loadu_ps(p + i)));
#endif
  for (; i < n; ++i) p[i] = TanhScalar(p[i]);
}

void Tanh(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
#ifdef RNNBENCH_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Tanh8(_mm256_loadu_ps(src + i)));
#endif
  for (; i < n; ++i) dst[i] = TanhScalar(src[i]);
}

// Shapes of a call, read from x[B][T][F], W[F][G*H] and h0[B][H]. Sequences are batch-major, like Keras' (an array
// [B][T][W] has the row of sample b at step t at (b*T + t)*W), so nothing is transposed on either side of a call.
struct Dims {
  int64_t batch, steps, units, features = 0;
};

ffi::Error CheckDims(const ffi::Buffer<ffi::F32>& x, const ffi::Buffer<ffi::F32>& w, const ffi::Buffer<ffi::F32>& h0,
                     int64_t gates, Dims* dims) {
  const auto xd = x.dimensions();
  const auto wd = w.dimensions();
  const auto hd = h0.dimensions();
  if (xd.size() != 3 || wd.size() != 2 || hd.size() != 2 || xd[0] != hd[0] || wd[0] != xd[2] ||
      wd[1] != gates * hd[1]) {
    return ffi::Error::InvalidArgument("recurrence: x must be [B][T][F], W [F][G*H] and h0 [B][H]");
  }
  *dims = Dims{xd[0], xd[1], hd[1], xd[2]};
  return ffi::Error::Success();
}

// out[r][:] = bias + x_t[r] W for the block's rows at step t (x rows are a whole sequence apart).
void ProjectInputs(const float* x, int64_t steps, int64_t t, int64_t rows, const PackedMatrix& w, const float* bias,
                   float* out) {
  const int64_t features = w.k(), width = w.n();
  for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * width, bias, sizeof(float) * width);
  Gemm(x + t * features, steps * features, rows, w, out, width, true);
}

Dims SequenceDims(const ffi::Buffer<ffi::F32>& hseq) {
  const auto h = hseq.dimensions();
  return Dims{h[0], h[1], h[2]};
}

// Samples are independent, so a call runs blocks of kBlock samples through all steps, one block after another:
// a block's state and gates stay in L1 from step to step, while the recurrent kernel is read from L2.
constexpr int64_t kBlock = 12;

template <class Body>
void ForEachBlock(int64_t batch, Body body) {
  for (int64_t first = 0; first < batch; first += kBlock) body(first, std::min(kBlock, batch - first));
}

// ---------------------------------------------------------------------------------------------------------------
// SimpleRNN: h_t = tanh(xproj_t + h_{t-1} U).

void RnnForward(const float* x, const PackedMatrix& w, const float* bias, const PackedMatrix& u, const float* h0,
                float* hseq, int64_t rows, int64_t steps) {
  const int64_t n = u.n(), row = steps * n;  // floats between samples
  std::vector<float> state(h0, h0 + rows * n), pre(rows * n);
  for (int64_t t = 0; t < steps; ++t) {
    ProjectInputs(x, steps, t, rows, w, bias, pre.data());
    Gemm(state.data(), n, rows, u, pre.data(), n, true);
    Tanh(pre.data(), state.data(), rows * n);
    for (int64_t b = 0; b < rows; ++b) std::memcpy(hseq + b * row + t * n, &state[b * n], sizeof(float) * n);
  }
}

ffi::Error RnnForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> hseq) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 1, &d); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n;
  const PackedMatrix packed_w(w.typed_data(), d.features, n), packed(u.typed_data(), n, n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    RnnForward(x.typed_data() + first * d.steps * d.features, packed_w, bias.typed_data(), packed,
               h0.typed_data() + first * n, hseq->typed_data() + first * row, rows, d.steps);
  });
  return ffi::Error::Success();
}

// Given dL/dh_t for every step: dL/d(pre-activation)_t (which is dL/dxproj_t) and dL/dh0.
void RnnBackward(const float* dhseq, const float* hseq, const PackedMatrix& ut, float* dpre, float* dh0, int64_t rows,
                 int64_t steps) {
  const int64_t n = ut.n(), row = steps * n;
  std::fill(dh0, dh0 + rows * n, 0.0f);  // dL/dh_t from the steps after t
  std::vector<float> dp(rows * n);       // this step's gradients, contiguous for the product
  for (int64_t t = steps - 1; t >= 0; --t) {
    for (int64_t b = 0; b < rows; ++b) {
      const int64_t at = b * row + t * n;
      const float* h = hseq + at;
      const float* dh_out = dhseq + at;
      const float* carry = dh0 + b * n;
      float* dp_row = &dp[b * n];
      for (int64_t j = 0; j < n; ++j) dp_row[j] = (dh_out[j] + carry[j]) * (1.0f - h[j] * h[j]);
      std::memcpy(dpre + at, dp_row, sizeof(float) * n);
    }
    Gemm(dp.data(), n, rows, ut, dh0, n, false);
  }
}

ffi::Error RnnBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> hseq, ffi::Buffer<ffi::F32> ut,
                           ffi::ResultBuffer<ffi::F32> dpre, ffi::ResultBuffer<ffi::F32> dh0) {
  const Dims d = SequenceDims(hseq);
  const int64_t n = d.units, row = d.steps * n;
  const PackedMatrix packed(ut.typed_data(), n, n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    RnnBackward(dhseq.typed_data() + first * row, hseq.typed_data() + first * row, packed,
                dpre->typed_data() + first * row, dh0->typed_data() + first * n, rows, d.steps);
  });
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// LSTM: [i f g o] = xproj_t + h_{t-1} U; i, f, o sigmoid, g tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).

void LstmForward(const float* x, const PackedMatrix& w, const float* bias, const PackedMatrix& u, const float* h0,
                 const float* c0, float* hseq, float* cseq, float* gates, int64_t rows, int64_t steps) {
  const int64_t n = u.k(), g4 = u.n(), row = steps * n, grow = steps * g4;
  std::vector<float> h(h0, h0 + rows * n), c(c0, c0 + rows * n), z(rows * g4);
  for (int64_t t = 0; t < steps; ++t) {
    ProjectInputs(x, steps, t, rows, w, bias, z.data());
    Gemm(h.data(), n, rows, u, z.data(), g4, true);
    for (int64_t b = 0; b < rows; ++b) {
      float* i = &z[b * g4];
      float* f = i + n;
      float* g = i + 2 * n;
      float* o = i + 3 * n;
      SigmoidInPlace(i, 2 * n);
      TanhInPlace(g, n);
      SigmoidInPlace(o, n);
      float* c_row = &c[b * n];
      float* h_row = &h[b * n];
      for (int64_t j = 0; j < n; ++j) c_row[j] = f[j] * c_row[j] + i[j] * g[j];
      Tanh(c_row, h_row, n);
      for (int64_t j = 0; j < n; ++j) h_row[j] *= o[j];
      std::memcpy(gates + b * grow + t * g4, i, sizeof(float) * g4);
      std::memcpy(cseq + b * row + t * n, c_row, sizeof(float) * n);
      std::memcpy(hseq + b * row + t * n, h_row, sizeof(float) * n);
    }
  }
}

ffi::Error LstmForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias,
                           ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> c0,
                           ffi::ResultBuffer<ffi::F32> hseq, ffi::ResultBuffer<ffi::F32> cseq,
                           ffi::ResultBuffer<ffi::F32> gates) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 4, &d); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, grow = 4 * row;
  const PackedMatrix packed_w(w.typed_data(), d.features, 4 * n), packed(u.typed_data(), n, 4 * n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    LstmForward(x.typed_data() + first * d.steps * d.features, packed_w, bias.typed_data(), packed,
                h0.typed_data() + first * n, c0.typed_data() + first * n, hseq->typed_data() + first * row,
                cseq->typed_data() + first * row, gates->typed_data() + first * grow, rows, d.steps);
  });
  return ffi::Error::Success();
}

// dL/d(gate pre-activations)_t (which is dL/dxproj_t), dL/dh0 and dL/dc0.
void LstmBackward(const float* dhseq, const float* dc_last, const float* cseq, const float* gates, const float* c0,
                  const PackedMatrix& ut, float* dgates, float* dh0, float* dc0, int64_t rows, int64_t steps) {
  const int64_t n = ut.n(), g4 = ut.k(), row = steps * n, grow = steps * g4;
  float* dh = dh0;  // dL/dh_t from the steps after t
  float* dc = dc0;  // dL/dc_t from the steps after t
  std::fill(dh, dh + rows * n, 0.0f);
  std::memcpy(dc, dc_last, sizeof(float) * rows * n);
  std::vector<float> tanh_c(n), dz(rows * g4);  // this step's gate gradients, contiguous for the product
  for (int64_t t = steps - 1; t >= 0; --t) {
    for (int64_t b = 0; b < rows; ++b) {
      const float* c = cseq + b * row + t * n;
      const float* c_prev = t == 0 ? c0 + b * n : c - n;
      const float* i = gates + b * grow + t * g4;
      const float* f = i + n;
      const float* g = i + 2 * n;
      const float* o = i + 3 * n;
      const float* dh_out = dhseq + b * row + t * n;
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
      std::memcpy(dgates + b * grow + t * g4, di, sizeof(float) * g4);
    }
    Gemm(dz.data(), g4, rows, ut, dh, n, false);
  }
}

ffi::Error LstmBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> dc_last, ffi::Buffer<ffi::F32> cseq,
                            ffi::Buffer<ffi::F32> gates, ffi::Buffer<ffi::F32> c0, ffi::Buffer<ffi::F32> ut,
                            ffi::ResultBuffer<ffi::F32> dgates, ffi::ResultBuffer<ffi::F32> dh0,
                            ffi::ResultBuffer<ffi::F32> dc0) {
  const Dims d = SequenceDims(cseq);
  const int64_t n = d.units, row = d.steps * n, grow = 4 * row;
  const PackedMatrix packed(ut.typed_data(), 4 * n, n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    LstmBackward(dhseq.typed_data() + first * row, dc_last.typed_data() + first * n, cseq.typed_data() + first * row,
                 gates.typed_data() + first * grow, c0.typed_data() + first * n, packed,
                 dgates->typed_data() + first * grow, dh0->typed_data() + first * n, dc0->typed_data() + first * n,
                 rows, d.steps);
  });
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// GRU (reset_after): [rz rr rn] = h_{t-1} U + b_rec; z = sigmoid(xz + rz); r = sigmoid(xr + rr);
// n = tanh(xn + r rn); h_t = z h_{t-1} + (1 - z) n.

void GruForward(const float* inputs, const PackedMatrix& w, const float* bias_in, const PackedMatrix& u,
                const float* bias_rec, const float* h0, float* hseq, float* gates, float* rec_n, int64_t rows,
                int64_t steps) {
  const int64_t n = u.k(), g3 = u.n(), row = steps * n, grow = steps * g3;
  std::vector<float> h(h0, h0 + rows * n), rec(rows * g3), projected(rows * g3);
  for (int64_t t = 0; t < steps; ++t) {
    ProjectInputs(inputs, steps, t, rows, w, bias_in, projected.data());
    for (int64_t b = 0; b < rows; ++b) std::memcpy(&rec[b * g3], bias_rec, sizeof(float) * g3);
    Gemm(h.data(), n, rows, u, rec.data(), g3, true);
    for (int64_t b = 0; b < rows; ++b) {
      const float* x = &projected[b * g3];
      const float* r_rec = &rec[b * g3];
      float* z = gates + b * grow + t * g3;
      float* r = z + n;
      float* hh = z + 2 * n;
      for (int64_t j = 0; j < 2 * n; ++j) z[j] = x[j] + r_rec[j];
      SigmoidInPlace(z, 2 * n);
      for (int64_t j = 0; j < n; ++j) hh[j] = x[2 * n + j] + r[j] * r_rec[2 * n + j];
      TanhInPlace(hh, n);
      std::memcpy(rec_n + b * row + t * n, r_rec + 2 * n, sizeof(float) * n);
      float* h_row = &h[b * n];
      for (int64_t j = 0; j < n; ++j) h_row[j] = z[j] * h_row[j] + (1.0f - z[j]) * hh[j];
      std::memcpy(hseq + b * row + t * n, h_row, sizeof(float) * n);
    }
  }
}

ffi::Error GruForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias_in,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias_rec, ffi::Buffer<ffi::F32> h0,
                          ffi::ResultBuffer<ffi::F32> hseq, ffi::ResultBuffer<ffi::F32> gates,
                          ffi::ResultBuffer<ffi::F32> rec_n) {
  Dims d;
  if (ffi::Error error = CheckDims(x, w, h0, 3, &d); error.failure()) return error;
  const int64_t n = d.units, row = d.steps * n, grow = 3 * row;
  const PackedMatrix packed_w(w.typed_data(), d.features, 3 * n), packed(u.typed_data(), n, 3 * n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    GruForward(x.typed_data() + first * d.steps * d.features, packed_w, bias_in.typed_data(), packed,
               bias_rec.typed_data(), h0.typed_data() + first * n, hseq->typed_data() + first * row,
               gates->typed_data() + first * grow, rec_n->typed_data() + first * row, rows, d.steps);
  });
  return ffi::Error::Success();
}

// dL/dxproj_t, dL/d(h_{t-1} U + b_rec)_t and dL/dh0.
void GruBackward(const float* dhseq, const float* hseq, const float* gates, const float* rec_n, const float* h0,
                 const PackedMatrix& ut, float* dxproj, float* drec, float* dh0, int64_t rows, int64_t steps) {
  const int64_t n = ut.n(), g3 = ut.k(), row = steps * n, grow = steps * g3;
  float* carry = dh0;  // dL/dh_t from the steps after t
  std::fill(carry, carry + rows * n, 0.0f);
  std::vector<float> dr(rows * g3);  // this step's gradients of the recurrent product, contiguous for the product
  for (int64_t t = steps - 1; t >= 0; --t) {
    for (int64_t b = 0; b < rows; ++b) {
      const float* h_prev = t == 0 ? h0 + b * n : hseq + b * row + (t - 1) * n;
      const float* z = gates + b * grow + t * g3;
      const float* r = z + n;
      const float* hh = z + 2 * n;
      const float* rn = rec_n + b * row + t * n;
      const float* dh_out = dhseq + b * row + t * n;
      float* dx = dxproj + b * grow + t * g3;
      float* dr_row = &dr[b * g3];
      float* c = carry + b * n;
      RNNBENCH_NO_ALIAS
      for (int64_t j = 0; j < n; ++j) {
        const float grad_h = dh_out[j] + c[j];
        const float grad_n = grad_h * (1.0f - z[j]) * (1.0f - hh[j] * hh[j]);
        const float grad_z = grad_h * (h_prev[j] - hh[j]) * z[j] * (1.0f - z[j]);
        const float grad_r = grad_n * rn[j] * r[j] * (1.0f - r[j]);
        dx[j] = grad_z;
        dx[n + j] = grad_r;
        dx[2 * n + j] = grad_n;
        dr_row[j] = grad_z;
        dr_row[n + j] = grad_r;
        dr_row[2 * n + j] = grad_n * r[j];
        c[j] = grad_h * z[j];
      }
      std::memcpy(drec + b * grow + t * g3, dr_row, sizeof(float) * g3);
    }
    Gemm(dr.data(), g3, rows, ut, carry, n, true);
  }
}

ffi::Error GruBackwardImpl(ffi::Buffer<ffi::F32> dhseq, ffi::Buffer<ffi::F32> hseq, ffi::Buffer<ffi::F32> gates,
                           ffi::Buffer<ffi::F32> rec_n, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> ut,
                           ffi::ResultBuffer<ffi::F32> dxproj, ffi::ResultBuffer<ffi::F32> drec,
                           ffi::ResultBuffer<ffi::F32> dh0) {
  const Dims d = SequenceDims(hseq);
  const int64_t n = d.units, row = d.steps * n, grow = 3 * row;
  const PackedMatrix packed(ut.typed_data(), 3 * n, n);
  ForEachBlock(d.batch, [&](int64_t first, int64_t rows) {
    GruBackward(dhseq.typed_data() + first * row, hseq.typed_data() + first * row, gates.typed_data() + first * grow,
                rec_n.typed_data() + first * row, h0.typed_data() + first * n, packed,
                dxproj->typed_data() + first * grow, drec->typed_data() + first * grow, dh0->typed_data() + first * n,
                rows, d.steps);
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
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
