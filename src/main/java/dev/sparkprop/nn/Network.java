package dev.sparkprop.nn;

import org.ejml.data.FGrowArray;
import org.ejml.data.FMatrixRMaj;
import org.ejml.data.FMatrixSparseCSC;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.ops.FConvertMatrixStruct;
import org.ejml.sparse.csc.CommonOps_FSCC;

/**
 * Forward and backward passes of a {@link NetworkSpec} with EJML, on reusable buffers.
 *
 * <p>One instance is a workspace for one thread: it owns the weight matrices (copied from the
 * flat parameter array by {@link #setParameters}), the activations of every layer and the delta
 * buffers. Buffers grow to the largest batch seen and are then reused, so a training step
 * allocates nothing. Not thread-safe.
 *
 * <p>The dense products go through a {@link Gemm} (see {@link Kernel}). When at most
 * {@link #SPARSE_INPUT_DENSITY} of a batch's inputs are non-zero (MNIST's images: about 19%), the
 * input layer's two large products ({@code x W} and {@code x^T dZ}) skip the zeros: through EJML's
 * sparse kernels when the kernel {@linkplain Gemm#prefersSparseInput prefers them} (the EJML
 * reference: several times faster than its dense product), otherwise through {@link SparseRows}
 * in the Vector API where this JVM has it ({@link Lanes}; a third of OpenBLAS's dense time on
 * MNIST, docs/PERFORMANCE.md). Denser inputs, and the OpenBLAS kernel without the Vector API,
 * take the dense product.
 *
 * <p>A network with convolution and pooling layers runs them first ({@link ConvHead}), then its
 * dense layers on the flattened result: the same code as an MLP's from there on.
 *
 * <p>Usage: {@code setParameters(p); fill input(rows); lossSum = forwardBackward(rows, y, off, g)}.
 */
public final class Network {
  private final NetworkSpec spec;
  // The dense layers, spec layers first .. first + T - 1, indexed t = 0 .. T - 1 below.
  private final int first;
  private final ConvHead head; // null for an MLP
  private final boolean regression; // identity output, squared error against real-valued targets
  private float[] targets; // regression: the targets of the pass under way
  private final FMatrixRMaj image; // the network input when there is a head: (B, C H W)
  private final FMatrixRMaj[] weights; // W_t: (in_t, out_t)
  private final FMatrixRMaj[] acts; // acts[0]: the dense input (B, in_0); acts[t+1]: (B, out_t)
  private final FMatrixRMaj[] weightGrads; // dW_t: (in_t, out_t)
  // W_t^T: (out_t, in_t), for forward when the kernel prefers them; made at the first forward after setParameters
  private final FMatrixRMaj[] transposed;
  private boolean transposedStale = true;
  private boolean parametersFixed; // set by setFixedParameters: params never changes
  private int transposesMade; // for tests: how many times forward transposed the weights
  private final FMatrixRMaj deltaA = new FMatrixRMaj(1, 1); // dZ of the current layer: (B, out_l)
  private final FMatrixRMaj deltaB = new FMatrixRMaj(1, 1); // dZ of the layer below: (B, in_l)
  private float[] params;
  /** Inputs with at most this fraction of non-zeros go through the sparse kernels. */
  public static final double SPARSE_INPUT_DENSITY = 0.4;
  private final FMatrixSparseCSC sparseInput = new FMatrixSparseCSC(1, 1, 0);
  private final FGrowArray sparseWork = new FGrowArray();
  private final SparseRows sparseRows = new SparseRows();
  /** How the last batch's input-layer products run: chosen per batch by prepareInput. */
  private enum InputProducts { DENSE, EJML_SPARSE, SPARSE_LANES }
  private InputProducts input = InputProducts.DENSE;
  private final Gemm gemm;
  /** Rows of a network with convolutions taken forward and backward at a time (see forwardBackward). */
  static final int CHUNK = 16;
  private float[] chunkGrad; // a chunk's gradient, beside the first chunk's in gradOut

