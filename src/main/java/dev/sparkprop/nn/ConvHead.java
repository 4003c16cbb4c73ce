package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;

/**
 * The convolution and pooling layers at the front of a {@link NetworkSpec}, forward and
 * backward, on reusable buffers (grown to the largest batch, then reused: nothing is allocated
 * per step). Part of a {@link Network}; not thread-safe.
 *
 * <p>Between its layers a batch is kept channel-major across the batch, C x N x H x W: then a
 * convolution of all N images is one matrix product, {@code Z (F, N Ho Wo) = W (F, C k k) *
 * cols (C k k, N Ho Wo)}, whose result is already C x N x H x W for the next layer (im2col). The
 * input (N x C x H x W, as the data holds it) is transposed once on the way in, and the output
 * once on the way out to N x (C H W), the flattened order of PyTorch and ONNX, which the dense
 * layers take. The three products of a convolution (forward, weight gradient, input gradient)
 * go through the network's {@link Gemm}.
 *
 * <p>Max pooling keeps the position of each window's maximum for the backward pass; of equal
 * values the first in row-major order within the window wins.
 */
final class ConvHead {
  private final NetworkSpec spec;
  private final Gemm gemm;
  private final int layers; // the head is spec layers 0 .. layers - 1
  private final Stage[] stages;
  private float[] input = new float[0]; // C x N x H x W of the network input (C > 1)

  ConvHead(NetworkSpec spec, int layers, Gemm gemm) {
    this.spec = spec;
    this.gemm = gemm;
    this.layers = layers;
    stages = new Stage[layers];
    for (int l = 0; l < layers; l++) {
      stages[l] = spec.layer(l) instanceof NetworkSpec.Conv ? new ConvStage(l) : new PoolStage(l);
    }
  }

  /** The layers' weights from the flat parameters (read in place for a layer at offset 0). */
  void setParameters(float[] params) {
    for (Stage s : stages) if (s instanceof ConvStage c) c.setWeights(params);
  }

  /**
   * @param x (rows, C H W): the batch as the data holds it, read only
   * @param flatOut (rows, C' H' W'): the head's output, flattened per image
   */
  void forward(float[] x, int rows, float[] flatOut) {
    NetworkSpec.Shape in = spec.inputShape();
    float[] cur;
    if (in.c() == 1) {
      cur = x; // 1 x N x H x W is N x H x W
    } else {
      input = grow(input, in.size() * rows);
      toChannels(x, rows, in.c(), in.h() * in.w(), input);
      cur = input;
    }
    for (Stage s : stages) cur = s.forward(cur, rows);
    NetworkSpec.Shape out = spec.shape(layers);
    toImages(cur, rows, out.c(), out.h() * out.w(), flatOut);
  }

  /**
   * @param dFlat (rows, C' H' W'): the loss's gradient with respect to the flattened output, read only
   * @param grad flat gradient: the head's layers' dW and db are written
   */
  void backward(float[] dFlat, int rows, float[] grad) {
    NetworkSpec.Shape out = spec.shape(layers);
    Stage last = stages[layers - 1];
    toChannels(dFlat, rows, out.c(), out.h() * out.w(), last.outGrad(rows));
    for (int l = layers - 1; l >= 0; l--) {
      float[] below = l > 0 ? stages[l - 1].outGrad(rows) : null; // the input needs no gradient
      stages[l].backward(rows, grad, below);
    }
  }

  /** images (N x C x P, per image) into channels (C x N x P, channel-major across the batch). */
  private static void toChannels(float[] images, int n, int c, int p, float[] channels) {
    for (int k = 0; k < c; k++) {
      for (int i = 0; i < n; i++) System.arraycopy(images, (i * c + k) * p, channels, (k * n + i) * p, p);
    }
  }

  /** channels (C x N x P) into images (N x C x P). */
  private static void toImages(float[] channels, int n, int c, int p, float[] images) {
    for (int k = 0; k < c; k++) {
      for (int i = 0; i < n; i++) System.arraycopy(channels, (k * n + i) * p, images, (i * c + k) * p, p);
    }
  }

