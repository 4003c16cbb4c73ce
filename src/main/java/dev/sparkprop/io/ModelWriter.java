package dev.sparkprop.io;

import dev.sparkprop.nn.NetworkSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes trained parameters as a folder: {@code network.properties} (layer sizes and activations)
 * and one NumPy file per tensor, {@code dense_L_W.npy} of shape (in, out) and {@code dense_L_b.npy}
 * of shape (out,), float32 little-endian. The folder is written under a temporary name and
 * renamed into place.
 */
public final class ModelWriter {
  private ModelWriter() {}

  public static void write(Path dir, NetworkSpec spec, float[] params) throws IOException {
    Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    StringBuilder meta = new StringBuilder("# sparkprop network; weights in dense_L_W.npy (in, out) and dense_L_b.npy (out,)\n");
    meta.append("layers=");
    for (int l = 0; l <= spec.numLayers(); l++) meta.append(l == 0 ? "" : ",").append(l == 0 ? spec.inputSize() : spec.out(l - 1));
    meta.append("\nactivations=");
    for (int l = 0; l < spec.numLayers(); l++) meta.append(l == 0 ? "" : ",").append(spec.activation(l).configName());
    meta.append('\n');
    Files.writeString(tmp.resolve("network.properties"), meta, StandardCharsets.UTF_8);
    for (int l = 0; l < spec.numLayers(); l++) {
      Files.write(tmp.resolve("dense_" + l + "_W.npy"), Npy.encode(params, spec.weightOffset(l), new int[] {spec.in(l), spec.out(l)}));
      Files.write(tmp.resolve("dense_" + l + "_b.npy"), Npy.encode(params, spec.biasOffset(l), new int[] {spec.out(l)}));
    }
    deleteTree(dir);
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
    }
  }
}
