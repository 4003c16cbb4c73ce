package dev.sparkprop.cli;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.data.PngImage;
import dev.sparkprop.table.TableInput;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What {@code data=} names: an IDX images file, a folder holding an IDX pair (the {@code split}
 * prefix, t10k by default), a PNG file, a folder of PNG files, or a Parquet or CSV table (a
 * file or a folder; {@code data.format} when the files do not say), which is inspected once
 * Spark runs ({@link #table}).
 */
record InputImages(DataSpec idx, String pngPath, DataFormat tableFormat, String tablePath) {
  InputImages(DataSpec idx, String pngPath) {
    this(idx, pngPath, null, null);
  }

  /**
   * The table through Spark SQL, checked like training data (columns, then every row as it is
   * read): its width against the model's input; {@code featureColumns}: the model's named feature
   * columns (empty: the table's own layout).
   */
  DataSpec table(org.apache.spark.sql.SparkSession spark, boolean needLabels, dev.sparkprop.nn.NetworkSpec model,
      java.util.List<String> featureColumns, java.util.List<String> labels) throws IOException {
    DataSpec t = TableInput.inspect(spark, tableFormat, tablePath, "data", needLabels, featureColumns,
        model.isRegression() ? labels : null); // a regression's labels are its target columns
    if (t.stringLabels() && needLabels) { // prediction ignores the labels: they keep the table's own numbering
      if (labels.isEmpty()) {
        throw new BadInputException(tablePath + ": its labels are strings, but the model was trained on integer classes");
      }
      java.util.List<String> unseen = new java.util.ArrayList<>(t.labelNames);
      unseen.removeAll(labels);
      if (!unseen.isEmpty()) {
        throw new BadInputException(tablePath + ": label" + (unseen.size() > 1 ? "s " : " ")
            + String.join(", ", unseen.subList(0, Math.min(8, unseen.size()))) + " not among the model's labels ("
            + String.join(", ", labels.subList(0, Math.min(8, labels.size()))) + (labels.size() > 8 ? ", ..." : "") + ")");
      }
      t = t.withLabelNames(labels);
    }
    if (t.features != model.inputSize()) {
      throw new BadInputException(tablePath + ": rows have " + t.features + " features, the model's input layer takes "
          + model.inputSize());
    }
    return t;
  }
  /**
   * Finds the images and checks them against the model: IDX images must have its input size;
   * PNGs need a square input size.
   */
  static InputImages resolve(String data, String split, String labels, boolean needLabels,
      dev.sparkprop.nn.NetworkSpec model) throws IOException {
    return resolve(data, "auto", split, labels, needLabels, model);
  }

  /** {@code dataFormat}: auto, idx, parquet or csv. */
  static InputImages resolve(String data, String dataFormat, String split, String labels, boolean needLabels,
      dev.sparkprop.nn.NetworkSpec model) throws IOException {
    InputImages in = find(data, dataFormat, split, labels, needLabels, model.outputSize());
    if (in.idx() != null && in.idx().features != model.inputSize()) {
      throw new BadInputException(in.idx().imagesPath + ": images have " + in.idx().features
          + " pixels, the model's input layer takes " + model.inputSize());
    }
    if (in.pngPath() != null && Predict.square(model.inputSize()) < 0) {
      throw new BadInputException("the model's input size " + model.inputSize() + " is not a square image");
    }
    return in;
  }

  private static InputImages find(String data, String dataFormat, String split, String labels, boolean needLabels,
      int classes) throws IOException {
    Path p = new Path(data);
    FileSystem fs = p.getFileSystem(new Configuration());
    if (!fs.exists(p)) throw new BadInputException(data + ": no such file or folder");
    p = fs.makeQualified(p);
    dev.sparkprop.data.InputFile.check(fs, p);
    FileStatus st = fs.getFileStatus(p);
    String name = p.getName().toLowerCase(java.util.Locale.ROOT);
    String configured = dataFormat.trim().toLowerCase(java.util.Locale.ROOT);
    if (configured.equals("parquet") || configured.equals("csv")
        || (configured.equals("auto") && DataFormat.ofTableFile(name) != null)) {
      return new InputImages(null, null, DataFormat.resolve(data, configured, "data"), p.toString());
    }
    if (!configured.equals("auto") && !configured.equals("idx")) {
      throw new dev.sparkprop.config.ConfigException(DataFormat.unknown("data.format", dataFormat));
    }
    if (st.isDirectory()) {
      boolean png = false;
      boolean table = false;
      for (FileStatus f : fs.listStatus(p)) {
        String n = f.getPath().getName().toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".png")) dev.sparkprop.data.InputFile.check(fs, f.getPath()); // read by the executors: refused here
        png |= n.endsWith(".png");
        table |= DataFormat.ofTableFile(n) != null;
      }
      if (png) {
        if (needLabels) throw new BadInputException(data + ": PNG images carry no labels; evaluate needs IDX images and labels, or a table");
        return new InputImages(null, p.toString());
      }
      if (table && configured.equals("auto")) return new InputImages(null, null, DataFormat.resolve(data, "auto", "data"), p.toString());
      String[] f = MnistFiles.locate(p.toString(), split);
      return new InputImages(needLabels || !labels.isEmpty() ? DataSpec.check(f[0], f[1], classes)
          : DataSpec.imagesOnly(f[0]), null);
    }
    byte[] head = new byte[8];
    try (InputStream in = fs.open(p)) {
      in.readNBytes(head, 0, 8);
    }
    if (java.util.Arrays.equals(head, PngImage.SIGNATURE)) {
      if (needLabels) throw new BadInputException(data + ": PNG images carry no labels; evaluate needs IDX images and labels, or a table");
      return new InputImages(null, p.toString());
    }
    if (p.getName().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
      throw new BadInputException(data + ": named .png, but it is not a PNG file (no PNG signature)");
    }
    if (!labels.isEmpty()) return new InputImages(DataSpec.check(p.toString(), labels, classes), null);
    if (needLabels) throw new BadInputException(data + ": an images file needs labels=LABELS_FILE (or give the folder)");
    return new InputImages(DataSpec.imagesOnly(p.toString()), null);
  }
}
