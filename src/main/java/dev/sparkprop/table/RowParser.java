package dev.sparkprop.table;


import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.ShardReader;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import scala.Tuple2;

/**
 * Checks and converts a table's rows on the executors, each value read by its column's name in
 * {@link TableShards}'s selection (resolved once a partition); a bad value stops the job with the
 * file, the row and the column.
 */
final class RowParser implements Serializable {
  private static final long serialVersionUID = 2L;
  /** The label's column in the selection (0 where a table for prediction has none). */
  static final String LABEL = "label";
  /** The selection's columns that are not the table's own: a CSV line's length, the row number, the file and its split. */
  static final String LINE_LENGTH = "_sparkprop_line_length";
  static final String ROW = "_sparkprop_row";
  static final String FILE = "_sparkprop_file";
  static final String BLOCK = "_sparkprop_block";
  private final DataFormat format;
  private final DataSpec.Features layout;
  private final List<String> columns;
  private final DataType featuresType; // VECTOR: the column's type (the user-defined type, or its storage struct)
  private final int features;
  private final List<String> labelNames; // string labels' classes, in order; empty: integer labels
  private final List<String> targets; // regression: the target columns (the rows' first values); empty: classes
  private final boolean missingAllowed; // features.missing=mean: a null or empty feature is NaN
  private transient java.util.Map<String, Integer> labelIndex;
  private final int classes;
  private final int usedRows;
  private final int partitions;
  private final ShardReader.Assignment assignment;
  private final dev.sparkprop.data.RowSubset subset; // null: every row
  private final List<String> featureColumns; // where the features are, by name, in their order

  RowParser(DataFormat format, DataSpec.Features layout, List<String> columns, DataType featuresType, int features,
      int classes, int usedRows, int partitions, ShardReader.Assignment assignment, dev.sparkprop.data.RowSubset subset,
      List<String> labelNames, List<String> targets, boolean missingAllowed) {
    this.missingAllowed = missingAllowed;
    this.labelNames = new ArrayList<>(labelNames);
    this.targets = new ArrayList<>(targets);
    this.layout = layout;
    this.columns = new ArrayList<>(columns);
    this.featuresType = featuresType;
    this.subset = subset;
    this.format = format;
    this.features = features;
    this.classes = classes;
    this.usedRows = usedRows;
    this.partitions = partitions;
    this.assignment = assignment;
    this.featureColumns = featureColumns(format, layout, columns, features);
  }

  /** The columns a row's features are read from, in the features' order: what {@link TableShards} selects. */
  static List<String> featureColumns(DataFormat format, DataSpec.Features layout, List<String> columns, int features) {
    return switch (layout) {
      case IMAGE -> {
        if (format != DataFormat.CSV) yield List.of("image");
        List<String> pixels = new ArrayList<>(features);
        for (int i = 0; i < features; i++) pixels.add("pixel" + i);
        yield pixels;
      }
      case ARRAY, VECTOR -> List.of("features");
      case COLUMNS -> new ArrayList<>(columns);
    };
  }

  /** Where a row's values are in the selection: found by name once a partition, from its first row. */
  private record Places(int[] targets, int label, int[] features, int lineLength, int row, int file, int block) {
    static Places of(Row r, List<String> targets, List<String> features, boolean csv) {
      int[] t = new int[targets.size()];
      for (int j = 0; j < t.length; j++) t[j] = r.fieldIndex(targets.get(j));
      int[] f = new int[features.size()];
      for (int j = 0; j < f.length; j++) f[j] = r.fieldIndex(features.get(j));
      return new Places(t, targets.isEmpty() ? r.fieldIndex(LABEL) : -1, f, csv ? r.fieldIndex(LINE_LENGTH) : -1,
          r.fieldIndex(ROW), r.fieldIndex(FILE), r.fieldIndex(BLOCK));
    }
  }

