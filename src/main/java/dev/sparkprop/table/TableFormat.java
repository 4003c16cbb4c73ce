package dev.sparkprop.table;

import dev.sparkprop.data.BadInputException;
import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * The formats {@code train.path} and {@code test.path} accept, and their detection from the path:
 * a folder of IDX files, a Parquet dataset, or CSV files (a single file or a folder of them).
 */
public enum TableFormat {
  IDX,
  PARQUET,
  CSV,
  /**
   * A DataFrame handed to the Spark application API ({@code dev.sparkprop.spark}), registered as a
   * temporary view under the data set's path; never chosen from a path or a {@code *.format} key.
   */
  DATAFRAME;

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @param configured the {@code *.format} value: auto, idx, parquet or csv
   * @param key the configuration key of the path, for messages
   */
  public static TableFormat resolve(String path, String configured, String key) throws IOException {
    String c = configured.trim().toLowerCase(Locale.ROOT);
    switch (c) {
      case "idx": return IDX;
      case "parquet": return PARQUET;
      case "csv": return CSV;
      case "auto": return detect(path, key);
      default:
        throw new IllegalArgumentException(key.replace(".path", ".format") + ": unknown format '" + configured
            + "'; use auto, idx, parquet or csv");
    }
  }

  /** Looks at the path's files: IDX names, *.parquet, *.csv (also compressed). */
  static TableFormat detect(String path, String key) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    if (!fs.exists(p)) {
      throw new BadInputException(key + ": " + path + " does not exist; give a folder of IDX files, a Parquet "
          + "dataset or CSV files (run submit/fetch-mnist for MNIST, submit/prepare to convert it)");
    }
    FileStatus st = fs.getFileStatus(p);
    if (st.isFile()) return byName(st.getPath().getName(), path, key);
    boolean idx = false;
    boolean parquet = false;
    boolean csv = false;
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
    int seen = 0;
    while (it.hasNext() && seen++ < 10_000) {
      String name = it.next().getPath().getName();
      if (name.startsWith(".") || name.startsWith("_")) continue;
      if (name.contains("-idx1-ubyte") || name.contains("-idx3-ubyte") || name.contains(".idx1-ubyte")
          || name.contains(".idx3-ubyte")) idx = true;
      else if (ofTableFile(name) == PARQUET) parquet = true;
      else if (ofTableFile(name) == CSV) csv = true;
    }
    int kinds = (idx ? 1 : 0) + (parquet ? 1 : 0) + (csv ? 1 : 0);
    if (kinds == 1) return idx ? IDX : parquet ? PARQUET : CSV;
    throw new BadInputException(key + ": " + path + (kinds == 0
        ? " holds no IDX (*-idx3-ubyte), Parquet (*.parquet) or CSV (*.csv) files"
        : " holds files of more than one format (IDX " + idx + ", Parquet " + parquet + ", CSV " + csv + ")")
        + "; set " + key.replace(".path", ".format") + "=idx|parquet|csv or point it at one data set");
  }

  /** The table format a file's name says: *.parquet, *.csv (also compressed, *.csv.gz), else null. */
  public static TableFormat ofTableFile(String name) {
    if (name.endsWith(".parquet")) return PARQUET;
    if (name.matches(".*\\.csv(\\.[a-z0-9]+)?")) return CSV;
    return null;
  }

  private static TableFormat byName(String name, String path, String key) {
    TableFormat f = ofTableFile(name);
    if (f != null) return f;
    throw new BadInputException(key + ": " + path + " is a file that is neither *.parquet nor *.csv; IDX data is "
        + "given as the folder that holds the images and labels files, or set " + key.replace(".path", ".format"));
  }
}
