//===- Passes.td - CPU code generation passes -----------------------------===//
//
// Passes of the CPU pipeline between the linalg lowering and LLVM: they
// choose algorithms (convolution as matrix multiplication) and generate the
// register-tiled vector code for the ops that dominate run time. docs/passes.md
// is generated from the descriptions below.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_TARGET_CPU_PASSES_TD
#define QUARC_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuarcConvolutionToMatmul
    : Pass<"quarc-convolution-to-matmul", "func::FuncOp"> {
  let summary = "Rewrite static NCHW convolutions as matrix multiplications";
  let description = [{
    Chooses how each `linalg.conv_2d_nchw_fchw` with static shapes (the
    batch may be dynamic) and f32 elements runs on the matmul microkernel of `quarc-vectorize-matmul`,
    as the product `out[n, f, p] += W[f, q] * X[n, q, p]` where `p` runs
    over output pixels and `q` over input channel x filter window:

    - a 1x1 convolution with unit strides becomes a contraction that reads
      the input as it is (its channel x pixel view, no copy);
    - a convolution with a larger window, unit stride along the width and
      an output at least 16 pixels wide stays as it is: the kernel reads
      its windows straight from the input (an implicit GEMM over each
      output row), which saves writing and reading back an im2col buffer
      `C*KH*KW` times the size of the input;
    - any other convolution (strided along the width, or with narrow
      output rows, where row-by-row tiles would be mostly edge) first
      copies the input windows into an im2col buffer `[N, C, KH, KW, OH,
      OW]` (strides and dilations are applied by that copy), whose
      `[N, C*KH*KW, OH*OW]` view is the contraction's right-hand side;
    - a batch of images with fewer than 32 output pixels each (frames of a
      signal in a sequence model), whatever its window and strides, runs as
      one product whose columns are the pixels of all images: the im2col
      buffer is `[C, KH, KW, N, OH, OW]`, viewed as `[C*KH*KW, N*OH*OW]`,
      the product `[F, N*OH*OW]` starts from zeros and one elementwise pass
      adds it to the accumulator in NCHW order. Image by image, the
      kernel's columns would be narrower than its tile or than a vector
      register (then the product would be scalar loops).

    The weights' `[F, C*KH*KW]` view is a constant. The output keeps the
    NCHW layout, so nothing around the convolution changes. Depthwise and
    grouped convolutions are left alone (see `quarc-vectorize-depthwise`).
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect"];
}

def QuarcFuseElementwise : Pass<"quarc-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise ops, but not into contractions";
  let description = [{
    `linalg-fuse-elementwise-ops` with one difference: an elementwise
    producer is not fused into a contraction (a matmul-like generic whose
    body is a multiply-add). Fused, the producer's arithmetic would run
    once per multiply-add instead of once per element, and the contraction
    would no longer be recognised by `quarc-vectorize-matmul`, falling back
    to scalar loops. For the same reason no producer is fused into a
    reduction through an operand whose indexing map leaves some of the
    loops out (an integer matrix product subtracting zero points is no
    contraction to upstream, yet it reads A[m, k] at every n), nor a
    producer that looks values up in a table (`tensor.extract`, as
    `quarc.lut` lowers) into an elementwise consumer that reads it
    broadcast: a squeeze-and-excitation gate fused into the product with
    the whole feature map would be a gather per element, which keeps that
    loop scalar. Nor is any producer fused into a consumer that only copies
    it out broadcast (a nearest upsampling), where its arithmetic would run
    once per copy. A lookup in a byte table (the generic of a `quarc.lut`
    with 8-bit input and output) neither takes in its producer nor goes into
    its consumer: alone, `quarc-vectorize-table-lookups` looks it up a
    register at a time, where fused it would be a gather per element.
    A kernel's output stage (an elementwise op reading a reduction's
    result, such as the requantization after a convolution) goes into its
    consumer only if no other reduction runs between the two: the kernel
    generators fuse the op right after a product into its kernel, and
    moved past other kernels into a later consumer (a residual add that
    reads two convolutions' outputs), the output stage would leave its
    kernel storing i32 accumulators for the consumer to read.
    Everything else (elementwise chains, producers of reductions that read
    them once, reshape propagation, constant folding) is as upstream.
  }];
  let dependentDialects = ["affine::AffineDialect", "linalg::LinalgDialect",
                           "tensor::TensorDialect"];
}

def QuarcSplitSharedInits
    : Pass<"quarc-split-shared-inits", "func::FuncOp"> {
  let summary = "Give each linalg op its own copy of a shared fill or broadcast init";
  let description = [{
    CSE merges identical ops that initialize tensors: the zero fill of
    every bias-free product of one shape, or the broadcast of one bias
    constant that several convolutions share (a ResNet's zero biases). A
    linalg op writes its init in place, so when two ops start from one
    init value, one-shot bufferization keeps the first op's buffer intact
    for the second: it copies the whole init (`memref.copy`) before one of
    them, the copy is not a fill or broadcast the kernels can fuse into
    their accumulators (`MatmulFusion.h`), and the first kernel must store
    its i32 accumulators as well as its requantized output because the
    copy reads them later.

    So, on tensors right before bufferization, every use as a DPS init of
    a value produced by a `linalg.fill` or by an elementwise
    `linalg.generic` that only yields one of its inputs or a value from
    outside (a broadcast, a constant fill), directly or through tensor
    reshapes, gets its own clone of that producer and reshapes, placed
    right before the user, when any of them has another use (the last
    use keeps the original).
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect"];
}

def QuarcVectorizeMatmul : Pass<"quarc-vectorize-matmul", "func::FuncOp"> {
  let summary = "Register-tiled vector code for static f32 contractions";
  let description = [{
    Replaces every f32 contraction on buffers with static n and k dims
    (batch dims may be dynamic: they only bound the parallel loop; a
    dynamic m gets whole row tiles and then one remainder tile, chosen by
    an `scf.index_switch` among the static heights it can have)
    (`linalg.matmul`, `linalg.batch_matmul`, or a `linalg.generic` such as
    the one `quarc-convolution-to-matmul` builds), whose right-hand side
    and result are contiguous along n, by loops around a microkernel: a
    `rows x columns` tile of the result is held in vector registers while
    k runs; each step loads `columns` contiguous elements of the
    right-hand side's row k, broadcasts `rows` elements of the left-hand
    side's column k and does `rows` vector fused multiply-adds. The tile
    shape comes from the target (e.g. 4 x 24 for AVX2, 8 x 48 for
    AVX-512, 8 x 12 for NEON); edge tiles use the same kernel with smaller
    static sizes, so nothing is padded or masked.

    `linalg.conv_2d_nchw_fchw` and the grouped `linalg.conv_2d_ngchw_gfchw`
    with unit stride along the width run on the same kernel directly (an
    implicit GEMM): n is the output column, k is (input channel, kernel
    row, kernel column), the image, group and output row are batch dims,
    and the right-hand side's row k is read from the input image itself,
    which is contiguous along the output row.

    One parallel loop, marked for `quarc-parallelize-loops`, runs over the
    batch dims (every result dim but m and n) and the tile columns, and
    over blocks of rows (at least 32) when those give fewer than 64
    iterations; each iteration computes all tiles of its column (and row
    block), k block by k block. k is
    blocked along its outermost dim so that the right-hand side panel of
    the column stays in the L1 cache while its tiles are computed. For a
    contraction with one k dim, that panel is first copied into a
    contiguous, 64-byte aligned stack buffer (one per iteration of the
    parallel loop), so the tiles read whole aligned rows instead of rows of
    B at its own stride (unaligned and one page apart on large images); a
    direct convolution reads the input's rows in place.

    The elementwise passes over the result around a contraction are fused
    into its kernel. The op that writes all of C just before it (a
    `linalg.fill`, or a `linalg.generic` copying a buffer that does not
    vary along n, such as a bias) gives the accumulators their initial
    values and goes. An elementwise `linalg.generic` right after it that
    reads C (bias, batch norm, activation, residual add; its other
    operands shaped like C or constant along n) runs on the accumulators
    after the last k block, so only its result is stored; C is stored too
    only if something else reads it (an op that first writes all of C's
    buffer without reading it, such as a later layer's bias in a buffer
    the memory plan reuses, does not count), and otherwise its buffer
    goes. A per-channel operand of that op (a scale, a shift) is loaded
    once per tile row, not once per vector of the row, and the op's
    arithmetic on such operands alone (a requantization's rounding term
    from its shift) is done on scalars, then broadcast.

    Contractions this does not match (integer types, dynamic shapes, a
    right-hand side that is strided along n) are left to
    `convert-linalg-to-loops`.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect"];
}

def QuarcPackIntegerWeights
    : Pass<"quarc-pack-integer-weights", "func::FuncOp"> {
  let summary = "Store constant int8 weights in the integer kernels' layout";
  let description = [{
    For targets with an integer kernel (`TargetInfo::int8Dot`: x86 with
    AVX2, AVX-512 or AVX-512 VNNI; AArch64 with dotprod or i8mm), rewrites the i32 contractions that
    `quarc.qconv` and `quarc.qmatmul` lower to, when their weight is a
    constant, into the same product over a packed copy of the weight made
    at compile time. `vpdpbusd` and `vpmaddubsw` read four consecutive k of
    one column as one 32-bit lane, so k is split into groups of four (k1,
    k0):

    - a convolution's filter `[G, F, C, KH, KW]` becomes `[G, F, C4/4,
      KH, KW, 4]` (C padded to a multiple of four with zero weights, and
      the input's channels padded to match; the padding's values are never
      used): each output channel's weights in the order of the kernel's k
      steps; the loops become (n, g, f, y, i, j, c1, x, c0), the input read
      at channel `4 c1 + c0`; without groups, g and its unit dims are
      left out. A pointwise convolution (1x1, unit strides, no padding)
      views its input and output as one row of H * W pixels, so the
      kernel's column tiles are not limited to the image's rows. The
      filter is the kernel's broadcast operand. For targets whose dot
      product is `vpmaddubsw` (AVX2, AVX-512 without VNNI), a filter with
      a pair of same-signed weights (k = 0, 1 or 2, 3 of a group) whose
      magnitudes sum past 128, which could saturate its i16 pair sums, is
      stored as i16 (sign-extended; same layout): the kernel's exact path
      multiplies 16-bit words with `vpmaddwd` and broadcasts such weights
      as they are.
    - with AVX-512 VNNI, an ungrouped convolution with a multiple of 16
      output channels and a window larger than 1x1 (or pointwise with at
      most 256 output pixels: 7x7 and 14x14 images) is packed for the
      pixel-rows kernel instead: the filter in panels of 16 output
      channels, `[F/16, C4/4, KH, KW, 16, 4]`, read at `(f floordiv 16, c1,
      i, j, f mod 16, c0)`, so that a k step of 16 channels is one 64-byte
      vector. With AVX2 (`vpmaddubsw`), the same in panels of 8 channels
      for an ungrouped convolution with a multiple of 8 output channels and
      at most 64 output pixels (a 7x7 image) whose weight pairs fit i16.
      The loops and the other operands are unchanged.
    - a depthwise convolution (one input and one output channel per group,
      whose channels cannot be grouped by four) becomes the integer form of
      `quarc-vectorize-depthwise`: input `[N, C, H, W]`, filter `[C, KH,
      KW]` (centered), output `[N, C, OH, OW]`, loops (n, c, y, x, i, j).
      With AVX-512 VNNI and VBMI (when the input strip of 16 pixels' row of
      taps fits 64 bytes), the filter's rows are padded with zeros to a
      multiple of four taps, `[C, KH, KW4]`, and the product reads its
      leading `[C, KH, KW]` slice: the kernel takes whole quads of taps.
      Other x86 targets with 256-bit vectors (when the input bytes of a
      128-bit lane's four pixels fit its 16 bytes) take pairs of taps: the
      filter is sign-extended to i16 with rows padded to an even number of
      taps, `[C, KH, KW2]`, so that each pair of weights is one i32 word,
      and the product reads its leading `[C, KH, KW]` slice.
    - a matrix product's weight `[K, N]` becomes `[N/n0, K4/4, n0, 4]`:
      panels of n0 columns (n0 = the i32 lanes of a vector register, or the
      largest half or quarter of it that divides N; when none does, N is
      padded to whole register-wide panels of zero weights, C too, and
      the product's first N columns are the result), each the sequence of
      k groups of every column, so a kernel
      step loads one panel row as it is. `a` is viewed as `[.., M, K4/4,
      4]` (padded with zeros when K is not a multiple of four) and C as
      `[.., M, N/n0, n0]`; the loops become (batch..., m, n1, k1, n0, k0).

    With i8mm (AArch64), whose `usmmla` multiplies two rows' eight k by two
    columns' eight k, k is grouped by eight instead of four: a matrix
    product of more than one row packs `[N/n0, K8/8, n0, 8]` (each 16 bytes
    of a panel row one instruction's column pair) and views `a` as `[..,
    M, K8/8, 8]` (a single row keeps groups of four: `usdot`, which wastes
    nothing on it); a convolution with at least eight input channels (per
    group) packs `[G, F, C8/8, KH, KW, 8]` and reads the input at channel
    `8 c1 + c0` (an RGB image keeps groups of four).

    The packed bytes are the weights minus their zero points (per channel
    or per tensor), so asymmetric weights are packed only when every
    centered weight fits s8. Activations of the other signedness than the
    target's dot product takes enter the product shifted, and the shift
    times each output channel's sum of packed weights is added to the
    accumulators' initial values (one more elementwise pass over the bias),
    so the sums are unchanged: s8 activations as `x + 128` for the u8 x s8
    products of x86 and i8mm, u8 ones as `x - 128` for dotprod's `sdot`
    (s8 x s8). The body becomes `acc + ext(x) * sext(w')`,
    the input extended as before. The result is an ordinary linalg.generic:
    any later pass, or the loops it becomes, computes the same i32 values.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "linalg::LinalgDialect",
                           "tensor::TensorDialect"];
}

def QuarcVectorizeIntegerMatmul
    : Pass<"quarc-vectorize-integer-matmul", "func::FuncOp"> {
  let summary = "Register-tiled int8 kernels for packed integer products";
  let description = [{
    Replaces the packed products of `quarc-pack-integer-weights` (on
    buffers: activations of the signedness the target's dot product takes,
    or of the other one shifted by 128) by
    loops around a microkernel: a `rows x columns` tile of i32
    accumulators is held in vector registers while k runs four at a time.
    Each k step loads one vector of k groups per column vector, broadcasts
    the four bytes of each tile row's step and adds the dot products:
    `vpdpbusd` with AVX-512 VNNI; with AVX2 (or AVX-512 without VNNI)
    `vpmaddubsw` then `vpmaddwd` against ones; on AArch64 `usdot` (i8mm) or
    `sdot` (dotprod). Shifted activations have their sign bits flipped as
    they are loaded (x ^ 0x80: u8 x as s8 x - 128, s8 x as u8 x + 128). `vpmaddubsw` adds pairs of
    u8 x s8 products into saturating i16; where the constant weights show
    that no pair can pass the i16 range (the default for such targets,
    `reduce-range=pairs`, and 7-bit `reduce-range` weights) that is exact, and otherwise both operands are widened
    to i16 words in place, the even bytes of each word (k = 0, 2 of the
    group: masked, or for the s8 weights shifted left and back
    arithmetically) apart from the odd ones (a right shift), and each
    half multiplied by `vpmaddwd`: exact for every weight, with the same
    two multiplies per step (the widening is shared by a tile's rows and
    columns). A convolution's filter stored as i16 by
    `quarc-pack-integer-weights` is broadcast as pairs (w0, w1), (w2, w3)
    as it is, and its panel holds each pixel's four channels in the order
    0, 2, 1, 3, so that the even bytes of each word are channels 0 and 1:
    no widening of weights in the kernel. The
    tile is 8 x 48 on AVX-512, 4 x 16 on AVX2 and 8 x 12 on NEON.

    A product packed with k in groups of eight (i8mm) runs on `usmmla`
    instead, which multiplies a 2 x 8 block of u8 by an 8 x 2 block of s8
    into a 2 x 2 block of i32: twice the products of a `usdot` per
    instruction. The tile is 8 rows x 8 columns, 16 accumulators as 2 x 2
    blocks; each step loads each tile row pair's 16 bytes (two loads of
    eight: a product's activations, a convolution's filter rows) and 16
    bytes per column pair (a product's panel row, a convolution's panel,
    which holds each pixel's eight channels side by side), and runs 16
    `usmmla`, the activations as the unsigned operand (so a convolution's
    blocks are pixels x channels). The blocks are shuffled out of C's row
    vectors before the k loop and back after it (64-bit halves exchanged;
    for a convolution also transposed), so the initial values, the stores
    and the output stage are those of the other kernels. A tile with an
    odd number of rows pairs its last row with itself.

    A matrix product's rows are the activations (one broadcast per row and
    step) and its columns the packed weight, whose panel rows are loaded as
    they are. A convolution's rows are the output channels (the packed
    filter, broadcast) and its columns the pixels of one output row: for
    each column tile and block of input channels (kept at about 24 KiB),
    the input's four channels of each step are loaded along the row (a
    strided convolution loads a wider strip and keeps every stride-th
    byte), interleaved into an aligned panel on the stack, and the row
    tiles read that panel: an implicit GEMM with no im2col buffer. A row
    tile runs the block's steps (channel groups x taps) as one loop, the
    panel's rows and each filter row's weights both read in step order
    (loops nested per tap spent their time on loop control, and LLVM's
    unrolling of the three-tap loop spilled accumulators: the 3x3 layers
    of ResNet-50 ran 1-2% faster on Zen 3 as one loop). Output
    rows narrower than half the tile share column tiles (R rows of OW
    pixels; column vectors that cross rows are loaded through the input's
    rows x columns collapsed, one load from the first pixel to the last and
    one shuffle). Without the pixel-rows kernel (AVX2, NEON), rows that
    are not a whole number of vectors (28 or 14 pixels) share wider column
    tiles: the number of whole rows, up to 64 pixels, that leaves fewest
    lanes idle, the register tile running over its vectors two at a time.
    A convolution with fewer than 8 parallel iterations (small images, a
    batch of one) splits its output channels in two halves, the outermost
    dim of the parallel loop, so that two threads take one half each
    whatever the tiles are (14x14 rows in blocks of 4, 4, 4 and 2 gave one
    of two threads 8 rows and the other 6). With AVX-512, a strip whose
    size is not a power of two is loaded under a mask into the next power
    of two, whose shuffles LLVM turns into byte permutes (an odd-sized one
    became one byte at a time); without masked byte loads, a strided strip
    is read as two overlapping loads of a power of two.

    A filter packed for the pixel-rows kernel (AVX-512 VNNI, AVX2) swaps
    the roles inside each column tile of up to 64 pixels (a 7x7 image
    whole): each pixel of a vector is a broadcast row (its four panel
    bytes), each k step loads one panel row of 16 (AVX-512) or 8 (AVX2)
    output channels, so the work is proportional to the pixels there are
    (pixels as vectors fill 49-pixel images to 77% of AVX-512's lanes, 88%
    of AVX2's). With AVX-512 it takes two panels (32 channels) at a time,
    as loops of 8 pixels x 2 panels (16 accumulators, 10 loads per 16 dot
    products where 16 pixels x 1 panel took 17); with AVX2's 16 registers,
    one panel, as loops of 8 pixels (8 accumulators; two panels of 4
    pixels kept the first loop's sums live through the second, and LLVM
    spilled in the loop). Its k blocks are longer (a panel of up to 128
    KiB, read from L2: one line per step), and the first loops of each call
    ask L2 for the next call's filter rows, one per step, so that no loop
    streams two panels' rows from memory at the rate it computes. Each
    panel's 16 x 16 (8 x 8) block of sums is transposed in registers (four
    (three) rounds of two-input shuffles) to channels x pixels, the form of
    C, before the initial values, the store and the output stage. Small images split the output
    channels in halves between threads, as above.

    One parallel loop, marked for `quarc-parallelize-loops`, runs over the
    batch dims (for a convolution: image, group and output row) and the
    column tiles; edge tiles use the same kernel with narrower loads and
    stores. The ops around the product are fused as in
    `quarc-vectorize-matmul` (MatmulFusion.h): the bias that initializes C
    becomes the accumulators' initial values, and the output stage that
    reads C (the requantization, i64 arithmetic per element) runs on the
    accumulators, so only its 8-bit result is stored; otherwise the
    accumulators start from C and are stored back to it. Two vectors of a
    convolution's tile row that are consecutive pixels of one output row
    go through the output stage as one vector of twice the lanes (AVX2
    packs 16 i32 into 16 bytes in five instructions, 8 and 8 separately in
    eight). The ops may see C through reshapes (a pointwise convolution's
    pixels as one row), also two different reshapes of C's buffer: dims
    that walk the same elements correspond. With a dynamic batch, the size
    queries (`memref.dim`), views and allocations between the product and
    its output stage that the output's allocation needs move before the
    kernel, and a size query of C does not count as a read of it (else
    the kernel would store its i32 accumulators too).
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def QuarcWinogradConvolution
    : Pass<"quarc-winograd-convolution", "ModuleOp"> {
  let summary = "Stride-1 3x3 int8 convolutions as exact integer Winograd "
                "F(2x2, 3x3) on AVX2 without VNNI";
  let description = [{
    Replaces the packed u8 x s8 convolutions of
    `quarc-pack-integer-weights` (on buffers; s8 filters, or the s16 ones it
    widens for AVX2's exact path) that are 3x3, stride 1 and dilation 1,
    with an even output size, rows of at least 14 pixels and a tile row's
    transformed input within 256 KiB (16 points x channels x the row's tiles
    x 2 bytes: up to 1024 channels on rows of 16 pixels, 256 on rows of 64),
    by an integer
    Winograd F(2x2, 3x3) kernel, for x86 targets with AVX2 and neither
    AVX-512 nor VNNI. There `vpmaddwd` on i16 pairs gives as many products
    per multiply as the `vpmaddubsw` chain (Zen 3: 70 and 90 billion per
    second and core), and Winograd needs 16 per 2x2 output tile and channel
    where the direct convolution needs 36. With VNNI (four times the
    products per instruction) and on AArch64 the direct kernels of
    `quarc-vectorize-integer-matmul` stay.

    The result is exact, bit for bit the direct convolution's. The filter is
    transformed at compile time by 2G (entries 0, +-1, +-2): U = (2G) g
    (2G)^T is four times Winograd's and integer (|U| <= 9 x 128 for s8), the
    input by B (entries 0, +-1: |V| <= 4 x 255 for u8), both i16, and the
    output transform's result, 4 x the convolution, is shifted right by
    two. The sums in between are taken modulo 2^32, which the exact final
    value undoes as long as it fits i32: below 1827 channels of s8 weights
    (the bound is checked on the actual weights). The transformed filter,
    [blocks of 32 filters][16 points][filters][channels] i16 (3.6 times the
    s8 filter's bytes), replaces the packed one as a new constant global.

    One parallel loop, marked for `quarc-parallelize-loops`, runs over the
    images and blocks of tile rows (2 output rows each; about 128 KiB of
    transformed input per block, but at least 4 vectors of 8 tiles within
    256 KiB, spread evenly), and when those are fewer than 8 or odd in number (a 14 x 14 or
    28 x 28 image) over two halves of the filters first, each half
    transforming its block's input again, so that two threads get equal
    work. Per block: the input's 4x4 patches, 16 bytes of a row of each of
    two channels at a time (at the row's end shifted back to stay inside
    the buffer), the two channels' even bytes (the tiles' column 0) side by
    side and widened to i16, and so for the odd ones and for the columns 2
    and 3, transformed in 256-bit vectors of 8 tiles x 2 channels straight
    into a stack buffer [16 points][channel pairs][8 tiles x 2 channels]. Then per 4 vectors of
    tiles and block of 32 filters, for each point the register tiles of 2
    filters x 4 vectors (8 accumulators; 2 broadcast filter pairs and 4
    loads per channel pair; 4 x 2 where two vectors are left) run over all
    channels, each prefetching the
    next tile's filter rows (which follow in U: without it a 256-channel
    layer waited on memory), and store their sums to 64 KiB of scratch:
    the point's transformed input, up to 16 KiB, stays in L1 for the
    block's 16 register tiles. Then the output transform, whose two columns
    of outputs are interleaved into vectors of 16 output pixels per row.
    The bias that initializes C and the output stage that reads it are
    fused as in `quarc-vectorize-integer-matmul` (MatmulFusion.h).
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def QuarcVectorizeWeightOnlyMatmul
    : Pass<"quarc-vectorize-weight-only-matmul", "func::FuncOp"> {
  let summary = "Vector kernels for weight-only products with 4-bit "
                "weights unpacked in registers";
  let description = [{
    Replaces the packed product that `quarc.qmatmul_weight_only` lowers to
    (on buffers: the weight two values per byte in panels of 16 columns,
    f32 scales and byte zero points per group; see
    Conversion/QuarcToLinalg/PackedNibbles.h) by loops around a register
    kernel. For each panel (in parallel) and each tile of rows, 16-lane
    f32 accumulators stay in registers for all of k.

    With f32 activations (the RowPairs layout) one 16-byte load,
    zero-extended, holds rows k and k + 1 of the panel: a mask and a shift
    give the two rows of nibbles, converted to f32, and each row of the
    tile takes them with one multiply-add each. The group's scale and zero
    point are applied once per group, by the algebra
    `sum a (q - z) s = s (sum a q - z sum a)`: the tile accumulates a * q
    and the sum of a over the group, then adds `s * (acc - z * sum)`
    (the generic's per-weight `(q - z) * s`, reassociated; f32 either
    way). The tile has 8 rows on AVX-512 and 2 elsewhere (16 lanes are two
    AVX2 or four NEON registers, and each row needs two accumulators).
    Where a product has more rows than that (statically, or at run time
    for a dynamic M), targets with fewer than 512-bit vectors dequantize
    instead: threads take groups of 4 panels; per block of 128 k and
    panel the weights become `(q - z) * s` in f32 (onnxruntime's level-0
    arithmetic) in a buffer on the stack, and tiles of 6 rows (12
    independent multiply-add chains with AVX2) add their products with
    them to C. The k blocks are outside the panels so that the panels of
    a group read the block's activations from cache. A row's last bits
    can differ between the two kernels. Odd group sizes, whose groups
    would split a byte's two rows, stay loops.

    With int8 activations (the RowQuads layout: 64 bytes per 8 rows of k)
    the products are integer dot products in groups of four k, as
    `quarc-vectorize-integer-matmul` uses them: `vpdpbusd` (AVX-512 VNNI),
    `vpmaddubsw` + `vpmaddwd` (AVX2; nibbles times s8 cannot saturate i16),
    `usdot` (i8mm) or `sdot` (dotprod; nibbles are valid s8). One 64-byte
    load gives the low nibbles (k0..k0+3 of 16 columns, the lanes' order of
    the dot product) and, shifted, the high ones (k0+4..k0+7); each row of
    the tile broadcasts its four activations. The sums of each row's
    activations per group are computed once before the panels, and each
    group ends with `sa * s * (sum - z * sum aq)` in f32. Targets without
    an integer dot product, K not a multiple of 8 or groups not a multiple
    of 8 stay loops.

    The last panel of an N that is not a multiple of 16 reads and writes C
    through a mask. The f32 form works on every CPU target: the vector
    width only sets how LLVM splits the 16 lanes.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (sets the tile)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def QuarcVectorizeDepthwise
    : Pass<"quarc-vectorize-depthwise", "func::FuncOp"> {
  let summary = "Vector code for depthwise convolutions and max/min pools";
  let description = [{
    Replaces every `linalg.depthwise_conv_2d_nchw_chw` on buffers with
    static shapes (the batch may be dynamic) and f32 elements, and the
    integer depthwise form of `quarc-pack-integer-weights` (u8 input, s8
    filter or s8 values in i16, i32 accumulators: the strip is widened to
    i32 and multiplied by the widened weight), by loops over batch, channel and output
    row around a kernel that computes a strip of output pixels of one row
    in vector registers: for each filter tap it loads the matching input
    strip (for stride 2, a load of twice the width and a shuffle that keeps
    the even elements) and does one fused multiply-add with the tap's
    broadcast weight. The strip is two vector registers wide; the row's
    remainder uses the same kernel with a smaller static width.

    The integer form with a filter whose rows are stored as whole quads of
    taps (zeros past KW: a leading slice of the padded constant
    `quarc-pack-integer-weights` makes for AVX-512 VNNI with VBMI) takes
    four taps per step instead: per filter row, one masked load of the
    bytes a register of 16 pixels reads (at most 64), then per quad a byte
    shuffle (`vpermb`) that gives each pixel's i32 lane the input bytes of
    its four taps and one `vpdpbusd` with the quad's weights broadcast;
    the strip's two registers are interleaved so that their chains
    overlap. A 5 x 5 filter takes 10 steps per register instead of 25 and
    no widening.

    Other x86 targets with 256-bit or wider vectors (AVX2, AVX-512 without
    VBMI) take two taps per step in the integer form whose filter is stored
    as i16 in rows of whole pairs of taps (zeros past KW: the padded
    constant `quarc-pack-integer-weights` makes for them): per filter row,
    each 128-bit lane of a register (four pixels) is loaded with exactly
    the bytes its pixels read (at most 16: stride x 3 + dilation x (KW - 1)
    + 1, else the tap-by-tap kernel), then per pair of taps one byte
    shuffle within the lanes (`vpshufb`) gives each pixel's i32 lane its
    two input bytes as zero-extended 16-bit words, and one `vpmaddwd` adds
    their products with the pair's weights, one i32 word of the filter
    broadcast: exact, 3 of 5 steps for a 5 x 5 row. Where a register's
    eight pixels read at most 16 bytes and the strip at least 16 (stride 1
    with up to 9 taps), its two lanes are one 16-byte load into both
    (`vbroadcasti128`), placed within the bytes the strip reads, instead
    of two loads and an insert: each lane's shuffle picks its own pixels.

    Max and min pools are the same loops without a filter:
    `linalg.pooling_nchw_max` on f32 buffers, and the `linalg.generic`
    that the integer and other pools lower to (loops (n, c, y, x, i, j),
    input (n, c, y * sy + i * dy, x * sx + j * dx), the window's shape
    operand, output (n, c, y, x), a body that is one `arith` max or min of
    the output and the input) on row-contiguous buffers of one element
    type. Per tap, one strided strip load as above and one vector max or
    min in that element type, starting from the output's initial value: a
    register holds 32 u8 pixels with AVX2 (ResNet-50 int8's 3 x 3 stride-2
    pool went from 0.49% of the model's time, scalar, to 0.17%).
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "ub::UBDialect", "vector::VectorDialect"];
}

def QuarcVectorizeTableLookups
    : Pass<"quarc-vectorize-table-lookups", "func::FuncOp"> {
  let summary = "Look up 8-bit tables (quarc.lut) with vector byte shuffles";
  let description = [{
    `quarc.lut` lowers to an elementwise `linalg.generic` whose body reads
    a constant table at the input byte, a load LLVM cannot vectorize (there
    is no byte gather), so it ran one byte at a time. Every such generic on
    byte buffers (identity maps; the body only extends, offsets and casts
    the byte into an index into a constant global of bytes) whose buffers
    are contiguous and static (the first dim, a batch, may be dynamic)
    becomes a parallel loop over registers of bytes, each loaded, looked
    up and stored; the row's last, partial register is loaded at its size
    and widened. The lookup is by the target's byte shuffles, the 256-byte
    table (re-indexed by the input's bits, so that any zero point and
    signedness is folded in) held in registers:

    - `x86_64+avx512vbmi`: two `vpermi2b` (each a 128-byte half) and a
      blend on the top bit, per 64 bytes;
    - other x86-64 targets: `pshufb` (SSSE3, AVX2 or AVX-512BW, 16, 32 or
      64 bytes at once), eight per half of the table at index x - 16t for
      row t, with each row stored XORed with the one before it: rows above
      x's wrap past 127 and read 0, the ones below cancel, so the XOR of
      the eight is x's entry; a blend on the top bit picks the half. A row
      equal to the one before it XORs to zeros and is left out, and a
      half's first row that holds one value is a splat constant (the flat
      stretches of a clamped activation cost no shuffle);
    - AArch64: `tbl` over the first 64 entries, `tbx` over each next 64 at
      x - 64, x - 128, x - 192.

    Lookups with an output of more than 8 bits, or on strided buffers, stay
    generic loops.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"host\"",
           "Target, as for `quarc compile --target` (e.g. x86_64+avx2)">,
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def QuarcExpandStridedCopies
    : Pass<"quarc-expand-strided-copies", "func::FuncOp"> {
  let summary = "Turn copies between non-contiguous static buffers into loops";
  let description = [{
    A `memref.copy` whose source or target is a strided view (the interior
    of a padded tensor, a slice) would become a call to the generic
    runtime copy, which walks the elements one by one through their
    descriptors. With static shapes (the first dim, a batch, may be
    dynamic) it becomes a parallel loop over the rows, each row one vector
    load and one store, when both sides have contiguous rows of at most
    1024 elements (a convolution's padded input on a 14 x 14 map has rows
    of 14 bytes, which LLVM unrolled into one scalar move per byte rather
    than vectorize the loop); otherwise a `linalg.copy`, loops with
    constant strides that the LLVM vectorizer turns into vector moves.
    Copies between contiguous buffers stay `memref.copy` (a `memcpy`).
  }];
  let dependentDialects = ["linalg::LinalgDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def QuarcCollapseElementwiseDims
    : Pass<"quarc-collapse-elementwise-dims", "func::FuncOp"> {
  let summary = "Merge the trailing dims of elementwise generics (and of reductions' reduced dims) on buffers";
  let description = [{
    An elementwise `linalg.generic` on buffers (every loop parallel) whose
    trailing loop dims every operand reads as adjacent results in order
    (plain dims and constants only), contiguous in its buffer, is rewritten
    over one merged dim, the buffers viewed through `memref.collapse_shape`
    (upstream's `collapseOpIterationDims` crashes on buffers in MLIR 22).
    The longest such run of at least two dims is merged; operands that do
    not use those dims (a per-channel parameter) are unchanged, and bodies
    that read loop indices are left alone. The reason is the LLVM vectorizer: the loops over a
    14 x 14 or 7 x 7 feature map have an innermost trip count too short
    to vectorize, and the whole body stays scalar, while one loop of 196
    or 49 elements vectorizes. In an integer generic whose parallel dims
    come first and its reduction dims last (a global average pool's sums,
    left to `quarc-lower-reductions`), only the trailing reduction dims
    are merged, for the same reason: LLVM fully unrolled an inner loop of
    96 bytes and left the sums scalar, where it vectorizes one loop of 288.
    Float reductions keep their dims: merged, their elements are added in
    another order, and the ranges `quarc calibrate` measures on a float
    model move by an ulp, enough to move a quantized value by a step.
    A `linalg.fill` or `linalg.map` on buffers
    (a padded buffer's border value: `tensor.pad` bufferizes to a map that
    yields it) is made a generic first and merged the same way: row by row,
    the loops quarc-parallelize-loops outlines computed each row's offset
    with divisions (3% of a small OCR classifier's int8 time), where one
    flat fill is a `memset`. The kernels that fuse a fill into their
    accumulators ran before this pass.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "memref::MemRefDialect"];
}

def QuarcHoistInvariantLoads
    : Pass<"quarc-hoist-invariant-loads", "func::FuncOp"> {
  let summary = "Load broadcast operands once per row, outside the innermost loop";
  let description = [{
    In an `scf.parallel` with no nested loops (an elementwise generic
    lowered to loops), a `memref.load` whose indices do not depend on the
    last loop dim (a per-channel scale, a squeeze-and-excitation gate, a
    broadcast row) reads the same value in every iteration of that dim.
    When the loaded buffer provably does not overlap any buffer the loop
    stores to, the loop is split into an `scf.parallel` over the other dims
    around an `scf.for` over the last one, and the load moves between them
    (or before the loop, for a one-dim loop with a constant, non-zero trip
    count).

    The reason is LLVM's loop vectorizer: a load from a loop-invariant
    address next to a store it cannot prove apart keeps the whole loop
    scalar (a squeeze-and-excitation multiply of PP-OCR's classifier ran
    its fixed-point requantization one byte at a time); with the value in a
    register, the loop vectorizes.

    Disjointness is proven from where the buffers come from, through
    view-like ops: distinct allocations, globals and function arguments
    (the runtime passes inputs, workspace and weights as separate
    buffers, and inputs are never stored to), or views of one buffer (the
    planned workspace) at constant, non-overlapping byte ranges. Anything
    else stays as it is. Loops of the kernels (`quarc.kernel`) and
    loops with reductions are left alone. Runs before
    `quarc-parallelize-loops`, which outlines the outer `scf.parallel` as
    it did the original loop.
  }];
  let dependentDialects = ["scf::SCFDialect", "memref::MemRefDialect"];
}

def QuarcLowerReductions : Pass<"quarc-lower-reductions", "func::FuncOp"> {
  let summary = "Reductions as loops that keep their partial results in registers";
  let description = [{
    Lowers every linalg op on buffers (generic, or named: a matmul or
    convolution the kernels did not take) whose loop dims are parallel
    dims followed by reduction dims, with outputs indexed by every parallel
    dim and no reduction dim (a Softmax's max and sum, a
    LayerNormalization's mean and variance, ReduceSum, a global average
    pool, a product with dynamic columns), and no input that may overlap an output (workspace views at disjoint byte ranges do not),
    to an `scf.parallel` over
    the parallel dims around `scf.for` loops over the reduction dims that
    carry the partial results as values: loaded once from the output,
    stored once. The float ops of the body that fold an element into a
    partial result are marked `reassoc`, so LLVM splits the sum across
    vector lanes. convert-linalg-to-parallel-loops would load and store the
    output at every iteration, which LLVM cannot keep in a register (the
    output may alias the inputs in the workspace) and never vectorizes.
    The results change only by the order of the additions (a few ulp of a
    sum); max and min are exact in any order.
  }];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "affine::AffineDialect"];
}

def QuarcApproximateMath : Pass<"quarc-approximate-math", "func::FuncOp"> {
  let summary = "Evaluate exp, erf and tanh as polynomials instead of libm calls";
  let description = [{
    Replaces f32 `math.exp`, `math.erf` and `math.tanh` (scalars and
    vectors) with upstream MLIR's polynomial approximations: arithmetic,
    selects and bit casts only, so the loops that hold them (Softmax,
    Sigmoid, SiLU, GELU, LSTM gates, and the activations fused into the
    matmul kernel's epilogue) vectorize, where a call to libm's `expf`,
    `erff` or `tanhf` kept them one element at a time. Accuracy: exp is
    within 1 ulp of the correctly rounded value below x = 88 and within
    3e-7 relative up to its overflow (+inf beyond, 0 below the denormals,
    NaN kept), tanh within 4e-7 and erf within 3e-7 absolute
    (test/python/test_math_approximation.py measures them against numpy on all interesting ranges and special values). Other
    math functions keep their libm calls.
  }];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect",
                           "vector::VectorDialect"];
}

def QuarcPlanMemory : Pass<"quarc-plan-memory", "ModuleOp"> {
  let summary = "Place the function's temporary buffers in one workspace";
  let description = [{
    After bufferization and deallocation, every temporary buffer of a
    model function is a `memref.alloc` with a `memref.dealloc` after its
    last use in the same block. With static shapes their sizes and
    lifetimes are known at compile time, so this pass assigns each of them
    an offset in a single workspace, reusing the bytes of buffers that are
    dead (greedy by size, largest first, 64-byte aligned, like TFLite's
    arena planner), and replaces the allocation by a `memref.view` of the
    workspace and drops the deallocation.

    The workspace becomes a new last argument of the function,
    `memref<BYTESxi8>` with the `quarc.workspace` argument attribute, and
    its size is recorded in the function's `quarc.workspace_bytes`
    attribute: the runtime allocates it once per session, so running a
    model allocates nothing but its outputs and touches no fresh pages.
    Only functions that nothing calls (the model's entry) are planned, since
    the new argument changes their signature. Buffers that are returned,
    yielded out of a region, over-aligned, have dynamic sizes or are
    allocated in nested regions keep their own allocation.
  }];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect"];
}

def QuarcFlattenConstantGlobals
    : Pass<"quarc-flatten-constant-globals", "ModuleOp"> {
  let summary = "Make constant globals one-dimensional";
  let description = [{
    Gives every constant `memref.global` of rank 2 or more (static shape,
    identity layout, a dense or `dense_resource` initial value) the 1-D
    type of its elements, and makes each `memref.get_global` of it read
    the old shape through a `memref.expand_shape` (a view: the layout is
    the same). The initial value keeps its data (a resource keeps its
    blob).

    Why: in the LLVM dialect an N-D global is an array of arrays, and LLVM
    builds its initializer as one uniqued constant per innermost row; for a
    model with 25M weights (ResNet-50) that is millions of constants and
    about 50 s of compile time. A 1-D global is one ConstantDataArray made
    from the raw bytes.
  }];
  let dependentDialects = ["memref::MemRefDialect"];
}

def QuarcParallelizeLoops : Pass<"quarc-parallelize-loops", "ModuleOp"> {
  let summary = "Run outermost parallel loops on the runtime's threads";
  let description = [{
    Outlines each outermost `scf.parallel` that is worth it into a function
    `void fn(void *context, int64_t begin, int64_t end)` that runs
    iterations [begin, end) of its outer loops, linearized, and replaces the loop by a call to the runtime's
    `quarc_parallel_for(fn, context, iterations)`, which splits the range
    over the session's threads (`--threads`, `quarc_session_set_threads`).
    The values the loop uses are passed in a context struct on the stack:
    buffers as their memref descriptors, scalars as themselves; constants
    are rematerialized inside. Stack buffers of fixed size allocated in the
    loop body (a kernel's panel) are allocated once, at the outlined
    function's entry, instead of once per iteration.

    Split loops: the fewest outer loops whose iterations number at least
    256 (enough to balance threads); the rest stay nested `scf.for` loops
    inside, so no index arithmetic runs per element and the innermost loop,
    which LLVM vectorizes, is whole. The innermost loop of an ordinary loop
    nest is never split per iteration unless it is the only one; that of a
    kernel's loop (whose iterations are whole register tiles) may be. When
    the outer loops of an ordinary nest have fewer than 256 iterations in
    all (an elementwise op on a batch of one, its feature map flattened
    into the last loop: ResNet-50's residual adds ran on one thread) and
    the innermost has static bounds and at least 2048 iterations, it is
    split in blocks of a multiple of 64 iterations, at least 1024, enough
    for 256 parallel iterations where it has them; each block stays one
    loop. With dynamic bounds, all loops that may be split are.

    Worth it: a loop the kernel generators marked `quarc.kernel` with at
    least two iterations to split, or a loop nest with static bounds and at
    least `min-iterations` iterations in all; smaller loops would spend
    more time waking threads than computing. (16384 by default: with 32768,
    a small OCR classifier's table lookups and requantizations of 20-30
    thousand bytes ran on one thread, and at two threads the int8 model
    took 4% longer; at one thread the two are the same.) Loops with reductions,
    dynamic bounds below the marked kernels, or values of other types stay
    sequential.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", "16384",
           "Smallest static iteration count of an unmarked loop nest to run "
           "in parallel">,
  ];
  let dependentDialects = ["arith::ArithDialect", "func::FuncDialect",
                           "LLVM::LLVMDialect", "scf::SCFDialect"];
}

def QuarcExternalizeWeights : Pass<"quarc-externalize-weights", "ModuleOp"> {
  let summary = "Read the large constants from a weights file argument";
  let description = [{
    For `quarc compile --weights=FILE`: the model's large constants are
    not compiled into the artefact but read, at run time, from a weights
    file that the runtime maps into memory read-only.

    Every constant `memref.global` of at least `min-bytes` bytes whose only
    uses are `memref.get_global`s in one function that nothing calls (the
    model's entry) gets an offset in one weights buffer (in the order of
    the globals, each 64-byte aligned). The buffer becomes a new last
    argument of that function, `memref<BYTESxi8>` with the `quarc.weights`
    argument attribute; each `memref.get_global` becomes a `memref.view`
    of it at the constant's offset, and the globals are erased. The
    function records the size in `quarc.weights_bytes` and the contents of
    the buffer (the constants' bytes in the host's byte order, zeros
    between them) in `quarc.weights_data`, a `dense_resource` tensor of
    i8, from which the compiler writes the weights file.

    Runs after `quarc-plan-memory`, so the weights come after the
    workspace in the argument list. Constants that are not plain buffers
    (dynamic or strided layout, a memory space, i1 or index elements, an
    alignment above 64 bytes), are used elsewhere too, or are smaller
    than `min-bytes` stay embedded.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", "1024",
           "Smallest constant (in bytes) moved into the weights">,
  ];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect"];
}

#endif // QUARC_TARGET_CPU_PASSES_TD
