package dev.sparkprop.table;

import dev.sparkprop.data.BadInputException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;

/**
 * A Spark ML vector column ({@code org.apache.spark.ml.linalg.VectorUDT}, what
 * {@code VectorAssembler} and every MLlib pipeline make) read without spark-mllib, which would
 * bring Breeze: through the type's storage struct {@code struct<type: tinyint, size: int,
 * indices: array<int>, values: array<double>>} (type 1 dense, with every value; type 0 sparse,
 * its size and the listed entries). With spark-mllib on the classpath the column has the
 * user-defined type and each value is the vector object, turned into that struct by the type's
 * own {@code serialize}; without it (a Parquet file read by the command line) Spark falls back to
 * the struct itself.
 */
final class VectorColumn {
  private VectorColumn() {}

  /** Whether {@code t} is a vector column: the user-defined type, or its storage struct. */
  static boolean is(DataType t) {
    if (t instanceof UserDefinedType<?> u) return isStorage(u.sqlType());
    return isStorage(t);
  }

  private static boolean isStorage(DataType t) {
    if (!(t instanceof StructType s) || s.fields().length != 4) return false;
    StructField[] f = s.fields();
    return f[0].name().equals("type") && f[0].dataType() instanceof ByteType
        && f[1].name().equals("size") && f[1].dataType() instanceof IntegerType
        && f[2].name().equals("indices") && f[2].dataType() instanceof ArrayType a && a.elementType() instanceof IntegerType
        && f[3].name().equals("values") && f[3].dataType() instanceof ArrayType b && b.elementType() instanceof DoubleType;
  }

  /**
   * The vector {@code value} (a column of type {@code t}) as {@code width} floats into
   * {@code out[at, at + width)}.
   *
   * @param where the row, for messages
   * @param column its name
   * @throws BadInputException its size is not {@code width}, an index is out of range or repeated,
   *     or a value is not finite
   */
  @SuppressWarnings("unchecked")
  static void read(Object value, DataType t, int width, float[] out, int at, String where, String column) {
    int type;
    int size;
    int[] indices;
    double[] values;
    if (t instanceof UserDefinedType<?> u) {
      InternalRow r = (InternalRow) ((UserDefinedType<Object>) u).serialize(value);
      type = r.getByte(0);
      size = r.isNullAt(1) ? -1 : r.getInt(1);
      indices = r.isNullAt(2) ? null : r.getArray(2).toIntArray();
      values = r.getArray(3).toDoubleArray();
    } else {
      Row r = (Row) value;
      type = r.getByte(0);
      size = r.isNullAt(1) ? -1 : r.getInt(1);
      indices = r.isNullAt(2) ? null : toInts(r.getList(2), where, column);
      values = toDoubles(r.getList(3), where, column);
    }
    if (type == 1) { // dense
      if (values.length != width) throw bad(where, column, "a dense vector of " + values.length + " values, expected " + width + " (the first row's)");
      for (int j = 0; j < width; j++) out[at + j] = finite(values[j], where, column, j);
      return;
    }
    if (type != 0 || indices == null || size < 0) throw bad(where, column, "not a valid vector (storage type " + type + ")");
    if (size != width) throw bad(where, column, "a sparse vector of size " + size + ", expected " + width + " (the first row's)");
    if (indices.length != values.length) {
      throw bad(where, column, "a sparse vector with " + indices.length + " indices and " + values.length + " values");
    }
    java.util.Arrays.fill(out, at, at + width, 0f);
    int last = -1;
    for (int k = 0; k < indices.length; k++) {
      int i = indices[k];
      if (i < 0 || i >= width) throw bad(where, column, "a sparse vector's index " + i + ", outside [0, " + width + ")");
      if (i <= last) throw bad(where, column, "a sparse vector's indices are not increasing (" + last + ", then " + i + ")");
      last = i;
      out[at + i] = finite(values[k], where, column, i);
    }
  }

  /** The vector's size, for the first row's width. */
  @SuppressWarnings("unchecked")
  static int size(Object value, DataType t) {
    if (t instanceof UserDefinedType<?> u) {
      InternalRow r = (InternalRow) ((UserDefinedType<Object>) u).serialize(value);
      return r.getByte(0) == 1 ? r.getArray(3).numElements() : r.getInt(1);
    }
    Row r = (Row) value;
    return r.getByte(0) == 1 ? r.getList(3).size() : r.getInt(1);
  }

  private static float finite(double v, String where, String column, int j) {
    float f = (float) v;
    if (!Float.isFinite(f)) {
      throw bad(where, column + "[" + j + "]", v + (Double.isFinite(v) ? " (beyond float's range)" : " (NaN or infinite)"));
    }
    return f;
  }

  private static int[] toInts(java.util.List<Object> l, String where, String column) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) {
      if (l.get(i) == null) throw bad(where, column, "a null index");
      a[i] = ((Number) l.get(i)).intValue();
    }
    return a;
  }

  private static double[] toDoubles(java.util.List<Object> l, String where, String column) {
    if (l == null) throw bad(where, column, "a vector without values");
    double[] a = new double[l.size()];
    for (int i = 0; i < a.length; i++) {
      if (l.get(i) == null) throw bad(where, column, "a null value");
      a[i] = ((Number) l.get(i)).doubleValue();
    }
    return a;
  }

  private static BadInputException bad(String where, String column, String problem) {
    return new BadInputException(where + ", column " + column + ": " + problem);
  }
}
