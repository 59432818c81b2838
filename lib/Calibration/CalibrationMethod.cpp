//===- CalibrationMethod.cpp - calibration method names -------------------===//

#include "quarc/Calibration/RangeEstimators.h"

#include "llvm/Support/ErrorHandling.h"
#include <charconv>
#include <cmath>

namespace mlir::quarc::calibration {

namespace {
constexpr const char *kMethodList =
    "minmax, moving-average[=C], percentile[=P], entropy, mse";

/// Shortest text that reads back as the same double.
std::string formatDouble(double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

/// Reads a whole-string finite number into `value`.
bool parseNumber(llvm::StringRef text, double &value) {
  // getAsDouble accepts "inf" and "nan"; finiteness is checked here.
  return !text.empty() && !text.getAsDouble(value) && std::isfinite(value);
}
} // namespace

std::string Method::str() const {
  switch (kind) {
  case Kind::MinMax:
    return "minmax";
  case Kind::MovingAverage:
    return "moving-average=" + formatDouble(averagingConstant);
  case Kind::Percentile:
    return "percentile=" + formatDouble(percentile);
  case Kind::Entropy:
    return "entropy";
  case Kind::MSE:
    return "mse";
  }
  llvm_unreachable("unknown calibration method");
}

FailureOr<Method> parseMethod(llvm::StringRef spec, std::string &error) {
  auto [name, value] = spec.split('=');
  bool hasValue = spec.contains('=');
  Method method;
  if (name == "minmax" || name == "entropy" || name == "mse") {
    method.kind = name == "minmax"    ? Method::Kind::MinMax
                  : name == "entropy" ? Method::Kind::Entropy
                                      : Method::Kind::MSE;
    if (hasValue) {
      error = "calibration method '" + name.str() + "' takes no value";
      return failure();
    }
    return method;
  }
  if (name == "percentile") {
    method.kind = Method::Kind::Percentile;
    if (hasValue && (!parseNumber(value, method.percentile) ||
                     method.percentile < 50 || method.percentile > 100)) {
      error = "invalid percentile '" + value.str() +
              "': expected a number from 50 to 100, e.g. percentile=99.99";
      return failure();
    }
    return method;
  }
  if (name == "moving-average") {
    method.kind = Method::Kind::MovingAverage;
    if (hasValue &&
        (!parseNumber(value, method.averagingConstant) ||
         method.averagingConstant <= 0 || method.averagingConstant > 1)) {
      error = "invalid moving-average constant '" + value.str() +
              "': expected a number in (0, 1], e.g. moving-average=0.01";
      return failure();
    }
    return method;
  }
  error = "unknown calibration method '" + spec.str() + "'; expected one of " +
          kMethodList;
  return failure();
}

} // namespace mlir::quarc::calibration
