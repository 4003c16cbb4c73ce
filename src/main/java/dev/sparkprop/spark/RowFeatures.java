package dev.sparkprop.spark;

import dev.sparkprop.data.BadInputException;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * The features column of a DataFrame's rows, read into a network's input row by row and checked
 * on the way: binary (one byte 0..255 per pixel, scaled to [0, 1] as the command line reads IDX
 * files) or an array of float or double; a null, a row of the wrong length or a value that is not
 * finite fails naming the partition, the row and the column.
 */
final class RowFeatures implements Serializable {
  private static final long serialVersionUID = 1L;
  /** A byte's pixel value, {@code b / 255f}: a table lookup is about 3 times faster than the division per pixel. */
  private static final float[] PIXEL = new float[256];

  static {
    for (int i = 0; i < 256; i++) PIXEL[i] = i / 255f;
  }

  private final int column;
  private final String columnName;
  private final boolean binary;
  private final int width;
  private final String operation;

  /**
   * @param column the column's index in the rows
   * @param operation what reads them, for the messages ("transform", "evaluate")
   */
  RowFeatures(int column, String columnName, boolean binary, int width, String operation) {
    this.column = column;
    this.columnName = columnName;
    this.binary = binary;
    this.width = width;
    this.operation = operation;
  }

  /** Row {@code index} of {@code partition} into {@code x[at, at + width)}. */
  void fill(Row row, float[] x, int at, int partition, long index) {
    if (row.isNullAt(column)) throw bad(partition, index, "null");
    if (binary) {
      byte[] b = (byte[]) row.get(column);
      if (b.length != width) throw bad(partition, index, b.length + " bytes, the model takes " + width);
      for (int j = 0; j < width; j++) x[at + j] = PIXEL[b[j] & 0xff];
    } else {
      List<Object> v = row.getList(column);
      if (v.size() != width) throw bad(partition, index, v.size() + " values, the model takes " + width);
      for (int j = 0; j < width; j++) {
        Object o = v.get(j);
        if (o == null) throw bad(partition, index, "value " + j + " is null");
        float f = ((Number) o).floatValue();
        if (!Float.isFinite(f)) throw bad(partition, index, "value " + j + " is " + f);
        x[at + j] = f;
      }
    }
  }

  BadInputException bad(int partition, long index, String problem) {
    return bad(partition, index, columnName, problem);
  }

  /** A bad value of another column of the same rows (a label). */
  BadInputException bad(int partition, long index, String column, String problem) {
    return new BadInputException(operation + ": partition " + partition + ", row " + index + " of it, column " + column
        + ": " + problem);
  }
}
