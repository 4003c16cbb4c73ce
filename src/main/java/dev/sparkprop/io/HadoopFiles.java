package dev.sparkprop.io;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The Hadoop file system the writers of a model or a run folder use ({@code ModelStore},
 * {@code run.RunDirectory}, {@code run.RunLock}): whatever a path's scheme names, and for local
 * files the raw local file system, so that no {@code .crc} side file is written next to each
 * file (they would be stale after an atomic rename and are not part of the model's format).
 */
public final class HadoopFiles {
  private HadoopFiles() {}

  /** The file system of {@code path}; local files without Hadoop's .crc side files. */
  public static FileSystem fs(Path path) throws IOException {
    FileSystem fs = path.getFileSystem(new Configuration());
    return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
  }
}
