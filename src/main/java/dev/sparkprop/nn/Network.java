package dev.sparkprop.nn;

import org.ejml.data.FGrowArray;
import org.ejml.data.FMatrixRMaj;
import org.ejml.data.FMatrixSparseCSC;
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
 * <p>The dense products go through a {@link Gemm} (see {@link Kernel}). When the kernel
 * {@linkplain Gemm#prefersSparseInput prefers it}, the input layer's two large products ({@code x W}
 * and {@code x^T dZ}) use EJML's sparse kernels when at most {@link #SPARSE_INPUT_DENSITY} of the
 * batch's inputs are non-zero: MNIST images are about 19% non-zero, which makes those products
 * about 3.5 times faster than EJML's dense ones (64 rows, 5.6 ms against 20 ms). Denser inputs
 * take the dense path.
 *
 * <p>Usage: {@code setParameters(p); fill input(rows); lossSum = forwardBackward(rows, y, off, g)}.
 */
public final class Network {
  private final NetworkSpec spec;
  private final FMatrixRMaj[] weights; // W_l: (in_l, out_l)
  private final FMatrixRMaj[] acts; // acts[0] = x: (B, in_0); acts[l+1]: (B, out_l)
  private final FMatrixRMaj[] weightGrads; // dW_l: (in_l, out_l)
  private final FMatrixRMaj deltaA = new FMatrixRMaj(1, 1); // dZ of the current layer: (B, out_l)
  private final FMatrixRMaj deltaB = new FMatrixRMaj(1, 1); // dZ of the layer below: (B, in_l)
  private float[] params;
  /** Inputs with at most this fraction of non-zeros go through the sparse kernels. */
  public static final double SPARSE_INPUT_DENSITY = 0.4;
  private final FMatrixSparseCSC sparseInput = new FMatrixSparseCSC(1, 1, 0);
  private final FGrowArray sparseWork = new FGrowArray();
  private boolean inputIsSparse;
  private final Gemm gemm;

  /** A network on the reference kernels (EJML). */
  public Network(NetworkSpec spec) {
    this(spec, EjmlGemm.INSTANCE);
  }

  public Network(NetworkSpec spec, Gemm gemm) {
    this.spec = spec;
    this.gemm = gemm;
    int layers = spec.numLayers();
    weights = new FMatrixRMaj[layers];
    weightGrads = new FMatrixRMaj[layers];
    acts = new FMatrixRMaj[layers + 1];
    // the first layer's W and dW live in the caller's flat arrays (setParameters, forwardBackward)
    weights[0] = shapeOnly(spec.in(0), spec.out(0));
    weightGrads[0] = shapeOnly(spec.in(0), spec.out(0));
    for (int l = 1; l < layers; l++) {
      weights[l] = new FMatrixRMaj(spec.in(l), spec.out(l));
      weightGrads[l] = new FMatrixRMaj(spec.in(l), spec.out(l));
    }
    for (int l = 0; l <= layers; l++) acts[l] = new FMatrixRMaj(1, l == 0 ? spec.inputSize() : spec.out(l - 1));
  }

