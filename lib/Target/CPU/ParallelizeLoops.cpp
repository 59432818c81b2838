//===- ParallelizeLoops.cpp - parallel loops on the runtime's threads -----===//
//
// The runtime owns the threads (runtime/src/thread_pool.c); generated code
// only says "run this function over [0, n) in parallel". So a parallel loop
// becomes an outlined function over a range of its (linearized) outer
// iterations plus a context struct holding the values it uses.
//
// The context crosses the boundary between MLIR types and LLVM types
// before the rest of the module is lowered: a memref is stored as the LLVM
// struct of its descriptor through an unrealized cast, and read back the
// same way. When the module is lowered to LLVM, each such cast meets the
// lowering's own cast in the other direction and both disappear
// (reconcile-unrealized-casts).
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCPARALLELIZELOOPS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kParallelFor = "quarc_parallel_for";

/// Enough parallel iterations to balance any thread count we expect (each
/// thread takes a contiguous range of them).
constexpr int64_t kMinParallelIterations = 256;

/// The fewest iterations of the innermost loop of an ordinary loop nest
/// per block, when it is split in blocks (a batch of one over a flattened
/// feature map: see Split), and what a block's size is a multiple of: long
/// enough for LLVM's vectorized loop to cover its start and end.
constexpr int64_t kMinBlockIterations = 1024;
constexpr int64_t kBlockAlignment = 64;

/// How an outlined loop nest's iterations are split between threads: its
/// first `loops` loops, linearized, and when those have fewer than
/// kMinParallelIterations (an elementwise op on a batch of one, its feature
/// map flattened into the last loop: ResNet-50's residual adds ran on one
/// thread), the next loop, the last, in blocks of `block` iterations.
struct Split {
  unsigned loops;
  int64_t block = 0; // iterations per block of the last loop, or 0
};

/// The LLVM type a captured value travels as, or null if unsupported.
Type getContextFieldType(Type type) {
  MLIRContext *context = type.getContext();
  if (auto memref = dyn_cast<MemRefType>(type)) {
    if (memref.getMemorySpace())
      return nullptr;
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);
    SmallVector<Type> fields = {ptr, ptr, i64};
    if (memref.getRank() > 0) {
      auto array = LLVM::LLVMArrayType::get(i64, memref.getRank());
      fields.append({array, array});
    }
    return LLVM::LLVMStructType::getLiteral(context, fields);
  }
  if (isa<IndexType>(type))
    return IntegerType::get(context, 64);
  if (isa<IntegerType, FloatType>(type))
    return type;
  return nullptr;
}

/// `value` as its context field (in the caller).
Value toField(OpBuilder &b, Location loc, Value value, Type fieldType) {
  if (isa<MemRefType>(value.getType()))
    return UnrealizedConversionCastOp::create(b, loc, fieldType, value)
        .getResult(0);
  if (isa<IndexType>(value.getType()))
    return arith::IndexCastOp::create(b, loc, fieldType, value);
  return value;
}

/// The context field back as a value of `type` (in the outlined function).
Value fromField(OpBuilder &b, Location loc, Value field, Type type) {
  if (isa<MemRefType>(type))
    return UnrealizedConversionCastOp::create(b, loc, type, field).getResult(0);
  if (isa<IndexType>(type))
    return arith::IndexCastOp::create(b, loc, type, field);
  return field;
}

Value tripCount(OpBuilder &b, Location loc, Value lower, Value upper,
                Value step) {
  Value span = arith::SubIOp::create(b, loc, upper, lower);
  return arith::CeilDivSIOp::create(b, loc, span, step);
}

/// Iterations of one loop with constant bounds, or nullopt.
std::optional<int64_t> staticTripCount(Value lower, Value upper, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lower),
                         u = getConstantIntValue(upper),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
}

