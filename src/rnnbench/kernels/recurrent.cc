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

// ---------------------------------------------------------------------------------------------------------------
// Mamba's selective scan, h_t = exp(Delta_t A) * h_{t-1} + (Delta_t x_t) outer B_t and y_t = h_t C_t + D x_t, over
// Delta[B][T][d], x[B][T][d], B[B][T][N] and C[B][T][N], with A[d][N], D[d] and h0[B][d][N]. Inside, a sample's state
// is held transposed, [N][d], so that every loop runs over the d channels, contiguous, with no sums across lanes for
// y. The projections around the scan stay in XLA. Rather than keep every state, [B][T][d][N] (400 MiB at batch 64,
// 784 steps, d = 128, N = 16), the backward pass recomputes one sample's states at a time into scratch.

struct SelectiveDims {
  int64_t batch, steps, inner, state;
};

ffi::Error CheckSelectiveDims(const ffi::Buffer<ffi::F32>& delta, const ffi::Buffer<ffi::F32>& x,
                              const ffi::Buffer<ffi::F32>& b, const ffi::Buffer<ffi::F32>& c,
                              const ffi::Buffer<ffi::F32>& a, const ffi::Buffer<ffi::F32>& d,
                              const ffi::Buffer<ffi::F32>& h0, SelectiveDims* dims) {
  const auto dd = delta.dimensions();
  const auto bd = b.dimensions();
  const auto ad = a.dimensions();
  const auto hd = h0.dimensions();
  const bool valid = dd.size() == 3 && bd.size() == 3 && ad.size() == 2 && hd.size() == 3 &&
                     x.element_count() == delta.element_count() && c.element_count() == b.element_count() &&
                     bd[0] == dd[0] && bd[1] == dd[1] && ad[0] == dd[2] && ad[1] == bd[2] &&
                     d.element_count() == dd[2] && hd[0] == dd[0] && hd[1] == dd[2] && hd[2] == bd[2];
  if (!valid) {
    return ffi::Error::InvalidArgument(
        "selective scan: Delta and x must be [B][T][d], B and C [B][T][N], A [d][N], D [d] and h0 [B][d][N]");
  }
  *dims = SelectiveDims{dd[0], dd[1], dd[2], bd[2]};
  return ffi::Error::Success();
}

// dst[N][d] = src[d][N] transposed (the state between the callers' layout and the kernel's).
void Transpose(const float* src, float* dst, int64_t rows, int64_t columns) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < columns; ++j) dst[j * rows + i] = src[i * columns + j];
}

// The scan's loops run over the d channels in the products' vectors (Lanes): exp of a whole vector, products, and
// the sum of a vector's lanes. The AVX-512 exp is Exp8's polynomial over 16 lanes.
#ifdef RNNBENCH_AVX2
#ifdef __AVX512F__
inline Lanes ExpLanes(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.3762626647949f)), _mm512_set1_ps(88.3762626647949f));
  __m512 fx = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f));
  fx = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 y = _mm512_set1_ps(1.9875691500E-4f);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894E-2f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459E-1f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201E-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  const __m512i exponent = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(exponent));
}
inline Lanes MulLanes(Lanes a, Lanes b) { return _mm512_mul_ps(a, b); }
inline Lanes SetLanes(float v) { return _mm512_set1_ps(v); }
inline float SumLanes(Lanes v) { return _mm512_reduce_add_ps(v); }
#else
inline Lanes ExpLanes(Lanes x) { return Exp8(x); }
inline Lanes MulLanes(Lanes a, Lanes b) { return _mm256_mul_ps(a, b); }
inline Lanes SetLanes(float v) { return _mm256_set1_ps(v); }
inline float SumLanes(Lanes v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}
#endif
#endif