  /** A network on the reference kernels (EJML). */
  public Network(NetworkSpec spec) {
    this(spec, EjmlGemm.INSTANCE);
  }

  public Network(NetworkSpec spec, Gemm gemm) {
    this.spec = spec;
    this.gemm = gemm;
    this.regression = spec.isRegression();
    int f = 0;
    while (!(spec.layer(f) instanceof NetworkSpec.Dense)) f++;
    first = f;
    head = first > 0 ? new ConvHead(spec, first, gemm) : null;
    image = first > 0 ? new FMatrixRMaj(1, spec.inputSize()) : null;
    int layers = spec.numLayers() - first;
    weights = new FMatrixRMaj[layers];
    weightGrads = new FMatrixRMaj[layers];
    acts = new FMatrixRMaj[layers + 1];
    transposed = new FMatrixRMaj[layers];
    for (int t = 0; t < layers; t++) {
      if (inPlace(t)) {
        // an MLP's first W and dW live in the caller's flat arrays (setParameters, forwardBackward)
        weights[t] = shapeOnly(spec.in(first + t), spec.out(first + t));
        weightGrads[t] = shapeOnly(spec.in(first + t), spec.out(first + t));
      } else {
        weights[t] = new FMatrixRMaj(spec.in(first + t), spec.out(first + t));
        weightGrads[t] = new FMatrixRMaj(spec.in(first + t), spec.out(first + t));
      }
    }
    for (int t = 0; t <= layers; t++) acts[t] = new FMatrixRMaj(1, t == 0 ? spec.in(first) : spec.out(first + t - 1));
  }

  /** Whether dense layer t's W starts the flat array (an MLP's first): read and written in place. */
  private boolean inPlace(int t) {
    return spec.weightOffset(first + t) == 0;
  }

  /** A (rows, cols) matrix header whose data array is set before use. */
  private static FMatrixRMaj shapeOnly(int rows, int cols) {
    FMatrixRMaj m = new FMatrixRMaj(1, 1);
    m.numRows = rows;
    m.numCols = cols;
    return m;
  }

  /** The benchmark's breakdown records this network's passes ({@link StepTimes#network}). */
  void timeParts(StepTimes t) {
    if (head != null) head.times = t;
  }

  /**
   * How this JVM runs the pool of a pool-blocked first convolution ({@link Lanes}: the
   * JDK's Vector API or its scalar form, the same bits), or null if {@code spec} has none.
   */
  public static String blockedPool(NetworkSpec spec) {
    return ConvStage.poolBlocked(spec, 0) ? Lanes.description() : null;
  }

  /**
   * How this JVM runs the input layer's products on a mostly-zero batch with {@code gemm}: over
   * the non-zeros only in the Vector API ({@link SparseRows}) or, without it, the kernel's own
   * products (other rounding). Null for a network with convolutions and for a kernel that takes
   * EJML's sparse kernels (the reference), which run the same everywhere.
   */
  public static String sparseInput(NetworkSpec spec, Gemm gemm) {
    if (!spec.isDense() || gemm.prefersSparseInput()) return null;
    return Lanes.ON ? "the non-zeros only, " + Lanes.description() : "the kernel's dense products, " + Lanes.description();
  }

  public NetworkSpec spec() {
    return spec;
  }

  public Gemm gemm() {
    return gemm;
  }

  /**
   * Uses a flat parameter array (kept, not copied, until the next call; read only): the first
   * layer's weights, which start the array and are nearly all of it (784-512-10: 401,408 of
   * 407,050 values), and every bias are read in place; the other layers' weights are copied out.
   * {@link #forward} may read transposed copies made after this call: a caller that changes the
   * array calls this again.
   */
  public void setParameters(float[] flatParams) {
    if (flatParams.length != spec.numParams()) {
      throw new IllegalArgumentException("parameter array has " + flatParams.length
          + " values, network " + spec + " needs " + spec.numParams());
    }
    for (int t = 0; t < weights.length; t++) {
      int l = first + t;
      if (inPlace(t)) {
        weights[t].data = flatParams; // W_0 = flatParams[0, in*out)
      } else {
        System.arraycopy(flatParams, spec.weightOffset(l), weights[t].data, 0, spec.in(l) * spec.out(l));
      }
    }
    if (head != null) head.setParameters(flatParams);
    params = flatParams;
    transposedStale = true;
    parametersFixed = false;
  }