/// Static iteration count of the loop nest's own loops, or nullopt.
std::optional<int64_t> staticIterations(scf::ParallelOp loop) {
  int64_t total = 1;
  for (auto [lower, upper, step] : llvm::zip(
           loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> trips = staticTripCount(lower, upper, step);
    if (!trips)
      return std::nullopt;
    total *= *trips;
  }
  return total;
}

class LoopOutliner {
public:
  LoopOutliner(ModuleOp module) : module(module) {}

  /// Replaces `loop` by a parallel call; false if it cannot be outlined.
  bool outline(scf::ParallelOp loop, func::FuncOp parent) {
    if (loop.getNumResults() != 0)
      return false;
    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (Value bound : loop.getOperands())
      used.insert(bound);
    SmallVector<Value> captured, constants;
    SmallVector<Type> fieldTypes;
    for (Value value : used) {
      Operation *def = value.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>() &&
          def->getNumOperands() == 0) {
        constants.push_back(value);
        continue;
      }
      Type fieldType = getContextFieldType(value.getType());
      if (!fieldType)
        return false;
      captured.push_back(value);
      fieldTypes.push_back(fieldType);
    }
    MLIRContext *context = module.getContext();
    auto contextType = LLVM::LLVMStructType::getLiteral(context, fieldTypes);
    func::FuncOp body = buildBody(loop, parent, captured, constants,
                                  contextType);
    buildCall(loop, parent, body, captured, contextType);
    loop.erase();
    return true;
  }

private:
  /// How `loop` is split (see Split): numSplitLoops's loops, and the last
  /// loop of an ordinary nest in blocks when those have too few
  /// iterations and it has at least two blocks' worth.
  static Split getSplit(scf::ParallelOp loop) {
    Split split{numSplitLoops(loop)};
    unsigned last = loop.getNumLoops() - 1;
    if (loop->hasAttr(kKernelLoopAttr) || split.loops != last)
      return split;
    int64_t outer = 1;
    for (unsigned d = 0; d < last; ++d) {
      std::optional<int64_t> trips = getStaticTrips(loop, d);
      if (!trips)
        return split;
      outer *= *trips;
    }
    std::optional<int64_t> inner = getStaticTrips(loop, last);
    if (outer >= kMinParallelIterations || !inner ||
        *inner < 2 * kMinBlockIterations)
      return split;
    int64_t blocks =
        std::min<int64_t>(llvm::divideCeil(kMinParallelIterations, outer),
                          *inner / kMinBlockIterations);
    split.block =
        llvm::alignTo(llvm::divideCeil(*inner, blocks), kBlockAlignment);
    return split;
  }

  /// The parallel iterations of `split`: the split loops' and the blocks'.
  static Value getParallelIterations(OpBuilder &b, Location loc,
                                     scf::ParallelOp loop, const Split &split) {
    Value iterations = arith::ConstantIndexOp::create(b, loc, 1);
    for (unsigned d = 0; d < split.loops; ++d)
      iterations = arith::MulIOp::create(
          b, loc, iterations,
          tripCount(b, loc, loop.getLowerBound()[d], loop.getUpperBound()[d],
                    loop.getStep()[d]));
    if (split.block)
      iterations = arith::MulIOp::create(
          b, loc, iterations,
          arith::ConstantIndexOp::create(b, loc, getBlockCount(loop, split)));
    return iterations;
  }

  /// Blocks of the last loop (static, see getSplit).
  static int64_t getBlockCount(scf::ParallelOp loop, const Split &split) {
    return llvm::divideCeil(*getStaticTrips(loop, loop.getNumLoops() - 1),
                            split.block);
  }

  /// Iterations of loop `d` of `loop`, if its bounds are constant.
  static std::optional<int64_t> getStaticTrips(scf::ParallelOp loop,
                                               unsigned d) {
    return staticTripCount(loop.getLowerBound()[d], loop.getUpperBound()[d],
                           loop.getStep()[d]);
  }

  /// The outer loops split across threads (linearized): the fewest that
  /// give kMinParallelIterations, so the loops inside stay ordinary nested
  /// loops (no index arithmetic per element, and their innermost loop is
  /// what LLVM vectorizes). Never the last loop of an ordinary loop nest,
  /// unless it is the only one; any loop of a kernel's (whose iterations
  /// are whole tiles). With dynamic trip counts, all loops that may be.
  static unsigned numSplitLoops(scf::ParallelOp loop) {
    unsigned maxSplit =
        loop->hasAttr(kKernelLoopAttr)
            ? loop.getNumLoops()
            : std::max<unsigned>(1, loop.getNumLoops() - 1);
    int64_t iterations = 1;
    for (unsigned d = 0; d < maxSplit; ++d) {
      std::optional<int64_t> trips = getStaticTrips(loop, d);
      if (!trips)
        return maxSplit;
      iterations *= *trips;
      if (iterations >= kMinParallelIterations)
        return d + 1;
    }
    return maxSplit;
  }

  /// void <parent>_parallel_<k>(ptr context, i64 begin, i64 end)
  func::FuncOp buildBody(scf::ParallelOp loop, func::FuncOp parent,
                         ArrayRef<Value> captured, ArrayRef<Value> constants,
                         LLVM::LLVMStructType contextType) {
    MLIRContext *context = module.getContext();
    Location loc = loop.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);
    OpBuilder moduleBuilder(context);
    moduleBuilder.setInsertionPointAfter(parent);
    std::string name =
        (parent.getSymName() + "_parallel_" + Twine(counter++)).str();
    auto func = func::FuncOp::create(
        moduleBuilder, loc, name,
        FunctionType::get(context, {ptr, i64, i64}, {}));
    func.setPrivate();
    Block *entry = func.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);

    IRMapping mapping;
    for (Value constant : constants)
      b.clone(*constant.getDefiningOp(), mapping);
    Value fields = LLVM::LoadOp::create(b, loc, contextType, entry->getArgument(0));
    for (auto [i, value] : llvm::enumerate(captured)) {
      Value field = LLVM::ExtractValueOp::create(b, loc, fields, i);
      mapping.map(value, fromField(b, loc, field, value.getType()));
    }

    Split split = getSplit(loop);
    // The parallel dims: the split loops, then the blocks of the last loop.
    unsigned dims = split.loops + (split.block ? 1 : 0);
    SmallVector<Value> lower, step, trips;
    for (unsigned d = 0; d < dims; ++d) {
      lower.push_back(mapping.lookup(loop.getLowerBound()[d]));
      step.push_back(mapping.lookup(loop.getStep()[d]));
      trips.push_back(
          d == split.loops
              ? arith::ConstantIndexOp::create(b, loc,
                                               getBlockCount(loop, split))
                    .getResult()
              : tripCount(b, loc, lower.back(),
                          mapping.lookup(loop.getUpperBound()[d]),
                          step.back()));
    }
    Value begin = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                             entry->getArgument(1));
    Value end = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                           entry->getArgument(2));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ForOp::create(
        b, loc, begin, end, one, ValueRange{},
        [&](OpBuilder &lb, Location, Value linear, ValueRange) {
          // Delinearize, the last parallel dim fastest.
          SmallVector<Value> ivs(loop.getNumLoops());
          Value rest = linear;
          for (int d = dims - 1; d >= 0; --d) {
            Value index = d == 0 ? rest
                                 : arith::RemSIOp::create(lb, loc, rest,
                                                          trips[d]);
            if (d > 0)
              rest = arith::DivSIOp::create(lb, loc, rest, trips[d]);
            // A block of the last loop: its first iteration.
            if (d == int(split.loops))
              index = arith::MulIOp::create(
                  lb, loc, index,
                  arith::ConstantIndexOp::create(lb, loc, split.block));
            ivs[d] = arith::AddIOp::create(
                lb, loc, lower[d],
                arith::MulIOp::create(lb, loc, index, step[d]));
          }
          // The block's iterations, up to the loop's end.
          std::optional<std::pair<Value, Value>> blockBounds;
          if (split.block) {
            Value span = arith::MulIOp::create(
                lb, loc, step[split.loops],
                arith::ConstantIndexOp::create(lb, loc, split.block));
            Value end = arith::MinSIOp::create(
                lb, loc,
                arith::AddIOp::create(lb, loc, ivs[split.loops], span),
                mapping.lookup(loop.getUpperBound()[split.loops]));
            blockBounds = {ivs[split.loops], end};
          }
          buildInnerLoops(lb, loop, split.loops, ivs, mapping, blockBounds);
          scf::YieldOp::create(lb, loc);
        });
    func::ReturnOp::create(b, loc);
    hoistStaticAllocas(func);
    return func;
  }

  /// Stack buffers of fixed size that the loop body allocates (a kernel's
  /// scratch panel) are allocated once, at the outlined function's entry:
  /// in the loop each iteration would grow the stack again.
  static void hoistStaticAllocas(func::FuncOp func) {
    Block &entry = func.getBody().front();
    SmallVector<memref::AllocaOp> allocas;
    func.walk([&](memref::AllocaOp alloca) {
      if (alloca->getBlock() != &entry && alloca->getNumOperands() == 0)
        allocas.push_back(alloca);
    });
    for (memref::AllocaOp alloca : allocas)
      alloca->moveBefore(&entry, entry.begin());
  }

  /// Loops `dim` .. n-1 of `loop` as nested scf.for around its body; the
  /// first over `firstBounds` (a block of it) when given.
  static void
  buildInnerLoops(OpBuilder &b, scf::ParallelOp loop, unsigned dim,
                  SmallVector<Value> &ivs, IRMapping &mapping,
                  std::optional<std::pair<Value, Value>> firstBounds = {}) {
    if (dim == loop.getNumLoops()) {
      cloneBody(b, loop, ivs, mapping);
      return;
    }
    Location loc = loop.getLoc();
    scf::ForOp::create(
        b, loc,
        firstBounds ? firstBounds->first
                    : mapping.lookup(loop.getLowerBound()[dim]),
        firstBounds ? firstBounds->second
                    : mapping.lookup(loop.getUpperBound()[dim]),
        mapping.lookup(loop.getStep()[dim]), ValueRange{},
        [&](OpBuilder &nested, Location, Value iv, ValueRange) {
          ivs[dim] = iv;
          buildInnerLoops(nested, loop, dim + 1, ivs, mapping);
          scf::YieldOp::create(nested, loc);
        });
  }

  static void cloneBody(OpBuilder &b, scf::ParallelOp loop,
                        ArrayRef<Value> ivs, IRMapping &mapping) {
    for (auto [arg, iv] : llvm::zip(loop.getInductionVars(), ivs))
      mapping.map(arg, iv);
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
  }

  /// Fills the context (a stack slot in the parent's entry block, so a
  /// loop around the parallel loop does not grow the stack) and calls the
  /// runtime.
  void buildCall(scf::ParallelOp loop, func::FuncOp parent, func::FuncOp body,
                 ArrayRef<Value> captured, LLVM::LLVMStructType contextType) {
    MLIRContext *context = module.getContext();
    Location loc = loop.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);

    OpBuilder entry = OpBuilder::atBlockBegin(&parent.getBody().front());
    Value slotCount = LLVM::ConstantOp::create(entry, loc, i64, 1);
    Value slot =
        LLVM::AllocaOp::create(entry, loc, ptr, contextType, slotCount);

    OpBuilder b(loop);
    Value fields = LLVM::UndefOp::create(b, loc, contextType);
    for (auto [i, value] : llvm::enumerate(captured))
      fields = LLVM::InsertValueOp::create(
          b, loc, fields,
          toField(b, loc, value, contextType.getBody()[i]), i);
    LLVM::StoreOp::create(b, loc, fields, slot);

    Value iterations = getParallelIterations(b, loc, loop, getSplit(loop));
    Value fn = func::ConstantOp::create(b, loc, body.getFunctionType(),
                                        SymbolRefAttr::get(body));
    func::CallOp::create(
        b, loc, getParallelFor(body.getFunctionType()), ValueRange{fn, slot,
            arith::IndexCastOp::create(b, loc, i64, iterations).getResult()});
  }

  /// The runtime's quarc_parallel_for, declared once.
  func::FuncOp getParallelFor(FunctionType bodyType) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(kParallelFor))
      return existing;
    MLIRContext *context = module.getContext();
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto decl = func::FuncOp::create(
        b, module.getLoc(), kParallelFor,
        FunctionType::get(context,
                          {bodyType, LLVM::LLVMPointerType::get(context),
                           IntegerType::get(context, 64)},
                          {}));
    decl.setPrivate();
    return decl;
  }

  ModuleOp module;
  unsigned counter = 0;
};

struct QuarcParallelizeLoops
    : impl::QuarcParallelizeLoopsBase<QuarcParallelizeLoops> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    LoopOutliner outliner(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      SmallVector<scf::ParallelOp> outermost;
      func.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>() && isWorthIt(loop))
          outermost.push_back(loop);
      });
      for (scf::ParallelOp loop : outermost)
        (void)outliner.outline(loop, func);
    }
  }

  bool isWorthIt(scf::ParallelOp loop) const {
    if (loop->hasAttr(kKernelLoopAttr))
      return true;
    std::optional<int64_t> iterations = staticIterations(loop);
    if (!iterations)
      return false;
    // The loops inside count too: a parallel loop over rows of a matrix
    // does a row per iteration.
    int64_t inner = 1;
    loop.getBody()->walk([&](scf::ForOp nested) {
      std::optional<int64_t> trips =
          staticTripCount(nested.getLowerBound(), nested.getUpperBound(),
                          nested.getStep());
      inner = std::max<int64_t>(inner, trips.value_or(1));
    });
    return *iterations * inner >= minIterations;
  }
};

} // namespace
} // namespace mlir::quarc