  Iterator<Tuple2<Integer, TableRow>> parse(Iterator<Tuple2<Row, Long>> it) {
    List<Tuple2<Integer, TableRow>> out = new ArrayList<>();
    String file = null;
    long start = -1;
    long record = 0;
    Places at = null;
    while (it.hasNext()) {
      Tuple2<Row, Long> t = it.next();
      Row r = t._1();
      if (at == null) at = Places.of(r, targets, featureColumns, format == DataFormat.CSV);
      String f = r.getString(at.file());
      long s = r.getLong(at.block());
      if (!f.equals(file) || s != start) {
        file = f;
        start = s;
        record = 0;
      }
      record++;
      long g = t._2() >= 0 ? t._2() : r.getLong(at.row());
      long named = g; // messages name the row as the table numbers it
      if (subset != null) { // the row's number on this side of a validation.fraction split
        int q = g < Integer.MAX_VALUE ? subset.position((int) g) : -1;
        if (q < 0) continue;
        g = q;
      }
      if (g >= usedRows) continue;
      // a DataFrame's rows are named by their place in it (from 0)
      String where = format == DataFormat.DATAFRAME ? file + ", row " + named
          : where(file, start, record, t._2() < 0 ? named : -1);
      if (format == DataFormat.CSV && !r.isNullAt(at.lineLength())) {
        throw bad(where, "(the whole line)", "its number of values differs from the header's, or a value is longer than "
            + TableInput.MAX_CHARS_PER_VALUE + " characters (the CSV reader's limit); the line holds " + r.getInt(at.lineLength()) + " characters");
      }
      int[] fc = at.features();
      int label = targets.isEmpty() ? label(r, at.label(), where) : 0;
      float[] target = targets.isEmpty() ? null : new float[targets.size()];
      for (int j = 0; j < (target == null ? 0 : target.length); j++) {
        int c = at.targets()[j];
        target[j] = value(format == DataFormat.CSV && r.isNullAt(c) ? "" : r.get(c), where, targets.get(j), false, "");
      }
      byte[] bytes = null;
      float[] floats = null;
      if (layout == DataSpec.Features.IMAGE && format == DataFormat.CSV) {
        bytes = new byte[features];
        for (int j = 0; j < features; j++) bytes[j] = (byte) pixel(r.isNullAt(fc[j]) ? null : r.getString(fc[j]), j, where);
      } else if (layout == DataSpec.Features.IMAGE) {
        if (r.isNullAt(fc[0])) throw bad(where, "image", "null");
        bytes = (byte[]) r.get(fc[0]);
        if (bytes.length != features) {
          throw bad(where, "image", bytes.length + " bytes, expected " + features + " (the first row's)");
        }
      } else {
        floats = new float[features];
        if (layout == DataSpec.Features.VECTOR) {
          if (r.isNullAt(fc[0])) throw bad(where, "features", "null");
          VectorColumn.read(r.get(fc[0]), featuresType, features, floats, 0, where, "features");
        } else if (layout == DataSpec.Features.ARRAY) {
          if (r.isNullAt(fc[0])) throw bad(where, "features", "null");
          List<Object> v = r.getList(fc[0]);
          if (v.size() != features) throw bad(where, "features", v.size() + " values, expected " + features + " (the first row's)");
          for (int j = 0; j < features; j++) floats[j] = value(v.get(j), where, "features[" + j + "]", missingAllowed, FILL_HINT);
        } else {
          boolean csv = format == DataFormat.CSV; // its empty value is read as null
          for (int j = 0; j < features; j++) {
            floats[j] = value(csv && r.isNullAt(fc[j]) ? "" : r.get(fc[j]), where, columns.get(j), missingAllowed, FILL_HINT);
          }
        }
        boolean asBytes = true;
        for (int j = 0; j < features && asBytes; j++) asBytes = floats[j] >= 0f && floats[j] <= 1f && Math.round(floats[j] * 255f) / 255f == floats[j];
        if (asBytes) { // b / 255 each: held as bytes, a quarter of the memory, the same values
          bytes = new byte[features];
          for (int j = 0; j < features; j++) bytes[j] = (byte) Math.round(floats[j] * 255f);
          floats = null;
        }
      }
      int row = (int) g;
      out.add(new Tuple2<>(assignment.owner(row, partitions), new TableRow(row, label, bytes, floats, where, target)));
    }
    return out.iterator();
  }

