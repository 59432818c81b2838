//===- SampleSet.h - the samples a stats object covers ----------*- C++ -*-===//
//
// Samples are numbered by the caller: the index of a sample is its position
// in the whole calibration set (e.g. in the sorted file list of `--data`),
// not in the part one process handles. That is what makes stats recorded
// by different processes mergeable and the moving average well defined.
// The set is kept as sorted disjoint intervals, so it stays small when
// processes take contiguous ranges.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_SAMPLESET_H
#define QUARC_CALIBRATION_SAMPLESET_H

#include "llvm/ADT/ArrayRef.h"
#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::quarc::calibration {

/// The largest sample index: indices are written to JSON as int64.
constexpr uint64_t kMaxSampleIndex = INT64_MAX;

class SampleSet {
public:
  /// [first, last], both included.
  struct Interval {
    uint64_t first;
    uint64_t last;
    bool operator==(const Interval &o) const {
      return first == o.first && last == o.last;
    }
  };

  void insert(uint64_t index);
  bool contains(uint64_t index) const;
  /// The smallest index in both sets, if any.
  std::optional<uint64_t> firstCommon(const SampleSet &other) const;
  /// Union with `other`.
  void unite(const SampleSet &other);
  /// Number of samples.
  uint64_t size() const;
  bool empty() const { return intervals.empty(); }

  /// Sorted, disjoint and not adjacent (adjacent intervals are joined), so
  /// equal sets have equal interval lists.
  llvm::ArrayRef<Interval> getIntervals() const { return intervals; }
  /// Appends an interval above all present ones, joining it to the last one
  /// when adjacent (how the file reader builds a set); false when
  /// `first > last` or it is not above the present ones.
  bool appendInterval(Interval interval);

  bool operator==(const SampleSet &o) const { return intervals == o.intervals; }
  bool operator!=(const SampleSet &o) const { return !(*this == o); }

private:
  std::vector<Interval> intervals;
};

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_SAMPLESET_H
