//===- ModelLoader.cpp - parse a ModelProto, read external data -----------===//

#include "ModelLoader.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <limits>

using namespace mlir;
using namespace mlir::quarc;

/// Subgraphs (If/Loop bodies) nest messages; this bounds the nesting so a
/// malicious file cannot exhaust the stack.
static constexpr int kRecursionLimit = 256;

LogicalResult onnx_import::parseModel(StringRef bytes, StringRef path,
                                      Location loc, onnx::ModelProto &model) {
  auto fail = [&](StringRef reason) {
    return emitError(loc) << "cannot parse '" << path
                          << "' as an ONNX model: " << reason;
  };
  if (bytes.empty())
    return fail("the file is empty");
  if (bytes.size() > size_t(std::numeric_limits<int>::max()))
    return fail("protobuf models are limited to 2 GiB; store the weights as "
                "external data");
  google::protobuf::io::ArrayInputStream stream(bytes.data(), int(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetRecursionLimit(kRecursionLimit);
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return fail("the protobuf data is invalid or truncated");
  if (!model.has_graph())
    return fail("it has no graph");
  if (model.opset_import_size() == 0)
    return fail("it declares no opset (opset_import is empty)");
  return success();
}

/// Splits the key/value list of an external-data tensor.
static std::string getExternalField(const onnx::TensorProto &tensor,
                                    StringRef key) {
  for (const onnx::StringStringEntryProto &entry : tensor.external_data())
    if (entry.key() == key)
      return entry.value();
  return "";
}

FailureOr<std::string>
onnx_import::readExternalData(const onnx::TensorProto &tensor,
                              StringRef modelDir, Location loc) {
  std::string location = getExternalField(tensor, "location");
  auto fail = [&]() {
    return emitError(loc) << "external data of tensor '" << tensor.name()
                          << "': ";
  };
  if (location.empty())
    return fail() << "no 'location' is given";
  StringRef relative(location);
  bool escapes = llvm::sys::path::is_absolute(relative) ||
                 relative.starts_with("/") || relative.starts_with("\\");
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(relative),
                                         llvm::sys::path::end(relative)))
    escapes |= part == "..";
  if (escapes)
    return fail() << "'" << location
                  << "' is outside the model's folder (only relative paths "
                     "inside it are allowed)";

  SmallString<256> full(modelDir);
  llvm::sys::path::append(full, relative);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(full, realFile))
    return fail() << "cannot open external data file '" << location
                  << "' (looked for '" << full << "')";
  if (llvm::sys::fs::real_path(modelDir, realDir))
    return fail() << "cannot resolve the model's folder '" << modelDir << "'";
  StringRef fileRef(realFile);
  if (!fileRef.starts_with(realDir) ||
      !llvm::sys::path::is_separator(fileRef[realDir.size()]))
    return fail() << "'" << location
                  << "' resolves to a file outside the model's folder";

  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(realFile, fileSize))
    return fail() << "cannot read the size of '" << location << "'";
  uint64_t offset = 0, length = 0;
  std::string offsetText = getExternalField(tensor, "offset");
  std::string lengthText = getExternalField(tensor, "length");
  if (!offsetText.empty() && !llvm::to_integer(offsetText, offset, 10))
    return fail() << "offset '" << offsetText << "' is not a number";
  if (!lengthText.empty() && !llvm::to_integer(lengthText, length, 10))
    return fail() << "length '" << lengthText << "' is not a number";
  if (offset > fileSize)
    return fail() << "offset " << offset << " is beyond the end of '"
                  << location << "' (" << fileSize << " bytes)";
  if (lengthText.empty())
    length = fileSize - offset;
  if (length > fileSize - offset)
    return fail() << "offset " << offset << " + length " << length
                  << " reaches beyond the end of '" << location << "' ("
                  << fileSize << " bytes)";
  auto buffer = llvm::MemoryBuffer::getFileSlice(realFile, length, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer)
    return fail() << "cannot read '" << location
                  << "': " << buffer.getError().message();
  return (*buffer)->getBuffer().str();
}