  /** A (rows, cols) matrix header whose data array is set before use. */
  private static FMatrixRMaj shapeOnly(int rows, int cols) {
    FMatrixRMaj m = new FMatrixRMaj(1, 1);
    m.numRows = rows;
    m.numCols = cols;
    return m;
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
   */
  public void setParameters(float[] flatParams) {
    if (flatParams.length != spec.numParams()) {
      throw new IllegalArgumentException("parameter array has " + flatParams.length
          + " values, network " + spec + " needs " + spec.numParams());
    }
    weights[0].data = flatParams; // W_0 = flatParams[0, in*out): weightOffset(0) is 0
    for (int l = 1; l < spec.numLayers(); l++) {
      System.arraycopy(flatParams, spec.weightOffset(l), weights[l].data, 0, spec.in(l) * spec.out(l));
    }
    params = flatParams;
  }

  /** The input buffer, reshaped to (rows, inputSize); the caller fills its {@code data} row-major. */
  public FMatrixRMaj input(int rows) {
    acts[0].reshape(rows, spec.inputSize(), false);
    return acts[0];
  }

  /**
   * Forward pass of the rows in {@link #input}: leaves class probabilities in {@link #output()}.
   *
   * @return summed cross-entropy of the rows against {@code labels[labelOffset ..]}
   */
  public double forward(int rows, int[] labels, int labelOffset) {
    checkReady(rows);
    prepareInput(rows);
    int last = spec.numLayers() - 1;
    for (int l = 0; l < last; l++) {
      layerForward(l, rows);
      spec.activation(l).forward(acts[l + 1].data, rows, spec.out(l));
    }
    layerForward(last, rows);
    return SoftmaxCrossEntropy.forward(acts[last + 1].data, labels, labelOffset, rows, spec.outputSize());
  }

  /** (rows, classes) probabilities of the last {@link #forward}. */
  public FMatrixRMaj output() {
    return acts[spec.numLayers()];
  }

  /**
   * Forward and backward pass; writes the gradient of the <em>summed</em> loss of the rows into
   * {@code gradOut} (flat layout, every value overwritten). The input layer's dX is not computed.
   *
   * @param gradOut flat gradient, length {@code spec.numParams()}, modified
   * @return summed cross-entropy of the rows
   */
  public double forwardBackward(int rows, int[] labels, int labelOffset, float[] gradOut) {
    if (gradOut.length != spec.numParams()) {
      throw new IllegalArgumentException("gradient array has " + gradOut.length + " values, network " + spec
          + " needs " + spec.numParams());
    }
    double loss = forward(rows, labels, labelOffset);
    weightGrads[0].data = gradOut; // dW_0 is written in place: gradOut[0, in*out)
    int classes = spec.outputSize();
    int last = spec.numLayers() - 1;
    deltaA.reshape(rows, classes, false);
    System.arraycopy(acts[last + 1].data, 0, deltaA.data, 0, rows * classes);
    SoftmaxCrossEntropy.backward(deltaA.data, labels, labelOffset, rows, classes);
    FMatrixRMaj delta = deltaA;
    FMatrixRMaj below = deltaB;
    for (int l = last; l >= 0; l--) {
      int in = spec.in(l);
      int out = spec.out(l);
      // dW_l = A_l^T dZ_l : (in, B) x (B, out)
      if (l == 0 && inputIsSparse) {
        CommonOps_FSCC.multTransA(sparseInput, delta, weightGrads[l], sparseWork);
      } else {
        gemm.multTransA(acts[l], delta, weightGrads[l]);
      }
      if (l > 0) System.arraycopy(weightGrads[l].data, 0, gradOut, spec.weightOffset(l), in * out);
      // db_l = column sums of dZ_l
      int bOff = spec.biasOffset(l);
      java.util.Arrays.fill(gradOut, bOff, bOff + out, 0f);
      float[] d = delta.data;
      for (int r = 0; r < rows; r++) {
        int rowOff = r * out;
        for (int j = 0; j < out; j++) gradOut[bOff + j] += d[rowOff + j];
      }
      if (l > 0) {
        // dA_{l-1} = dZ_l W_l^T : (B, out) x (out, in), then through the activation of layer l-1
        below.reshape(rows, in, false);
        gemm.multTransB(delta, weights[l], below);
        spec.activation(l - 1).backward(acts[l].data, below.data, rows, in);
        FMatrixRMaj t = delta;
        delta = below;
        below = t;
      }
    }
    return loss;
  }

  /** Z = A_l W_l + b_l into acts[l+1]. */
  private void layerForward(int l, int rows) {
    int out = spec.out(l);
    FMatrixRMaj z = acts[l + 1];
    z.reshape(rows, out, false);
    if (l == 0 && inputIsSparse) {
      CommonOps_FSCC.mult(sparseInput, weights[l], z);
    } else {
      gemm.mult(acts[l], weights[l], z);
    }
    int bOff = spec.biasOffset(l);
    float[] zd = z.data;
    for (int r = 0; r < rows; r++) {
      int rowOff = r * out;
      for (int j = 0; j < out; j++) zd[rowOff + j] += params[bOff + j];
    }
  }

  /** Chooses the input layer's kernels by the batch's density; builds the sparse copy if sparse. */
  private void prepareInput(int rows) {
    if (!gemm.prefersSparseInput()) {
      inputIsSparse = false;
      return;
    }
    float[] x = acts[0].data;
    int n = rows * spec.inputSize();
    int nonZero = 0;
    for (int i = 0; i < n; i++) {
      if (x[i] != 0f) nonZero++;
    }
    inputIsSparse = nonZero <= SPARSE_INPUT_DENSITY * n;
    if (inputIsSparse) FConvertMatrixStruct.convert(acts[0], sparseInput, 0f);
  }

  private void checkReady(int rows) {
    if (params == null) throw new IllegalStateException("setParameters was not called");
    if (acts[0].numRows != rows) {
      throw new IllegalStateException("input holds " + acts[0].numRows + " rows, asked for " + rows);
    }
  }
}