// One step of one sample: h[N][d] from prev[N][d] (h may be prev), y[d] = h C + D x. at[N][d] is A transposed;
// drive[d] = Delta x is scratch.
void SelectiveStep(const float* delta, const float* x, const float* b, const float* c, const float* at,
                   const float* dvec, const float* prev, float* h, float* y, float* drive, int64_t d, int64_t n) {
  for (int64_t i = 0; i < d; ++i) {
    drive[i] = delta[i] * x[i];
    y[i] = dvec[i] * x[i];
  }
  for (int64_t j = 0; j < n; ++j) {
    const float bj = b[j], cj = c[j];
    const float* aj = at + j * d;
    const float* pj = prev + j * d;
    float* hj = h + j * d;
    int64_t i = 0;
#ifdef RNNBENCH_AVX2
    const Lanes bv = SetLanes(bj), cv = SetLanes(cj);
    for (; i + kLanes <= d; i += kLanes) {
      const Lanes decay = ExpLanes(MulLanes(LoadLanes(delta + i), LoadLanes(aj + i)));
      const Lanes hv = FmaLanes(decay, LoadLanes(pj + i), MulLanes(LoadLanes(drive + i), bv));
      StoreLanes(hj + i, hv);
      StoreLanes(y + i, FmaLanes(hv, cv, LoadLanes(y + i)));
    }
#endif
    for (; i < d; ++i) {
      hj[i] = std::exp(delta[i] * aj[i]) * pj[i] + drive[i] * bj;
      y[i] += hj[i] * cj;
    }
  }
}

ffi::Error SelectiveScanForwardImpl(ffi::Buffer<ffi::F32> delta, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> b,
                                    ffi::Buffer<ffi::F32> c, ffi::Buffer<ffi::F32> a, ffi::Buffer<ffi::F32> dvec,
                                    ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> y,
                                    ffi::ResultBuffer<ffi::F32> h_last) {
  SelectiveDims s;
  if (ffi::Error error = CheckSelectiveDims(delta, x, b, c, a, dvec, h0, &s); error.failure()) return error;
  if (y->element_count() != delta.element_count() || h_last->element_count() != h0.element_count()) {
    return ffi::Error::InvalidArgument("selective scan: y must be [B][T][d] and h_T [B][d][N]");
  }
  const int64_t d = s.inner, n = s.state, state = d * n;
  std::vector<float> at(state), h(state), drive(d);
  Transpose(a.typed_data(), at.data(), d, n);
  for (int64_t sample = 0; sample < s.batch; ++sample) {
    Transpose(h0.typed_data() + sample * state, h.data(), d, n);
    for (int64_t t = 0; t < s.steps; ++t) {
      const int64_t row = sample * s.steps + t;
      SelectiveStep(delta.typed_data() + row * d, x.typed_data() + row * d, b.typed_data() + row * n,
                    c.typed_data() + row * n, at.data(), dvec.typed_data(), h.data(), h.data(),
                    y->typed_data() + row * d, drive.data(), d, n);
    }
    Transpose(h.data(), h_last->typed_data() + sample * state, n, d);
  }
  return ffi::Error::Success();
}

// One sample's sequences, each [T][W] from its first step: the inputs of the scan, dL/dy, and where the gradients of
// the inputs go.
struct SelectiveSample {
  const float *delta, *x, *b, *c, *dy;
  float *ddelta, *dx, *db, *dc;
};

// What every sample shares: A transposed ([N][d]) and D, and the sums of their gradients (dA transposed too).
struct SelectiveShared {
  const float *at, *dvec;
  float *dat, *dd;
};

