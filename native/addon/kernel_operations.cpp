// The private transformer's fused kernels (native/kernels): a kernel context per client (layout,
// canonical scales, evaluation keys), plaintext weights encoded once, and one asynchronous call per
// kernel on a whole packed ciphertext.
#include <cmath>

#include "addon/arguments.hpp"
#include "addon/progress.hpp"
#include "ckks/evaluator.hpp"
#include "kernels/cipher_products.hpp"
#include "kernels/comparison.hpp"
#include "kernels/gaussian_attention.hpp"
#include "kernels/goldschmidt.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/plain_matrix_product.hpp"
#include "kernels/polynomials.hpp"
#include "kernels/parameter_packing.hpp"
#include "kernels/refresh.hpp"
#include "kernels/row_gather.hpp"
#include "kernels/softmax_attention.hpp"

namespace cipherlm::addon {

namespace {

using kernels::ActivationLayout;
using kernels::FeatureMap;
using kernels::KernelContext;
using KernelsPtr = std::shared_ptr<KernelContext>;
using CtPtr = std::shared_ptr<Ciphertext>;

std::size_t size_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name, std::size_t max) {
  return static_cast<std::size_t>(integer_argument(info, index, name, 0, static_cast<std::int64_t>(max)));
}

FeatureMap feature_map(const ActivationLayout& layout, const std::string& order, std::size_t count) {
  if (order == "model") return FeatureMap::model(layout, count);
  if (order == "plain") return FeatureMap::plain(layout, count);
  throw Error(ErrorCode::InvalidArgument, "feature order must be 'model' or 'plain'");
}

std::string string_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsString()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<Ciphertext> values(const std::vector<CtPtr>& items) {
  std::vector<Ciphertext> out;
  out.reserve(items.size());
  for (const CtPtr& c : items) out.push_back(*c);
  return out;
}

kernels::SoftmaxConstants softmax_arguments(const Napi::CallbackInfo& info, std::size_t first) {
  return {number_argument(info, first, "scoreFactor"), number_argument(info, first + 1, "maskedScore")};
}

kernels::InvSqrtApproximation inv_sqrt_arguments(const Napi::CallbackInfo& info, std::size_t first) {
  return {number_argument(info, first, "lo"), number_argument(info, first + 1, "hi"), number_argument(info, first + 2, "eps")};
}

// Registers a kernel taking the kernel context and returning one ciphertext.
template <typename Read>
void unary_kernel(OperationTable& table, const char* name, Read read) {
  table[name] = [read](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto run = read(info, first + 1);
    return [k, run]() -> Finisher { return wrap_result(run(*k)); };
  };
}

template <typename Read>
void many_kernel(OperationTable& table, const char* name, Read read) {
  table[name] = [read](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto run = read(info, first + 1);
    return [k, run]() -> Finisher { return wrap_results(run(*k)); };
  };
}

// The standard model's softmax attention (softmax_attention.hpp, comparison.hpp, goldschmidt.hpp)
// and the weight-value products both attention kernels share.
void register_softmax_kernels(OperationTable& table) {
  table["kernelSoftmaxPackedMask"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    CtPtr mask = handle_argument<Ciphertext>(info, first + 1, "keyMask");
    auto softmax = std::make_shared<kernels::SoftmaxAttention>(k, softmax_arguments(info, first + 2));
    return [softmax, mask]() -> Finisher { return wrap_results(softmax->packed_key_mask(*mask)); };
  };
  table["kernelSoftmaxScores"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    CtPtr q = handle_argument<Ciphertext>(info, first + 1, "q");
    CtPtr key = handle_argument<Ciphertext>(info, first + 2, "k");
    CtPtr mask = handle_argument<Ciphertext>(info, first + 3, "keyMask");
    auto packed = handle_array_argument<Ciphertext>(info, first + 4, "packedMask");
    auto softmax = std::make_shared<kernels::SoftmaxAttention>(k, softmax_arguments(info, first + 5));
    return [softmax, q, key, mask, packed]() -> Finisher { return wrap_results(softmax->scores(*q, *key, *mask, values(packed))); };
  };
  table["kernelSoftmaxExpInput"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto scores = handle_array_argument<Ciphertext>(info, first + 1, "scores");
    CtPtr max = handle_argument<Ciphertext>(info, first + 2, "rowMax");
    const double factor = number_argument(info, first + 3, "factor");
    const double offset = number_argument(info, first + 4, "offset");
    auto softmax = std::make_shared<kernels::SoftmaxAttention>(k, softmax_arguments(info, first + 5));
    return [softmax, scores, max, factor, offset]() -> Finisher {
      return wrap_results(softmax->exp_input(values(scores), *max, factor, offset));
    };
  };
  table["kernelSoftmaxRowSums"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto exps = handle_array_argument<Ciphertext>(info, first + 1, "exps");
    auto packed = handle_array_argument<Ciphertext>(info, first + 2, "packedMask");
    auto softmax = std::make_shared<kernels::SoftmaxAttention>(k, softmax_arguments(info, first + 3));
    return [softmax, exps, packed]() -> Finisher { return wrap_results(softmax->row_sums(values(exps), values(packed))); };
  };
  table["kernelSoftmaxNormalize"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto exps = handle_array_argument<Ciphertext>(info, first + 1, "maskedExps");
    CtPtr inverse = handle_argument<Ciphertext>(info, first + 2, "inverse");
    const double factor = number_argument(info, first + 3, "factor");
    auto softmax = std::make_shared<kernels::SoftmaxAttention>(k, softmax_arguments(info, first + 4));
    return [softmax, exps, inverse, factor]() -> Finisher { return wrap_results(softmax->normalize(values(exps), *inverse, factor)); };
  };
  table["kernelAttentionValues"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto weights = handle_array_argument<Ciphertext>(info, first + 1, "weights");
    CtPtr v = handle_argument<Ciphertext>(info, first + 2, "v");
    CtPtr mask = handle_argument<Ciphertext>(info, first + 3, "keyMask");
    auto shifts = std::make_shared<kernels::PackedShifts>(k);
    return [shifts, weights, v, mask]() -> Finisher { return wrap_result(shifts->weigh_masked(values(weights), *v, *mask)); };
  };
  unary_kernel(table, "kernelMaxDifference", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr b = argument(info, i + 1, "b").IsNull() ? nullptr : handle_argument<Ciphertext>(info, i + 1, "b");
    const long long step = static_cast<long long>(integer_argument(info, i + 2, "step", -(1ll << 30), 1ll << 30));
    return [a, b, step](const KernelContext& k) { return b ? kernels::max_difference(k, *a, *b) : kernels::max_difference(k, *a, step); };
  });
  unary_kernel(table, "kernelMaxCombine", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr d = handle_argument<Ciphertext>(info, i + 1, "d");
    CtPtr s = handle_argument<Ciphertext>(info, i + 2, "halfSign");
    return [a, d, s](const KernelContext& k) { return kernels::max_combine(k, *a, *d, *s); };
  });
  many_kernel(table, "kernelGoldschmidtStart", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    const double center = number_argument(info, i + 1, "center");
    return [x, center](const KernelContext& k) {
      kernels::GoldschmidtState s = kernels::goldschmidt_start(k, *x, center);
      return std::vector<Ciphertext>{std::move(s.a), std::move(s.b)};
    };
  });
  many_kernel(table, "kernelGoldschmidtSteps", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr b = handle_argument<Ciphertext>(info, i + 1, "b");
    const std::size_t count = size_argument(info, i + 2, "count", 64);
    return [a, b, count](const KernelContext& k) {
      kernels::GoldschmidtState s = kernels::goldschmidt_steps(k, {*a, *b}, count);
      return std::vector<Ciphertext>{std::move(s.a), std::move(s.b)};
    };
  });
}

}  // namespace

