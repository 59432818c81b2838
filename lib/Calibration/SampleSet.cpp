//===- SampleSet.cpp - sets of sample indices as sorted intervals ---------===//

#include "quarc/Calibration/SampleSet.h"

#include <algorithm>

namespace mlir::quarc::calibration {

void SampleSet::insert(uint64_t index) {
  // Samples usually arrive in increasing order: extend the last interval.
  if (!intervals.empty() && intervals.back().last + 1 == index) {
    intervals.back().last = index;
    return;
  }
  if (intervals.empty() || intervals.back().last < index) {
    intervals.push_back({index, index});
    return;
  }
  // The first interval that ends at or after `index`.
  auto it = std::lower_bound(
      intervals.begin(), intervals.end(), index,
      [](const Interval &interval, uint64_t i) { return interval.last < i; });
  if (it->first <= index)
    return; // already present
  bool joinsNext = it->first == index + 1;
  bool joinsPrevious =
      it != intervals.begin() && index > 0 && std::prev(it)->last == index - 1;
  if (joinsPrevious && joinsNext) {
    std::prev(it)->last = it->last;
    intervals.erase(it);
  } else if (joinsPrevious) {
    std::prev(it)->last = index;
  } else if (joinsNext) {
    it->first = index;
  } else {
    intervals.insert(it, {index, index});
  }
}

bool SampleSet::contains(uint64_t index) const {
  auto it = std::lower_bound(
      intervals.begin(), intervals.end(), index,
      [](const Interval &interval, uint64_t i) { return interval.last < i; });
  return it != intervals.end() && it->first <= index;
}

std::optional<uint64_t> SampleSet::firstCommon(const SampleSet &other) const {
  auto a = intervals.begin(), b = other.intervals.begin();
  while (a != intervals.end() && b != other.intervals.end()) {
    uint64_t first = std::max(a->first, b->first);
    if (first <= std::min(a->last, b->last))
      return first;
    if (a->last < b->last)
      ++a;
    else
      ++b;
  }
  return std::nullopt;
}

void SampleSet::unite(const SampleSet &other) {
  std::vector<Interval> all;
  all.reserve(intervals.size() + other.intervals.size());
  std::merge(
      intervals.begin(), intervals.end(), other.intervals.begin(),
      other.intervals.end(), std::back_inserter(all),
      [](const Interval &x, const Interval &y) { return x.first < y.first; });
  intervals.clear();
  for (const Interval &interval : all) {
    if (!intervals.empty() && intervals.back().last != UINT64_MAX &&
        interval.first <= intervals.back().last + 1) {
      intervals.back().last = std::max(intervals.back().last, interval.last);
      continue;
    }
    intervals.push_back(interval);
  }
}

uint64_t SampleSet::size() const {
  uint64_t n = 0;
  for (const Interval &interval : intervals)
    n += interval.last - interval.first + 1;
  return n;
}

bool SampleSet::appendInterval(Interval interval) {
  if (interval.first > interval.last)
    return false;
  if (!intervals.empty()) {
    Interval &back = intervals.back();
    if (interval.first <= back.last)
      return false;
    if (interval.first == back.last + 1) {
      back.last = interval.last;
      return true;
    }
  }
  intervals.push_back(interval);
  return true;
}

} // namespace mlir::quarc::calibration