// Back through step t of one sample, whose states h_t and h_{t-1} (prev) are [N][d]. g[N][d] holds dL/dh_t from
// the steps after on entry and dL/dh_{t-1} on return. With decay a = exp(Delta A): dL/dDelta gains
// sum_j g h_{t-1} a A + x sum_j g B, dA gains g h_{t-1} a Delta, dB_j = sum_i g Delta x and dC_j = sum_i dy h_t.
// scratch holds 3 d floats.
void SelectiveBackStep(const SelectiveSample& in, int64_t t, const SelectiveShared& w, const float* prev,
                       const float* h, float* g, float* scratch, int64_t d, int64_t n) {
  const float *dl = in.delta + t * d, *xv = in.x + t * d, *dyv = in.dy + t * d;
  float *ddl = scratch, *sb = scratch + d, *drive = scratch + 2 * d;
  for (int64_t i = 0; i < d; ++i) {
    drive[i] = dl[i] * xv[i];
    ddl[i] = sb[i] = 0.0f;
    w.dd[i] += dyv[i] * xv[i];
  }
  for (int64_t j = 0; j < n; ++j) {
    const float bj = in.b[t * n + j], cj = in.c[t * n + j];
    const float *aj = w.at + j * d, *pj = prev + j * d, *hj = h + j * d;
    float *gj = g + j * d, *daj = w.dat + j * d;
    float sum_c = 0.0f, sum_b = 0.0f;
    int64_t i = 0;
#ifdef RNNBENCH_AVX2
    const Lanes bv = SetLanes(bj), cv = SetLanes(cj);
    Lanes acc_c = ZeroLanes(), acc_b = ZeroLanes();
    for (; i + kLanes <= d; i += kLanes) {
      const Lanes dyi = LoadLanes(dyv + i), dli = LoadLanes(dl + i), ai = LoadLanes(aj + i);
      acc_c = FmaLanes(dyi, LoadLanes(hj + i), acc_c);
      const Lanes gv = FmaLanes(dyi, cv, LoadLanes(gj + i));
      const Lanes decay = ExpLanes(MulLanes(dli, ai));
      const Lanes ga = MulLanes(MulLanes(gv, LoadLanes(pj + i)), decay);
      StoreLanes(ddl + i, FmaLanes(ga, ai, LoadLanes(ddl + i)));
      StoreLanes(daj + i, FmaLanes(ga, dli, LoadLanes(daj + i)));
      StoreLanes(sb + i, FmaLanes(gv, bv, LoadLanes(sb + i)));
      acc_b = FmaLanes(gv, LoadLanes(drive + i), acc_b);
      StoreLanes(gj + i, MulLanes(gv, decay));
    }
    sum_c = SumLanes(acc_c);
    sum_b = SumLanes(acc_b);
#endif
    for (; i < d; ++i) {
      sum_c += dyv[i] * hj[i];
      const float gv = gj[i] + dyv[i] * cj, decay = std::exp(dl[i] * aj[i]), ga = gv * pj[i] * decay;
      ddl[i] += ga * aj[i];
      daj[i] += ga * dl[i];
      sb[i] += gv * bj;
      sum_b += gv * drive[i];
      gj[i] = gv * decay;
    }
    in.dc[t * n + j] = sum_c;
    in.db[t * n + j] = sum_b;
  }
  for (int64_t i = 0; i < d; ++i) {
    in.ddelta[t * d + i] = ddl[i] + xv[i] * sb[i];
    in.dx[t * d + i] = dyv[i] * w.dvec[i] + dl[i] * sb[i];
  }
}

// The backward pass recomputes a sample's states kScanChunk steps at a time, from the state before each chunk kept
// by a first pass: a chunk's states (256 KiB at d = 128, N = 16) stay in L2, where all T of them would stream
// through memory, written once and read twice.
constexpr int64_t kScanChunk = 32;

// The state before every chunk of one sample, checkpoints[chunk][N][d], from h0t[N][d]; running[N][d] is scratch.
void SelectiveCheckpoints(const SelectiveSample& in, const SelectiveShared& w, const float* h0t, float* checkpoints,
                          float* running, float* scratch, int64_t steps, int64_t d, int64_t n) {
  std::copy(h0t, h0t + d * n, running);
  for (int64_t t = 0; t < steps; ++t) {
    if (t % kScanChunk == 0) std::copy(running, running + d * n, checkpoints + t / kScanChunk * d * n);
    SelectiveStep(in.delta + t * d, in.x + t * d, in.b + t * n, in.c + t * n, w.at, w.dvec, running, running,
                  scratch, scratch + d, d, n);
  }
}