  /**
   * {@link #setParameters} for an array that never changes (a broadcast model's): given the same
   * array again, the network keeps what it derived from it (forward's transposed weights, about 2
   * ms to make for 784-512-10, the whole cost of scoring a few hundred rows) instead of making it
   * again for every task.
   */
  public void setFixedParameters(float[] flatParams) {
    boolean keep = parametersFixed && flatParams == params && !transposedStale;
    setParameters(flatParams);
    parametersFixed = true;
    if (keep) transposedStale = false;
  }

  /** Whether the last pass took the input layer's products through {@link SparseRows} (tests). */
  boolean inputInLanes() {
    return input == InputProducts.SPARSE_LANES;
  }

  /** How many times {@link #forward} has transposed the weights (tests). */
  int transposesMade() {
    return transposesMade;
  }

  /** The input buffer, reshaped to (rows, inputSize); the caller fills its {@code data} row-major (C, H, W per row). */
  public FMatrixRMaj input(int rows) {
    FMatrixRMaj x = head != null ? image : acts[0];
    x.reshape(rows, spec.inputSize(), false);
    return x;
  }

  /**
   * Forward pass of the rows in {@link #input}: leaves class probabilities in {@link #output()}.
   *
   * @return summed cross-entropy of the rows against {@code labels[labelOffset ..]}
   */
  public double forward(int rows, int[] labels, int labelOffset) {
    if (regression) throw new IllegalArgumentException(spec + " is a regression network: give it real-valued targets");
    return forward(rows, labels, labelOffset, true);
  }

  /**
   * A regression network's forward pass (identity output, left in {@link #output()}).
   *
   * @param targets row-major, {@code outputSize} per row; row r's at {@code (rowOffset + r) * outputSize}
   * @return the summed squared error of the rows
   */
  public double forward(int rows, float[] targets, int rowOffset) {
    this.targets = targets;
    return forward(rows, null, rowOffset, true);
  }

  /** A regression network's forward and backward pass: as {@link #forwardBackward(int, int[], int, float[])}, squared error. */
  public double forwardBackward(int rows, float[] targets, int rowOffset, float[] gradOut) {
    this.targets = targets;
    return forwardBackward(rows, (int[]) null, rowOffset, gradOut);
  }

  /**
   * @param inference whether only the forward pass follows: it may then read the transposed
   *     weights (training reads the weights themselves, which its caller may update in place)
   */
  private double forward(int rows, int[] labels, int labelOffset, boolean inference) {
    checkReady(rows);
    if (head != null) {
      acts[0].reshape(rows, spec.in(first), false);
      for (int s = 0; s < rows; s += CHUNK) head.forward(image.data, s, Math.min(CHUNK, rows - s), acts[0].data, s);
      input = InputProducts.DENSE;
    } else {
      prepareInput(rows);
    }
    boolean byTransposed = inference && gemm.prefersTransposedWeights() && input == InputProducts.DENSE;
    if (byTransposed) transposeWeights();
    return tailForward(rows, labels, labelOffset, byTransposed);
  }

  private float[] targets() {
    if (targets == null) throw new IllegalStateException(spec + " is a regression network: give it real-valued targets");
    return targets;
  }

  /** W_t^T for every dense layer, once per setParameters. */
  private void transposeWeights() {
    if (!transposedStale) return;
    for (int t = 0; t < weights.length; t++) {
      if (transposed[t] == null) transposed[t] = new FMatrixRMaj(weights[t].numCols, weights[t].numRows);
      CommonOps_FDRM.transpose(weights[t], transposed[t]);
    }
    transposedStale = false;
    transposesMade++;
  }

