package dev.sparkprop.data;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Finds the images and labels IDX files of one split ({@code train} or {@code t10k}) in a folder:
 * {@code PREFIX-images-idx3-ubyte} and {@code PREFIX-labels-idx1-ubyte}, also with a dot instead
 * of the last dash, each plain or {@code .gz}.
 */
public final class MnistFiles {
  private MnistFiles() {}

  /**
   * @return {images path, labels path}, fully qualified ({@code file:/abs/...}, {@code hdfs://...}),
   *     so that executors with another working directory read the same files
   */
  public static String[] locate(String dir, String prefix) throws IOException {
    Path given = new Path(dir);
    FileSystem fs = given.getFileSystem(new Configuration());
    Path d = fs.makeQualified(given);
    if (!fs.exists(d)) {
      throw new BadInputException(dir + ": no such folder; run submit/fetch-mnist, or set the path "
          + "to a folder holding " + prefix + "-images-idx3-ubyte and " + prefix + "-labels-idx1-ubyte");
    }
    return new String[] {find(fs, d, prefix, "images-idx3-ubyte"), find(fs, d, prefix, "labels-idx1-ubyte")};
  }

  private static String find(FileSystem fs, Path dir, String prefix, String kind) throws IOException {
    String dotted = kind.replaceFirst("-idx", ".idx");
    for (String name : new String[] {prefix + "-" + kind, prefix + "-" + dotted}) {
      for (String suffix : new String[] {"", ".gz"}) {
        Path p = new Path(dir, name + suffix);
        if (fs.exists(p)) return p.toString();
      }
    }
    throw new BadInputException(dir + ": no " + prefix + "-" + kind + " (or .gz) in this folder; "
        + "run submit/fetch-mnist, or point the path at a folder that has it");
  }
}