void register_kernel_operations(OperationTable& table) {
  table["kernelContext"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const std::size_t width = size_argument(info, first + 1, "width", 1u << 16);
    const std::size_t tokens = size_argument(info, first + 2, "tokens", 1u << 16);
    const std::size_t heads = size_argument(info, first + 3, "heads", 1u << 16);
    const std::size_t top = size_argument(info, first + 4, "topLevel", context->max_level());
    const double scale = number_argument(info, first + 5, "topScale");
    auto relin = handle_argument<RelinKey>(info, first + 6, "relinKey");
    auto galois = handle_argument<GaloisKeys>(info, first + 7, "galoisKeys");
    const ActivationLayout layout = ActivationLayout::create(context->slot_count(), width, tokens, heads);
    return [context, layout, top, scale, relin, galois]() -> Finisher {
      return wrap_shared(std::make_shared<KernelContext>(context, layout, top, scale, relin, galois));
    };
  };
  table["kernelScale"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    const std::size_t level = size_argument(info, first + 1, "level", 1u << 10);
    const double scale = k->scales().at(level);
    return [scale]() -> Finisher { return [scale](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, scale); }; };
  };
  table["kernelRotationSteps"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const std::size_t slots = size_argument(info, first, "slots", 1u << 20);
    const std::size_t width = size_argument(info, first + 1, "width", 1u << 16);
    const std::size_t tokens = size_argument(info, first + 2, "tokens", 1u << 16);
    const std::size_t heads = size_argument(info, first + 3, "heads", 1u << 16);
    const bool training = bool_argument(info, first + 4, "training");
    const ActivationLayout layout = ActivationLayout::create(slots, width, tokens, heads);
    std::vector<long long> steps = kernels::PlainMatrixProduct::rotation_steps(layout);
    for (long long s : kernels::PackedShifts::rotation_steps(layout)) steps.push_back(s);
    if (training)
      for (long long s : kernels::parameter_packing_steps(layout)) steps.push_back(s);
    return [steps]() -> Finisher {
      return [steps](Napi::Env env) -> Napi::Value {
        Napi::Array array = Napi::Array::New(env, steps.size());
        for (std::size_t i = 0; i < steps.size(); ++i) array.Set(static_cast<std::uint32_t>(i), static_cast<double>(steps[i]));
        return array;
      };
    };
  };
  table["kernelChebyshevDepth"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const std::vector<double> c = float64_argument(info, first, "coefficients");
    if (c.size() < 2) throw Error(ErrorCode::InvalidArgument, "at least two Chebyshev coefficients");
    const double depth = static_cast<double>(kernels::chebyshev_depth(c));
    return [depth]() -> Finisher { return [depth](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, depth); }; };
  };
  table["kernelMatrix"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    std::vector<double> weight = float64_argument(info, first + 1, "weight");
    const FeatureMap inputs = feature_map(k->layout(), string_argument(info, first + 2, "input order"),
                                          size_argument(info, first + 3, "input count", 1u << 16));
    const FeatureMap outputs = feature_map(k->layout(), string_argument(info, first + 4, "output order"),
                                           size_argument(info, first + 5, "output count", 1u << 16));
    std::vector<double> bias = float64_argument(info, first + 6, "bias");
    auto product = std::make_shared<kernels::PlainMatrixProduct>(k, std::move(weight), inputs, outputs, std::move(bias));
    return [product]() -> Finisher { return wrap_shared(product); };
  };
  table["kernelApplyMatrix"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto product = handle_argument<kernels::PlainMatrixProduct>(info, first + 1, "matrix");
    auto x = handle_array_argument<Ciphertext>(info, first + 2, "inputs");
    return [product, x]() -> Finisher { return wrap_results(product->apply(values(x))); };
  };
  many_kernel(table, "kernelNormStatistics", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    const auto approx = inv_sqrt_arguments(info, i + 1);
    return [x, approx](const KernelContext& k) {
      const kernels::NormStatistics s =
          kernels::LayerNormKernel(k, approx).statistics(*x);
      return std::vector<Ciphertext>{s.centred, s.chebyshev, s.half_v};
    };
  });
  unary_kernel(table, "kernelNewton", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr w = handle_argument<Ciphertext>(info, i, "w");
    CtPtr half_v = handle_argument<Ciphertext>(info, i + 1, "halfV");
    const auto approx = inv_sqrt_arguments(info, i + 2);
    return [w, half_v, approx](const KernelContext& k) { return kernels::LayerNormKernel(k, approx).newton(*w, *half_v); };
  });
  unary_kernel(table, "kernelMultiply", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr b = handle_argument<Ciphertext>(info, i + 1, "b");
    return [a, b](const KernelContext& k) { return k.multiply(*a, *b); };
  });
  unary_kernel(table, "kernelAdd", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr b = handle_argument<Ciphertext>(info, i + 1, "b");
    return [a, b](const KernelContext& k) { return k.add(*a, *b); };
  });
  unary_kernel(table, "kernelSub", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr a = handle_argument<Ciphertext>(info, i, "a");
    CtPtr b = handle_argument<Ciphertext>(info, i + 1, "b");
    return [a, b](const KernelContext& k) { return k.sub(*a, *b); };
  });
  unary_kernel(table, "kernelAddScalar", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    const double value = number_argument(info, i + 1, "value");
    return [x, value](const KernelContext& k) {
      k.scales().require_canonical(*x, "addScalar input");
      return add_scalar(*x, value);
    };
  });
  unary_kernel(table, "kernelAffine", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    std::vector<double> scale = float64_argument(info, i + 1, "scale");
    std::vector<double> shift = float64_argument(info, i + 2, "shift");
    return [x, scale, shift](const KernelContext& k) { return kernels::feature_affine(k, *x, scale, shift); };
  });
  unary_kernel(table, "kernelLower", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    const std::size_t level = size_argument(info, i + 1, "level", 1u << 10);
    const double factor = number_argument(info, i + 2, "factor");
    return [x, level, factor](const KernelContext& k) { return k.scales().lower(*x, level, factor); };
  });
  unary_kernel(table, "kernelChebyshev", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr t = handle_argument<Ciphertext>(info, i, "t");
    std::vector<double> c = float64_argument(info, i + 1, "coefficients");
    return [t, c](const KernelContext& k) { return kernels::chebyshev(k, *t, c); };
  });
  unary_kernel(table, "kernelOddDegree7", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr t = handle_argument<Ciphertext>(info, i, "t");
    const std::vector<double> c = float64_argument(info, i + 1, "coefficients");
    if (c.size() != 4) throw Error(ErrorCode::InvalidArgument, "four coefficients (of t, t^3, t^5, t^7) expected");
    const std::array<double, 4> coefficients{c[0], c[1], c[2], c[3]};
    return [t, coefficients](const KernelContext& k) { return kernels::odd_degree7(k, *t, coefficients); };
  });
  unary_kernel(table, "kernelSquarings", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    const std::size_t count = size_argument(info, i + 1, "count", 64);
    return [x, count](const KernelContext& k) { return kernels::squarings(k, *x, count); };
  });
  unary_kernel(table, "kernelReluCombine", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr t = handle_argument<Ciphertext>(info, i, "t");
    CtPtr s = handle_argument<Ciphertext>(info, i + 1, "sign");
    return [t, s](const KernelContext& k) { return kernels::relu_combine(k, *t, *s); };
  });
  table["kernelAttentionBases"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    CtPtr q = handle_argument<Ciphertext>(info, first + 1, "q");
    CtPtr key = handle_argument<Ciphertext>(info, first + 2, "k");
    const double constant = number_argument(info, first + 3, "kernelConstant");
    const std::size_t squarings = size_argument(info, first + 4, "squarings", 20);
    auto attention = std::make_shared<kernels::GaussianAttention>(k, constant, squarings);
    return [attention, q, key]() -> Finisher { return wrap_results(attention->bases(*q, *key)); };
  };
  table["kernelAttentionApply"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto kernel = handle_array_argument<Ciphertext>(info, first + 1, "kernel");
    CtPtr v = handle_argument<Ciphertext>(info, first + 2, "v");
    CtPtr mask = handle_argument<Ciphertext>(info, first + 3, "keyMask");
    const double constant = number_argument(info, first + 4, "kernelConstant");
    const std::size_t squarings = size_argument(info, first + 5, "squarings", 20);
    auto attention = std::make_shared<kernels::GaussianAttention>(k, constant, squarings);
    return [attention, kernel, v, mask]() -> Finisher { return wrap_result(attention->apply(values(kernel), *v, *mask)); };
  };
  many_kernel(table, "kernelFeatureDot", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    auto weights = handle_array_argument<Ciphertext>(info, i + 1, "weights");
    auto biases = handle_array_argument<Ciphertext>(info, i + 2, "biases");
    return [x, weights, biases](const KernelContext& k) { return kernels::feature_dot(k, *x, values(weights), values(biases)); };
  });
  unary_kernel(table, "kernelBroadcastSum", [](const Napi::CallbackInfo& info, std::size_t i) {
    auto t = handle_array_argument<Ciphertext>(info, i, "t");
    auto rows = handle_array_argument<Ciphertext>(info, i + 1, "rows");
    return [t, rows](const KernelContext& k) { return kernels::broadcast_sum(k, values(t), values(rows)); };
  });
  unary_kernel(table, "kernelCipherMatrix", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    auto diagonals = handle_array_argument<Ciphertext>(info, i + 1, "diagonals");
    CtPtr bias = argument(info, i + 2, "bias").IsNull() ? nullptr : handle_argument<Ciphertext>(info, i + 2, "bias");
    return [x, diagonals, bias](const KernelContext& k) {
      return kernels::cipher_matrix_product(k, *x, values(diagonals), bias.get());
    };
  });
  unary_kernel(table, "kernelGatherFirstRows", [](const Napi::CallbackInfo& info, std::size_t i) {
    auto groups = handle_array_argument<Ciphertext>(info, i, "groups");
    return [groups](const KernelContext& k) { return kernels::gather_first_rows(k, values(groups)); };
  });
  many_kernel(table, "kernelChebyshevMany", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr t = handle_argument<Ciphertext>(info, i, "t");
    Napi::Value list = argument(info, i + 1, "polynomials");
    if (!list.IsArray()) throw Error(ErrorCode::InvalidArgument, "polynomials must be an array of Float64Arrays");
    std::vector<std::vector<double>> polynomials;
    for (std::uint32_t j = 0; j < list.As<Napi::Array>().Length(); ++j) {
      Napi::Value v = list.As<Napi::Array>().Get(j);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
        throw Error(ErrorCode::InvalidArgument, "polynomials must be an array of Float64Arrays");
      Napi::Float64Array a = v.As<Napi::Float64Array>();
      polynomials.emplace_back(a.Data(), a.Data() + a.ElementLength());
    }
    return [t, polynomials](const KernelContext& k) { return kernels::chebyshev_many(k, *t, polynomials); };
  });
  many_kernel(table, "kernelOddDegree7WithDerivative", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr t = handle_argument<Ciphertext>(info, i, "t");
    const std::vector<double> c = float64_argument(info, i + 1, "coefficients");
    if (c.size() != 4) throw Error(ErrorCode::InvalidArgument, "four coefficients (of t, t^3, t^5, t^7) expected");
    const std::array<double, 4> coefficients{c[0], c[1], c[2], c[3]};
    return [t, coefficients](const KernelContext& k) {
      auto pair = kernels::odd_degree7_with_derivative(k, *t, coefficients);
      return std::vector<Ciphertext>{std::move(pair.first), std::move(pair.second)};
    };
  });
  many_kernel(table, "kernelNewtonWithDerivative", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr w = handle_argument<Ciphertext>(info, i, "w");
    CtPtr dw = handle_argument<Ciphertext>(info, i + 1, "dw");
    CtPtr half_v = handle_argument<Ciphertext>(info, i + 2, "halfV");
    const auto approx = inv_sqrt_arguments(info, i + 3);
    return [w, dw, half_v, approx](const KernelContext& k) {
      auto pair = kernels::LayerNormKernel(k, approx).newton_with_derivative(*w, *dw, *half_v);
      return std::vector<Ciphertext>{std::move(pair.first), std::move(pair.second)};
    };
  });
  unary_kernel(table, "kernelNormBackward", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr dh = handle_argument<Ciphertext>(info, i, "dh");
    CtPtr centred = handle_argument<Ciphertext>(info, i + 1, "centred");
    CtPtr w = handle_argument<Ciphertext>(info, i + 2, "w");
    CtPtr dw = handle_argument<Ciphertext>(info, i + 3, "dw");
    const auto approx = inv_sqrt_arguments(info, i + 4);
    return [dh, centred, w, dw, approx](const KernelContext& k) { return kernels::LayerNormKernel(k, approx).backward(*dh, *centred, *w, *dw); };
  });
  table["kernelAttentionInner"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    CtPtr x = handle_argument<Ciphertext>(info, first + 1, "x");
    CtPtr y = handle_argument<Ciphertext>(info, first + 2, "y");
    auto shifts = std::make_shared<kernels::PackedShifts>(k);
    return [shifts, x, y]() -> Finisher { return wrap_results(shifts->inner(*x, *y)); };
  };
  table["kernelAttentionWeigh"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto kernel = handle_array_argument<Ciphertext>(info, first + 1, "kernel");
    CtPtr x = handle_argument<Ciphertext>(info, first + 2, "x");
    auto shifts = std::make_shared<kernels::PackedShifts>(k);
    return [shifts, kernel, x]() -> Finisher { return wrap_result(shifts->weigh(values(kernel), *x)); };
  };
  table["kernelAttentionTranspose"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto kernel = handle_array_argument<Ciphertext>(info, first + 1, "kernel");
    auto shifts = std::make_shared<kernels::PackedShifts>(k);
    return [shifts, kernel]() -> Finisher { return wrap_results(shifts->transpose(values(kernel))); };
  };
  table["kernelAttentionHeadSums"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto kernel = handle_array_argument<Ciphertext>(info, first + 1, "kernel");
    auto shifts = std::make_shared<kernels::PackedShifts>(k);
    return [shifts, kernel]() -> Finisher { return wrap_result(shifts->head_sums(values(kernel))); };
  };
  unary_kernel(table, "kernelRowTotal", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    return [x](const KernelContext& k) { return kernels::row_total(k, *x); };
  });
  unary_kernel(table, "kernelPackRows", [](const Napi::CallbackInfo& info, std::size_t i) {
    auto totals = handle_array_argument<Ciphertext>(info, i, "totals");
    return [totals](const KernelContext& k) { return kernels::pack_rows(k, values(totals)); };
  });
  unary_kernel(table, "kernelScaleRows", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr packed = handle_argument<Ciphertext>(info, i, "packed");
    std::vector<double> factors = float64_argument(info, i + 1, "factors");
    return [packed, factors](const KernelContext& k) { return kernels::scale_rows(k, *packed, factors); };
  });
  unary_kernel(table, "kernelUnpackRow", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr packed = handle_argument<Ciphertext>(info, i, "packed");
    const std::size_t index = size_argument(info, i + 1, "index", 1u << 16);
    return [packed, index](const KernelContext& k) { return kernels::unpack_row(k, *packed, index); };
  });
  unary_kernel(table, "kernelCipherMatrixTranspose", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr y = handle_argument<Ciphertext>(info, i, "y");
    auto diagonals = handle_array_argument<Ciphertext>(info, i + 1, "diagonals");
    return [y, diagonals](const KernelContext& k) { return kernels::cipher_matrix_transpose_product(k, *y, values(diagonals)); };
  });
  many_kernel(table, "kernelCipherMatrixGradient", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr x = handle_argument<Ciphertext>(info, i, "x");
    CtPtr dy = handle_argument<Ciphertext>(info, i + 1, "dy");
    return [x, dy](const KernelContext& k) { return kernels::cipher_matrix_gradient(k, *x, *dy); };
  });
  many_kernel(table, "kernelScatterFirstRows", [](const Napi::CallbackInfo& info, std::size_t i) {
    CtPtr gathered = handle_argument<Ciphertext>(info, i, "gathered");
    const std::size_t groups = size_argument(info, i + 1, "groups", 1u << 16);
    return [gathered, groups](const KernelContext& k) { return kernels::scatter_first_rows(k, *gathered, groups); };
  });
  table["kernelRefresh"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    KernelsPtr k = handle_argument<KernelContext>(info, first, "kernels");
    auto bootstrapper = handle_argument<Bootstrapper>(info, first + 1, "bootstrapper");
    auto cts = handle_array_argument<Ciphertext>(info, first + 2, "ciphertexts");
    std::vector<double> bounds = float64_argument(info, first + 3, "bounds");
    auto relay = progress_argument(info, first + 4);
    return [k, bootstrapper, cts, bounds, relay]() -> Finisher {
      return wrap_results(kernels::refresh(*k, *bootstrapper, values(cts), bounds, as_progress(relay)));
    };
  };
  register_softmax_kernels(table);
}

}  // namespace cipherlm::addon
