package dev.sparkprop.spark;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.FeatureScaling;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;

/**
 * A DataFrame's features, read into a network's input row by row, checked on the way and scaled
 * by the model's feature scaling: a binary column (one byte 0..255 per pixel, read as b / 255 as
 * the command line reads IDX files), an array of float or double, a Spark ML vector, or one
 * numeric column per feature. A null, a row of the wrong length or a value that is not finite
 * fails naming the partition, the row and the column.
 */
final class RowFeatures implements Serializable {
  private static final long serialVersionUID = 2L;
  /** A byte's pixel value, {@code b / 255f}: a table lookup is about 3 times faster than the division per pixel. */
  private static final float[] PIXEL = new float[256];

  static {
    for (int i = 0; i < 256; i++) PIXEL[i] = i / 255f;
  }

  /** How the features are held. */
  enum Kind { BINARY, ARRAY, VECTOR, COLUMNS }

  private final Kind kind;
  private final int[] columns; // one index for the first three kinds, one per feature for COLUMNS
  private final String[] names;
  private final DataType vectorType; // VECTOR: the column's type
  private final int width;
  private final FeatureScaling scaling;
  private final boolean fills; // features.missing=mean: a null or NaN value is missing, filled by the scaling
  private final String operation;

  /**
   * @param columns the features' column indices in the rows (one, or one per feature)
   * @param names their names, for messages
   * @param vectorType a vector column's type (the user-defined type), else null
   * @param operation what reads them, for the messages ("transform", "evaluate")
   */
  RowFeatures(Kind kind, int[] columns, String[] names, DataType vectorType, int width, FeatureScaling scaling,
      String operation) {
    this.kind = kind;
    this.columns = columns.clone();
    this.names = names.clone();
    this.vectorType = vectorType;
    this.width = width;
    this.scaling = scaling;
    this.fills = scaling.fillsMissing();
    this.operation = operation;
  }

  /** Row {@code index} of {@code partition} into {@code x[at, at + width)}, scaled. */
  void fill(Row row, float[] x, int at, int partition, long index) {
    if (kind == Kind.COLUMNS) {
      for (int j = 0; j < width; j++) {
        int c = columns[j];
        float f = row.isNullAt(c) ? Float.NaN : ((Number) row.get(c)).floatValue();
        if (!Float.isFinite(f) && !(f != f && fills)) throw bad(partition, index, names[j], row.isNullAt(c) ? "null" : String.valueOf(f));
        x[at + j] = f;
      }
      scaling.applyRow(x, at, width);
      return;
    }
    int column = columns[0];
    if (row.isNullAt(column)) throw bad(partition, index, "null");
    if (kind == Kind.BINARY) {
      byte[] b = (byte[]) row.get(column);
      if (b.length != width) throw bad(partition, index, b.length + " bytes, the model takes " + width);
      for (int j = 0; j < width; j++) x[at + j] = PIXEL[b[j] & 0xff];
    } else if (kind == Kind.VECTOR) {
      dev.sparkprop.table.TableInput.readVector(row.get(column), vectorType, width, x, at,
          operation + ": partition " + partition + ", row " + index + " of it", names[0]);
    } else {
      List<Object> v = row.getList(column);
      if (v.size() != width) throw bad(partition, index, v.size() + " values, the model takes " + width);
      for (int j = 0; j < width; j++) {
        Object o = v.get(j);
        float f = o == null ? Float.NaN : ((Number) o).floatValue();
        if (!Float.isFinite(f) && !(f != f && fills)) throw bad(partition, index, "value " + j + " is " + (o == null ? "null" : f));
        x[at + j] = f;
      }
    }
    scaling.applyRow(x, at, width);
  }

  BadInputException bad(int partition, long index, String problem) {
    return bad(partition, index, names[0], problem);
  }

  /** A bad value of another column of the same rows (a label). */
  BadInputException bad(int partition, long index, String column, String problem) {
    return new BadInputException(operation + ": partition " + partition + ", row " + index + " of it, column " + column
        + ": " + problem);
  }
}
