//===- QuantizationPlan.cpp - which tensors post-training quantization quantizes ===//

#include "QuantizationPlan.h"
#include "BiasAdd.h"
#include "TableFunctions.h"
#include "quarc/Dialect/Quarc/IR/QuantBehavior.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::quarc {

std::optional<ContractionOperands> getContractionOperands(Operation *op) {
  auto isConstant = [](Value v) { return v.getDefiningOp<ConstantOp>(); };
  if (auto conv = dyn_cast<ConvOp>(op)) {
    if (!isConstant(conv.getW()))
      return std::nullopt;
    return ContractionOperands{&op->getOpOperand(0), &op->getOpOperand(1), 0};
  }
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    if (!isConstant(gemm.getB()) || gemm.getTransA() != 0)
      return std::nullopt;
    return ContractionOperands{&op->getOpOperand(0), &op->getOpOperand(1),
                               gemm.getTransB() != 0 ? 0 : 1};
  }
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(matmul.getB().getType());
    if (!isConstant(matmul.getB()) || !type || type.getRank() < 2)
      return std::nullopt;
    return ContractionOperands{&op->getOpOperand(0), &op->getOpOperand(1),
                               int32_t(type.getRank() - 1)};
  }
  return std::nullopt;
}

Value getFusedActivationOutput(Value value) {
  if (!value.hasOneUse())
    return value;
  Operation *user = *value.getUsers().begin();
  if (isa<ReluOp>(user))
    return user->getResult(0);
  auto clip = dyn_cast<ClipOp>(user);
  auto isConstantOrNone = [](Value bound) {
    return isNone(bound) || bound.getDefiningOp<ConstantOp>();
  };
  if (clip && isConstantOrNone(clip.getMin()) &&
      isConstantOrNone(clip.getMax()))
    return clip.getOutput();
  return value;
}

Value QuantizationPlan::getParamsSource(Value value) const {
  for (auto it = paramsFrom.find(value); it != paramsFrom.end();
       it = paramsFrom.find(value))
    value = it->second;
  return value;
}

namespace {

enum class Kind { Contraction, Requantizing, PassThrough, Table };

/// An op that may run as integer code, with the activations it would read
/// and write quantized.
struct Candidate {
  Operation *op;
  Kind kind;
  SmallVector<Value> inputs, outputs;
  bool integer = true;
};

/// A float (f32) ranked tensor computed at run time.
bool isFloatActivation(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32() &&
         !value.getDefiningOp<ConstantOp>();
}

/// A pooling input the integer average pool takes: N x C x D (x D), the
/// spatial dims static.
bool isStaticPoolInput(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != 3 && type.getRank() != 4)
    return false;
  for (int64_t d = 2; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return false;
  return true;
}

class Planner {
public:
  Planner(func::FuncOp func, const PlanOptions &options)
      : block(func.getBody().front()), options(options) {}

  QuantizationPlan run() {
    collectContractions();
    if (options.eightBitActivations) {
      // Activations fused into Add/Mul first, so that table regions do not
      // take them; then the regions, which decide which Add/Mul are
      // functions of one tensor (tables) rather than requantizing ops.
      fuseBinaryActivations();
      computeTableRoots();
      collectRequantizing();
      collectTableExits();
      collectPassThrough();
    }
    index();
    demoteUntilStable();
    return buildPlan();
  }

private:
  Block &block;
  const PlanOptions &options;
  SmallVector<Candidate> candidates;
  /// Relu/Clip ops an integer op applies as a clamp (and bias Adds a
  /// contraction takes into its bias), and the output through them of the
  /// Add/Mul that do.
  llvm::DenseSet<Operation *> fusedActivations;
  llvm::DenseMap<Operation *, Value> fusedOutputs;
  /// For each table function, the one activation it is a function of
  /// (null when it has several).
  llvm::DenseMap<Operation *, Value> tableRoots;
  llvm::DenseMap<Value, unsigned> producerOf;
  llvm::DenseMap<Value, SmallVector<unsigned>> consumersOf;