// The states after steps first .. first + count - 1 of one sample into states[count][N][d], from start[N][d].
void SelectiveStates(const SelectiveSample& in, const SelectiveShared& w, const float* start, float* states,
                     float* scratch, int64_t first, int64_t count, int64_t d, int64_t n) {
  for (int64_t k = 0; k < count; ++k) {
    const int64_t t = first + k;
    const float* prev = k == 0 ? start : states + (k - 1) * d * n;
    SelectiveStep(in.delta + t * d, in.x + t * d, in.b + t * n, in.c + t * n, w.at, w.dvec, prev,
                  states + k * d * n, scratch, scratch + d, d, n);
  }
}

// Back through all steps of one sample, a chunk at a time from the last; g[N][d] holds dL/dh_T on entry and
// dL/dh0 on return.
void SelectiveSampleBackward(const SelectiveSample& in, const SelectiveShared& w, const float* checkpoints,
                             float* states, float* g, float* scratch, int64_t steps, int64_t d, int64_t n) {
  const int64_t state = d * n;
  for (int64_t first = (steps - 1) / kScanChunk * kScanChunk; first >= 0; first -= kScanChunk) {
    const int64_t count = std::min(kScanChunk, steps - first);
    const float* start = checkpoints + first / kScanChunk * state;
    SelectiveStates(in, w, start, states, scratch, first, count, d, n);
    for (int64_t k = count - 1; k >= 0; --k) {
      const float* prev = k == 0 ? start : states + (k - 1) * state;
      SelectiveBackStep(in, first + k, w, prev, states + k * state, g, scratch, d, n);
    }
  }
}

ffi::Error SelectiveScanBackwardImpl(ffi::Buffer<ffi::F32> dy, ffi::Buffer<ffi::F32> dh_last,
                                     ffi::Buffer<ffi::F32> delta, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> b,
                                     ffi::Buffer<ffi::F32> c, ffi::Buffer<ffi::F32> a, ffi::Buffer<ffi::F32> dvec,
                                     ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> ddelta,
                                     ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> db,
                                     ffi::ResultBuffer<ffi::F32> dc, ffi::ResultBuffer<ffi::F32> da,
                                     ffi::ResultBuffer<ffi::F32> dd, ffi::ResultBuffer<ffi::F32> dh0) {
  SelectiveDims s;
  if (ffi::Error error = CheckSelectiveDims(delta, x, b, c, a, dvec, h0, &s); error.failure()) return error;
  const bool valid = dy.element_count() == delta.element_count() && dh_last.element_count() == h0.element_count() &&
                     ddelta->element_count() == delta.element_count() && dx->element_count() == x.element_count() &&
                     db->element_count() == b.element_count() && dc->element_count() == c.element_count() &&
                     da->element_count() == a.element_count() && dd->element_count() == dvec.element_count() &&
                     dh0->element_count() == h0.element_count();
  if (!valid) return ffi::Error::InvalidArgument("selective scan gradient: each must have the shape of its input");
  const int64_t d = s.inner, n = s.state, state = d * n, steps = s.steps;
  std::vector<float> at(state), dat(state, 0.0f), h0t(state), g(state), running(state), scratch(3 * d);
  std::vector<float> states(kScanChunk * state), checkpoints((steps + kScanChunk - 1) / kScanChunk * state);
  Transpose(a.typed_data(), at.data(), d, n);
  std::fill(dd->typed_data(), dd->typed_data() + d, 0.0f);
  const SelectiveShared shared{at.data(), dvec.typed_data(), dat.data(), dd->typed_data()};
  for (int64_t sample = 0; sample < s.batch; ++sample) {
    const int64_t wide = sample * steps * d, narrow = sample * steps * n;
    const SelectiveSample in{delta.typed_data() + wide, x.typed_data() + wide, b.typed_data() + narrow,
                             c.typed_data() + narrow, dy.typed_data() + wide, ddelta->typed_data() + wide,
                             dx->typed_data() + wide, db->typed_data() + narrow, dc->typed_data() + narrow};
    Transpose(h0.typed_data() + sample * state, h0t.data(), d, n);
    SelectiveCheckpoints(in, shared, h0t.data(), checkpoints.data(), running.data(), scratch.data(), steps, d, n);
    Transpose(dh_last.typed_data() + sample * state, g.data(), d, n);
    SelectiveSampleBackward(in, shared, checkpoints.data(), states.data(), g.data(), scratch.data(), steps, d, n);
    Transpose(g.data(), dh0->typed_data() + sample * state, n, d);
  }
  Transpose(dat.data(), da->typed_data(), n, d);
  return ffi::Error::Success();
}

