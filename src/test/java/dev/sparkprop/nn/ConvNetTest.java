package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Convolution and pooling: the layer list's syntax and shapes, every refusal with its message,
 * the forward pass against a naive convolution written from the definition (PyTorch's: a
 * cross-correlation, weights (filters, channels, kernel, kernel), flattened C, H, W), and the
 * gradients against central finite differences on odd sizes, stride 2, padding same, several
 * channels, pooling with a stride of its own; on EJML and on the bundled OpenBLAS.
 */
class ConvNetTest {
  private static final int ROWS = 5;

  private static NetworkSpec spec(String layers, int c, int h, int w) {
    return NetworkSpec.parse(layers, new NetworkSpec.Shape(c, h, w), Activation.RELU);
  }

  @Test
  void theReferenceCnnHasPyTorchsShapesAndParameterCount() {
    NetworkSpec s = spec("conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax", 1, 28, 28);
    assertEquals(225_034, s.numParams(), "cnn_mnist.py's count");
    assertEquals("32x26x26", s.shape(1).toString());
    assertEquals("32x13x13", s.shape(2).toString());
    assertEquals("64x11x11", s.shape(3).toString());
    assertEquals("64x5x5", s.shape(4).toString());
    assertEquals(1600, s.in(4), "dense(128) takes the flattened 64x5x5");
    assertEquals(List.of(64, 32, 3, 3), java.util.Arrays.stream(s.weightShape(2)).boxed().toList());
    assertEquals("1x28x28: conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax", s.toString());
    // the defaults: hidden activation for conv and dense, softmax for the last
    assertEquals(s, spec("conv(32,3), pool(2), conv(64,3), pool(2), dense(128), dense(10)", 1, 28, 28));
    assertEquals("4x5x5", spec("conv(4,3,stride=2,same), dense(2)", 3, 9, 10).shape(1).toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "conv(8,5) relu, dense(10) | 1,3,3 | layers: conv(8,5) relu (layer 1) needs an input of at least 5x5, but 1x3x3 (the input) reaches it",
      "conv(4,3), pool(2), pool(2), pool(2), dense(10) | 1,9,9 | layers: pool(2) (layer 4) needs an input of at least 2x2, but 4x1x1 (after pool(2)) reaches it",
      "dense(16), conv(4,3), dense(10) | 1,8,8 | layers: conv(4,3) relu (layer 2) comes after a dense layer; convolutions take images",
      "conv(4,3), pool(2) | 1,8,8 | layers: the output layer must be dense with softmax",
      "conv(4,3) softmax, dense(10) | 1,8,8 | layers: conv(4,3) softmax (layer 1): softmax belongs to the output layer only",
      "conv(4), dense(10) | 1,8,8 | layers: cannot read 'conv(4)' (item 1): conv takes FILTERS,KERNEL first",
      "conv(4,3,stride=0), dense(10) | 1,8,8 | layers: cannot read 'conv(4,3,stride=0)' (item 1): '0' is not a positive integer",
      "conv(4,3,pad), dense(10) | 1,8,8 | layers: cannot read 'conv(4,3,pad)' (item 1): unknown conv option 'pad'",
      "pool(2) relu, dense(10) | 1,8,8 | layers: cannot read 'pool(2) relu' (item 1): pool takes SIZE[,STRIDE] and no activation",
      "lstm(4), dense(10) | 1,8,8 | layers: cannot read 'lstm(4)' (item 1): expected conv(FILTERS,KERNEL"})
  void aListThatDoesNotFitIsRefusedWithTheLayerAndTheShape(String layers, String shape, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NetworkSpec.parse(layers, NetworkSpec.Shape.parse(shape), Activation.RELU));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }

  /** The forward pass equals a naive convolution network written from the definition. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "conv(3,3,same) relu, pool(2), conv(4,2,stride=2) tanh, dense(5) softmax | 2,9,8",
      "conv(3,3) relu, pool(2), conv(4,3,same) relu, pool(2), dense(5) softmax | 2,13,11",
      "conv(2,2), conv(3,3,stride=2,same) tanh, pool(2), dense(5) softmax | 1,11,10",
      "conv(3,2) sigmoid, pool(3,2), conv(2,2) relu, pool(2,1), dense(5) softmax | 1,12,12",
      // a pool-blocked first layer with a stride, padding and an odd map (ConvStage)
      "conv(3,3,stride=2,same) relu, pool(2), dense(5) softmax | 2,11,10",
      "conv(4,2) tanh, pool(2), conv(2,2) relu, pool(2), dense(5) softmax | 1,9,12"})
  void forwardEqualsANaiveConvolutionNetwork(String layers, String shape) {
    NetworkSpec s = NetworkSpec.parse(layers, NetworkSpec.Shape.parse(shape), Activation.RELU);
    SplittableRandom rnd = new SplittableRandom(5);
    float[] p = new float[s.numParams()];
    for (int i = 0; i < p.length; i++) p[i] = (float) (0.3 * rnd.nextGaussian());
    float[] x = new float[ROWS * s.inputSize()];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    for (Gemm g : new Gemm[] {EjmlGemm.INSTANCE, Kernel.OPENBLAS.gemm()}) {
      Network net = new Network(s, g);
      net.setParameters(p);
      System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
      net.forward(ROWS, new int[ROWS], 0);
      for (int n = 0; n < ROWS; n++) {
        double[] want = Naive.forward(s, p, x, n);
        for (int k = 0; k < want.length; k++) {
          assertEquals(want[k], net.output().data[n * want.length + k], 2e-5, g.description() + " row " + n + " class " + k);
        }
      }
    }
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    check(spec("conv(3,3) tanh, pool(2), dense(4) softmax", 2, 7, 7), 1, EjmlGemm.INSTANCE);
    check(spec("conv(3,3,stride=2,same) tanh, conv(2,2) sigmoid, dense(3) softmax", 2, 9, 8), 2, EjmlGemm.INSTANCE);
    check(spec("conv(2,3,same) identity, pool(3,2), dense(5) tanh, dense(3) softmax", 1, 8, 8), 3, EjmlGemm.INSTANCE);
    check(spec("conv(2,3) identity, pool(3), dense(3) softmax", 1, 8, 8), 3, EjmlGemm.INSTANCE);
    check(spec("conv(3,3) relu, pool(2), conv(2,2) relu, dense(3) softmax", 3, 8, 7), 4, Kernel.OPENBLAS.gemm());
    // pool-blocked convolutions (followed by pool(2)) after another layer, so that their input
    // gradient is taken: odd maps (a last row and column no window covers), stride 2, same
    check(spec("conv(2,3,same) tanh, conv(3,3) tanh, pool(2), dense(3) softmax", 2, 8, 7), 5, EjmlGemm.INSTANCE);
    check(spec("conv(2,2) tanh, conv(3,3,stride=2,same) sigmoid, pool(2), dense(3) softmax", 1, 11, 10), 6, EjmlGemm.INSTANCE);
    check(spec("conv(3,3) relu, pool(2), conv(4,3,same) relu, pool(2), dense(3) softmax", 2, 13, 12), 7, Kernel.OPENBLAS.gemm());
    check(spec("conv(3,3,stride=2,same) tanh, pool(2), dense(3) softmax", 2, 11, 10), 8, EjmlGemm.INSTANCE); // pool-blocked, strided
  }

  /**
   * Max pooling's ties go to the first value of the window in row-major order, and the gradient
   * goes there only. A 2x2 convolution that copies its top-left input makes four equal outputs
   * from patches that differ elsewhere, so the weights' gradients tell which one the pool chose.
   */
  @Test
  void poolingTiesGoToTheFirstMaximum() {
    NetworkSpec s = spec("conv(1,2) identity, pool(2), dense(2) softmax", 1, 3, 3);
    float[] p = new float[s.numParams()]; // conv W (1,1,2,2) at 0..3, b at 4; dense W (1,2) at 5..6, b at 7..8
    p[0] = 1f; // W = [[1, 0], [0, 0]]: out[y][x] = in[y][x]
    p[5] = 1f;
    p[6] = -1f;
    float[] x = {3, 3, 5,
                 3, 3, 7,
                 11, 13, 0}; // four equal conv outputs (3); their patches' other values differ
    float[] grad = new float[s.numParams()];
    Network net = new Network(s, EjmlGemm.INSTANCE);
    net.setParameters(p);
    System.arraycopy(x, 0, net.input(1).data, 0, x.length);
    net.forwardBackward(1, new int[] {0}, 0, grad);
    double g = grad[0] / 3.0; // dW00 = g * in[0][0]
    assertTrue(Math.abs(g) > 1e-3, "a gradient flows: " + g);
    assertEquals(3 * g, grad[1], 1e-6, "dW01 = g * in[0][1]: position (0,0), not (0,1) (5) or (1,1) (7)");
    assertEquals(3 * g, grad[2], 1e-6, "dW10 = g * in[1][0]: position (0,0), not (1,0) (11) or (1,1) (13)");
    assertEquals(g, grad[4], 1e-6, "db = g: one position only");
  }

  private static void check(NetworkSpec spec, long seed, Gemm gemm) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] params = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(spec, seed);
    for (int i = 0; i < params.length; i++) params[i] += (float) (0.1 * rnd.nextGaussian());
    float[] x = new float[ROWS * spec.inputSize()];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    int[] y = new int[ROWS];
    for (int r = 0; r < ROWS; r++) y[r] = rnd.nextInt(spec.outputSize());
    Network net = new Network(spec, gemm);
    float[] grad = new float[spec.numParams()];
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    net.forwardBackward(ROWS, y, 0, grad);
    for (int i = 0; i < params.length; i++) {
      double err = Double.MAX_VALUE;
      double numeric = 0;
      // Max pooling is not differentiable where two values of a window are equal; a step that
      // crosses such a tie spoils the central quotient. The tie lies on one side of the point,
      // so the one-sided quotient on the other side still holds: of the central and the two
      // one-sided quotients at three step sizes, one must agree (a wrong gradient agrees with none).
      double at = loss(net, params, x, y);
      for (double eps : new double[] {1e-2, 1e-3, 3e-4}) {
        float saved = params[i];
        params[i] = (float) (saved + eps);
        double up = loss(net, params, x, y);
        params[i] = (float) (saved - eps);
        double down = loss(net, params, x, y);
        params[i] = saved;
        for (double q : new double[] {(up - down) / (2 * eps), (up - at) / eps, (at - down) / eps}) {
          double e = Math.abs(q - grad[i]) / Math.max(1.0, Math.abs(q) + Math.abs(grad[i]));
          if (e < err) {
            err = e;
            numeric = q;
          }
        }
      }
      assertTrue(err < 5e-3, spec + " on " + gemm.description() + ": parameter " + i + " analytic " + grad[i] + " numeric " + numeric);
    }
  }

  private static double loss(Network net, float[] params, float[] x, int[] y) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    return net.forward(ROWS, y, 0);
  }

  /** The network of a spec, one image at a time, in double, from the definitions. */
  static final class Naive {
    static double[] forward(NetworkSpec s, float[] p, float[] x, int n) {
      NetworkSpec.Shape in = s.inputShape();
      double[] a = new double[in.size()];
      for (int i = 0; i < a.length; i++) a[i] = x[n * in.size() + i];
      for (int l = 0; l < s.numLayers(); l++) {
        NetworkSpec.Shape si = s.shape(l);
        NetworkSpec.Shape so = s.shape(l + 1);
        double[] b = new double[so.size()];
        NetworkSpec.Layer layer = s.layer(l);
        if (layer instanceof NetworkSpec.Conv c) {
          int k = c.kernel();
          int padTop = c.same() ? Math.max(0, (so.h() - 1) * c.stride() + k - si.h()) / 2 : 0;
          int padLeft = c.same() ? Math.max(0, (so.w() - 1) * c.stride() + k - si.w()) / 2 : 0;
          for (int f = 0; f < so.c(); f++) {
            for (int y = 0; y < so.h(); y++) {
              for (int xo = 0; xo < so.w(); xo++) {
                double sum = p[s.biasOffset(l) + f];
                for (int ch = 0; ch < si.c(); ch++) {
                  for (int i = 0; i < k; i++) {
                    for (int j = 0; j < k; j++) {
                      int iy = y * c.stride() + i - padTop;
                      int ix = xo * c.stride() + j - padLeft;
                      if (iy < 0 || iy >= si.h() || ix < 0 || ix >= si.w()) continue;
                      double w = p[s.weightOffset(l) + ((f * si.c() + ch) * k + i) * k + j];
                      sum += w * a[(ch * si.h() + iy) * si.w() + ix];
                    }
                  }
                }
                b[(f * so.h() + y) * so.w() + xo] = act(c.activation(), sum);
              }
            }
          }
        } else if (layer instanceof NetworkSpec.Pool pl) {
          for (int ch = 0; ch < so.c(); ch++) {
            for (int y = 0; y < so.h(); y++) {
              for (int xo = 0; xo < so.w(); xo++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < pl.size(); i++) {
                  for (int j = 0; j < pl.size(); j++) {
                    m = Math.max(m, a[(ch * si.h() + y * pl.stride() + i) * si.w() + xo * pl.stride() + j]);
                  }
                }
                b[(ch * so.h() + y) * so.w() + xo] = m;
              }
            }
          }
        } else {
          NetworkSpec.Dense d = (NetworkSpec.Dense) layer;
          int inN = si.size();
          for (int o = 0; o < d.out(); o++) {
            double sum = p[s.biasOffset(l) + o];
            for (int i = 0; i < inN; i++) sum += a[i] * p[s.weightOffset(l) + i * d.out() + o];
            b[o] = sum;
          }
          if (d.activation() == Activation.SOFTMAX) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : b) max = Math.max(max, v);
            double z = 0;
            for (int o = 0; o < b.length; o++) z += b[o] = Math.exp(b[o] - max);
            for (int o = 0; o < b.length; o++) b[o] /= z;
          } else {
            for (int o = 0; o < b.length; o++) b[o] = act(d.activation(), b[o]);
          }
        }
        a = b;
      }
      return a;
    }

    private static double act(Activation f, double v) {
      switch (f) {
        case RELU:
          return Math.max(0, v);
        case TANH:
          return Math.tanh(v);
        case SIGMOID:
          return 1 / (1 + Math.exp(-v));
        default:
          return v;
      }
    }
  }
}