  bool isExcluded(Operation *op) const {
    if (op->hasAttr(kKeepFloatAttr))
      return true;
    if (options.floatOps && options.floatOps->contains(op->getName().getStringRef()))
      return true;
    return options.excludedNodes &&
           llvm::any_of(getNodeNames(op), [&](StringRef node) {
             return options.excludedNodes->contains(node);
           });
  }

  bool hasStats(Value value) const { return options.hasStats(value); }

  /// `value` through the Relu/Clip that only it feeds, when that one is
  /// not excluded and has statistics (else `value`).
  Value fuseActivation(Value value) {
    Value fused = getFusedActivationOutput(value);
    if (fused == value || isExcluded(fused.getDefiningOp()) ||
        !hasStats(fused))
      return value;
    fusedActivations.insert(fused.getDefiningOp());
    return fused;
  }

  void collectContractions() {
    for (Operation &op : block) {
      std::optional<ContractionOperands> operands = getContractionOperands(&op);
      if (!operands || isExcluded(&op))
        continue;
      Value input = operands->activation->get();
      if (!isFloatActivation(input) || !hasStats(input))
        continue;
      Candidate candidate{&op, Kind::Contraction, {input}, {}};
      // A bias written as a separate Add goes into the integer op's bias,
      // then a Relu/Clip into its clamp.
      Value output = op.getResult(0);
      if (std::optional<BiasAdd> bias = getBiasAdd(&op, output);
          bias && !isExcluded(bias->add)) {
        fusedActivations.insert(bias->add);
        output = bias->add.getResult();
      }
      output = fuseActivation(output);
      if (hasStats(output))
        candidate.outputs.push_back(output);
      candidates.push_back(std::move(candidate));
    }
  }

  /// The Relu/Clip after an Add or Mul of two different activations, which
  /// quarc.qadd / quarc.qmul apply as a clamp.
  void fuseBinaryActivations() {
    for (Operation &op : block) {
      if (!isa<AddOp, MulOp>(op) || isExcluded(&op) ||
          op.getOperand(0) == op.getOperand(1) ||
          !isFloatActivation(op.getOperand(0)) ||
          !isFloatActivation(op.getOperand(1)))
        continue;
      Value output = fuseActivation(op.getResult(0));
      if (output != op.getResult(0))
        fusedOutputs[&op] = output;
    }
  }

  /// For each table function: the one activation it is a function of,
  /// through other table functions and scalar constants (null when it is
  /// a function of several, or broadcasts to another shape).
  void computeTableRoots() {
    for (Operation &op : block) {
      if (!isTableFunction(&op) || passesQuantization(&op) ||
          isExcluded(&op) || fusedActivations.contains(&op))
        continue;
      Value root;
      bool single = true;
      for (Value operand : op.getOperands()) {
        if (isNone(operand) || getScalarConstant(operand))
          continue;
        Value source = operand;
        Operation *producer = operand.getDefiningOp();
        auto it = producer ? tableRoots.find(producer) : tableRoots.end();
        if (it != tableRoots.end() && it->second)
          source = it->second;
        else if (!isFloatActivation(operand))
          single = false;
        if (root && source != root)
          single = false;
        root = source;
      }
      // Elementwise over the root itself (no broadcast to a larger shape).
      if (!root || !single ||
          cast<RankedTensorType>(op.getResult(0).getType()).getShape() !=
              cast<RankedTensorType>(root.getType()).getShape())
        root = nullptr;
      tableRoots[&op] = root;
    }
  }