// ---------------------------------------------------------------------------------------------------------------
// Mamba's causal depthwise convolution and its SiLU, x'_t = silu(b + sum_k w[k] * x_{t-K+1+k}), over x[B][T][d], with
// head[B][K-1][d] the K - 1 inputs before the first step, w[K][d] and b[d]. XLA's form, K shifted slices of the
// sequence, and its gradient take several passes over [B][T][d] arrays; here one pass each way, one step's channels
// at a time. The backward pass recomputes the pre-activations.

ffi::Error CheckConvDims(const ffi::Buffer<ffi::F32>& x, const ffi::Buffer<ffi::F32>& head,
                         const ffi::Buffer<ffi::F32>& w, const ffi::Buffer<ffi::F32>& bias, SelectiveDims* dims) {
  const auto xd = x.dimensions();
  const auto hd = head.dimensions();
  const auto wd = w.dimensions();
  if (xd.size() != 3 || hd.size() != 3 || wd.size() != 2 || hd[0] != xd[0] || hd[2] != xd[2] || wd[1] != xd[2] ||
      hd[1] != wd[0] - 1 || bias.element_count() != xd[2]) {
    return ffi::Error::InvalidArgument("causal convolution: x must be [B][T][d], head [B][K-1][d], w [K][d], b [d]");
  }
  *dims = SelectiveDims{xd[0], xd[1], xd[2], wd[0]};  // state: the width K
  return ffi::Error::Success();
}

// The input k steps before step t of one sample ([d]): from the sequence, or from the head before the first step.
inline const float* ConvInput(const float* x, const float* head, int64_t t, int64_t k, int64_t width, int64_t d) {
  const int64_t s = t - k;
  return s >= 0 ? x + s * d : head + (width - 1 + s) * d;
}

// pre[d] = b + sum_k w[k] * x_{t-K+1+k} for one sample's step t.
void ConvPre(const float* x, const float* head, const float* w, const float* bias, int64_t t, int64_t width,
             int64_t d, float* pre) {
  std::copy(bias, bias + d, pre);
  for (int64_t k = 0; k < width; ++k) {
    const float* in = ConvInput(x, head, t, width - 1 - k, width, d);
    const float* wk = w + k * d;
    RNNBENCH_NO_ALIAS
    for (int64_t i = 0; i < d; ++i) pre[i] += wk[i] * in[i];
  }
}

ffi::Error CausalConvForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> head, ffi::Buffer<ffi::F32> w,
                                 ffi::Buffer<ffi::F32> bias, ffi::ResultBuffer<ffi::F32> out) {
  SelectiveDims s;
  if (ffi::Error error = CheckConvDims(x, head, w, bias, &s); error.failure()) return error;
  if (out->element_count() != x.element_count()) {
    return ffi::Error::InvalidArgument("causal convolution: the result must be [B][T][d]");
  }
  const int64_t d = s.inner, width = s.state;
  std::vector<float> pre(d), sig(d);
  for (int64_t sample = 0; sample < s.batch; ++sample) {
    const float* xs = x.typed_data() + sample * s.steps * d;
    const float* hs = head.typed_data() + sample * (width - 1) * d;
    for (int64_t t = 0; t < s.steps; ++t) {
      ConvPre(xs, hs, w.typed_data(), bias.typed_data(), t, width, d, pre.data());
      Sigmoid(pre.data(), sig.data(), d);
      float* o = out->typed_data() + (sample * s.steps + t) * d;
      for (int64_t i = 0; i < d; ++i) o[i] = pre[i] * sig[i];
    }
  }
  return ffi::Error::Success();
}

