//===- CalibrationData.cpp - listing and checking calibration samples -----===//

#include "quarc/Calibration/CalibrationData.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlir::quarc::calibration {

namespace fs = llvm::sys::fs;

namespace {

/// "a, b, c": the input names in messages.
std::string joinNames(ArrayRef<ModelInputSpec> inputs) {
  return llvm::join(llvm::map_range(inputs,
                                    [](const ModelInputSpec &input) {
                                      return StringRef(input.name);
                                    }),
                    ", ");
}

/// The flat index of the first NaN or infinite element of a float array,
/// and which it is; nothing for other dtypes.
std::optional<std::pair<int64_t, bool /*isNaN*/>>
findNonFinite(const NpyArray &array) {
  int64_t n = array.numElements();
  const char *data = array.bytes.data();
  switch (array.dtype) {
  case QUARC_DTYPE_F32:
    for (int64_t i = 0; i < n; ++i) {
      float value;
      std::memcpy(&value, data + i * sizeof value, sizeof value);
      if (!std::isfinite(value))
        return std::make_pair(i, std::isnan(value));
    }
    return std::nullopt;
  case QUARC_DTYPE_F64:
    for (int64_t i = 0; i < n; ++i) {
      double value;
      std::memcpy(&value, data + i * sizeof value, sizeof value);
      if (!std::isfinite(value))
        return std::make_pair(i, std::isnan(value));
    }
    return std::nullopt;
  case QUARC_DTYPE_F16:
    // IEEE half: all-ones exponent is infinity (zero mantissa) or NaN.
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, data + i * sizeof bits, sizeof bits);
      if ((bits & 0x7c00) == 0x7c00)
        return std::make_pair(i, (bits & 0x03ff) != 0);
    }
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

/// Whether `array` can be input `input`; `path` names the sample.
bool checkInput(const NpyArray &array, const ModelInputSpec &input,
                StringRef path, std::string &error) {
  std::string prefix = (path + ": input '" + input.name + "' ").str();
  if (array.dtype != input.dtype) {
    error = prefix + "is " + getDTypeName(array.dtype).str() +
            ", but the model expects " + getDTypeName(input.dtype).str();
    return false;
  }
  bool matches = array.shape.size() == input.shape.size();
  for (size_t d = 0; matches && d < array.shape.size(); ++d)
    matches = input.shape[d] < 0 || input.shape[d] == array.shape[d];
  if (!matches) {
    error = prefix + "has shape " + formatShape(array.shape) +
            ", but the model expects " + formatShape(input.shape);
    return false;
  }
  if (std::optional<std::pair<int64_t, bool>> bad = findNonFinite(array)) {
    error = prefix + "has " + (bad->second ? "a NaN" : "an infinite value") +
            " at flat index " + std::to_string(bad->first) +
            " (calibration needs finite values)";
    return false;
  }
  return true;
}

} // namespace

std::optional<CalibrationData>
CalibrationData::open(StringRef dir, ArrayRef<ModelInputSpec> inputs,
                      std::string &error) {
  fs::file_status status;
  if (std::error_code ec = fs::status(dir, status)) {
    error = "calibration data folder '" + dir.str() + "': " + ec.message();
    return std::nullopt;
  }
  if (!fs::is_directory(status)) {
    error = "calibration data '" + dir.str() + "' is not a folder";
    return std::nullopt;
  }

  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (name.starts_with(".") ||
        !(name.ends_with(".npz") || name.ends_with(".npy")))
      continue;
    // status() follows symbolic links: a link to a sample is a sample.
    fs::file_status entry;
    if (fs::status(it->path(), entry) || !fs::is_regular_file(entry))
      continue;
    names.push_back(name.str());
  }
  if (ec) {
    error = "cannot list calibration data folder '" + dir.str() +
            "': " + ec.message();
    return std::nullopt;
  }
  if (names.empty()) {
    error = "calibration data folder '" + dir.str() +
            "' has no .npz or .npy samples";
    return std::nullopt;
  }
  // std::string compares bytes as unsigned char, like memcmp: the same
  // order on every machine, whatever the locale.
  llvm::sort(names);

  auto npy = llvm::find_if(names, [](const std::string &name) {
    return StringRef(name).ends_with(".npy");
  });
  if (npy != names.end() && inputs.size() != 1) {
    error = "calibration data folder '" + dir.str() + "' has .npy samples ('" +
            *npy + "'), but ";
    if (inputs.empty())
      error += "the model has no inputs";
    else
      error += "a model with inputs " + joinNames(inputs) +
               " needs .npz samples keyed by input name";
    return std::nullopt;
  }
  return CalibrationData(dir.str(), inputs, std::move(names));
}

std::string CalibrationData::samplePath(size_t i) const {
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, fileNames[i]);
  return path.str().str();
}

bool CalibrationData::load(size_t i, std::vector<NpyArray> &arrays,
                           std::string &error) const {
  std::string path = samplePath(i);
  std::vector<std::pair<std::string, NpyArray>> members;
  if (StringRef(fileNames[i]).ends_with(".npy")) {
    // open() admits .npy samples only for a single-input model.
    NpyArray array;
    if (failed(readNpyFile(path, array, error)))
      return false;
    members.emplace_back(inputs.front().name, std::move(array));
  } else if (failed(readNpzFile(path, members, error))) {
    return false;
  }
  return assembleSample(std::move(members), inputs, path, arrays, error);
}

bool assembleSample(std::vector<std::pair<std::string, NpyArray>> members,
                    ArrayRef<ModelInputSpec> inputs, StringRef what,
                    std::vector<NpyArray> &arrays, std::string &error) {
  for (const auto &[key, array] : members) {
    if (llvm::none_of(inputs, [&, &key = key](const ModelInputSpec &input) {
          return input.name == key;
        })) {
      error = what.str() + ": unexpected array '" + key +
              "' (the model's inputs are " + joinNames(inputs) + ")";
      return false;
    }
  }
  std::vector<NpyArray> loaded;
  for (const ModelInputSpec &input : inputs) {
    auto member = llvm::find_if(members, [&](const auto &keyAndArray) {
      return keyAndArray.first == input.name;
    });
    if (member == members.end()) {
      error = what.str() + ": no array for input '" + input.name +
              "' (the model's inputs are " + joinNames(inputs) + ")";
      return false;
    }
    loaded.push_back(std::move(member->second));
  }
  for (auto [array, input] : llvm::zip_equal(loaded, inputs))
    if (!checkInput(array, input, what, error))
      return false;
  arrays = std::move(loaded);
  return true;
}

FailureOr<bool> FolderSamples::next(std::vector<NpyArray> &arrays,
                                    std::string &name, std::string &error) {
  if (position > last)
    return false;
  name = data.sampleName(position).str();
  if (!data.load(position++, arrays, error))
    return failure();
  return true;
}

} // namespace mlir::quarc::calibration
