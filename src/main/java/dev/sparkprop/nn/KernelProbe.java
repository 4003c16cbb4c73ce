package dev.sparkprop.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.ejml.data.FMatrixRMaj;

/**
 * How {@code kernel=auto} chooses: times each candidate's three products of one layer (forward
 * {@code x W}, weight gradient {@code x^T dZ}, delta {@code dZ W^T}) on the network's own shapes
 * and takes the fastest. A candidate is timed for about {@link #MILLIS_PER_CANDIDATE} ms after a
 * warm-up; its best round counts. The first candidate (the bundled OpenBLAS) keeps the choice
 * unless another is {@link #MARGIN} times faster: close timings would otherwise flip the choice,
 * and with it the parameters' last bits, from one run to the next.
 */
public final class KernelProbe {
  private KernelProbe() {}

  static final long MILLIS_PER_CANDIDATE = 15;
  /** How much faster than the first candidate another must be to replace it. */
  public static final double MARGIN = 1.2;

  /** A candidate's figure: what it is and its speed on the probe's products. */
  public record Timing(String kernel, double gflops) {}

  /** The chosen kernel, every candidate's figure, the shape they were timed on, and a note ("" or why a kernel was left out). */
  public record Choice(Gemm gemm, List<Timing> timings, int rows, int in, int out, String note) {
    Choice withNote(String n) {
      return new Choice(gemm, timings, rows, in, out, n);
    }

    /** One line for the log: the choice, its speed, and the others'. */
    public String describe() {
      if (timings.isEmpty()) return gemm.description() + " (no BLAS kernel loads" + (note.isEmpty() ? "" : "; " + note) + ")";
      StringBuilder sb = new StringBuilder(gemm.description());
      for (Timing t : timings) {
        if (t.kernel().equals(gemm.description())) sb.append(String.format(Locale.ROOT, " %.0f GFLOP/s", t.gflops()));
      }
      sb.append(" (probe ").append(rows).append("x").append(in).append("x").append(out).append(";");
      for (Timing t : timings) {
        if (!t.kernel().equals(gemm.description())) sb.append(String.format(Locale.ROOT, " %s %.1f;", t.kernel(), t.gflops()));
      }
      sb.setLength(sb.length() - 1);
      if (!note.isEmpty()) sb.append("; ").append(note);
      return sb.append(")").toString();
    }
  }

  /** Times {@code candidates} (at least one) on a {@code rows} x {@code in} by {@code in} x {@code out} layer. */
  public static Choice fastest(List<Gemm> candidates, int rows, int in, int out) {
    Random rnd = new Random(11);
    FMatrixRMaj x = random(rows, in, rnd);
    FMatrixRMaj w = random(in, out, rnd);
    FMatrixRMaj dz = random(rows, out, rnd);
    FMatrixRMaj z = new FMatrixRMaj(rows, out);
    FMatrixRMaj dw = new FMatrixRMaj(in, out);
    FMatrixRMaj dx = new FMatrixRMaj(rows, in);
    double flops = 3 * 2.0 * rows * in * out;
    List<Timing> timings = new ArrayList<>();
    Gemm best = null;
    double bestGflops = 0;
    for (Gemm g : candidates) {
      long bestNanos = Long.MAX_VALUE;
      long until = System.nanoTime() + MILLIS_PER_CANDIDATE * 1_000_000L;
      for (int round = 0; round < 3 || System.nanoTime() < until && round < 200; round++) {
        long t0 = System.nanoTime();
        g.mult(x, w, z);
        g.multTransA(x, dz, dw);
        g.multTransB(dz, w, dx);
        long t = System.nanoTime() - t0;
        if (round > 0) bestNanos = Math.min(bestNanos, t); // the first round warms up
      }
      double gflops = flops / bestNanos;
      timings.add(new Timing(g.description(), gflops));
      if (best == null || gflops > bestGflops * MARGIN) {
        best = g;
        bestGflops = gflops;
      }
    }
    return new Choice(best, timings, rows, in, out, "");
  }

  private static FMatrixRMaj random(int r, int c, Random rnd) {
    FMatrixRMaj m = new FMatrixRMaj(r, c);
    for (int i = 0; i < m.data.length; i++) m.data[i] = rnd.nextFloat() - 0.5f;
    return m;
  }
}
