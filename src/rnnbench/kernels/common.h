// Whole-sequence recurrences for the CPU, called from JAX through XLA's FFI.
//
// XLA runs a recurrence one time step at a time, and on a CPU each step costs tens of microseconds of dispatch around
// a few microseconds of arithmetic. These handlers run all time steps of a batch in one call: one small matrix
// product per step plus the gate arithmetic, in SIMD, forward and backward.
//
// Layouts (row-major, batch-major like Keras): x[B][T][F] the inputs, W[F][G*H] the input kernel and b[G*H] its bias,
// U[H][G*H] the recurrent kernel, WT and UT their transposes. The forward pass computes the input projection
// x_t W + b itself, step by step, in the same pass over the gates as the recurrent product where the cell allows
// (XLA's product for an inner dimension as small as 28 runs far below the machine's rate), and computes the states and
// gates the backward pass needs right where they are returned. The backward pass returns the gradients of the
// weights, biases, initial states and (when asked for) the inputs: it adds the steps' contributions to dW, dU and db a
// few steps at a time, while their gate gradients are still in cache, instead of writing them out for XLA to read
// back. Gate order and formulas are those of Keras' SimpleRNN, LSTM (i, f, c, o) and GRU (z, r, h; reset_after=True).
//
// Shared by the sources of the kernels, one per cell family (classic.cc, linear_scan.cc, indrnn.cc, lru.cc,
// oscillators.cc, selective_scan.cc), compiled together into one library. Everything here has internal linkage
// (an anonymous namespace), so each source has its own copy of what it uses and nothing is defined twice.

#ifndef RNNBENCH_KERNELS_COMMON_H_
#define RNNBENCH_KERNELS_COMMON_H_

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
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
// call into panels of two vectors' width of columns, each contiguous (k x kPanel): read row by row from the original
// layout, rows 1 KiB apart map to a handful of L1 sets and evict each other.

#ifdef RNNBENCH_AVX2
// The products' vectors: 512 bits where the processor has AVX-512 (twice the arithmetic per instruction), else 256.
// Each output element is the same chain of FMAs either way, so both give the same results.
#ifdef __AVX512F__
using Lanes = __m512;
constexpr int64_t kLanes = 16;
inline Lanes LoadLanes(const float* p) { return _mm512_loadu_ps(p); }
inline void StoreLanes(float* p, Lanes v) { _mm512_storeu_ps(p, v); }
inline Lanes BroadcastLanes(const float* p) { return _mm512_set1_ps(*p); }
inline Lanes FmaLanes(Lanes a, Lanes b, Lanes c) { return _mm512_fmadd_ps(a, b, c); }
inline Lanes ZeroLanes() { return _mm512_setzero_ps(); }
#else
using Lanes = __m256;
constexpr int64_t kLanes = 8;
inline Lanes LoadLanes(const float* p) { return _mm256_loadu_ps(p); }
inline void StoreLanes(float* p, Lanes v) { _mm256_storeu_ps(p, v); }
inline Lanes BroadcastLanes(const float* p) { return _mm256_broadcast_ss(p); }
inline Lanes FmaLanes(Lanes a, Lanes b, Lanes c) { return _mm256_fmadd_ps(a, b, c); }
inline Lanes ZeroLanes() { return _mm256_setzero_ps(); }
#endif
constexpr int64_t kPanel = 2 * kLanes;
#endif

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

// One operand of a sum of products: m rows of a, lda floats apart, times a packed matrix.
struct Factor {
  const float* a;
  int64_t lda;
  const PackedMatrix* b;
};

