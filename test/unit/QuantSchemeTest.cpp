//===- QuantSchemeTest.cpp - default scheme and the --scheme syntax -------===//

#include "quarc/Quantization/QuantScheme.h"

#include <gtest/gtest.h>

using namespace mlir::quarc;

namespace {

QuantScheme parse(llvm::StringRef spec) {
  llvm::Expected<QuantScheme> scheme = parseQuantScheme(spec);
  if (!scheme) {
    ADD_FAILURE() << spec.str() << ": " << llvm::toString(scheme.takeError());
    return {};
  }
  return *scheme;
}

std::string errorOf(llvm::StringRef spec) {
  llvm::Expected<QuantScheme> scheme = parseQuantScheme(spec);
  if (scheme)
    return "<no error>";
  return llvm::toString(scheme.takeError());
}

TEST(QuantSchemeTest, DefaultCPUScheme) {
  QuantScheme scheme = QuantScheme::getDefaultCPU();
  EXPECT_EQ(scheme.activations.type, QuantType::u8());
  EXPECT_FALSE(scheme.activations.symmetric);
  EXPECT_EQ(scheme.activations.granularity, Granularity::PerTensor);
  EXPECT_EQ(scheme.weights.type, QuantType::s8());
  EXPECT_TRUE(scheme.weights.symmetric);
  EXPECT_EQ(scheme.weights.granularity, Granularity::PerChannel);
  EXPECT_EQ(scheme.calibrationMethod, "minmax");
  EXPECT_EQ(scheme.weightRange, WeightRange::Full);
  EXPECT_FALSE(bool(scheme.verify()));
  EXPECT_EQ(scheme.str(), "activations=u8:asymmetric:per-tensor,"
                          "weights=s8:symmetric:per-channel,"
                          "calibration=minmax,reduce-range=false");
}

TEST(QuantSchemeTest, ParsesOverrides) {
  QuantScheme scheme =
      parse("activations=u8:asymmetric,weights=s8:symmetric:per-group=32");
  EXPECT_EQ(scheme.weights.granularity, Granularity::PerGroup);
  EXPECT_EQ(scheme.weights.groupSize, 32);
  EXPECT_EQ(scheme.activations, QuantScheme::getDefaultCPU().activations);

  // Only the named fields change.
  scheme = parse("weights=per-group=64");
  EXPECT_EQ(scheme.weights.type, QuantType::s8());
  EXPECT_TRUE(scheme.weights.symmetric);
  EXPECT_EQ(scheme.weights.groupSize, 64);

  scheme = parse(" activations = s16:symmetric , weights=s4:narrow ");
  EXPECT_EQ(scheme.activations.type, QuantType::s16());
  EXPECT_TRUE(scheme.activations.symmetric);
  EXPECT_EQ(scheme.weights.type, (QuantType{4, true, true}));

  EXPECT_EQ(parse("reduce-range").weightRange, WeightRange::Reduced);
  EXPECT_EQ(parse("reduce-range=true").weightRange, WeightRange::Reduced);
  EXPECT_EQ(parse("reduce-range=pairs").weightRange, WeightRange::Pairs);
  EXPECT_EQ(parse("reduce-range=false").weightRange, WeightRange::Full);
  EXPECT_EQ(parse("calibration=percentile=99.99").calibrationMethod,
            "percentile=99.99");
  EXPECT_EQ(parse("calibration=entropy").calibrationMethod, "entropy");
  EXPECT_EQ(parse("weights=int8").weights.type, QuantType::s8());
  EXPECT_EQ(parse("weights=i8").weights.type, QuantType::s8());
  EXPECT_EQ(parse("activations=uint8").activations.type, QuantType::u8());
  EXPECT_EQ(parse("activations=u16").activations.type, QuantType::u16());
  EXPECT_EQ(parse("weights=u2:asymmetric:per-tensor").weights.granularity,
            Granularity::PerTensor);

  // A base other than the default.
  QuantScheme base = QuantScheme::getDefaultCPU();
  base.weights.type.narrowRange = true;
  llvm::Expected<QuantScheme> fromBase =
      parseQuantScheme("weights=full-range", base);
  ASSERT_TRUE(bool(fromBase));
  EXPECT_FALSE(fromBase->weights.type.narrowRange);
}

TEST(QuantSchemeTest, SchemeOptionDefaultsWhenEmpty) {
  // No --scheme: the default scheme (parseQuantScheme rejects "").
  llvm::Expected<QuantScheme> none = parseSchemeOption("");
  ASSERT_TRUE(bool(none)) << llvm::toString(none.takeError());
  EXPECT_EQ(*none, QuantScheme::getDefaultCPU());
  EXPECT_EQ(parse("reduce-range=pairs"),
            llvm::cantFail(parseSchemeOption("reduce-range=pairs")));
}

TEST(QuantSchemeTest, StrRoundTrips) {
  for (llvm::StringRef spec :
       {"activations=u8:asymmetric,weights=s8:symmetric:per-group=32",
        "weights=s4:narrow:per-group=128,reduce-range",
        "activations=s16:symmetric,weights=s16:asymmetric:per-tensor,"
        "calibration=percentile=99.9",
        "activations=u8:narrow,calibration=mse", "reduce-range=pairs"}) {
    QuantScheme scheme = parse(spec);
    EXPECT_EQ(parse(scheme.str()), scheme)
        << spec.str() << " -> " << scheme.str();
  }
}

TEST(QuantSchemeTest, ErrorsNameTheBadPart) {
  struct Case {
    const char *spec;
    const char *message;
  } cases[] = {
      {"weights=q8", "unknown integer type 'q8'"},
      {"weights=s1", "unknown integer type 's1'"},
      {"weights=s17", "unknown integer type 's17'"},
      {"weights=s8:foo", "unknown field 'foo'"},
      {"weights=s8:", "empty field"},
      {"weights=", "no fields"},
      {"weights", "expected weights=FIELD"},
      {"bias=s32", "unknown key 'bias'"},
      {"weights=s8,weights=u8", "'weights' is given twice"},
      {"activations=per-channel", "activations: per-channel is not supported"},
      {"activations=per-group=8", "activations: per-group is not supported"},
      {"weights=per-group=0", "bad field 'per-group=0'"},
      {"weights=per-group", "bad field 'per-group'"},
      {"weights=per-group=x", "bad field 'per-group=x'"},
      {"weights=per-groups=4", "bad field 'per-groups=4'"},
      {"reduce-range=yes", "expected reduce-range"},
      {"weights=u8,reduce-range=pairs", "weights=u8:symmetric:per-channel are not symmetric s8"},
      {"weights=asymmetric,reduce-range=pairs", "not symmetric s8"},
      {"weights=s4,reduce-range=pairs", "not symmetric s8"},
      {"calibration=", "expected calibration=METHOD"},
      {"activations=u8,,weights=s8", "empty clause"},
      {"", "empty clause"},
      {"weights=s8:symetric", "unknown field 'symetric'"},
  };
  for (const Case &c : cases) {
    std::string error = errorOf(c.spec);
    EXPECT_NE(error.find(c.message), std::string::npos)
        << "'" << c.spec << "' gave: " << error;
  }
  // The clause is quoted.
  std::string error = errorOf("activations=u8,weights=s8:bogus");
  EXPECT_NE(error.find("bad scheme clause 'weights=s8:bogus'"),
            std::string::npos)
      << error;
}

TEST(QuantSchemeTest, ParseQuantType) {
  auto check = [](llvm::StringRef spec, QuantType expected) {
    llvm::Expected<QuantType> type = parseQuantType(spec);
    ASSERT_TRUE(bool(type)) << llvm::toString(type.takeError());
    EXPECT_EQ(*type, expected) << spec.str();
  };
  check("u8", QuantType::u8());
  check("s8", QuantType::s8());
  check("i4", QuantType::s4());
  check("uint16", QuantType::u16());
  check("int16", QuantType::s16());
  check("u2", (QuantType{2, false, false}));
  for (llvm::StringRef bad : {"u", "f32", "u0", "s1", "u32", "x8", "u8x"}) {
    llvm::Expected<QuantType> type = parseQuantType(bad);
    EXPECT_FALSE(bool(type)) << bad.str();
    if (!type)
      llvm::consumeError(type.takeError());
  }
}

} // namespace
