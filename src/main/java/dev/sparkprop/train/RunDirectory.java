package dev.sparkprop.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A run's output folder on the driver: {@code config.properties} (the resolved configuration),
 * {@code metrics.csv} (one row per epoch, rewritten after each) and the model. Every file is
 * written to a temporary name and renamed, so a crash never leaves a half-written file.
 */
public final class RunDirectory {
  private final Path dir;

  public RunDirectory(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  public Path path() {
    return dir;
  }

  public void writeConfig(TrainConfig cfg) throws IOException {
    StringBuilder sb = new StringBuilder("# resolved sparkprop training configuration\n");
    for (String line : cfg.lines()) sb.append(line).append('\n');
    write("config.properties", sb.toString());
  }

  public void writeMetrics(List<EpochMetrics> epochs) throws IOException {
    StringBuilder sb = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
    for (EpochMetrics m : epochs) sb.append(m.csvRow()).append('\n');
    write("metrics.csv", sb.toString());
  }

  /** Writes a text file atomically (temporary file in the same folder, then rename). */
  public void write(String name, String text) throws IOException {
    writeBytes(dir.resolve(name), text.getBytes(StandardCharsets.UTF_8));
  }

  static void writeBytes(Path target, byte[] bytes) throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
