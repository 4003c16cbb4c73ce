package dev.sparkprop.nn;

/** One layer of a {@link ConvHead}: a convolution ({@link ConvStage}) or a pool ({@link PoolStage}). */
abstract class HeadStage {
  final int layer;
  final NetworkSpec.Shape in;
  final NetworkSpec.Shape out;
  float[] dOut = new float[0]; // dL/d(output), C x N x H x W

  HeadStage(NetworkSpec spec, int layer) {
    this.layer = layer;
    this.in = spec.shape(layer);
    this.out = spec.shape(layer + 1);
  }

  /** Runs the layer on {@code x} (C x N x H x W); returns its output (its own buffer). */
  abstract float[] forward(float[] x, int rows);

  /** The buffer for the gradient with respect to this layer's output, sized for {@code rows}. */
  float[] outGrad(int rows) {
    dOut = grow(dOut, out.size() * rows);
    return dOut;
  }

  /** From {@link #dOut}: this layer's parameter gradients into {@code grad}, and (if given) dL/d(input) into {@code dIn}. */
  abstract void backward(int rows, float[] grad, float[] dIn);

  static float[] grow(float[] a, int n) {
    return a.length >= n ? a : new float[n];
  }
}