// Given dL/dx': dL/dx, dL/dhead, dw and db. silu'(p) = s (1 + p (1 - s)) with s = sigmoid(p).
ffi::Error CausalConvBackwardImpl(ffi::Buffer<ffi::F32> dout, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> head,
                                  ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> bias, ffi::ResultBuffer<ffi::F32> dx,
                                  ffi::ResultBuffer<ffi::F32> dhead, ffi::ResultBuffer<ffi::F32> dw,
                                  ffi::ResultBuffer<ffi::F32> db) {
  SelectiveDims s;
  if (ffi::Error error = CheckConvDims(x, head, w, bias, &s); error.failure()) return error;
  if (dout.element_count() != x.element_count() || dx->element_count() != x.element_count() ||
      dhead->element_count() != head.element_count() || dw->element_count() != w.element_count() ||
      db->element_count() != bias.element_count()) {
    return ffi::Error::InvalidArgument("causal convolution gradient: each must have the shape of its input");
  }
  const int64_t d = s.inner, width = s.state;
  std::fill(dx->typed_data(), dx->typed_data() + dx->element_count(), 0.0f);
  std::fill(dhead->typed_data(), dhead->typed_data() + dhead->element_count(), 0.0f);
  std::fill(dw->typed_data(), dw->typed_data() + dw->element_count(), 0.0f);
  std::fill(db->typed_data(), db->typed_data() + d, 0.0f);
  std::vector<float> pre(d), sig(d);
  for (int64_t sample = 0; sample < s.batch; ++sample) {
    const float* xs = x.typed_data() + sample * s.steps * d;
    const float* hs = head.typed_data() + sample * (width - 1) * d;
    float* dxs = dx->typed_data() + sample * s.steps * d;
    float* dhs = dhead->typed_data() + sample * (width - 1) * d;
    for (int64_t t = 0; t < s.steps; ++t) {
      ConvPre(xs, hs, w.typed_data(), bias.typed_data(), t, width, d, pre.data());
      Sigmoid(pre.data(), sig.data(), d);
      const float* g = dout.typed_data() + (sample * s.steps + t) * d;
      float* dpre = pre.data();  // overwritten in place: dL/dpre
      float* dbias = db->typed_data();
      RNNBENCH_NO_ALIAS
      for (int64_t i = 0; i < d; ++i) {
        dpre[i] = g[i] * sig[i] * (1.0f + pre[i] * (1.0f - sig[i]));
        dbias[i] += dpre[i];
      }
      for (int64_t k = 0; k < width; ++k) {
        const int64_t back = width - 1 - k;
        const float* in = ConvInput(xs, hs, t, back, width, d);
        float* din = t - back >= 0 ? dxs + (t - back) * d : dhs + (width - 1 + t - back) * d;
        const float* wk = w.typed_data() + k * d;
        float* dwk = dw->typed_data() + k * d;
        RNNBENCH_NO_ALIAS
        for (int64_t i = 0; i < d; ++i) {
          dwk[i] += dpre[i] * in[i];
          din[i] += dpre[i] * wk[i];
        }
      }
    }
  }
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

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchSelectiveScanForward, SelectiveScanForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchSelectiveScanBackward, SelectiveScanBackwardImpl,
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
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchCausalConvForward, CausalConvForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnbenchCausalConvBackward, CausalConvBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
