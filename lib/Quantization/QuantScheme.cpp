//===- QuantScheme.cpp - the default scheme and the --scheme syntax -------===//

#include "quarc/Quantization/QuantScheme.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::quarc {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The `reduce-range=` value of a weight range.
StringRef weightRangeName(WeightRange range) {
  switch (range) {
  case WeightRange::Full:
    return "false";
  case WeightRange::Reduced:
    return "true";
  case WeightRange::Pairs:
    return "pairs";
  }
  llvm_unreachable("unknown weight range");
}

StringRef granularityName(Granularity granularity) {
  switch (granularity) {
  case Granularity::PerTensor:
    return "per-tensor";
  case Granularity::PerChannel:
    return "per-channel";
  case Granularity::PerGroup:
    return "per-group";
  }
  llvm_unreachable("unknown granularity");
}

constexpr const char *kFieldHelp =
    "expected a type (uN, sN or iN, N in 2..16), symmetric, asymmetric, "
    "per-tensor, per-channel, per-group=N, narrow or full-range";

/// Applies the ':'-separated fields of `spec` to `scheme`.
llvm::Error parseTensorScheme(StringRef spec, TensorQuantScheme &scheme) {
  if (spec.empty())
    return makeError(llvm::Twine("no fields: ") + kFieldHelp);
  SmallVector<StringRef> fields;
  spec.split(fields, ':');
  for (StringRef field : fields) {
    field = field.trim();
    if (field.empty()) {
      return makeError(llvm::Twine("empty field: ") + kFieldHelp);
    } else if (field == "symmetric") {
      scheme.symmetric = true;
    } else if (field == "asymmetric") {
      scheme.symmetric = false;
    } else if (field == "per-tensor") {
      scheme.granularity = Granularity::PerTensor;
      scheme.groupSize = 0;
    } else if (field == "per-channel") {
      scheme.granularity = Granularity::PerChannel;
      scheme.groupSize = 0;
    } else if (field.starts_with("per-group")) {
      StringRef size = field.drop_front(StringRef("per-group").size());
      int64_t groupSize;
      if (!size.consume_front("=") || size.getAsInteger(10, groupSize) ||
          groupSize < 1)
        return makeError(llvm::formatv("bad field '{0}': expected "
                                       "per-group=N with N >= 1",
                                       field));
      scheme.granularity = Granularity::PerGroup;
      scheme.groupSize = groupSize;
    } else if (field == "narrow") {
      scheme.type.narrowRange = true;
    } else if (field == "full-range") {
      scheme.type.narrowRange = false;
    } else if (llvm::isDigit(field.back())) {
      llvm::Expected<QuantType> type = parseQuantType(field);
      if (!type)
        return type.takeError();
      // The type field sets the width and signedness; narrow is its own.
      scheme.type.bits = type->bits;
      scheme.type.isSigned = type->isSigned;
    } else {
      return makeError(
          llvm::formatv("unknown field '{0}': {1}", field, kFieldHelp));
    }
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<QuantType> parseQuantType(StringRef spec) {
  StringRef digits = spec;
  bool isSigned;
  if (digits.consume_front("uint") || digits.consume_front("u"))
    isSigned = false;
  else if (digits.consume_front("int") || digits.consume_front("s") ||
           digits.consume_front("i"))
    isSigned = true;
  else
    return makeError(llvm::formatv("unknown integer type '{0}': expected uN, "
                                   "sN or iN with N in 2..16",
                                   spec));
  unsigned bits;
  if (digits.getAsInteger(10, bits) || bits < 2 || bits > 16)
    return makeError(llvm::formatv("unknown integer type '{0}': expected uN, "
                                   "sN or iN with N in 2..16",
                                   spec));
  return QuantType{bits, isSigned, false};
}

std::string TensorQuantScheme::str() const {
  std::string result = type.str();
  result += symmetric ? ":symmetric:" : ":asymmetric:";
  result += granularityName(granularity);
  if (granularity == Granularity::PerGroup)
    result += "=" + std::to_string(groupSize);
  return result;
}

bool TensorQuantScheme::operator==(const TensorQuantScheme &other) const {
  return type == other.type && symmetric == other.symmetric &&
         granularity == other.granularity && groupSize == other.groupSize;
}

QuantScheme QuantScheme::getDefaultCPU() {
  QuantScheme scheme;
  scheme.activations = {QuantType::u8(), /*symmetric=*/false,
                        Granularity::PerTensor, 0};
  scheme.weights = {QuantType::s8(), /*symmetric=*/true,
                    Granularity::PerChannel, 0};
  scheme.calibrationMethod = "minmax";
  scheme.weightRange = WeightRange::Full;
  return scheme;
}

std::string QuantScheme::str() const {
  return "activations=" + activations.str() + ",weights=" + weights.str() +
         ",calibration=" + calibrationMethod +
         ",reduce-range=" + weightRangeName(weightRange).str();
}

llvm::Error QuantScheme::verify() const {
  for (auto [name, tensor] : {std::pair<StringRef, const TensorQuantScheme *>{
                                  "activations", &activations},
                              {"weights", &weights}}) {
    if (!tensor->type.isValid())
      return makeError(llvm::formatv("{0}: {1}-bit type: quarc supports 2 to "
                                     "16 bits",
                                     name, tensor->type.bits));
    if (tensor->granularity == Granularity::PerGroup && tensor->groupSize < 1)
      return makeError(
          llvm::formatv("{0}: group size {1} < 1", name, tensor->groupSize));
  }
  if (activations.granularity != Granularity::PerTensor)
    return makeError(llvm::formatv("activations: {0} is not supported; "
                                   "activations are quantized per tensor",
                                   granularityName(activations.granularity)));
  if (weightRange == WeightRange::Pairs &&
      !(weights.type.bits == 8 && weights.type.isSigned && weights.symmetric))
    return makeError(llvm::formatv("reduce-range=pairs bounds pairs of s8 "
                                   "weights for vpmaddubsw; weights={0} are "
                                   "not symmetric s8",
                                   weights.str()));
  if (calibrationMethod.empty())
    return makeError("empty calibration method");
  return llvm::Error::success();
}

bool QuantScheme::operator==(const QuantScheme &other) const {
  return activations == other.activations && weights == other.weights &&
         calibrationMethod == other.calibrationMethod &&
         weightRange == other.weightRange;
}

llvm::Expected<QuantScheme> parseQuantScheme(StringRef spec,
                                             const QuantScheme &base) {
  QuantScheme scheme = base;
  SmallVector<StringRef> clauses;
  spec.split(clauses, ',');
  llvm::StringSet<> seen;
  for (StringRef clause : clauses) {
    clause = clause.trim();
    auto fail = [&](const llvm::Twine &message) {
      return makeError(
          llvm::formatv("bad scheme clause '{0}': {1}", clause, message.str()));
    };
    if (clause.empty())
      return makeError(llvm::formatv("empty clause in scheme '{0}'", spec));
    auto [key, value] = clause.split('=');
    key = key.trim();
    bool hasValue = clause.contains('=');
    if (!seen.insert(key).second)
      return fail(llvm::formatv("'{0}' is given twice", key));
    if (key == "activations" || key == "weights") {
      if (!hasValue)
        return fail(llvm::formatv("expected {0}=FIELD[:FIELD...]", key));
      TensorQuantScheme &tensor =
          key == "activations" ? scheme.activations : scheme.weights;
      if (llvm::Error error = parseTensorScheme(value.trim(), tensor))
        return fail(llvm::toString(std::move(error)));
    } else if (key == "calibration") {
      value = value.trim();
      if (!hasValue || value.empty())
        return fail("expected calibration=METHOD (minmax, moving-average, "
                    "percentile=P, entropy, mse)");
      scheme.calibrationMethod = value.str();
    } else if (key == "reduce-range") {
      value = value.trim();
      if (!hasValue || value == "true")
        scheme.weightRange = WeightRange::Reduced;
      else if (value == "false")
        scheme.weightRange = WeightRange::Full;
      else if (value == "pairs")
        scheme.weightRange = WeightRange::Pairs;
      else
        return fail("expected reduce-range, reduce-range=true, "
                    "reduce-range=false or reduce-range=pairs");
    } else {
      return fail(llvm::formatv("unknown key '{0}': expected activations, "
                                "weights, calibration or reduce-range",
                                key));
    }
  }
  if (llvm::Error error = scheme.verify())
    return makeError(llvm::formatv("scheme '{0}': {1}", spec,
                                   llvm::toString(std::move(error))));
  return scheme;
}

llvm::Expected<QuantScheme> parseSchemeOption(StringRef spec) {
  if (spec.empty())
    return QuantScheme::getDefaultCPU();
  return parseQuantScheme(spec);
}

} // namespace mlir::quarc
