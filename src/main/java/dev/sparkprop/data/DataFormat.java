package dev.sparkprop.data;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * The format of a data set: a folder of IDX files, a Parquet dataset, CSV files (a single file or
 * a folder of them), each detected from its path, or a DataFrame handed to the Spark
 * application API. The {@code *.format} keys ({@code train.format}, {@code test.format},
 * {@code validation.format}, the commands' {@code data.format}) take {@link #WORDS}.
 */
public enum DataFormat {
  IDX,
  PARQUET,
  CSV,
  /**
   * A DataFrame handed to the Spark application API ({@code dev.sparkprop.spark}), registered as a
   * temporary view under the data set's path; never chosen from a path or a {@code *.format} key.
   */
  DATAFRAME;

  /** What a {@code *.format} key takes: auto (from the files), or a format read from files. */
  public static final List<String> WORDS = List.of("auto", IDX.key(), PARQUET.key(), CSV.key());

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The refusal of {@code given} for the key {@code key}, worded as every CHOICE key's. */
  public static String unknown(String key, String given) {
    return key + ": unknown '" + given + "'; expected " + String.join(", ", WORDS.subList(0, WORDS.size() - 1))
        + " or " + WORDS.get(WORDS.size() - 1);
  }

  /**
   * @param configured the {@code *.format} value, one of {@link #WORDS}
   * @param key the configuration key of the path, for messages
   */
  public static DataFormat resolve(String path, String configured, String key) throws IOException {
    String c = configured.trim().toLowerCase(Locale.ROOT);
    if (!WORDS.contains(c)) throw new IllegalArgumentException(unknown(key.replace(".path", ".format"), configured));
    DataFormat f = c.equals("auto") ? detect(path, key) : valueOf(c.toUpperCase(Locale.ROOT));
    if (f != IDX) checkReadable(path); // before Spark starts; IDX files are checked as they are opened
    return f;
  }

  /** Looks at the path's files: IDX names, *.parquet, *.csv (also compressed). */
  static DataFormat detect(String path, String key) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    if (!fs.exists(p)) {
      throw new BadInputException(key + ": " + path + " does not exist; give a folder of IDX files, a Parquet "
          + "dataset or CSV files (run submit/fetch-mnist for MNIST, submit/prepare to convert it)");
    }
    dev.sparkprop.data.InputFile.check(fs, p);
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

  /**
   * The longest line a CSV file may hold, in bytes. Spark's line reader holds a whole line in
   * memory, several times over when it is a bad record: one line of 200 MB (a file that lost its
   * line breaks) ran a 2 GB driver out of memory in a task, and the job then waited forever.
   */
  public static final int MAX_CSV_LINE_BYTES = 4 << 20;

  /**
   * Refuses a local table path, or a table file under it, that is not a regular file or folder or
   * that this user cannot read (Spark's readers would block on a pipe, or fail in a task on a file
   * they may not read), and a plain local CSV file with a line longer than
   * {@link #MAX_CSV_LINE_BYTES}, naming it (one pass over the file, before Spark starts). Other
   * file systems, and compressed CSV files, are left to their own checks and the CSV reader's
   * limit on a value's length.
   */
  public static void checkReadable(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    if (!"file".equals(fs.getUri().getScheme()) || !fs.exists(p)) return;
    dev.sparkprop.data.InputFile.check(fs, p);
    if (!fs.getFileStatus(p).isDirectory()) {
      if (ofTableFile(p.getName()) == CSV) checkLineLengths(fs, p);
      return;
    }
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
    while (it.hasNext()) {
      Path file = it.next().getPath();
      if (file.getName().startsWith(".") || file.getName().startsWith("_")) continue;
      if (ofTableFile(file.getName()) != null) dev.sparkprop.data.InputFile.check(fs, file);
      if (ofTableFile(file.getName()) == CSV) checkLineLengths(fs, file);
    }
  }

  private static void checkLineLengths(FileSystem fs, Path file) throws IOException {
    if (!file.getName().endsWith(".csv")) return; // compressed: the value limit applies
    byte[] buf = new byte[1 << 20];
    long line = 1;
    long run = 0; // bytes since the last line break
    try (java.io.InputStream in = fs.open(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            line++;
            run = 0;
          } else if (++run > MAX_CSV_LINE_BYTES) {
            throw new BadInputException(file + ": line " + line + " is longer than " + (MAX_CSV_LINE_BYTES >> 20)
                + " MiB, the limit of a CSV line (a file without its line breaks, or not a CSV file); fix the file, or give "
                + "the data as Parquet");
          }
        }
      }
    }
  }

  /** The table format a file's name says: *.parquet, *.csv (also compressed, *.csv.gz), else null. */
  public static DataFormat ofTableFile(String name) {
    if (name.endsWith(".parquet")) return PARQUET;
    if (name.matches(".*\\.csv(\\.[a-z0-9]+)?")) return CSV;
    return null;
  }

  private static DataFormat byName(String name, String path, String key) {
    DataFormat f = ofTableFile(name);
    if (f != null) return f;
    throw new BadInputException(key + ": " + path + " is a file that is neither *.parquet nor *.csv; IDX data is "
        + "given as the folder that holds the images and labels files, or set " + key.replace(".path", ".format"));
  }
}