  /// Table regions: an exit (a table function whose value is needed
  /// outside the chain of its root) becomes one table of the root.
  void collectTableExits() {
    for (Operation &op : block) {
      auto it = tableRoots.find(&op);
      if (it == tableRoots.end() || !it->second)
        continue;
      Value root = it->second, result = op.getResult(0);
      bool isExit = llvm::any_of(result.getUsers(), [&](Operation *user) {
        auto userRoot = tableRoots.find(user);
        return userRoot == tableRoots.end() || userRoot->second != root;
      });
      if (isExit && hasStats(root) && hasStats(result))
        candidates.push_back({&op, Kind::Table, {root}, {result}});
    }
  }

  void collectRequantizing() {
    llvm::DenseSet<Operation *> taken = candidateOps();
    auto allActivationsWithStats = [&](ValueRange values) {
      return !values.empty() && llvm::all_of(values, [&](Value v) {
        return isFloatActivation(v) && hasStats(v);
      });
    };
    for (Operation &op : block) {
      if (isExcluded(&op) || taken.contains(&op))
        continue;
      Value output = op.getNumResults() == 1 ? op.getResult(0) : Value();
      SmallVector<Value> inputs;
      if (isa<AddOp, MulOp>(op)) {
        // A function of one activation is a table, not a sum or product.
        auto root = tableRoots.find(&op);
        if (root != tableRoots.end() && root->second)
          continue;
        inputs.assign(op.getOperands().begin(), op.getOperands().end());
        if (auto fused = fusedOutputs.find(&op); fused != fusedOutputs.end())
          output = fused->second;
      } else if (isa<AveragePoolOp, GlobalAveragePoolOp>(op)) {
        inputs = {op.getOperand(0)};
        if (!isStaticPoolInput(inputs[0]))
          continue;
      } else if (auto concat = dyn_cast<ConcatOp>(op)) {
        inputs.assign(concat.getInputs().begin(), concat.getInputs().end());
      } else {
        continue;
      }
      if (allActivationsWithStats(inputs) && hasStats(output))
        candidates.push_back({&op, Kind::Requantizing, inputs, {output}});
    }
  }

  void collectPassThrough() {
    for (Operation &op : block) {
      if (!passesQuantization(&op) || isa<ConcatOp>(op) || isExcluded(&op))
        continue;
      SmallVector<Value> inputs;
      for (OpOperand *operand : getPassThroughOperands(&op))
        inputs.push_back(operand->get());
      SmallVector<Value> outputs = getPassThroughResults(&op);
      if (llvm::all_of(inputs, isFloatActivation) &&
          llvm::all_of(outputs, [](Value v) {
            return cast<RankedTensorType>(v.getType()).getElementType().isF32();
          }))
        candidates.push_back({&op, Kind::PassThrough, inputs, outputs});
    }
  }

  llvm::DenseSet<Operation *> candidateOps() const {
    llvm::DenseSet<Operation *> ops;
    for (const Candidate &candidate : candidates)
      ops.insert(candidate.op);
    return ops;
  }

  void index() {
    for (auto [i, candidate] : llvm::enumerate(candidates)) {
      for (Value output : candidate.outputs)
        producerOf[output] = i;
      for (Value input : candidate.inputs)
        consumersOf[input].push_back(i);
    }
  }

  bool producedByInteger(Value value) const {
    auto it = producerOf.find(value);
    return it != producerOf.end() && candidates[it->second].integer;
  }

  /// Produced by an integer op whose outputs are always quantized: any but
  /// a contraction (which writes f32 when no integer op reads it).
  bool producedByQuantizingOp(Value value) const {
    auto it = producerOf.find(value);
    return it != producerOf.end() && candidates[it->second].integer &&
           candidates[it->second].kind != Kind::Contraction;
  }

