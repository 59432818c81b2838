//===- TargetInfo.cpp - target names, features and their LLVM meaning ----===//

#include "quarc/Target/TargetInfo.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include <algorithm>

namespace mlir::quarc {
namespace {

/// One quarc feature: what it implies and which LLVM features it turns on.
struct FeatureDef {
  const char *name;
  const char *implies;      // comma-separated quarc features
  const char *llvmFeatures; // comma-separated, without '+'
  const char *hostFeature;  // LLVM host feature that detects it
};

struct ArchDef {
  const char *name;
  const char *triple;
  const char *genericCpu;
  const char *baseLLVMFeatures;
  llvm::ArrayRef<FeatureDef> features;
  // LLVM features turned off whatever the CPU is (comma-separated).
  const char *disabledLLVMFeatures;
};

const FeatureDef x86Features[] = {
    {"avx2", "", "avx,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt,movbe", "avx2"},
    {"avx512f", "avx2", "avx512f,avx512bw,avx512dq,avx512vl,avx512cd",
     "avx512f"},
    {"avx512vnni", "avx512f", "avx512vnni", "avx512vnni"},
    // Byte permutes across a whole register (vpermb, vpermi2b): a 256-entry
    // table lookup in four instructions per 64 bytes.
    {"avx512vbmi", "avx512f", "avx512vbmi", "avx512vbmi"},
};

const FeatureDef aarch64Features[] = {
    {"dotprod", "", "dotprod", "dotprod"},
    {"i8mm", "dotprod", "i8mm", "i8mm"},
};

const ArchDef archs[] = {
    // SSE4a (AMD CPUs from the host: znver3 has it): LLVM then lowers some
    // byte shuffles to EXTRQ / INSERTQ, which have no VEX form. A legacy-SSE
    // instruction after 256-bit code took 126 ns instead of 1 on the Zen 3
    // VMs here (the upper halves of the registers are live), and the window
    // panel's tail loads made a 3 x 3 convolution twice as slow with it.
    {"x86_64", "x86_64-unknown-linux-gnu", "x86-64", "sse4.2,popcnt",
     x86Features, "sse4a"},
    {"aarch64", "aarch64-unknown-linux-gnu", "generic", "neon", aarch64Features,
     ""},
};

const ArchDef *findArch(llvm::StringRef name) {
  for (const ArchDef &arch : archs)
    if (name == arch.name)
      return &arch;
  return nullptr;
}

const FeatureDef *findFeature(const ArchDef &arch, llvm::StringRef name) {
  for (const FeatureDef &feature : arch.features)
    if (name == feature.name)
      return &feature;
  return nullptr;
}

void addWithImplied(const ArchDef &arch, llvm::StringRef name,
                    llvm::SmallVectorImpl<std::string> &features) {
  if (llvm::is_contained(features, name))
    return;
  features.push_back(name.str());
  const FeatureDef *def = findFeature(arch, name);
  llvm::SmallVector<llvm::StringRef> implied;
  llvm::StringRef(def->implies).split(implied, ',', -1, false);
  for (llvm::StringRef other : implied)
    addWithImplied(arch, other, features);
}

std::string hostArch() {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  return triple.getArch() == llvm::Triple::aarch64 ? "aarch64" : "x86_64";
}

} // namespace

std::string describeKnownTargets() {
  std::string text = "host (detected)";
  for (const ArchDef &arch : archs) {
    text += std::string(", ") + arch.name + " (features:";
    for (const FeatureDef &feature : arch.features)
      text += std::string(" +") + feature.name;
    text += ")";
  }
  return text;
}

bool TargetInfo::parse(llvm::StringRef spec, TargetInfo &target,
                       std::string &error) {
  if (spec == "host") {
    target = host();
    return true;
  }
  llvm::SmallVector<llvm::StringRef> parts;
  spec.split(parts, '+');
  const ArchDef *arch = findArch(parts[0]);
  if (!arch) {
    error = "unknown target architecture '" + parts[0].str() +
            "'; known targets: " + describeKnownTargets();
    return false;
  }
  TargetInfo result;
  result.arch = arch->name;
  result.cpu = arch->genericCpu;
  for (llvm::StringRef feature : llvm::drop_begin(parts)) {
    if (!findFeature(*arch, feature)) {
      error = "unknown feature '" + feature.str() + "' for " + arch->name +
              "; known targets: " + describeKnownTargets();
      return false;
    }
    addWithImplied(*arch, feature, result.features);
  }
  llvm::sort(result.features);
  target = std::move(result);
  return true;
}

TargetInfo TargetInfo::host() {
  TargetInfo target;
  target.arch = hostArch();
  target.cpu = llvm::sys::getHostCPUName().str();
  const ArchDef *arch = findArch(target.arch);
  llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
  for (const FeatureDef &feature : arch->features) {
    auto it = hostFeatures.find(feature.hostFeature);
    if (it != hostFeatures.end() && it->second)
      target.features.push_back(feature.name);
  }
  llvm::sort(target.features);
  return target;
}

bool TargetInfo::has(llvm::StringRef feature) const {
  return llvm::is_contained(features, feature);
}

std::string TargetInfo::name() const {
  std::string text = arch;
  for (const std::string &feature : features)
    text += "+" + feature;
  return text;
}

std::string TargetInfo::triple() const { return findArch(arch)->triple; }

std::string TargetInfo::llvmFeatures() const {
  const ArchDef *def = findArch(arch);
  llvm::SmallVector<llvm::StringRef> names;
  llvm::StringRef(def->baseLLVMFeatures).split(names, ',', -1, false);
  for (const std::string &feature : features)
    llvm::StringRef(findFeature(*def, feature)->llvmFeatures)
        .split(names, ',', -1, false);
  std::string text;
  for (llvm::StringRef name : names)
    text += (text.empty() ? "+" : ",+") + name.str();
  llvm::SmallVector<llvm::StringRef> disabled;
  llvm::StringRef(def->disabledLLVMFeatures).split(disabled, ',', -1, false);
  for (llvm::StringRef name : disabled)
    text += (text.empty() ? "-" : ",-") + name.str();
  return text;
}

unsigned TargetInfo::vectorBits() const {
  if (has("avx512f"))
    return 512;
  if (has("avx2"))
    return 256;
  return 128;
}

unsigned TargetInfo::vectorRegisters() const {
  return arch == "aarch64" || has("avx512f") ? 32 : 16;
}

bool TargetInfo::hasVectorFMA() const {
  return arch == "aarch64" || has("avx2");
}

TargetInfo::RegisterTile TargetInfo::f32MatmulTile() const {
  unsigned lanes = vectorBits() / 32;
  // Three registers of B per k step; without FMA the product needs a
  // temporary register too.
  unsigned bRegisters = 3;
  unsigned spare = bRegisters + 1 + (hasVectorFMA() ? 0 : 1);
  unsigned rows = (vectorRegisters() - spare) / bRegisters;
  // 16 registers: 4 x 3 (AVX2) or 3 x 3 (SSE); 32 registers: 9 x 3, rounded
  // down to 8 so that channel counts (multiples of 8) leave no remainder.
  if (rows > 8)
    rows = 8;
  return {rows, bRegisters * lanes};
}

TargetInfo::RegisterTile TargetInfo::f32MatmulTile(unsigned rows) const {
  RegisterTile tile = f32MatmulTile();
  if (rows == 0 || rows >= tile.rows)
    return tile;
  unsigned lanes = vectorBits() / 32;
  // Per k step: one register of B per column vector, used by every row,
  // and one broadcast of A (plus a temporary without FMA).
  unsigned spare = 1 + (hasVectorFMA() ? 0 : 1);
  unsigned vectors = (vectorRegisters() - spare) / (rows + 1);
  return {rows, std::max(vectors, tile.columns / lanes) * lanes};
}

TargetInfo::Int8Dot TargetInfo::int8Dot() const {
  if (arch == "aarch64")
    return has("i8mm")      ? Int8Dot::NeonUsdot
           : has("dotprod") ? Int8Dot::NeonSdot
                            : Int8Dot::None;
  if (has("avx512vnni"))
    return Int8Dot::VNNI;
  if (has("avx2"))
    return Int8Dot::MaddUbsw;
  return Int8Dot::None;
}

bool TargetInfo::hasInt8MatrixMultiply() const {
  return arch == "aarch64" && has("i8mm");
}

TargetInfo::RegisterTile TargetInfo::int8MatmulTile() const {
  unsigned lanes = vectorBits() / 32;
  // Per k step: three (AVX-512, NEON) or two (AVX2) vectors of packed
  // groups and one broadcast; vpmaddubsw needs up to four temporaries (its
  // exact path widens each operand to two vectors of i16 words, see
  // IntegerDot.h).
  unsigned columnVectors = vectorRegisters() >= 32 ? 3 : 2;
  unsigned spare = columnVectors + 1 + (int8Dot() == Int8Dot::MaddUbsw ? 4 : 0);
  unsigned rows = std::min(8u, (vectorRegisters() - spare) / columnVectors);
  return {rows, columnVectors * lanes};
}

bool TargetInfo::runsOnHost() const {
  TargetInfo machine = host();
  if (machine.arch != arch)
    return false;
  return llvm::all_of(features,
                      [&](const std::string &f) { return machine.has(f); });
}

} // namespace mlir::quarc
