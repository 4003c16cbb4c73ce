package dev.sparkprop.nn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What netlib's native binding ({@code kernel=native}) would load, found before loading it. Two
 * OpenBLAS builds must not share a process: each exports its internal symbols (its CPU kernel
 * table among them), and the one loaded second binds to the first one's (measured here: with
 * Debian's OpenBLAS 0.3.21 loaded first, the bundled 0.3.31 ran Debian's Prescott kernels, 31
 * GFLOP/s instead of 103; the other way round Debian's ran the bundled one's). So
 * {@code kernel=auto}, which loads the bundled OpenBLAS, leaves a system BLAS that is an OpenBLAS
 * alone: the bundled one is the same library, newer.
 */
final class SystemBlas {
  private SystemBlas() {}

  /**
   * The system BLAS netlib would load: its {@code dev.ludovic.netlib.blas.nativeLibPath} property
   * (unless it names the bundled OpenBLAS), else
   * {@code nativeLib} (default {@code libblas.so.3}) as {@code ldconfig -p} resolves it, links
   * followed; null when that cannot be told.
   */
  static Path file() {
    String path = System.getProperty("dev.ludovic.netlib.blas.nativeLibPath");
    if (path != null && !path.isEmpty() && !path.equals(OpenBlasGemm.netlibPathSetHere)) return real(Path.of(path));
    String name = System.getProperty("dev.ludovic.netlib.blas.nativeLib", "libblas.so.3");
    for (String ldconfig : new String[] {"/sbin/ldconfig", "/usr/sbin/ldconfig"}) {
      if (!Files.isExecutable(Path.of(ldconfig))) continue;
      try {
        Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(5, TimeUnit.SECONDS);
        for (String line : out.split("\n")) {
          String t = line.trim();
          int arrow = t.indexOf("=> ");
          if (t.startsWith(name + " ") && arrow > 0) return real(Path.of(t.substring(arrow + 3).trim()));
        }
        return null;
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  /** Whether {@code file} is an OpenBLAS build (by its resolved path or name). */
  static boolean isOpenBlas(Path file) {
    return file != null && file.toString().toLowerCase(Locale.ROOT).contains("openblas");
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p;
    }
  }
}
