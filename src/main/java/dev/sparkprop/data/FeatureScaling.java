package dev.sparkprop.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a row's features are scaled before the network sees them, kept in the model:
 * {@code x'[j] = (x[j] - shift[j]) / scale[j]} in float, the same operations (ONNX {@code Sub}
 * then {@code Div}) in the exported graph, so ONNX Runtime computes the same values from the raw
 * features. The values scaled are those the data hold (an image's pixels as b / 255).
 *
 * <ul>
 *   <li>{@code none}: as they are (what byte images always were: b / 255);
 *   <li>{@code standard}: the training rows' mean and population standard deviation;
 *   <li>{@code minmax}: the training rows' minimum and range, onto [0, 1].
 * </ul>
 * A constant column has shift 0 and scale 1 (left as it is, named by {@link #constantColumns}).
 * With {@code features.missing=mean} a missing value (NaN in the cached rows) is first replaced
 * by its column's training mean ({@link #fill}; ONNX {@code IsNaN} and {@code Where}).
 */
public final class FeatureScaling implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What {@code features.scale} may say once {@code auto} is resolved. */
  public enum Kind {
    NONE, STANDARD, MINMAX;

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** {@code none}, {@code standard} or {@code minmax}. */
    public static Kind of(String key) {
      for (Kind k : values()) if (k.key().equals(key)) return k;
      throw new IllegalArgumentException("unknown scaling '" + key + "'; expected none, standard or minmax");
    }
  }

  /** No scaling. */
  public static final FeatureScaling NONE = new FeatureScaling(Kind.NONE, new float[0], new float[0], new int[0], null);

  private final Kind kind;
  private final float[] shift;
  private final float[] scale;
  private final int[] constant;
  private final float[] fill; // a missing value's replacement per column, or null: none may be missing

  private FeatureScaling(Kind kind, float[] shift, float[] scale, int[] constant, float[] fill) {
    this.fill = fill;
    this.kind = kind;
    this.shift = shift;
    this.scale = scale;
    this.constant = constant;
  }

  /** The scaling of {@code kind} for rows with the statistics {@code stats} ({@link Kind#NONE}: {@link #NONE}). */
  public static FeatureScaling fit(Kind kind, ColumnStats stats) {
    return fit(kind, stats, false);
  }

  /** As {@link #fit(Kind, ColumnStats)}; {@code fillMissing}: a missing value becomes its column's mean (0 if all are missing). */
  public static FeatureScaling fit(Kind kind, ColumnStats stats, boolean fillMissing) {
    if (kind == Kind.NONE && !fillMissing) return NONE;
    int w = stats.width();
    float[] fill = null;
    if (fillMissing) {
      fill = new float[w];
      for (int j = 0; j < w; j++) fill[j] = stats.count(j) == 0 ? 0f : (float) stats.mean(j);
    }
    if (kind == Kind.NONE) {
      float[] one = new float[w];
      java.util.Arrays.fill(one, 1f);
      return new FeatureScaling(Kind.NONE, new float[w], one, new int[0], fill);
    }
    float[] shift = new float[w];
    float[] scale = new float[w];
    List<Integer> constant = new ArrayList<>();
    for (int j = 0; j < w; j++) {
      float s = (float) (kind == Kind.STANDARD ? stats.std(j) : stats.max(j) - stats.min(j));
      if (!(stats.max(j) > stats.min(j)) || !(s > 0) || !Float.isFinite(s)) {
        constant.add(j);
        shift[j] = 0f;
        scale[j] = 1f;
      } else {
        shift[j] = (float) (kind == Kind.STANDARD ? stats.mean(j) : stats.min(j));
        scale[j] = s;
      }
    }
    return new FeatureScaling(kind, shift, scale, constant.stream().mapToInt(Integer::intValue).toArray(), fill);
  }

  /**
   * A scaling as a model stores it: {@code kind} and the two arrays.
   *
   * @throws IllegalArgumentException the arrays differ in length, or a scale is not a positive finite number
   */
  public static FeatureScaling of(Kind kind, float[] shift, float[] scale) {
    return of(kind, shift, scale, null);
  }

  /** As {@link #of(Kind, float[], float[])} with a missing value's replacement per column ({@code fill}, or null). */
  public static FeatureScaling of(Kind kind, float[] shift, float[] scale, float[] fill) {
    if (kind == Kind.NONE && fill == null) return NONE;
    if (fill != null && fill.length != shift.length) {
      throw new IllegalArgumentException("feature scaling: " + fill.length + " fill values for " + shift.length + " columns");
    }
    if (shift.length != scale.length) {
      throw new IllegalArgumentException("feature scaling: " + shift.length + " shifts but " + scale.length + " scales");
    }
    List<Integer> constant = new ArrayList<>();
    for (int j = 0; j < scale.length; j++) {
      if (!(scale[j] > 0) || !Float.isFinite(scale[j]) || !Float.isFinite(shift[j])) {
        throw new IllegalArgumentException("feature scaling: column " + j + " has shift " + shift[j] + " and scale "
            + scale[j] + "; a scale must be positive and both finite");
      }
      if (shift[j] == 0f && scale[j] == 1f) constant.add(j);
    }
    return new FeatureScaling(kind, shift.clone(), scale.clone(), constant.stream().mapToInt(Integer::intValue).toArray(),
        fill == null ? null : fill.clone());
  }

  /** Whether a missing value (NaN) is replaced by its column's training mean. */
  public boolean fillsMissing() {
    return fill != null;
  }

  /** The missing values' replacements, one per column (null when none may be missing). */
  public float[] fill() {
    return fill == null ? null : fill.clone();
  }

  public Kind kind() {
    return kind;
  }

  /** No operation at all: no scaling and no missing values to fill. */
  public boolean isNone() {
    return kind == Kind.NONE && fill == null;
  }

  /** Columns it scales (0 for {@link #NONE}, which takes any width). */
  public int width() {
    return shift.length;
  }

  public float[] shift() {
    return shift.clone();
  }

  public float[] scale() {
    return scale.clone();
  }

  /** Columns left as they are because every training row held the same value in them. */
  public int[] constantColumns() {
    return kind == Kind.NONE ? new int[0] : constant.clone();
  }

  /** Scales {@code rows} rows of {@code width} values, row-major from 0, in place. */
  public void apply(float[] x, int rows, int width) {
    if (isNone()) return;
    if (width != shift.length) {
      throw new IllegalArgumentException("feature scaling of " + shift.length + " columns applied to rows of " + width);
    }
    if (fill != null) {
      for (int r = 0, o = 0; r < rows; r++, o += width) {
        for (int j = 0; j < width; j++) if (x[o + j] != x[o + j]) x[o + j] = fill[j];
      }
    }
    if (kind == Kind.NONE) return;
    for (int r = 0, o = 0; r < rows; r++, o += width) {
      for (int j = 0; j < width; j++) x[o + j] = (x[o + j] - shift[j]) / scale[j];
    }
  }

  /** The inverse, {@code x * scale + shift}, of {@code rows} rows in place: a regression's predictions in the targets' units. */
  public void invert(float[] x, int rows, int width) {
    if (kind == Kind.NONE) return; // a target scaling never fills
    for (int r = 0, o = 0; r < rows; r++, o += width) {
      for (int j = 0; j < width; j++) x[o + j] = x[o + j] * scale[j] + shift[j];
    }
  }

  /** Scales one row of {@code width} values at {@code at} in place. */
  public void applyRow(float[] x, int at, int width) {
    if (isNone()) return;
    if (fill != null) for (int j = 0; j < width; j++) if (x[at + j] != x[at + j]) x[at + j] = fill[j];
    if (kind == Kind.NONE) return;
    for (int j = 0; j < width; j++) x[at + j] = (x[at + j] - shift[j]) / scale[j];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureScaling f && f.kind == kind && Arrays.equals(f.shift, shift) && Arrays.equals(f.scale, scale)
        && Arrays.equals(f.fill, fill);
  }

  @Override
  public int hashCode() {
    return 31 * kind.hashCode() + Arrays.hashCode(shift) * 7 + Arrays.hashCode(scale);
  }

  @Override
  public String toString() {
    if (isNone()) return "none";
    return kind.key() + " over " + shift.length + " columns"
        + (constant.length > 0 ? " (" + constant.length + " constant, left as they are)" : "")
        + (fill != null ? ", a missing value replaced by its column's training mean" : "");
  }
}