#ifdef RNNBENCH_AVX2
// c[R][kPanel] = init + the sum over the factors of a[R][k] @ panel[k][kPanel]: the tile stays in registers across
// all factors. init rows are ldi floats apart (0: one row for all rows, as a bias), or zero without init.
template <int R>
inline void Tile(const Factor* factors, int count, int64_t column, const float* init, int64_t ldi, float* c,
                 int64_t ldc) {
  Lanes lo[R], hi[R];
  for (int r = 0; r < R; ++r) {
    lo[r] = init != nullptr ? LoadLanes(init + r * ldi) : ZeroLanes();
    hi[r] = init != nullptr ? LoadLanes(init + r * ldi + kLanes) : ZeroLanes();
  }
  for (int f = 0; f < count; ++f) {
    const float* a = factors[f].a;
    const int64_t lda = factors[f].lda, k = factors[f].b->k();
    const float* panel = factors[f].b->data() + column * k;
    for (int64_t p = 0; p < k; ++p) {
      const Lanes b0 = LoadLanes(panel + p * kPanel);
      const Lanes b1 = LoadLanes(panel + p * kPanel + kLanes);
      for (int r = 0; r < R; ++r) {
        const Lanes av = BroadcastLanes(a + r * lda + p);
        lo[r] = FmaLanes(av, b0, lo[r]);
        hi[r] = FmaLanes(av, b1, hi[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    StoreLanes(c + r * ldc, lo[r]);
    StoreLanes(c + r * ldc + kLanes, hi[r]);
  }
}

inline void TileRows(int rows, const Factor* factors, int count, int64_t column, const float* init, int64_t ldi,
                     float* c, int64_t ldc) {
  switch (rows) {
    case 6: Tile<6>(factors, count, column, init, ldi, c, ldc); break;
    case 5: Tile<5>(factors, count, column, init, ldi, c, ldc); break;
    case 4: Tile<4>(factors, count, column, init, ldi, c, ldc); break;
    case 3: Tile<3>(factors, count, column, init, ldi, c, ldc); break;
    case 2: Tile<2>(factors, count, column, init, ldi, c, ldc); break;
    default: Tile<1>(factors, count, column, init, ldi, c, ldc); break;
  }
}
#endif

constexpr size_t kMaxFactors = 3;

// c[m][n] = init + the sum over the factors (at most kMaxFactors) of a[m][k] @ b[k][n] (the factors' k may differ, n
// may not); rows of c are ldc floats apart, rows of init ldi (0: one row for all rows, as a bias); no init: zero. init
// may be c itself.
void Gemm(std::initializer_list<Factor> factors, int64_t m, const float* init, int64_t ldi, float* c, int64_t ldc) {
  assert(factors.size() >= 1 && factors.size() <= kMaxFactors);
  const int64_t n = factors.begin()->b->n();
#ifdef RNNBENCH_AVX2
  constexpr int64_t kRows = 6;
  const int count = static_cast<int>(factors.size());
  Factor shifted[kMaxFactors];
  float edge[kRows * kPanel];
  for (int64_t j = 0; j < n; j += kPanel) {
    const int64_t width = std::min(kPanel, n - j);
    for (int64_t i = 0; i < m; i += kRows) {
      const int rows = static_cast<int>(std::min(kRows, m - i));
      int f = 0;
      for (const Factor& factor : factors) shifted[f++] = Factor{factor.a + i * factor.lda, factor.lda, factor.b};
      const float* tile_init = init == nullptr ? nullptr : init + i * ldi + j;
      if (width == kPanel) {
        TileRows(rows, shifted, count, j, tile_init, ldi, c + i * ldc + j, ldc);
        continue;
      }
      // A partial last panel goes through a full-width scratch tile (the packed panels are zero-padded).
      for (int r = 0; r < rows; ++r) {
        for (int64_t jj = 0; jj < kPanel; ++jj) {
          edge[r * kPanel + jj] = tile_init != nullptr && jj < width ? tile_init[r * ldi + jj] : 0.0f;
        }
      }
      TileRows(rows, shifted, count, j, edge, kPanel, edge, kPanel);
      for (int r = 0; r < rows; ++r) std::memcpy(c + (i + r) * ldc + j, edge + r * kPanel, sizeof(float) * width);
    }
  }
#else
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) row[j] = init == nullptr ? 0.0f : init[i * ldi + j];
    for (const Factor& factor : factors) {
      for (int64_t p = 0; p < factor.b->k(); ++p) {
        const float av = factor.a[i * factor.lda + p];
        const float* b_row = factor.b->data() + p * n;
        for (int64_t j = 0; j < n; ++j) row[j] += av * b_row[j];
      }
    }
  }
#endif
}

// c[m][n] (+)= a[m][k] @ b[k][n]; rows of a are lda floats apart, rows of c ldc.
void Gemm(const float* a, int64_t lda, int64_t m, const PackedMatrix& b, float* c, int64_t ldc, bool accumulate) {
  Gemm({Factor{a, lda, &b}}, m, accumulate ? c : nullptr, ldc, c, ldc);
}

// Weight gradients: c[m][n] += sum over p < k of a_p[m] g_p[n], where a_p = a[p] (m floats) and g_p = g + p * n,
// i.e. c += A^T G over the rows of some steps of one block: A holds their inputs or previous states, read where the
// forward pass left them, G their gate gradients. The k rows of G are read once per tile of c from L1; c itself stays
// in registers over the k rows.

#ifdef RNNBENCH_AVX2
template <int R>
__attribute__((always_inline)) inline void OuterTile(const float* const* a, int64_t column, const float* g, int64_t n,
                                                    int64_t k, float* c) {
  Lanes lo[R], hi[R];
  for (int r = 0; r < R; ++r) {
    lo[r] = LoadLanes(c + r * n);
    hi[r] = LoadLanes(c + r * n + kLanes);
  }
  for (int64_t p = 0; p < k; ++p) {
    const Lanes g0 = LoadLanes(g + p * n);
    const Lanes g1 = LoadLanes(g + p * n + kLanes);
    const float* a_p = a[p] + column;
    for (int r = 0; r < R; ++r) {
      const Lanes av = BroadcastLanes(a_p + r);
      lo[r] = FmaLanes(av, g0, lo[r]);
      hi[r] = FmaLanes(av, g1, hi[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    StoreLanes(c + r * n, lo[r]);
    StoreLanes(c + r * n + kLanes, hi[r]);
  }
}
#endif

void AccumulateOuter(const float* const* a, int64_t m, const float* g, int64_t n, int64_t k, float* c) {
  int64_t j = 0;
#ifdef RNNBENCH_AVX2
  // Rows of c outer, columns inner: the k rows of g (a few KiB) stay in L1 while c streams through once.
  const int64_t full = n - n % kPanel;
  for (int64_t i = 0; i < m; i += 6) {
    const int64_t rows = std::min<int64_t>(6, m - i);
    for (j = 0; j < full; j += kPanel) {
      float* tile = c + i * n + j;
      switch (rows) {
        case 6: OuterTile<6>(a, i, g + j, n, k, tile); break;
        case 5: OuterTile<5>(a, i, g + j, n, k, tile); break;
        case 4: OuterTile<4>(a, i, g + j, n, k, tile); break;
        case 3: OuterTile<3>(a, i, g + j, n, k, tile); break;
        case 2: OuterTile<2>(a, i, g + j, n, k, tile); break;
        default: OuterTile<1>(a, i, g + j, n, k, tile); break;
      }
    }
  }
#endif
  if (j == n) return;
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * n;
    for (int64_t p = 0; p < k; ++p) {
      const float av = a[p][i];
      const float* g_row = g + p * n;
      for (int64_t jj = j; jj < n; ++jj) row[jj] += av * g_row[jj];
    }
  }
}

// db[n] += the sum of the k rows of g.
void AccumulateRows(const float* g, int64_t n, int64_t k, float* db) {
  for (int64_t p = 0; p < k; ++p) {
    const float* g_row = g + p * n;
    for (int64_t j = 0; j < n; ++j) db[j] += g_row[j];
  }
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

// 1 / d from the approximate reciprocal and one Newton step (within about 2 ulp): a division costs several times more.
inline __m256 Reciprocal8(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

inline __m256 Sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return Reciprocal8(_mm256_add_ps(one, Exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline __m256 Tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = Exp8(_mm256_add_ps(x, x));
  return _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), Reciprocal8(_mm256_add_ps(e, one)), one);
}
#endif

inline float SigmoidScalar(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float TanhScalar(float x) { return std::tanh(x); }

// dst = tanh(src); dst may be src.
void Tanh(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
#ifdef RNNBENCH_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Tanh8(_mm256_loadu_ps(src + i)));
#endif
  for (; i < n; ++i) dst[i] = TanhScalar(src[i]);
}

// dst = sigmoid(src) over n floats.
void Sigmoid(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
#ifdef RNNBENCH_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Sigmoid8(_mm256_loadu_ps(src + i)));
#endif
  for (; i < n; ++i) dst[i] = SigmoidScalar(src[i]);
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

// The same from x[B][T][F], WT[G*H][F] and h0[B][H], for a backward call.
ffi::Error CheckBackwardDims(const ffi::Buffer<ffi::F32>& x, const ffi::Buffer<ffi::F32>& wt,
                             const ffi::Buffer<ffi::F32>& h0, int64_t gates, Dims* dims) {
  const auto xd = x.dimensions();
  const auto wd = wt.dimensions();
  const auto hd = h0.dimensions();
  if (xd.size() != 3 || wd.size() != 2 || hd.size() != 2 || xd[0] != hd[0] || wd[1] != xd[2] ||
      wd[0] != gates * hd[1]) {
    return ffi::Error::InvalidArgument("recurrence gradient: x must be [B][T][F], WT [G*H][F] and h0 [B][H]");
  }
  *dims = Dims{xd[0], xd[1], hd[1], xd[2]};
  return ffi::Error::Success();
}

// A sequence result of a forward call: all steps [B][T][W], as the backward pass needs them, or for inference only
// the last step ([B][1][W]) or nothing (a result without elements). What the caller did not ask for is not written:
// an inference batch of 1024 would otherwise write tens of MiB of gates to fresh memory.
class SequenceResult {
 public:
  SequenceResult(ffi::ResultBuffer<ffi::F32>& buffer, int64_t steps, int64_t width)
      : data_(buffer->typed_data()), steps_(steps), width_(width) {
    const auto dims = buffer->dimensions();
    kept_ = buffer->element_count() == 0 ? 0 : (dims.size() == 3 && dims[2] == width ? dims[1] : -1);
  }
  // Whether the buffer has one of the three shapes.
  bool valid(int64_t batch) const {
    return kept_ == 0 || ((kept_ == steps_ || kept_ == 1) && kept_ * batch * width_ > 0);
  }
  bool keeps_all() const { return kept_ == steps_; }
  int64_t steps() const { return steps_; }
  int64_t width() const { return width_; }
  // The row of a sample at step t, when the result keeps all steps.
  float* row(int64_t sample, int64_t t) const { return data_ + (sample * steps_ + t) * width_; }
  // Stores a sample's row at the last step, when the result keeps only that one.
  void PutLast(int64_t sample, const float* row) const {
    if (kept_ == 1) std::memcpy(data_ + sample * width_, row, sizeof(float) * width_);
  }

 private:
  float* data_;
  int64_t steps_, width_, kept_;
};

// Where a forward pass computes a block's rows of a sequence result at each step: in the result itself when it keeps
// all steps (nothing is copied out afterwards), otherwise in scratch for the current and the previous step, copied
// to the result when it keeps the last one. The block's rows at a step are stride() floats apart.
class BlockRows {
 public:
  BlockRows(const SequenceResult& result, int64_t first, int64_t rows)
      : result_(result), first_(first), rows_(rows), in_place_(result.keeps_all()),
        scratch_(in_place_ ? 0 : 2 * rows * result.width()) {}
  float* at(int64_t t) {
    return in_place_ ? result_.row(first_, t) : &scratch_[(t % 2) * rows_ * result_.width()];
  }
  int64_t stride() const { return in_place_ ? result_.steps() * result_.width() : result_.width(); }
  // Step t is complete.
  void Done(int64_t t) {
    if (in_place_ || t != result_.steps() - 1) return;
    for (int64_t b = 0; b < rows_; ++b) result_.PutLast(first_ + b, at(t) + b * stride());
  }

 private:
  const SequenceResult& result_;
  int64_t first_, rows_;
  bool in_place_;
  std::vector<float> scratch_;
};

ffi::Error CheckResults(std::initializer_list<const SequenceResult*> results, int64_t batch) {
  for (const SequenceResult* result : results) {
    if (!result->valid(batch)) {
      return ffi::Error::InvalidArgument("recurrence: a sequence result must be [B][T][W], [B][1][W] or empty");
    }
  }
  return ffi::Error::Success();
}

// dL/dh_t from what follows the layer: given for every step ([B][T][H]), or for the last step only ([B][1][H]) when
// the layer returns only its last state. The other steps then read a row of zeros instead of a [B][T][H] array that is
// zero but for its last step.
class OutputGradients {
 public:
  OutputGradients(const ffi::Buffer<ffi::F32>& buffer, int64_t steps, int64_t units)
      : data_(buffer.typed_data()), steps_(steps), units_(units), zeros_(units, 0.0f) {
    const auto dims = buffer.dimensions();
    given_ = dims.size() == 3 && dims[2] == units ? dims[1] : -1;
  }
  bool valid(int64_t batch) const {
    return (given_ == steps_ || given_ == 1) && batch * given_ * units_ > 0;
  }
  const float* at(int64_t sample, int64_t t) const {
    if (given_ == steps_) return data_ + (sample * steps_ + t) * units_;
    return t == steps_ - 1 ? data_ + sample * units_ : zeros_.data();
  }

 private:
  const float* data_;
  int64_t steps_, units_, given_;
  std::vector<float> zeros_;
};

ffi::Error CheckOutputGradients(const OutputGradients& outputs, int64_t batch) {
  if (outputs.valid(batch)) return ffi::Error::Success();
  return ffi::Error::InvalidArgument("recurrence gradient: dL/dh must be [B][T][H] or [B][1][H]");
}

// Samples are independent, so a call runs blocks of kBlock samples through all steps, one block after another:
// a block's state and gates stay in L1 from step to step, while the recurrent kernel is read from L2.
constexpr int64_t kBlock = 12;

template <class Body>
void ForEachBlock(int64_t batch, Body body) {
  for (int64_t first = 0; first < batch; first += kBlock) body(first, std::min(kBlock, batch - first));
}

// The gradients a backward pass sums over all blocks and steps. dL/dx is computed only when asked for (wt set): for
// a model's first layer nothing needs it.
struct Gradients {
  float* dw;                       // [F][G*H]
  float* db;                       // [G*H], the bias of the input projection
  float* du;                       // [H][G*H]
  float* db_rec = nullptr;         // [G*H], GRU's bias of the recurrent product
  const PackedMatrix* wt = nullptr;  // W^T [G*H][F], packed
};

// Zeroes the sums before the first block, and tells whether dL/dx is asked for: its result buffer then has x's shape
// (otherwise none of its elements).
Gradients StartGradients(ffi::Result<ffi::Buffer<ffi::F32>>& dw, ffi::Result<ffi::Buffer<ffi::F32>>& db,
                         ffi::Result<ffi::Buffer<ffi::F32>>& du) {
  for (auto* buffer : {&dw, &db, &du}) {
    std::fill((*buffer)->typed_data(), (*buffer)->typed_data() + (*buffer)->element_count(), 0.0f);
  }
  return Gradients{dw->typed_data(), db->typed_data(), du->typed_data()};
}

// A block's steps on their way into the weight gradients. The backward pass writes each step's gate gradients into
// the next slot (for the input projection and for the recurrent product: the same for SimpleRNN and LSTM, separate
// for GRU); every kSteps steps, dW, dU and the biases take the products over all queued samples and steps at once,
// so that each tile of dW and dU stays in registers over kSteps times more rows than one step's.
class PendingSteps {
 public:
  static constexpr int64_t kSteps = 4;

  PendingSteps(int64_t rows, int64_t units, int64_t features, int64_t width, bool separate_recurrent)
      : rows_(rows), units_(units), features_(features), width_(width), separate_(separate_recurrent),
        inputs_(kSteps * rows), states_(kSteps * rows), input_grads_(kSteps * rows * width),
        recurrent_grads_(separate_recurrent ? kSteps * rows * width : 0) {}

  // This step's gradients of the input projection and of the recurrent product, [rows][width] each.
  float* input_grads() { return &input_grads_[count_ * rows_ * width_]; }
  float* recurrent_grads() { return separate_ ? &recurrent_grads_[count_ * rows_ * width_] : input_grads(); }

  // Queues step t (its gradients written) with where its inputs and previous states are; dL/dx of the step right
  // away.
  void Push(const Gradients& grads, const float* x, const float* hseq, const float* h0, float* dx, int64_t steps,
            int64_t t) {
    const int64_t slot = count_ * rows_;
    for (int64_t b = 0; b < rows_; ++b) {
      states_[slot + b] = t == 0 ? h0 + b * units_ : hseq + (b * steps + t - 1) * units_;
      inputs_[slot + b] = x + (b * steps + t) * features_;
    }
    if (grads.wt != nullptr) {
      Gemm(input_grads(), width_, rows_, *grads.wt, dx + t * features_, steps * features_, false);
    }
    if (++count_ == kSteps || t == 0) Flush(grads);
  }

 private:
  void Flush(const Gradients& grads) {
    const int64_t k = count_ * rows_;
    const float* recurrent = separate_ ? recurrent_grads_.data() : input_grads_.data();
    AccumulateOuter(states_.data(), units_, recurrent, width_, k, grads.du);
    AccumulateOuter(inputs_.data(), features_, input_grads_.data(), width_, k, grads.dw);
    AccumulateRows(input_grads_.data(), width_, k, grads.db);
    if (grads.db_rec != nullptr) AccumulateRows(recurrent, width_, k, grads.db_rec);
    count_ = 0;
  }

  int64_t rows_, units_, features_, width_;
  bool separate_;
  int64_t count_ = 0;
  std::vector<const float*> inputs_, states_;  // rows in x and in the states (hseq or h0)
  std::vector<float> input_grads_, recurrent_grads_;
};

}  // namespace

#endif  // RNNBENCH_KERNELS_COMMON_H_
