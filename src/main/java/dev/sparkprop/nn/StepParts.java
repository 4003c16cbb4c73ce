package dev.sparkprop.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One task's training pass, part by part: the median milliseconds of each convolution's forward
 * product and the work around it (im2col, bias, activation), its weight-gradient and
 * input-gradient products and the work around them (the activation's derivative, bias sums,
 * col2im), each pool's forward and backward, the head's layout changes, the dense layers'
 * products, and what is left (the dense layers' other work, the loss, the chunks' sums). The
 * pass is {@link Network#forwardBackward}, unchanged, on a network that records into
 * {@link StepTimes}; one thread, as a task runs it. For {@code submit/bench} on a network with
 * convolutions.
 */
public final class StepParts {
  private StepParts() {}

  /**
   * @param x {@code rows} inputs, (rows, C H W), as a task's step feeds them
   * @param labels their classes
   * @return part name to median milliseconds a pass, in the pass's order, then {@code total}
   */
  public static Map<String, Double> measure(NetworkSpec spec, Gemm gemm, float[] params, float[] x, int[] labels,
      int rows, int warmup, int reps) {
    StepTimes t = new StepTimes(spec);
    Network net = t.network(gemm);
    net.setParameters(params);
    float[] grad = new float[spec.numParams()];
    List<String> names = new ArrayList<>();
    List<double[]> values = new ArrayList<>();
    for (int r = -warmup; r < reps; r++) {
      System.arraycopy(x, 0, net.input(rows).data, 0, rows * spec.inputSize());
      t.reset();
      long t0 = System.nanoTime();
      net.forwardBackward(rows, labels, 0, grad);
      long total = System.nanoTime() - t0;
      if (r < 0) continue;
      Map<String, Long> parts = parts(t, total);
      if (names.isEmpty()) {
        names.addAll(parts.keySet());
        for (int i = 0; i < names.size(); i++) values.add(new double[reps]);
      }
      int i = 0;
      for (long ns : parts.values()) values.get(i++)[r] = ns / 1e6;
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) out.put(names.get(i), median(values.get(i)));
    return out;
  }

  /** One pass's parts from its records, in nanoseconds; they add up to {@code total}. */
  static Map<String, Long> parts(StepTimes t, long total) {
    Map<String, Long> m = new LinkedHashMap<>();
    long head = t.layout;
    int conv = 0;
    int pool = 0;
    for (int l = 0; l < t.headLayers; l++) {
      long[] p = t.products[l + 1];
      if (t.spec.layer(l) instanceof NetworkSpec.Conv) {
        String n = "conv" + ++conv;
        m.put(n + " forward product", p[StepTimes.MULT]);
        m.put(n + " forward im2col, bias", t.forward[l] - p[StepTimes.MULT]);
        m.put(n + " weight-gradient product", p[StepTimes.TRANS_B]);
        m.put(n + " input-gradient product", p[StepTimes.TRANS_A]);
        m.put(n + " backward bias, col2im", t.backward[l] - p[StepTimes.TRANS_B] - p[StepTimes.TRANS_A]);
      } else {
        String n = "pool" + ++pool;
        m.put(n + " forward (and the activation)", t.forward[l]);
        m.put(n + " backward (and the activation)", t.backward[l]);
      }
      head += t.forward[l] + t.backward[l];
    }
    m.put("head layout changes", t.layout);
    long[] d = t.products[0];
    long dense = d[StepTimes.MULT] + d[StepTimes.TRANS_A] + d[StepTimes.TRANS_B];
    m.put("dense products", dense);
    m.put("dense rest, loss, chunk sums", total - head - dense);
    m.put("total", total);
    return m;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