  private static float[] grow(float[] a, int n) {
    return a.length >= n ? a : new float[n];
  }

  /** One layer of the head. */
  private abstract class Stage {
    final int layer;
    final NetworkSpec.Shape in;
    final NetworkSpec.Shape out;
    float[] dOut = new float[0]; // dL/d(output), C x N x H x W

    Stage(int layer) {
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
  }

  private final class ConvStage extends Stage {
    final NetworkSpec.Conv conv;
    final int ckk;
    final int padTop;
    final int padLeft;
    final FMatrixRMaj w; // (F, C k k)
    final FMatrixRMaj dw = new FMatrixRMaj(1, 1);
    final FMatrixRMaj cols = new FMatrixRMaj(1, 1); // (C k k, N Ho Wo)
    final FMatrixRMaj z = new FMatrixRMaj(1, 1); // (F, N Ho Wo): pre-activation, then the output in place
    final FMatrixRMaj dz = new FMatrixRMaj(1, 1);
    final FMatrixRMaj dcols = new FMatrixRMaj(1, 1);
    float[] bias;
    int biasOffset;

    ConvStage(int layer) {
      super(layer);
      conv = (NetworkSpec.Conv) spec.layer(layer);
      ckk = in.c() * conv.kernel() * conv.kernel();
      int padH = Math.max(0, (out.h() - 1) * conv.stride() + conv.kernel() - in.h());
      int padW = Math.max(0, (out.w() - 1) * conv.stride() + conv.kernel() - in.w());
      padTop = conv.same() ? padH / 2 : 0;
      padLeft = conv.same() ? padW / 2 : 0;
      w = new FMatrixRMaj(conv.filters(), ckk);
      biasOffset = spec.biasOffset(layer);
    }

    void setWeights(float[] params) {
      int off = spec.weightOffset(layer);
      if (off == 0) {
        w.data = params; // W_0 = params[0, F C k k): read in place
      } else {
        System.arraycopy(params, off, w.data, 0, conv.filters() * ckk);
      }
      bias = params;
    }

    @Override
    float[] forward(float[] input, int rows) {
      int m = rows * out.h() * out.w();
      cols.reshape(ckk, m, false);
      im2col(input, rows, cols.data);
      z.reshape(conv.filters(), m, false);
      gemm.mult(w, cols, z); // (F, C k k) x (C k k, N Ho Wo)
      float[] zd = z.data;
      for (int f = 0; f < conv.filters(); f++) {
        float b = bias[biasOffset + f];
        int row = f * m;
        for (int i = 0; i < m; i++) zd[row + i] += b;
      }
      conv.activation().forward(zd, conv.filters(), m);
      return zd;
    }

    /** cols[(c, i, j), (n, y, x)] = x[c, n, y s + i - padTop, x s + j - padLeft], 0 outside. */
    private void im2col(float[] xs, int rows, float[] c) {
      int k = conv.kernel();
      int s = conv.stride();
      int h = in.h();
      int wd = in.w();
      int ho = out.h();
      int wo = out.w();
      int m = rows * ho * wo;
      for (int ch = 0; ch < in.c(); ch++) {
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            int r = ((ch * k + i) * k + j) * m;
            for (int n = 0; n < rows; n++) {
              int src = (ch * rows + n) * h * wd;
              for (int y = 0; y < ho; y++) {
                int dst = r + (n * ho + y) * wo;
                int iy = y * s + i - padTop;
                if (iy < 0 || iy >= h) {
                  java.util.Arrays.fill(c, dst, dst + wo, 0f);
                  continue;
                }
                int rowStart = src + iy * wd;
                for (int xo = 0; xo < wo; xo++) {
                  int ix = xo * s + j - padLeft;
                  c[dst + xo] = ix >= 0 && ix < wd ? xs[rowStart + ix] : 0f;
                }
              }
            }
          }
        }
      }
    }