  /** The dense layers on acts[0], and the loss. */
  private double tailForward(int rows, int[] labels, int labelOffset, boolean byTransposed) {
    int last = weights.length - 1;
    for (int t = 0; t < last; t++) {
      layerForward(t, rows, byTransposed);
      spec.activation(first + t).forward(acts[t + 1].data, rows, spec.out(first + t));
    }
    layerForward(last, rows, byTransposed);
    if (regression) return MeanSquaredError.forward(acts[last + 1].data, targets(), labelOffset, rows, spec.outputSize());
    return SoftmaxCrossEntropy.forward(acts[last + 1].data, labels, labelOffset, rows, spec.outputSize());
  }

  /** (rows, classes) probabilities of the last {@link #forward}. */
  public FMatrixRMaj output() {
    return acts[weights.length];
  }

  /** The predicted class of row {@code r} of the last {@link #forward}: the most probable; of equal ones the first. */
  public int predicted(int r) {
    float[] p = acts[weights.length].data;
    int classes = spec.outputSize();
    int off = r * classes;
    int best = 0;
    for (int k = 1; k < classes; k++) if (p[off + k] > p[off + best]) best = k;
    return best;
  }

  /**
   * Forward and backward pass; writes the gradient of the <em>summed</em> loss of the rows into
   * {@code gradOut} (flat layout, every value overwritten). The input layer's dX is not computed.
   *
   * @param gradOut flat gradient, length {@code spec.numParams()}, modified
   * @return summed cross-entropy of the rows
   */
  public double forwardBackward(int rows, int[] labels, int labelOffset, float[] gradOut) {
    if (regression != (labels == null)) {
      throw new IllegalArgumentException(spec + (regression ? " is a regression network: give it real-valued targets"
          : " is a classifier: give it integer labels"));
    }
    if (gradOut.length != spec.numParams()) {
      throw new IllegalArgumentException("gradient array has " + gradOut.length + " values, network " + spec
          + " needs " + spec.numParams());
    }
    if (head == null) return pass(rows, labels, labelOffset, gradOut, forward(rows, labels, labelOffset, false));
    checkReady(rows);
    // A network with convolutions goes CHUNK rows at a time, forward and backward: its
    // intermediate arrays (of the reference CNN, 5.5 MB for the first convolution's output at 64
    // rows) then stay in the core's cache between the passes over them, and the products run
    // from the cache instead of memory (measured: a step of 64 rows 1.5 times faster). The
    // gradient is the sum of the chunks' sums, in chunk order.
    double loss = 0;
    for (int s = 0; s < rows; s += CHUNK) {
      int n = Math.min(CHUNK, rows - s);
      float[] g = s == 0 ? gradOut : chunkGrad();
      acts[0].reshape(n, spec.in(first), false);
      head.forward(image.data, s, n, acts[0].data, 0);
      loss += pass(n, labels, labelOffset + s, g, tailForward(n, labels, labelOffset + s, false));
      if (s > 0) {
        for (int i = 0; i < g.length; i++) gradOut[i] += g[i];
      }
    }
    return loss;
  }

  private float[] chunkGrad() {
    if (chunkGrad == null) chunkGrad = new float[spec.numParams()];
    return chunkGrad;
  }