  private int label(Row r, int c, String where) {
    if (r.isNullAt(c)) throw bad(where, "label", "null");
    if (!labelNames.isEmpty()) {
      if (labelIndex == null) {
        labelIndex = new java.util.HashMap<>();
        for (int k = 0; k < labelNames.size(); k++) labelIndex.put(labelNames.get(k), k);
      }
      String s = format == DataFormat.CSV ? r.getString(c).trim() : r.get(c).toString();
      Integer k = labelIndex.get(s);
      if (k == null) {
        throw bad(where, "label", "'" + s + "' is not among the training labels (" + TableSchema.preview(labelNames) + ")");
      }
      return k;
    }
    long v;
    if (format == DataFormat.CSV) {
      String s = r.getString(c).trim();
      try {
        v = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw bad(where, "label", "'" + s + "' is not an integer");
      }
    } else {
      v = ((Number) r.get(c)).longValue();
    }
    if (v < 0 || v >= classes) throw bad(where, "label", v + ", outside [0, " + classes + ") (classes=" + classes + ")");
    return (int) v;
  }

  private static final String FILL_HINT = " (features.missing=mean fills a missing value)";

  /** A value: a number (a CSV's text parsed), finite in float; missing (null, empty) as NaN when allowed. */
  private static float value(Object o, String where, String column, boolean missingAllowed, String hint) {
    if (o == null && missingAllowed) return Float.NaN;
    if (o == null) throw bad(where, column, "null" + hint);
    double d;
    if (o instanceof String text) {
      if (text.isBlank() && missingAllowed) return Float.NaN;
      if (text.isBlank()) throw bad(where, column, "empty" + hint);
      Double parsed = parseNumber(text);
      if (parsed == null && text.trim().matches("(?i)[-+]?(nan|inf|infinity)")) {
        throw bad(where, column, text.trim() + " (NaN or infinite)");
      }
      if (parsed == null) {
        throw bad(where, column, "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "' is not a number");
      }
      d = parsed;
    } else {
      d = ((Number) o).doubleValue();
    }
    float f = (float) d;
    if (!Float.isFinite(f)) throw bad(where, column, d + (Double.isFinite(d) ? " (beyond float's range)" : " (NaN or infinite)"));
    return f;
  }

  private static int pixel(String s, int j, String where) {
    if (s == null || s.isBlank()) throw bad(where, "pixel" + j, "empty");
    int v;
    try {
      v = Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw bad(where, "pixel" + j, "'" + s + "' is not an integer 0..255");
    }
    if (v < 0 || v > 255) throw bad(where, "pixel" + j, v + ", outside 0..255");
    return v;
  }

  private String where(String file, long start, long record, long row) {
    StringBuilder sb = new StringBuilder(file).append(", ");
    if (row >= 0) {
      sb.append("row ").append(row);
    } else {
      sb.append("record ").append(record);
      if (start > 0) sb.append(" after byte ").append(start);
      else if (format == DataFormat.CSV) sb.append(" (line ").append(record + 1).append(')');
    }
    return sb.toString();
  }

  private static BadInputException bad(String where, String column, String problem) {
    return new BadInputException(where + ", column " + column + ": " + problem);
  }

  /** A CSV value as a number ({@code 12}, {@code -1.5e-3}), or null when it is not one. */
  static Double parseNumber(String s) {
    String t = s.trim();
    if (t.isEmpty() || !NUMBER.matcher(t).matches()) return null;
    return Double.parseDouble(t);
  }

  private static final Pattern NUMBER = Pattern.compile("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");

  /** One checked row on its way to its partition: bytes when every value is b / 255, else floats. */
  static final class TableRow implements Serializable {
    private static final long serialVersionUID = 1L;
    final int row;
    final int label;
    final byte[] bytes;
    final float[] floats;
    final String where;
    final float[] targets; // regression: the row's targets, else null

    TableRow(int row, int label, byte[] bytes, float[] floats, String where, float[] targets) {
      this.targets = targets;
      this.row = row;
      this.label = label;
      this.bytes = bytes;
      this.floats = floats;
      this.where = where;
    }
  }
}
