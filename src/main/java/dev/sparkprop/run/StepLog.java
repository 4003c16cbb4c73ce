package dev.sparkprop.run;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The steps of a run as columns of floats, the form a checkpoint stores them in (as extra
 * tensors), so that a resumed run reports and charts every step, not only its own. Kept: epoch,
 * step, rows (exact as floats below 2^24), mean loss, learning rate, wall and slowest compute
 * (milliseconds); the phases of a step are not.
 */
public final class StepLog {
  private StepLog() {}

  private static final String[] COLUMNS = {"epoch", "step", "rows", "loss", "lr", "wall_ms", "compute_ms"};

  public static Map<String, float[]> columns(List<StepStats> steps) {
    int n = steps.size();
    float[][] c = new float[COLUMNS.length][n];
    for (int i = 0; i < n; i++) {
      StepStats s = steps.get(i);
      c[0][i] = s.epoch();
      c[1][i] = s.step();
      c[2][i] = s.rows();
      c[3][i] = (float) s.loss();
      c[4][i] = (float) s.lr();
      c[5][i] = (float) (s.wall() / 1e6);
      c[6][i] = (float) (s.slowestCompute() / 1e6);
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int k = 0; k < COLUMNS.length; k++) out.put(COLUMNS[k], c[k]);
    return out;
  }

  /** The steps of {@link #columns}' output; none if a column is missing or the lengths differ. */
  public static List<StepStats> rows(Map<String, float[]> columns) {
    List<StepStats> out = new ArrayList<>();
    float[][] c = new float[COLUMNS.length][];
    for (int k = 0; k < COLUMNS.length; k++) {
      c[k] = columns.get(COLUMNS[k]);
      if (c[k] == null || c[k].length != c[0].length) return out;
    }
    for (int i = 0; i < c[0].length; i++) {
      long wall = (long) (c[5][i] * 1e6);
      out.add(new StepStats((int) c[0][i], (int) c[1][i], wall, 0, 0, 0, 0, (long) (c[6][i] * 1e6), (int) c[2][i], c[3][i], c[4][i]));
    }
    return out;
  }
}
