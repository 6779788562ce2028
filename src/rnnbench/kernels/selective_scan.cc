// Mamba's selective scan and its causal convolution. Layouts and helpers: common.h.

#include "common.h"

namespace {

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