  /** The backward pass of the last forward of {@code rows} rows; returns {@code loss}. */
  private double pass(int rows, int[] labels, int labelOffset, float[] gradOut, double loss) {
    if (inPlace(0)) weightGrads[0].data = gradOut; // dW_0 is written in place: gradOut[0, in*out)
    int classes = spec.outputSize();
    int last = weights.length - 1;
    deltaA.reshape(rows, classes, false);
    System.arraycopy(acts[last + 1].data, 0, deltaA.data, 0, rows * classes);
    if (regression) {
      MeanSquaredError.backward(deltaA.data, targets(), labelOffset, rows, classes);
    } else {
      SoftmaxCrossEntropy.backward(deltaA.data, labels, labelOffset, rows, classes);
    }
    FMatrixRMaj delta = deltaA;
    FMatrixRMaj below = deltaB;
    for (int t = last; t >= 0; t--) {
      int l = first + t;
      int in = spec.in(l);
      int out = spec.out(l);
      // dW_t = A_t^T dZ_t : (in, B) x (B, out)
      if (t == 0 && input == InputProducts.EJML_SPARSE) {
        CommonOps_FSCC.multTransA(sparseInput, delta, weightGrads[t], sparseWork);
      } else if (t == 0 && input == InputProducts.SPARSE_LANES) {
        sparseRows.multiplyTransA(delta.data, out, weightGrads[t].data);
      } else {
        gemm.multTransA(acts[t], delta, weightGrads[t]);
      }
      if (!inPlace(t)) System.arraycopy(weightGrads[t].data, 0, gradOut, spec.weightOffset(l), in * out);
      // db_t = column sums of dZ_t
      int bOff = spec.biasOffset(l);
      java.util.Arrays.fill(gradOut, bOff, bOff + out, 0f);
      float[] d = delta.data;
      for (int r = 0; r < rows; r++) {
        int rowOff = r * out;
        for (int j = 0; j < out; j++) gradOut[bOff + j] += d[rowOff + j];
      }
      if (t > 0 || head != null) {
        // dA_{t-1} = dZ_t W_t^T : (B, out) x (out, in), then through the activation of dense layer t-1
        // (for t = 0: the gradient of the head's flattened output, which has no activation here)
        below.reshape(rows, in, false);
        gemm.multTransB(delta, weights[t], below);
        if (t > 0) spec.activation(l - 1).backward(acts[t].data, below.data, rows, in);
        FMatrixRMaj tmp = delta;
        delta = below;
        below = tmp;
      }
    }
    if (head != null) head.backward(delta.data, rows, gradOut);
    return loss;
  }

  /** Z = A_t W_t + b_t into acts[t+1]; {@code byTransposed}: A_t (W_t^T)^T, the same product. */
  private void layerForward(int t, int rows, boolean byTransposed) {
    int out = spec.out(first + t);
    FMatrixRMaj z = acts[t + 1];
    z.reshape(rows, out, false);
    if (t == 0 && input == InputProducts.EJML_SPARSE) {
      CommonOps_FSCC.mult(sparseInput, weights[t], z);
    } else if (t == 0 && input == InputProducts.SPARSE_LANES) {
      sparseRows.multiply(weights[t].data, out, z.data);
    } else if (byTransposed) {
      gemm.multTransB(acts[t], transposed[t], z);
    } else {
      gemm.mult(acts[t], weights[t], z);
    }
    int bOff = spec.biasOffset(first + t);
    float[] zd = z.data;
    for (int r = 0; r < rows; r++) {
      int rowOff = r * out;
      for (int j = 0; j < out; j++) zd[rowOff + j] += params[bOff + j];
    }
  }

  /** Chooses the input layer's kernels by the batch's density; builds the sparse copy if sparse. */
  private void prepareInput(int rows) {
    input = InputProducts.DENSE;
    if (!gemm.prefersSparseInput()) {
      if (Lanes.ON && sparseRows.load(acts[0].data, rows, spec.inputSize(), SPARSE_INPUT_DENSITY)) {
        input = InputProducts.SPARSE_LANES;
      }
      return;
    }
    int n = rows * spec.inputSize();
    if (SparseRows.nonZeros(acts[0].data, n) <= SPARSE_INPUT_DENSITY * n) {
      FConvertMatrixStruct.convert(acts[0], sparseInput, 0f);
      input = InputProducts.EJML_SPARSE;
    }
  }

  private void checkReady(int rows) {
    if (params == null) throw new IllegalStateException("setParameters was not called");
    FMatrixRMaj x = head != null ? image : acts[0];
    if (x.numRows != rows) {
      throw new IllegalStateException("input holds " + x.numRows + " rows, asked for " + rows);
    }
  }
}
