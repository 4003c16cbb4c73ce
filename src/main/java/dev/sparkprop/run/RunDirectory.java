package dev.sparkprop.run;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.io.HadoopFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * A run's output folder, on any Hadoop FileSystem URI (a local path, {@code file://},
 * {@code hdfs://}, ...): {@code config.properties} (the resolved configuration),
 * {@code metrics.csv} (one row per epoch, rewritten after each), the reports and the model.
 * Every file is written to a temporary name and renamed over the old one, so a crash never
 * leaves a half-written file: an atomic move on the local disk, a rename with overwrite through
 * {@link FileContext} elsewhere (atomic on HDFS).
 */
public final class RunDirectory {
  /** The resolved configuration, written when the run starts. */
  public static final String CONFIG = "config.properties";

  private final String location;
  private final Path dir;
  private final FileSystem fs;
  private final java.nio.file.Path localDir; // null unless the folder is on the local disk

  public RunDirectory(String location) throws IOException {
    this.location = location;
    Path given = new Path(location);
    this.fs = HadoopFiles.fs(given);
    this.dir = fs.makeQualified(given); // hdfs:///runs/a: the default file system's authority filled in
    this.localDir = fs instanceof RawLocalFileSystem raw ? raw.pathToFile(dir).toPath() : null;
    fs.mkdirs(dir);
  }

  /** The folder as given (for messages). */
  public String location() {
    return location;
  }

  /** The path of {@code name} inside the folder, as a URI string the other classes take. */
  public String child(String name) {
    return localDir != null ? localDir.resolve(name).toString() : new Path(dir, name).toString();
  }

  public void writeConfig(TrainConfig cfg) throws IOException {
    StringBuilder sb = new StringBuilder("# resolved sparkprop training configuration\n");
    for (String line : cfg.lines()) sb.append(line).append('\n');
    write(CONFIG, sb.toString());
  }

  public void writeMetrics(List<EpochMetrics> epochs) throws IOException {
    writeMetrics(epochs, false);
  }

  /** metrics.csv; {@code regression}: with the regression figures in place of the accuracy. */
  public void writeMetrics(List<EpochMetrics> epochs, boolean regression) throws IOException {
    StringBuilder sb = new StringBuilder(regression ? EpochMetrics.REGRESSION_CSV_HEADER : EpochMetrics.CSV_HEADER).append('\n');
    for (EpochMetrics m : epochs) sb.append(regression ? m.regressionCsvRow() : m.csvRow()).append('\n');
    write("metrics.csv", sb.toString());
  }

  /** Writes a text file atomically. */
  public void write(String name, String text) throws IOException {
    writeBytes(name, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a file atomically (a temporary file in the same folder, then renamed over the old one). */
  public void writeBytes(String name, byte[] bytes) throws IOException {
    if (localDir != null) {
      writeLocal(localDir.resolve(name), bytes);
      return;
    }
    Path target = new Path(dir, name);
    Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
    try (OutputStream out = fs.create(tmp, true)) {
      out.write(bytes);
    }
    FileContext.getFileContext(target.toUri(), fs.getConf()).rename(tmp, target, Options.Rename.OVERWRITE);
  }

  /** Writes a local file atomically: a temporary file beside it, then moved over it. */
  public static void writeLocal(java.nio.file.Path target, byte[] bytes) throws IOException {
    java.nio.file.Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    java.nio.file.Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