  /// Whether an integer op reads `value` to compute integer results that
  /// are used as such: any integer op but a pass-through one, or an
  /// integer pass-through op whose own results are (so that a chain of
  /// reshapes into float code does not count). `except` is not counted.
  bool feedsInteger(Value value, std::optional<unsigned> except = {}) const {
    auto it = consumersOf.find(value);
    if (it == consumersOf.end())
      return false;
    return llvm::any_of(it->second, [&](unsigned i) {
      const Candidate &consumer = candidates[i];
      if (!consumer.integer || (except && i == *except))
        return false;
      if (consumer.kind != Kind::PassThrough)
        return true;
      return llvm::any_of(consumer.outputs,
                          [&](Value v) { return feedsInteger(v); });
    });
  }

  bool shouldStayInteger(unsigned i) const {
    const Candidate &candidate = candidates[i];
    switch (candidate.kind) {
    case Kind::Contraction:
      return true;
    case Kind::PassThrough:
      // Only where the values are quantized anyway: integer code reads the
      // results, another integer op reads the input, or the input comes
      // out of an integer op that always writes quantized values (a
      // contraction whose result no integer op reads writes f32: a chain
      // of reshapes from it into float code must not quantize it).
      return llvm::any_of(candidate.outputs,
                          [&](Value v) { return feedsInteger(v); }) ||
             llvm::any_of(candidate.inputs, [&](Value v) {
               return feedsInteger(v, i) || producedByQuantizingOp(v);
             });
    case Kind::Requantizing:
    case Kind::Table:
      return llvm::any_of(candidate.inputs,
                          [&](Value v) { return producedByInteger(v); }) &&
             llvm::any_of(candidate.outputs,
                          [&](Value v) { return feedsInteger(v); });
    }
    llvm_unreachable("unknown candidate kind");
  }

  void demoteUntilStable() {
    for (bool changed = true; changed;) {
      changed = false;
      for (unsigned i = 0; i < candidates.size(); ++i) {
        if (candidates[i].integer && !shouldStayInteger(i)) {
          candidates[i].integer = false;
          changed = true;
        }
      }
    }
  }

  QuantizationPlan buildPlan() {
    QuantizationPlan plan;
    llvm::DenseSet<Value> quantized;
    for (Candidate &candidate : candidates) {
      if (!candidate.integer)
        continue;
      if (candidate.kind == Kind::Contraction)
        plan.contractions.push_back(
            {candidate.op, *getContractionOperands(candidate.op)});
      quantized.insert(candidate.inputs.begin(), candidate.inputs.end());
      for (Value output : candidate.outputs)
        // A contraction whose result feeds no integer op writes f32
        // straight from its accumulators: more exact than a round trip.
        if (candidate.kind != Kind::Contraction || feedsInteger(output))
          quantized.insert(output);
      if (candidate.kind == Kind::PassThrough)
        for (Value output : candidate.outputs)
          plan.paramsFrom[output] = candidate.inputs.front();
      if (isa<ConcatOp>(candidate.op))
        shareConcatScale(candidate, plan);
    }
    // Program order, so that each pair is created after its producer's.
    for (Value argument : block.getArguments())
      if (quantized.contains(argument))
        plan.tensors.insert(argument);
    for (Operation &op : block)
      for (Value result : op.getResults())
        if (quantized.contains(result))
          plan.tensors.insert(result);
    return plan;
  }

  /// A Concat input that only the Concat reads and that an integer op
  /// (not a pass-through one, whose parameters are its input's) writes
  /// takes the Concat's parameters: its producer then requantizes straight
  /// into them and the Concat copies.
  void shareConcatScale(const Candidate &concat, QuantizationPlan &plan) {
    for (Value input : concat.inputs) {
      auto producer = producerOf.find(input);
      if (producer == producerOf.end() || !input.hasOneUse())
        continue;
      const Candidate &writer = candidates[producer->second];
      if (writer.integer && writer.kind != Kind::PassThrough)
        plan.paramsFrom[input] = concat.outputs.front();
    }
  }
};

} // namespace

QuantizationPlan planQuantization(func::FuncOp func,
                                  const PlanOptions &options) {
  return Planner(func, options).run();
}

} // namespace mlir::quarc