    @Override
    void backward(int rows, float[] grad, float[] dIn) {
      int m = rows * out.h() * out.w();
      int f = conv.filters();
      dz.reshape(f, m, false);
      System.arraycopy(dOut, 0, dz.data, 0, f * m);
      conv.activation().backward(z.data, dz.data, f, m); // dL/dZ
      gemm.multTransB(dz, cols, dw); // dW (F, C k k) = dZ (F, N Ho Wo) cols^T
      System.arraycopy(dw.data, 0, grad, spec.weightOffset(layer), f * ckk);
      float[] d = dz.data;
      for (int o = 0; o < f; o++) {
        double sum = 0;
        int row = o * m;
        for (int i = 0; i < m; i++) sum += d[row + i];
        grad[biasOffset + o] = (float) sum;
      }
      if (dIn == null) return;
      dcols.reshape(ckk, m, false);
      gemm.multTransA(w, dz, dcols); // dcols (C k k, N Ho Wo) = W^T dZ
      col2im(dcols.data, rows, dIn);
    }

    /** dIn = 0, then dIn[c, n, y s + i - padTop, x s + j - padLeft] += dcols[(c, i, j), (n, y, x)]. */
    private void col2im(float[] c, int rows, float[] dIn) {
      int k = conv.kernel();
      int s = conv.stride();
      int h = in.h();
      int wd = in.w();
      int ho = out.h();
      int wo = out.w();
      int m = rows * ho * wo;
      java.util.Arrays.fill(dIn, 0, in.size() * rows, 0f);
      for (int ch = 0; ch < in.c(); ch++) {
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            int r = ((ch * k + i) * k + j) * m;
            for (int n = 0; n < rows; n++) {
              int dst = (ch * rows + n) * h * wd;
              for (int y = 0; y < ho; y++) {
                int iy = y * s + i - padTop;
                if (iy < 0 || iy >= h) continue;
                int src = r + (n * ho + y) * wo;
                int rowStart = dst + iy * wd;
                for (int xo = 0; xo < wo; xo++) {
                  int ix = xo * s + j - padLeft;
                  if (ix >= 0 && ix < wd) dIn[rowStart + ix] += c[src + xo];
                }
              }
            }
          }
        }
      }
    }
  }

  private final class PoolStage extends Stage {
    final NetworkSpec.Pool pool;
    float[] y = new float[0];
    int[] argmax = new int[0]; // for each output value: the index of its maximum in the input

    PoolStage(int layer) {
      super(layer);
      pool = (NetworkSpec.Pool) spec.layer(layer);
    }

    @Override
    float[] forward(float[] x, int rows) {
      int size = pool.size();
      int s = pool.stride();
      int h = in.h();
      int wd = in.w();
      int ho = out.h();
      int wo = out.w();
      int total = out.size() * rows;
      y = grow(y, total);
      if (argmax.length < total) argmax = new int[total];
      int o = 0;
      for (int plane = 0; plane < in.c() * rows; plane++) { // (c, n) planes, in order
        int base = plane * h * wd;
        for (int yo = 0; yo < ho; yo++) {
          for (int xo = 0; xo < wo; xo++) {
            int best = base + (yo * s) * wd + xo * s;
            float max = x[best];
            for (int i = 0; i < size; i++) {
              int row = base + (yo * s + i) * wd + xo * s;
              for (int j = 0; j < size; j++) {
                if (x[row + j] > max) { // strictly greater: the first maximum wins
                  max = x[row + j];
                  best = row + j;
                }
              }
            }
            y[o] = max;
            argmax[o++] = best;
          }
        }
      }
      return y;
    }

    @Override
    void backward(int rows, float[] grad, float[] dIn) {
      if (dIn == null) return;
      java.util.Arrays.fill(dIn, 0, in.size() * rows, 0f);
      int total = out.size() * rows;
      for (int o = 0; o < total; o++) dIn[argmax[o]] += dOut[o];
    }
  }
}
